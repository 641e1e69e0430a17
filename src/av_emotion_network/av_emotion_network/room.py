"""The room view: every device's latest estimate per face, and the group's aggregate.

ROS-free (the room_node converts messages): which topics to follow (include / exclude
patterns), devices joining and leaving (nothing heard for `timeout` s), estimates ageing out
(`max_age` s), and the people's mean valence, arousal and label counts. Times are seconds
of one clock, the room's; header stamps only give each estimate's age.
"""
import math
import re
from dataclasses import dataclass, field

from av_emotion.taxonomy import LABELS


def device_of(topic):
    """The device of a FusedEmotion topic: its namespace for `<namespace>/emotion` (the
    fusion node's; '/' when none), else the whole topic name, so no two topics share one."""
    namespace, _, name = topic.rpartition('/')
    return (namespace or '/') if name == 'emotion' else topic


def pattern(name, text):
    """A compiled regular expression, or None for ''; ValueError that says which is wrong."""
    try:
        return re.compile(text) if text else None
    except re.error as error:
        raise ValueError(f'{name} {text!r} is no regular expression: {error}') from None


def checked(label, valence, arousal):
    """A FusedEmotion's label, valence and arousal as the room counts them; ValueError for
    a label outside REP-155 or numbers outside [-1, 1]. '' is an empty estimate."""
    if label and label not in LABELS:
        raise ValueError(f'label {label!r} is not a REP-155 expression')
    for name, value in (('valence', valence), ('arousal', arousal)):
        if not -1.0 <= value <= 1.0:  # NaN fails too
            raise ValueError(f'{name} {value} is not in [-1, 1]')
    return label, float(valence), float(arousal)


@dataclass
class Member:
    """One device's latest estimate of one face (face 0: a voice without a face)."""
    device: str
    face_id: int
    stamp: float  # the estimate's header stamp
    heard: float  # when it arrived, room clock
    label: str
    valence: float
    arousal: float
    estimate: object = None  # what the caller wants back with it (the node: the message)


@dataclass
class View:
    """The room at one time: devices present, people (members, by device and face)."""
    devices: list
    members: list
    mean_valence: float = 0.0
    mean_arousal: float = 0.0
    label_counts: list = field(default_factory=lambda: [0] * len(LABELS))


class Room:
    """Devices heard within `timeout` s and their faces' estimates received within
    `max_age` s. include / exclude: regular expressions searched in each topic name ('':
    every topic / none); a topic is followed when it matches include and not exclude."""

    def __init__(self, timeout, max_age, include='', exclude=''):
        self.timeout, self.max_age = timeout, max_age
        self.include, self.exclude = pattern('include', include), pattern('exclude', exclude)
        self.heard = {}  # device -> when last heard
        self.members = {}  # (device, face id) -> Member

    def wants(self, topic):
        return ((self.include is None or bool(self.include.search(topic))) and
                (self.exclude is None or not self.exclude.search(topic)))

    def hear(self, device, face_id, stamp, now, label, valence, arousal, estimate=None):
        """A device's estimate; True when the device joins (was not present). An empty
        estimate (label '') keeps the device present and adds no one. ValueError for one
        the room cannot count (see `checked`), which changes nothing."""
        label, valence, arousal = checked(label, valence, arousal)
        joined = device not in self.heard
        self.heard[device] = now
        if label:
            self.members[device, face_id] = Member(device, face_id, stamp, now, label, valence,
                                                   arousal, estimate)
        return joined

    def expire(self, now):
        """Forget estimates older than max_age and devices silent for timeout; returns the
        devices that left, sorted."""
        left = sorted(d for d, heard in self.heard.items() if now - heard > self.timeout)
        for device in left:
            del self.heard[device]
        self.members = {key: m for key, m in self.members.items()
                        if m.device in self.heard and now - m.heard <= self.max_age}
        return left

    def view(self):
        """The devices present and their members, with the aggregate over the members."""
        members = [self.members[key] for key in sorted(self.members)]
        view = View(sorted(self.heard), members)
        if members:
            view.mean_valence = math.fsum(m.valence for m in members) / len(members)
            view.mean_arousal = math.fsum(m.arousal for m in members) / len(members)
            for m in members:
                view.label_counts[LABELS.index(m.label)] += 1
        return view
