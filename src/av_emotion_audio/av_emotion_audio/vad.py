"""Voice activity with Silero VAD (the `silero-vad` PyPI package's ONNX, MIT).

The package's Python API imports torch, so only its model file is used, found without
importing the package; the 'sequence' export scores a run of 32 ms frames in one ONNX call.
Each frame is preceded by the last 64 samples of the frame before it.
"""
import importlib.util
from pathlib import Path

import numpy as np

from av_emotion.runtime import session

RATE = 16000
FRAME = 512
CONTEXT = 64
ZERO_STATE = (np.zeros((1, 1, 128), np.float32),) * 2


def model_file(name='silero_vad_16k_sequence.onnx'):
    spec = importlib.util.find_spec('silero_vad')
    if spec is None:
        raise FileNotFoundError('silero-vad is not installed (pip install --no-deps silero-vad)')
    return Path(spec.submodule_search_locations[0]) / 'data' / name


class VoiceActivity:
    def __init__(self, threads=1):
        self.session = session(str(model_file()), threads)

    def frame_probabilities(self, samples):
        """Speech probability of each 32 ms frame of 16 kHz mono samples, alone (the model's
        state starts from zero, the last frame is padded with silence)."""
        count = -(-len(samples) // FRAME)
        if count == 0:
            return np.zeros(0, np.float32)
        frames = np.zeros((count, FRAME), np.float32)
        frames.reshape(-1)[:len(samples)] = samples
        return self.run(frames, np.zeros(CONTEXT, np.float32), ZERO_STATE)[0]

    def run(self, frames, context, state):
        """(probabilities, state after) of frames (n, FRAME) after `context`, the last
        CONTEXT samples before them, from the model's state (h, c)."""
        before = np.concatenate([context[None], frames[:-1, -CONTEXT:]])
        probabilities, h, c = self.session.run(
            ['speech_probs', 'hn', 'cn'],
            {'input': np.concatenate([before, frames], axis=1), 'h': state[0], 'c': state[1]})
        return probabilities.reshape(-1), (h, c)


class ActivityStream:
    """Silero as it is meant to run on a stream: 32 ms frames, each scored once, with the
    model's state carried from frame to frame; so a window's first frames are judged with
    what came before them, not from a cold start."""

    def __init__(self, vad):
        self.vad = vad
        self.reset()

    def reset(self):
        self.state = ZERO_STATE
        self.pending = np.zeros(0, np.float32)  # samples of the next, incomplete frame
        self.context = np.zeros(CONTEXT, np.float32)

    def push(self, samples):
        """Speech probabilities of the frames that `samples` (16 kHz, following the last
        ones) complete."""
        audio = np.concatenate([self.pending, samples])
        count = len(audio) // FRAME
        self.pending = audio[count * FRAME:]
        if count == 0:
            return np.zeros(0, np.float32)
        frames = audio[:count * FRAME].reshape(count, FRAME)
        probabilities, self.state = self.vad.run(frames, self.context, self.state)
        self.context = frames[-1, -CONTEXT:]
        return probabilities
