"""Alert rules per person on a stream of emotion estimates, in stamp time (no ROS).

A person is a device (namespace) and a face id. Stamps are integer nanoseconds of the
estimates' header stamps, so a replayed recording gives the same alerts to the nanosecond,
and `for: 10` raises at the first estimate 10 s after the rule began to hold, never before.
A person not estimated for `max_gap` seconds has left: the hold of every rule starts again,
and their active alerts clear.
"""
from collections import deque
from dataclasses import dataclass

import numpy as np

from av_emotion.taxonomy import LABELS

NS = 10**9


def ns(seconds):
    return round(seconds * NS)


@dataclass
class Estimate:
    """One fused estimate of one person."""
    device: str
    face_id: int
    stamp: int  # header stamp, ns
    probabilities: np.ndarray  # REP-155 labels, LABELS order
    valence: float
    arousal: float
    confidence: float
    # 'vision' and/or 'audio'; None where the source does not say (the room view).
    modalities: tuple = None

    def values(self):
        """The rules' fields: each label's probability, valence, arousal, confidence."""
        return {**dict(zip(LABELS, map(float, self.probabilities))), 'valence': self.valence,
                'arousal': self.arousal, 'confidence': self.confidence}


@dataclass
class Event:
    """An alert raised (active) or cleared. since: when its rule began to hold (the same in
    both, which pairs them); stamp: when it was found to hold for long enough, or to end."""
    device: str
    face_id: int
    rule: object  # rules.Rule
    active: bool
    stamp: int
    since: int
    evidence: dict  # name -> value: the rule's fields, changes, seconds held


class Person:
    def __init__(self):
        self.last = None  # stamp of the latest estimate
        self.heard = None  # the stream's clock when it came
        self.history = deque()  # (stamp, values), as far back as the longest jump looks
        self.since = {}  # rule name -> stamp it began to hold, while it holds
        self.active = set()  # names of the rules whose alert is raised


class Monitor:
    """rules: rules.Rule list; max_gap: seconds; log: a moodlog.MoodLog or None."""

    def __init__(self, rules, max_gap, log=None):
        self.rules, self.max_gap, self.log = rules, ns(max_gap), log
        self.keep = max((ns(r.jump.within) for r in rules if r.jump), default=0)
        self.people = {}  # (device, face id) -> Person
        self.clock = None  # the newest stamp of the stream
        self.counts = {'estimates': 0, 'repeats': 0, 'raised': 0}

    def observe(self, now, estimates=()):
        """The stream at stamp `now` (ns: the message's header stamp) with the estimates it
        brings. Returns the alerts raised and cleared (Event), in order; the log gets them,
        the estimates and the minutes that ended max_gap before the clock."""
        self.clock = now if self.clock is None else max(self.clock, now)
        events = []
        for key, person in list(self.people.items()):
            if self.clock - person.heard > self.max_gap:
                events += self.gone(key, self.clock - person.heard)
        for estimate in estimates:
            events += self.estimate(estimate)
        if self.log:
            for event in events:
                self.log.alert(event)
            self.log.flush(self.clock - self.max_gap)
        return events

    def estimate(self, e):
        key = e.device, e.face_id
        person = self.people.get(key)
        # The same estimate again (the room view repeats it until it ages; fusion stamps
        # with the newest evidence, which may stay), or one older than the last.
        if person and e.stamp <= person.last:
            self.counts['repeats'] += 1
            return []
        self.counts['estimates'] += 1
        events = []
        if person and e.stamp - person.last > self.max_gap:
            events += self.gone(key, e.stamp - person.last)
            person = None
        if person is None:
            person = self.people[key] = Person()
        seconds = (e.stamp - person.last) / NS if person.last is not None else 0.0
        person.last, person.heard = e.stamp, self.clock
        values = e.values()
        person.history.append((e.stamp, values))
        while person.history[0][0] < e.stamp - self.keep:
            person.history.popleft()
        for rule in self.rules:
            events += self.check(person, e, rule, values)
        if self.log:
            self.log.add(e, seconds)
        return events

    def check(self, person, e, rule, values):
        evidence = {field: values[field] for field in rule.fields}
        holds = all(c.holds(values) for c in rule.conditions)
        if holds and rule.jump:
            jump = rule.jump
            start = e.stamp - ns(jump.within)
            change = jump.change(values[jump.field],
                                 [v[jump.field] for t, v in person.history if t >= start])
            evidence[f'{jump.field}_change'] = change
            holds = jump.holds(change)
        name = rule.name
        if holds:
            since = person.since.setdefault(name, e.stamp)
            if name in person.active or e.stamp - since < ns(rule.duration):
                return []
            person.active.add(name)
            self.counts['raised'] += 1
            active = True
        else:
            since = person.since.pop(name, None)
            if name not in person.active:
                return []
            person.active.discard(name)
            active = False
        evidence['held_s'] = (e.stamp - since) / NS
        return [Event(e.device, e.face_id, rule, active, e.stamp, since, evidence)]

    def gone(self, key, unseen):
        """A person not estimated for `unseen` ns (> max_gap): forgotten, their alerts
        cleared as of their last estimate."""
        person = self.people.pop(key)
        return [Event(*key, rule, False, person.last, person.since[rule.name],
                      {'held_s': (person.last - person.since[rule.name]) / NS,
                       'unseen_s': unseen / NS})
                for rule in self.rules if rule.name in person.active]

    def active(self):
        """(device, face id, rule name) of every raised alert."""
        return [(*key, name) for key, person in sorted(self.people.items())
                for name in sorted(person.active)]

    def stop(self):
        """Monitoring ends (the node deactivates): every alert clears, everyone is
        forgotten, the log gets all it holds."""
        events = []
        for key, person in list(self.people.items()):
            events += self.gone(key, self.clock - person.heard)
        if self.log:
            for event in events:
                self.log.alert(event)
            self.log.flush()
        return events
