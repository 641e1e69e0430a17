"""Recording chains for training the speech model: one chain per simulated session.

A session is one speaker through one microphone, room and transmission: its chain (gain,
band, noise, reverberation, pitch and tempo, resampling, lossy codec) is drawn once and applied
to every clip of the session, as a robot's microphone would be. Used by train_speech.py only.
"""
import io

import av
import numpy as np
from audiomentations import (AddGaussianSNR, BandPassFilter, Compose, Gain, LowPassFilter,
                             PitchShift, TimeStretch)
from scipy.signal import fftconvolve


def codec(samples, rate, name, bitrate):
    """samples encoded with `name` (libopus or libmp3lame) at `bitrate` bit/s and decoded."""
    buffer = io.BytesIO()
    with av.open(buffer, 'w', format='ogg' if name == 'libopus' else 'mp3') as out:
        stream = out.add_stream(name, rate=48000 if name == 'libopus' else rate, layout='mono')
        stream.bit_rate = bitrate
        frame = av.AudioFrame.from_ndarray(samples[None].astype(np.float32), format='flt',
                                           layout='mono')
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    buffer.seek(0)
    resampler = av.AudioResampler(format='flt', layout='mono', rate=rate)
    with av.open(buffer) as source:
        decoded = [g.to_ndarray()[0] for f in source.decode(audio=0) for g in resampler.resample(f)]
    decoded += [g.to_ndarray()[0] for g in resampler.resample(None)]
    decoded = np.concatenate(decoded)[:len(samples)]
    return np.pad(decoded, (0, len(samples) - len(decoded))).astype(np.float32)


def room(samples, rate, rt60, rng):
    """Reverberation: an exponentially decaying noise tail (RT60 in s) after the direct path."""
    t = np.arange(int(rt60 * rate)) / rate
    response = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60) * 0.3
    response[0] = 1.0
    wet = fftconvolve(samples, response)[:len(samples)]
    return (wet * np.sqrt(np.mean(samples ** 2) / max(np.mean(wet ** 2), 1e-12))).astype(np.float32)


class Chain:
    """One session's recording chain, drawn from `seed`; chain(samples, rate) applies it."""

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.rt60 = rng.uniform(0.15, 0.7) if rng.random() < 0.6 else 0.0
        self.codec = rng.choice(['', 'libopus', 'libmp3lame'], p=[0.5, 0.3, 0.2])
        self.bitrate = int(rng.choice([12000, 16000, 24000, 32000]))
        self.effects = Compose([
            # Telephone-like bands, or a cheaper microphone's roll-off.
            BandPassFilter(min_center_freq=1000, max_center_freq=2000,
                           min_bandwidth_fraction=1.4, max_bandwidth_fraction=1.9, p=0.3),
            LowPassFilter(min_cutoff_freq=3500, max_cutoff_freq=7000, p=0.3),
            PitchShift(min_semitones=-2.0, max_semitones=2.0, p=0.5),
            TimeStretch(min_rate=0.9, max_rate=1.1, leave_length_unchanged=False, p=0.4),
            AddGaussianSNR(min_snr_db=8.0, max_snr_db=30.0, p=0.7),
            Gain(min_gain_db=-18.0, max_gain_db=6.0, p=1.0),
        ])
        self.seed = seed
        self.frozen = False

    def __call__(self, samples, rate):
        if self.rt60:
            samples = room(samples, rate, self.rt60, self.rng)
        if not self.frozen:
            np.random.seed(self.seed % 2 ** 32)  # audiomentations draws from np.random
            self.effects.randomize_parameters(samples, rate)
            self.effects.freeze_parameters()
            self.frozen = True
        samples = self.effects(samples, rate)
        if self.codec:
            samples = codec(samples, rate, self.codec, self.bitrate)
        return np.clip(samples, -1.0, 1.0).astype(np.float32)
