"""The live web view's state, ROS-free: what the page shows (each device's people with their
fused estimates and timelines, which modalities are present, alerts), as JSON messages, and
the pacing of what is sent (image throttle, per-page outbox).

Inputs are plain values (web_node converts messages). Two clocks: `stamp`, an estimate's
header stamp (s), places it on its timeline; `now`, this process's monotonic clock (s),
decides what is forgotten, so that simulated time or another device's clock cannot stall it.
"""
import hmac
import ipaddress
import math
import time
from collections import deque
from urllib.parse import urlsplit

import cv2

from av_emotion.taxonomy import COLOURS, LABELS, VALENCE_AROUSAL, to_rep155

# Shortest token accepted: a guess must not be feasible on a LAN.
TOKEN_LENGTH = 16


def is_loopback(host):
    """Whether a host name or address is this machine only."""
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # another name, or '' (every interface)


def check_host(host, token):
    """ValueError unless `host` is this machine only or a long enough `token` is set."""
    if not is_loopback(host) and len(token) < TOKEN_LENGTH:
        raise ValueError(f'host {host!r} opens the web view beyond this machine: set a token '
                         f'of {TOKEN_LENGTH} or more characters (parameter token; e.g. '
                         '`openssl rand -hex 16`), or keep host 127.0.0.1')


def access(token, given, host, origin):
    """HTTP status of a request: 200, 401 (no token) or 403 (a wrong one, or from elsewhere).

    token: the one required ('' none); given: the request's ('' none); host: its Host
    header; origin: its Origin header ('' none). Without a token, only a Host of this
    machine is served (a site that rebinds its DNS name to 127.0.0.1 is not); a page of
    another origin is refused either way (WebSockets are not bound by the same-origin rule).
    """
    if origin and origin.split('://', 1)[-1] != host:
        return 403
    if not token:
        return 200 if is_loopback(urlsplit(f'//{host}').hostname or '') else 403
    if not given:
        return 401
    return 200 if hmac.compare_digest(token.encode(), given.encode()) else 403


def estimate(labels, probabilities, label, valence, arousal, confidence):
    """An Emotion's values as the page shows them: None for an empty estimate (label ''),
    else {label, probabilities (REP-155 order), valence, arousal, confidence}; ValueError
    for one that is malformed."""
    if not label:
        return None
    if label not in LABELS:
        raise ValueError(f'label {label!r} is not a REP-155 expression')
    if len(labels) != len(probabilities):
        raise ValueError(f'{len(probabilities)} probabilities for {len(labels)} labels')
    for name, value, low in (('valence', valence, -1.0), ('arousal', arousal, -1.0),
                             ('confidence', confidence, 0.0)):
        if not low <= value <= 1.0:  # NaN fails too
            raise ValueError(f'{name} {value} is not in [{low:g}, 1]')
    return {'label': label, 'probabilities': [round(float(p), 3) for p in
                                              to_rep155(probabilities, labels)],
            'valence': round(float(valence), 3), 'arousal': round(float(arousal), 3),
            'confidence': round(float(confidence), 3)}


