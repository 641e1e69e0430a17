"""How a voice sounds over one window: a pretrained speaker encoder's statistics (no ROS).

The encoder (models/voice_encoder.onnx, converted from Resemblyzer's by
tools/export_voice_encoder.py) was trained on thousands of speakers and microphones to tell
voices apart, so what it hears survives a change of speaker, language and recording chain
better than hand-made spectra; emotion colours it too. Its input is Resemblyzer's: mel power
of 25 ms frames every 10 ms, with the speech brought to -30 dBFS.
"""
import numpy as np

from av_emotion.runtime import packaged_model, session
from av_emotion_audio import dsp

RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160
LEVEL_DBFS = -30.0
MIN_FRAMES = 20  # fewer speech frames than this: the whole window is used
_MEL = dsp.mel_filters(RATE, N_FFT, 40, RATE / 2)


class VoiceEncoder:
    """>>> stats = VoiceEncoder()(samples_16k, speech_per_10ms_frame)  # (512,) float32"""

    def __init__(self, model='voice_encoder.onnx', threads=1):
        self.session = session(str(packaged_model('av_emotion_audio', model)), threads)

    def __call__(self, samples, speech=None):
        return self.encode(*frame_values(samples), speech)

    def encode(self, mel, square, speech=None):
        """Statistics of one window from the frame_values of all its frames."""
        keep = np.ones(mel.shape[1], bool)
        if speech is not None:
            speech = np.resize(np.asarray(speech, bool), mel.shape[1])
            if speech.sum() >= MIN_FRAMES:
                keep = speech
        # Mean square of the kept frames' samples; mel power scales with it.
        gain = 10 ** (LEVEL_DBFS / 10) / max(float(square[keep].mean()), 1e-12)
        frames = (mel[:, keep].T * gain).astype(np.float32)[:, None, :]
        return self.session.run(None, {'mel': frames})[0][0]


def frame_values(samples, index=slice(None)):
    """(mel power (40, n), mean square (n)) of a window's 10 ms frames (all, or those `index`
    picks): the encoder's input before the window's gain, computed once per frame in a
    stream (av_emotion_audio.stream)."""
    x = dsp.frames(np.asarray(samples, np.float32), N_FFT, HOP)[index]
    return _MEL @ dsp.magnitude(x) ** 2, (x ** 2).mean(axis=1)
