"""Vision speed for av-emotion-bench: the core on both frame sets, run after run, each run
followed by the `fer` library's on the same frames (so that each ratio compares two
measurements taken under the same load), and the core pinned to one core.

    python -m av_emotion_bringup.bench_speed FRAMES.npz THREADS ROUNDS  -> one JSON line

times the core in this process, as `taskset -c 0` starts it for the one-core figures.
"""
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from av_emotion_vision.pipeline import VisionPipeline


def time_core(pipeline, frames, rounds):
    """Frames per second of a pipeline over `rounds` passes of `frames` (the stamps go on
    at 30 fps, so that between detections the faces are followed as in a camera stream);
    latency percentiles and mean stage times per frame."""
    for i, frame in enumerate(frames[:5]):
        pipeline(frame, i / 30)
    latencies, faces, stages = [], [], {}
    for r in range(rounds):
        for i, frame in enumerate(frames):
            start = time.perf_counter()
            result = pipeline(frame, 1 + (r * len(frames) + i) / 30)
            latencies.append(time.perf_counter() - start)
            faces.append(len(result.faces))
            for stage, ms in result.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
    return {'fps': len(latencies) / sum(latencies),
            'latency_ms_p50': 1e3 * float(np.percentile(latencies, 50)),
            'latency_ms_p95': 1e3 * float(np.percentile(latencies, 95)),
            'faces_mean': float(np.mean(faces)),
            'stages_ms': {s: float(np.mean(v)) for s, v in stages.items()}}


def median_run(runs, key):
    """The run whose `key` is the median (the lower one of an even count), with every run's
    value and their spread (min, max)."""
    values = [run[key] for run in runs]
    middle = sorted(runs, key=lambda run: run[key])[(len(runs) - 1) // 2]
    return {**middle, 'runs': values, 'spread': [min(values), max(values)]}


def peer(python, path):
    """The `fer` library's two detectors on the frames in `path`, each in a fresh process."""
    script = Path(__file__).with_name('peer_fer.py')
    results = {}
    for config in ('default', 'mtcnn'):
        out = subprocess.run([python, str(script), str(path), config], check=True,
                             capture_output=True, text=True)
        results[config] = json.loads(out.stdout.strip().splitlines()[-1])
    return results


def pinned(path, threads, rounds, cpu=0):
    """The core in a process pinned to one core (taskset), `threads` ONNX Runtime threads."""
    out = subprocess.run(['taskset', '-c', str(cpu), sys.executable, '-m', __name__, str(path),
                          str(threads), str(rounds)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def speed_runs(frames, runs, rounds, peer_python=None):
    """Vision core fps per frame set, `runs` times, each run followed by fer's (when
    peer_python is given) and by the core pinned to one core with one thread: the median
    run of each, the spreads, and the ratio to the faster fer configuration per run."""
    ours, theirs, one_core, ratios = {n: [] for n in frames}, [], {n: [] for n in frames}, []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'frames.npz'
        np.savez(path, **frames)
        for _ in range(runs):
            pipeline = VisionPipeline()
            for name, batch in frames.items():
                ours[name].append(time_core(pipeline, batch, rounds))
            for name, result in pinned(path, 1, rounds).items():
                one_core[name].append(result)
            if peer_python:
                fer = peer(peer_python, path)
                best = max(fer, key=lambda c: fer[c]['1face']['fps'])
                theirs.append({'config': best, 'fps_1face': fer[best]['1face']['fps'],
                               'fps_3faces': fer[best]['3faces']['fps'], 'configs': fer})
                ratios.append({name: ours[name][-1]['fps'] / fer[best][name]['fps']
                               for name in frames})
    results = {'core': {n: median_run(r, 'fps') for n, r in ours.items()},
               'one_core': {n: median_run(r, 'fps') for n, r in one_core.items()},
               'threads': pipeline.params['threads']}
    if theirs:
        results['peer_fer'] = median_run(theirs, 'fps_1face')
        results['speedup_vs_fer'] = {n: median_run([{'ratio': r[n]} for r in ratios], 'ratio')
                                     for n in frames}
    return results


def main():
    frames = np.load(sys.argv[1])
    pipeline = VisionPipeline(threads=int(sys.argv[2]))
    rounds = int(sys.argv[3])
    print(json.dumps({name: time_core(pipeline, frames[name], rounds) for name in frames.files}))


if __name__ == '__main__':
    main()
