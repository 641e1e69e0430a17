"""Speaker/session adaptation of the speech model's inputs, online and causal (no ROS).

Emotion in a voice is how it departs from that speaker's own baseline: a deep voice is not
sad, a loud microphone is not angry. Each voiced window's inputs are standardised against
the running mean and variance of the current session (every voiced window so far, this one
included) and mapped back onto the training population's scale, so the model sees inputs
alike whoever speaks into whichever microphone. The session statistics are shrunk towards
the population's with the weight of `prior_weight` windows: the first windows of a new
speaker (cold start) are scored almost as without adaptation.

A session ends after `reset_after` seconds without a voiced window, or when the voice
changes: `change_windows` voiced windows in a row whose median pitch lies more than
`change_semitones` from the session's mean pitch (a man and a woman are about an octave
apart; emotion moves pitch by a few semitones).
"""
import math

import numpy as np


class SpeakerAdaptation:
    """Running per-session statistics; `mean`, `var` are the population's (training set's).

    >>> adapt = SpeakerAdaptation(mean, var)
    >>> x = adapt(features.model_input, stamp=12.5, pitch_hz=features.pitch_hz)
    """

    def __init__(self, mean, var, prior_weight=8.0, reset_after=20.0, change_semitones=7.0,
                 change_windows=2):
        self.mean0 = np.asarray(mean, np.float64)
        self.var0 = np.maximum(np.asarray(var, np.float64), 1e-8)
        self.prior_weight = float(prior_weight)
        self.reset_after = float(reset_after)
        self.change_semitones = float(change_semitones)
        self.change_windows = int(change_windows)
        self.resets = 0  # sessions ended by silence or a change of voice
        self.reset()

    def reset(self):
        """Start a new session (a new conversation)."""
        self.n, self.sum, self.sq = 0, np.zeros_like(self.mean0), np.zeros_like(self.mean0)
        self.pitch_n, self.pitch_sum, self.suspect = 0, 0.0, []
        self.last = None

    def _add(self, x):
        self.n += 1
        self.sum += x
        self.sq += x * x

    def __call__(self, x, stamp=None, pitch_hz=float('nan')):
        """Adapted copy of one voiced window's inputs; updates the session first."""
        x = np.asarray(x, np.float64)
        if stamp is not None and self.last is not None and stamp - self.last > self.reset_after:
            self.reset()
            self.resets += 1
        self._track_voice(x, pitch_hz)
        self.last = stamp
        self._add(x)
        k, n = self.prior_weight, self.n
        session_mean = self.sum / n
        session_var = np.maximum(self.sq / n - session_mean ** 2, 0.0)
        mean = (k * self.mean0 + n * session_mean) / (k + n)
        var = np.maximum((k * self.var0 + n * session_var) / (k + n), 1e-8)
        return (self.mean0 + (x - mean) * np.sqrt(self.var0 / var)).astype(np.float32)

    def _track_voice(self, x, pitch_hz):
        if not (pitch_hz > 0 and math.isfinite(pitch_hz)):
            return
        semitones = 12.0 * math.log2(pitch_hz / 100.0)
        if self.change_semitones > 0 and self.pitch_n >= 3 and \
                abs(semitones - self.pitch_sum / self.pitch_n) > self.change_semitones:
            self.suspect.append((x, semitones))
            if len(self.suspect) < self.change_windows:
                return
            # A new voice: its session starts with the windows that revealed it.
            held = self.suspect
            self.reset()
            self.resets += 1
            for window, pitch in held[:-1]:
                self._add(window)
                self.pitch_n, self.pitch_sum = self.pitch_n + 1, self.pitch_sum + pitch
            semitones = held[-1][1]
        self.suspect = []
        self.pitch_n += 1
        self.pitch_sum += semitones