class LiveView:
    """Each device's people (by device and face id): the newest estimate and a timeline of
    the last `history` s (a point per `timeline_step` s of stamp time), the modalities a
    device's fusion uses now, the room's other devices and the alerts that are raised.

    Each update returns the messages (dicts) it makes for the pages, each with `type`;
    `snapshot` is everything, for a page that connects. own: this robot's device name.
    """

    def __init__(self, own, history, timeline_step, stale_after, forget_after, image=True,
                 clock=time.monotonic):
        self.own, self.history, self.step = own, history, timeline_step
        self.stale_after, self.forget_after, self.clock = stale_after, forget_after, clock
        # device -> its message: modalities (None where unknown: a room device), whether
        # camera images come (this robot's only), whether it is this robot
        self.devices = {own: {'device': own, 'modalities': [], 'image': image, 'own': True}}
        self.cards = {}  # key -> the newest estimate message of a person
        self.timelines = {}  # key -> deque of [stamp, label index, valence, arousal]
        self.heard = {}  # key -> `now` of its newest estimate
        self.alerts = {}  # (device, face, rule) -> alert message

    def fused(self, face, modalities, values, stamp):
        """This robot's fused estimate (values: `estimate`'s, None if empty)."""
        messages = []
        device = self.devices[self.own]
        if modalities != device['modalities']:
            device['modalities'] = modalities
            messages.append({'type': 'device', **device})
        if values is not None:
            messages += self.person(self.own, face, values, stamp)
        return messages

    def room(self, devices, members):
        """A room view: the devices in the room, and members as (device, face, values,
        stamp). This robot's own people are left out: its own topic has them first-hand."""
        messages = []
        for device in set(self.devices) - set(devices) - {self.own}:
            messages += self.forget_device(device)
        for device in sorted(set(devices) - set(self.devices)):
            self.devices[device] = {'device': device, 'modalities': None, 'image': False,
                                    'own': False}
            messages.append({'type': 'device', **self.devices[device]})
        for device, face, values, stamp in members:
            if device != self.own and device in self.devices:
                messages += self.person(device, face, values, stamp)
        return messages

    def person(self, device, face, values, stamp):
        key = f'{device} {face}'
        card = self.cards.get(key)
        self.heard[key] = self.clock()
        if card is not None and card['stamp'] == stamp:
            return []  # the room repeats an estimate until it is new or too old
        card = self.cards[key] = {'type': 'estimate', 'key': key, 'device': device,
                                  'face': face, 'stamp': stamp, **values}
        messages = [card]
        timeline = self.timelines.setdefault(key, deque())
        if timeline and stamp < timeline[-1][0]:
            timeline.clear()  # time went back (a replay started again): a new timeline
        if not timeline or stamp - timeline[-1][0] >= self.step:
            point = [stamp, LABELS.index(values['label']), values['valence'], values['arousal']]
            timeline.append(point)
            while stamp - timeline[0][0] > self.history:
                timeline.popleft()
            messages.append({'type': 'point', 'key': key, 'point': point})
        return messages

    def alert(self, values):
        """An alert raised (values['active']) or cleared; values: device, face, rule,
        description, since, active, evidence."""
        key = (values['device'], values['face'], values['rule'])
        if values['active']:
            self.alerts[key] = {'type': 'alert', **values}
        elif self.alerts.pop(key, None) is None:
            return []  # cleared before this view heard it raised
        return [{'type': 'alert', **values}]

    def expire(self):
        """Forget people without a new estimate for forget_after s."""
        now, messages = self.clock(), []
        for key in [k for k, heard in self.heard.items() if now - heard > self.forget_after]:
            messages += self.forget(key)
        return messages

    def forget(self, key):
        for table in (self.cards, self.timelines, self.heard):
            table.pop(key, None)
        return [{'type': 'forget', 'key': key}]

    def forget_device(self, device):
        del self.devices[device]
        messages = [m for key, card in list(self.cards.items()) if card['device'] == device
                    for m in self.forget(key)]
        return messages + [{'type': 'forget_device', 'device': device}]

    def snapshot(self):
        """Everything a page needs when it connects."""
        now = self.clock()
        return {'type': 'snapshot', 'labels': list(LABELS),
                'colours': ['#%02x%02x%02x' % COLOURS[label] for label in LABELS],
                'circumplex': [VALENCE_AROUSAL[label] for label in LABELS],
                'history': self.history, 'stale_after': self.stale_after,
                'devices': list(self.devices.values()),
                'people': [{**card, 'age': round(now - self.heard[key], 2),
                            'timeline': list(self.timelines[key])}
                           for key, card in self.cards.items()],
                'alerts': list(self.alerts.values())}


class Throttle:
    """`rate` events a second at most (0: none): ready(now) says whether one may pass. They
    pass on a schedule of slots 1/rate apart, so input at another rate (30 fps) still gives
    `rate` on average, not fewer; after a pause the schedule starts afresh."""

    def __init__(self, rate):
        self.period = 1.0 / rate if rate > 0 else math.inf
        self.next = -math.inf if rate > 0 else math.inf

    def ready(self, now):
        if now < self.next:
            return False
        late = now - self.next >= self.period
        self.next = (now if late else self.next) + self.period
        return True


def jpeg(bgr, width, quality):
    """JPEG bytes of a BGR image, shrunk to `width` pixels when wider."""
    if bgr.shape[1] > width:
        bgr = cv2.resize(bgr, (width, round(bgr.shape[0] * width / bgr.shape[1])),
                         interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode('.jpg', bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError('JPEG encoding failed')
    return data.tobytes()


class Outbox:
    """What one page has yet to be sent, in order. A message with a key replaces the one
    with that key still waiting (a page that is behind gets the newest estimate of each
    person and the newest image, not every one); the others all go. Over `limit` waiting
    messages, `put` returns False: that page cannot keep up."""

    def __init__(self, limit):
        self.limit = limit
        self.waiting = {}  # key (or a serial number) -> message, in the order to send
        self.serial = 0

    def put(self, message, key=None):
        if key is None:
            self.serial += 1
            key = self.serial
        self.waiting.pop(key, None)  # a replaced message goes to the end, after older ones
        self.waiting[key] = message
        return len(self.waiting) <= self.limit

    def take(self):
        messages, self.waiting = list(self.waiting.values()), {}
        return messages
