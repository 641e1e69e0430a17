"""The overlapping windows of one audio stream, each 10 ms frame analysed once (no ROS).

Consecutive windows share all but one hop of samples. Everything a window's statistics
need is computed per frame from that frame's samples alone (features.frame_values,
voice_encoder.frame_values), so a window that follows the last one by a hop takes from it
the frames whose samples lie in their overlap, and computes only the others: those of the
new hop, and the few at its start whose samples reach before it (padded as analyse() pads
a window). Its statistics are then those of analyse() on the window alone. Voice activity
runs once per 32 ms frame of the stream, with Silero's state carried (vad.ActivityStream).
"""
import time

import numpy as np
import soxr

from av_emotion_audio import features as feats
from av_emotion_audio import voice_encoder
from av_emotion_audio.vad import FRAME, RATE, ActivityStream

# A frame's values depend on samples this far either side of its centre (YIN's 1024).
REACH = 512
# soxr gives a resampled window's first and last 200 samples (at 16 kHz, from 8 kHz; fewer
# from higher rates) its own edge; inside, the same stretch of a longer signal resamples the
# same to 1e-7. So a resampled stream keeps frames and activity this far from the ends.
RESAMPLE_MARGIN = 320


class WindowStream:
    """>>> frame_speech, features, voiced, timings = stream.describe(window, rate, start)"""

    def __init__(self, vad, encoder, params):
        self.activity = ActivityStream(vad)
        self.encoder = encoder and ReusedEncoder(encoder, params['encoder_interval'])
        self.params = params
        self.last = None  # (rate, window samples, start of the window that would follow)

    def describe(self, samples, rate, start, unvoiced_too=False):
        """pipeline.describe() of the stream's next window, `samples` at `rate` Hz from
        `start` (s). One that does not follow the last by a hop starts the stream anew (a
        restarted buffer, another rate); a gap the buffer filled with silence does not."""
        t0 = time.perf_counter()
        audio = samples if rate == RATE else soxr.resample(samples, rate, RATE)
        margin = 0 if rate == RATE else RESAMPLE_MARGIN
        hop = int(round(self.params['hop'] * rate))  # as AudioBuffer
        shift = hop * RATE / rate  # 16 kHz samples from one window to the next
        follows = (self.last is not None and self.last[:2] == (rate, len(samples))
                   and abs(start - self.last[2]) < 0.5 / rate and shift % feats.HOP == 0)
        self.last = (rate, len(samples), start + hop / rate)
        if follows:
            self.position += int(shift)
            if self.encoder:
                self.encoder.age += 1
        else:
            self.activity.reset()
            if self.encoder:
                self.encoder.reset()
            self.position = self.fed = self.first = 0  # 16 kHz samples, VAD frames
            self.speech = np.zeros(0, np.float32)  # VAD frames from self.first on
        settled = self.position + len(audio) - margin
        new = audio[self.fed - self.position:settled - self.position]
        self.speech = np.concatenate([self.speech, self.activity.push(new)])
        self.fed = settled
        drop = self.position // FRAME - self.first
        self.speech, self.first = self.speech[drop:], self.first + drop
        t1 = time.perf_counter()

        centres = np.arange(1 + len(audio) // feats.HOP) * feats.HOP
        reuse = follows & (centres >= margin + REACH) & (
            centres + REACH <= len(audio) - shift - margin)
        fresh = np.flatnonzero(~reuse)
        values = feats.frame_values(audio, fresh)
        timings = {'vad': 1e3 * (t1 - t0), 'features': 1e3 * (time.perf_counter() - t1)}
        if self.encoder is not None:
            t2 = time.perf_counter()
            values['encoder'] = voice_encoder.frame_values(audio, fresh)
            timings['encoder'] = 1e3 * (time.perf_counter() - t2)
        if reuse.any():
            old = np.flatnonzero(reuse) + int(shift) // feats.HOP
            values = {k: merged(self.values[k], v, old, reuse) for k, v in values.items()}
        self.values = values
        return conclude(self.speech, self.position - self.first * FRAME, values, self.params,
                        self.encoder, unvoiced_too, timings)


class ReusedEncoder:
    """The voice encoder's statistics of a window, reused by the next interval - 1 windows
    of the stream. Unlike the frame values, they cannot be carried over in part: the
    encoder's network runs over the whole window (about 8 ms, from a zero state, at the
    window's gain). Consecutive windows share three quarters of their samples (2 s, 0.5 s
    hop), and every second window's held RAVDESS actors 21-24 at 0.688 adapted (0.683 with
    every window's; README, Speed): half the cost, which takes the audio core under 0.02 of
    real time."""

    def __init__(self, encoder, interval):
        self.encoder, self.interval = encoder, interval
        self.reset()

    def reset(self):
        self.stats, self.age = None, 0  # age: windows of the stream since stats were made

    def encode(self, mel, square, speech=None):
        if self.stats is None or self.age >= self.interval:
            self.stats, self.age = self.encoder.encode(mel, square, speech), 0
        return self.stats


def merged(last, fresh, old, reuse):
    """Frame values (arrays, or a tuple of them) of a window: `reuse` frames from the last
    window's frames `old`, the others `fresh`."""
    if isinstance(fresh, tuple):
        return tuple(merged(a, b, old, reuse) for a, b in zip(last, fresh))
    values = np.empty(fresh.shape[:-1] + reuse.shape, fresh.dtype)
    values[..., reuse] = last[..., old]
    values[..., ~reuse] = fresh
    return values


def conclude(frame_speech, offset, values, params, encoder, unvoiced_too, timings):
    """(frame_speech, Features, voiced, timings) of a window from its VAD frames'
    probabilities (the first beginning `offset` samples before the window) and the values
    of all its 10 ms frames; with an encoder, a voiced window's model input (any window's,
    with unvoiced_too) ends with the encoder's statistics."""
    t0 = time.perf_counter()
    frames = len(values['level_db'])
    # The VAD frame holding each feature frame's centre; the last VAD frame while the next
    # is incomplete (up to 32 ms at a stream's end).
    which = (offset + np.arange(frames) * feats.HOP) // FRAME
    speech = (frame_speech > params['vad.threshold'])[np.minimum(which, len(frame_speech) - 1)]
    features = feats.window_features(values, speech)
    voiced = bool((frame_speech > params['vad.threshold']).mean()
                  >= params['vad.min_speech_fraction'])
    t1 = time.perf_counter()
    timings['features'] += 1e3 * (t1 - t0)
    if (voiced or unvoiced_too) and encoder is not None:
        features.model_input = np.concatenate([features.model_input,
                                               encoder.encode(*values['encoder'], speech)])
        timings['encoder'] += 1e3 * (time.perf_counter() - t1)
    return frame_speech, features, voiced, timings
