"""make bench's bookkeeping: the load it runs under, and where it writes. (The run itself
needs the 6 GB `fer` environment and minutes of a quiet machine: not a test.)"""
import subprocess
from pathlib import Path

import pytest

from av_emotion_bringup import bench
from av_emotion_bringup.bench import BUSY, busy_warning, load_average
from av_emotion_bringup.bench_speed import median_run

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
    assert '--refuse-busy' not in bench_command('bench')
    assert '--json bench/results.json ' in bench_command('bench-record')
    assert bench_command('bench-record').endswith(' --refuse-busy')
    assert '--json /tmp/b.json ' in bench_command('bench', 'BENCH_JSON=/tmp/b.json')


def test_a_busy_machine_is_not_recorded(monkeypatch, tmp_path):
    monkeypatch.setattr(bench, 'load_average', lambda: {'1min': 9.0, '5min': 9.0,
                                                        '15min': 9.0})
    out = tmp_path / 'results.json'
    with pytest.raises(SystemExit) as stop:
        bench.main(['--json', str(out), '--refuse-busy'])
    assert str(stop.value).startswith('warning: the machine is busy (1-minute load 9.00')
    assert 'nothing measured' in str(stop.value) and not out.exists()


def test_figures_are_the_median_run_with_the_spread():
    runs = [{'fps': 90.0, 'p95': 1}, {'fps': 110.0, 'p95': 2}, {'fps': 100.0, 'p95': 3}]
    assert median_run(runs, 'fps') == {'fps': 100.0, 'p95': 3, 'runs': [90.0, 110.0, 100.0],
                                       'spread': [90.0, 110.0]}
    # An even count takes the lower middle run: a measured run, not an average of two.
    assert median_run(runs[:2], 'fps')['fps'] == 90.0
