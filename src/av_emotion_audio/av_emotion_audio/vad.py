"""Voice activity with Silero VAD (the `silero-vad` PyPI package's ONNX, MIT).

The package's Python API imports torch, so only its model file is used, found without
importing the package; the 'sequence' export scores every 32 ms frame of a window in one
ONNX call. Each frame is preceded by the last 64 samples of the frame before it.
"""
import importlib.util
from pathlib import Path

import numpy as np

from av_emotion.runtime import session

RATE = 16000
FRAME = 512
CONTEXT = 64


def model_file(name='silero_vad_16k_sequence.onnx'):
    spec = importlib.util.find_spec('silero_vad')
    if spec is None:
        raise FileNotFoundError('silero-vad is not installed (pip install --no-deps silero-vad)')
    return Path(spec.submodule_search_locations[0]) / 'data' / name


class VoiceActivity:
    def __init__(self, threads=1):
        self.session = session(str(model_file()), threads)

    def frame_probabilities(self, samples):
        """Speech probability of each 32 ms frame of 16 kHz mono samples."""
        count = -(-len(samples) // FRAME)
        if count == 0:
            return np.zeros(0, np.float32)
        frames = np.zeros((count, FRAME), np.float32)
        frames.reshape(-1)[:len(samples)] = samples
        context = np.zeros((count, CONTEXT), np.float32)
        context[1:] = frames[:-1, -CONTEXT:]
        state = np.zeros((1, 1, 128), np.float32)
        probabilities, _, _ = self.session.run(
            ['speech_probs', 'hn', 'cn'],
            {'input': np.concatenate([context, frames], axis=1), 'h': state, 'c': state})
        return probabilities.reshape(-1)
