"""Clocks of inputs from other devices: their offsets from ours, and stamps corrected by them
(no ROS).

A device stamps its messages with its own clock. On arrival here, arrival - stamp is that
clock's offset from ours plus the message's delay (processing, transport), and delay only
adds: so a low quantile of the recent values estimates the offset (plus the smallest delay),
and a few stamps that are wildly ahead (a broken or hostile sender) do not move it.
One-way timing cannot tell a clock offset from a delay: a corrected input counts as
stamped when its fastest messages arrived, late by its smallest delay; synchronised clocks
(chrony, NTP) need no correction at all.
"""
from collections import deque

from av_emotion.config import merged

# The estimate: this quantile of the offsets held, from this many on. Values wildly low (stamps
# far ahead) are outvoted while fewer than a fifth of those held: one from 5 on, 4 of 20.
QUANTILE = 0.2
MIN_SAMPLES = 5


class ClockOffset:
    """Running estimate of one input's clock offset: our clock minus its, in seconds."""

    def __init__(self, window):
        self.offsets = deque(maxlen=window)

    def add(self, stamp, arrival):
        """A message stamped `stamp` (its clock) arrived at `arrival` (ours)."""
        self.offsets.append(arrival - stamp)

    def estimate(self):
        """The offset, or None before MIN_SAMPLES messages."""
        if len(self.offsets) < MIN_SAMPLES:
            return None
        return sorted(self.offsets)[int(QUANTILE * len(self.offsets))]


class Clocks:
    """The clock offsets of several inputs, and the corrections of their stamps.

    >>> clocks = Clocks(['faces', 'voice'])             # clock.* from config/fusion.yaml
    >>> clocks.add('faces', stamp, arrival)
    >>> stamp + clocks.correction('faces')              # the stamp on our clock
    """

    def __init__(self, inputs, **overrides):
        self.params = merged('fusion', overrides)
        self.offsets = {name: ClockOffset(self.params['clock.window']) for name in inputs}
        self.apart = False  # in an episode of inputs' clocks further apart than sync.slop

    def add(self, name, stamp, arrival):
        self.offsets[name].add(stamp, arrival)

    def estimates(self):
        return {name: offset.estimate() for name, offset in self.offsets.items()}

    def corrected(self):
        """Whether stamps are corrected: some input's offset is beyond clock.tolerance.

        Within it an offset is delay, which stamps must keep (max_age measures it). Beyond
        it, every input is corrected, not only the one that is off, so that they stay
        comparable for pairing: they then differ by the difference of their smallest
        delays, not by a whole delay."""
        return self.params['clock.correct'] and any(
            e is not None and abs(e) > self.params['clock.tolerance']
            for e in self.estimates().values())

    def correction(self, name):
        """Seconds to add to the input's stamps to put them on our clock (0: none)."""
        return (self.offsets[name].estimate() or 0.0) if self.corrected() else 0.0

    def spread(self):
        """How far apart the inputs' clocks are (largest offset minus smallest), or None
        while one has no estimate."""
        estimates = list(self.estimates().values())
        if None in estimates:
            return None
        return max(estimates) - min(estimates)

    def drifted_apart(self):
        """The spread, once at the start of each episode of inputs further apart than
        sync.slop (pairs of them then miss each other unless corrected); else None."""
        spread = self.spread()
        apart = spread is not None and spread > self.params['sync.slop']
        news = apart and not self.apart
        self.apart = apart
        return spread if news else None
