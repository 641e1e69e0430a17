"""Feedback cues: when the fused emotion changes for good, a colour and a short sound.

ROS-free (cue_node converts messages): which changes are real (hysteresis on probability
and confidence, and a dwell time, in stamp time), their colours (av_emotion.taxonomy's
palette), their sounds (tone patterns synthesised with numpy) and a speaker (PortAudio).
"""
from dataclasses import dataclass

import numpy as np

from av_emotion.config import merged
from av_emotion.taxonomy import COLOURS, LABELS

# Each label's sound: notes (MIDI pitch at start, at end, seconds; pitch None: a rest) and
# the amplitudes of the harmonics of its timbre. A melody one hears at once: rising major
# for happy, falling minor for sad, low harsh buzzes for angry, an upward sweep for
# surprised, a sagging nasal slide for disgusted, a fast high trill for scared, two plain
# beeps for neutral.
SOUNDS = {
    'neutral': ([(69, 69, 0.12), (None, None, 0.08), (69, 69, 0.12)], (1.0,)),
    'happy': ([(72, 72, 0.1), (76, 76, 0.1), (79, 79, 0.1), (84, 84, 0.22)], (1.0, 0.3)),
    'sad': ([(69, 69, 0.2), (64, 64, 0.2), (60, 60, 0.2), (57, 57, 0.35)], (1.0,)),
    'angry': ([(45, 45, 0.1), (None, None, 0.04), (51, 51, 0.1), (None, None, 0.04)] * 2,
              (1.0, 0.0, 0.5, 0.0, 0.35, 0.0, 0.25)),
    'surprised': ([(60, 84, 0.25), (84, 84, 0.12)], (1.0, 0.2)),
    'disgusted': ([(62, 53, 0.5)], (1.0, 0.0, 0.6, 0.0, 0.4)),
    'scared': ([(88, 88, 0.05), (89, 89, 0.05)] * 5, (1.0, 0.15)),
}
RAMP = 0.008  # s of fade in and out of each note: no clicks


def colour(label):
    """(r, g, b, a) in [0, 1] of a label; None (no confident estimate): off, all 0."""
    if label is None:
        return 0.0, 0.0, 0.0, 0.0
    return (*(c / 255 for c in COLOURS[label]), 1.0)


def hertz(pitch):
    return 440.0 * 2.0 ** ((np.asarray(pitch) - 69) / 12)


def sound(label, rate):
    """A label's sound: float32 mono samples at `rate` Hz, peak 1."""
    notes, harmonics = SOUNDS[label]
    parts = []
    for start, end, seconds in notes:
        n = int(seconds * rate)
        if start is None:
            parts.append(np.zeros(n))
            continue
        # Pitch glides linearly in semitones; the phase integrates the frequency, so a
        # glide has no jumps.
        phase = 2 * np.pi * np.cumsum(hertz(np.linspace(start, end, n))) / rate
        wave = sum(a * np.sin(k * phase) for k, a in enumerate(harmonics, 1))
        ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (RAMP * rate))
        parts.append(wave * np.sin(ramp * np.pi / 2) ** 2)
    samples = np.concatenate(parts)
    return (samples / np.abs(samples).max()).astype(np.float32)


@dataclass
class Change:
    """A confirmed change: at `stamp` (s) the cue became `label` (None: off) from
    `previous`; `sound`: whether to play it (not muted, min_interval passed)."""
    stamp: float
    label: str | None
    previous: str | None
    sound: bool


class Cues:
    """Confirmed changes of a stream of emotion estimates (REP-155 probabilities and a
    confidence, or none), in stamp time: what is proposed must be proposed by every
    estimate for `dwell` seconds before it is cued, so an input that swings back and forth
    faster is never cued, whatever the load."""

    def __init__(self, **overrides):
        self.params = merged('cues', overrides)
        p = self.params
        if p['confidence.leave'] > p['confidence.enter']:
            raise ValueError(f"confidence.leave {p['confidence.leave']} is above "
                             f"confidence.enter {p['confidence.enter']}")
        self.label = None  # the current cue
        self.pending = None  # (label proposed, stamp since when)
        self.now = None  # newest stamp heard
        self.last_sound = None

    def proposal(self, probabilities, confidence):
        """The label an estimate asks for: the current one while it holds, None when it
        is unsure (or empty)."""
        p = self.params
        if probabilities is None or confidence < p['confidence.leave']:
            return None
        top = LABELS[int(np.argmax(probabilities))]
        if confidence < p['confidence.enter']:
            return self.label
        if self.label is None:
            return top
        gain = probabilities[LABELS.index(top)] - probabilities[LABELS.index(self.label)]
        return top if gain >= p['hysteresis.margin'] else self.label

    def hear(self, stamp, probabilities, confidence):
        """One estimate (probabilities in LABELS order, None when empty); a Change when it
        confirms one, else None. Stamps that go back count as the newest so far: fused
        stamps are those of the newest evidence, which may step back a little."""
        self.now = stamp if self.now is None else max(self.now, stamp)
        wanted = self.proposal(probabilities, confidence)
        if wanted == self.label:
            self.pending = None
            return None
        if self.pending is None or self.pending[0] != wanted:
            self.pending = (wanted, self.now)
        if self.now - self.pending[1] < self.params['dwell']:
            return None
        previous, self.label, self.pending = self.label, wanted, None
        audible = (wanted is not None and not self.params['mute'] and (
            self.last_sound is None or self.now - self.last_sound >= self.params['min_interval']))
        if audible:
            self.last_sound = self.now
        return Change(self.now, wanted, previous, audible)


class SpeakerError(RuntimeError):
    """No usable speaker; the text says why."""


class Speaker:
    """A PortAudio output device that plays one sound at a time, without blocking."""

    def __init__(self, device, rate):
        try:
            import sounddevice
        except OSError as error:  # sounddevice raises OSError when libportaudio is missing
            raise SpeakerError(f'PortAudio is not installed ({error}); on Debian/Ubuntu: '
                               'sudo apt-get install libportaudio2') from error
        self.sounddevice, self.rate = sounddevice, rate
        self.device = int(device) if device.isdigit() else (device or None)
        try:
            sounddevice.check_output_settings(device=self.device, channels=1,
                                              dtype='float32', samplerate=rate)
        except (sounddevice.PortAudioError, ValueError) as error:
            outputs = [d['name'] for d in sounddevice.query_devices()
                       if d['max_output_channels']]
            raise SpeakerError(f'cannot open speaker {device or "(default)"} at {rate} Hz: '
                               f'{error}; output devices: {outputs or "none"}') from error

    def play(self, samples):
        """Start playing (a sound still playing stops); SpeakerError if the device fails."""
        try:
            self.sounddevice.play(samples, self.rate, device=self.device)
        except (self.sounddevice.PortAudioError, ValueError) as error:
            raise SpeakerError(f'speaker failed: {error}') from error
