"""make bench's bookkeeping: the load it runs under, and where it writes. (The run itself
needs the 6 GB `fer` environment and minutes of a quiet machine: not a test.)"""
import subprocess
from pathlib import Path

from av_emotion_bringup.bench import BUSY, busy_warning, load_average

ROOT = Path(__file__).parent.parent


def test_the_load_is_read_and_a_busy_machine_warned():
    load = load_average()
    assert set(load) == {'1min', '5min', '15min'} and min(load.values()) >= 0
    warning = busy_warning({'1min': 1.2}, cpus=2)
    assert warning.startswith('warning: the machine is busy') and '1.20 on 2 CPUs' in warning
    assert busy_warning({'1min': BUSY * 2}, cpus=2) == ''


def test_make_bench_leaves_the_recorded_results_alone():
    def bench_command(*make_args):
        out = subprocess.run(['make', '-n', *make_args], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
        return next(line for line in out.splitlines() if 'av-emotion-bench' in line)

    assert '--json build/bench/results.json ' in bench_command('bench')
    assert '--json bench/results.json ' in bench_command('bench-record')
    assert '--json /tmp/b.json ' in bench_command('bench', 'BENCH_JSON=/tmp/b.json')
