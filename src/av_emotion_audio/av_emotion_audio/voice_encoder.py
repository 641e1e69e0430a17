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
        samples = np.asarray(samples, np.float32)
        mel = _MEL @ dsp.stft_magnitude(samples, N_FFT, HOP) ** 2
        keep = np.ones(mel.shape[1], bool)
        if speech is not None:
            speech = np.resize(np.asarray(speech, bool), mel.shape[1])
            if speech.sum() >= MIN_FRAMES:
                keep = speech
        # Mean square of the kept frames' samples; mel power scales with it.
        square = (dsp.frames(samples, N_FFT, HOP)[:mel.shape[1]][keep] ** 2).mean()
        gain = 10 ** (LEVEL_DBFS / 10) / max(float(square), 1e-12)
        frames = (mel[:, keep].T * gain).astype(np.float32)[:, None, :]
        return self.session.run(None, {'mel': frames})[0][0]
