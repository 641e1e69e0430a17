"""Time the `fer` library on benchmark frames; run by av-emotion-bench with .venv-peer's Python.

    python peer_fer.py FRAMES.npz default|mtcnn  -> one JSON line on stdout
"""
import json
import os
import resource
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # fer's .hdf5 is a Keras 2 model

import torch  # noqa: E402,F401 - before fer, or FER(mtcnn=True) segfaults
import torchvision  # noqa: E402,F401
import numpy as np  # noqa: E402
from fer.fer import FER  # noqa: E402


def main():
    frames = np.load(sys.argv[1])
    detector = FER(mtcnn=sys.argv[2] == 'mtcnn')
    result = {}
    for name in frames.files:
        batch = frames[name]
        for frame in batch[:3]:
            detector.detect_emotions(frame)
        latencies, faces = [], []
        for frame in batch:
            start = time.perf_counter()
            faces.append(len(detector.detect_emotions(frame)))
            latencies.append(time.perf_counter() - start)
        result[name] = {'fps': len(batch) / sum(latencies),
                        'latency_ms_p95': 1e3 * float(np.percentile(latencies, 95)),
                        'faces_mean': float(np.mean(faces))}
    result['rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == '__main__':
    main()
