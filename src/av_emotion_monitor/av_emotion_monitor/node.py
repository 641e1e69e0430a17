"""monitor_node: alert rules on the fused emotion of each person, and the mood log.

source emotion: this namespace's `emotion` (FusedEmotion); source room: `/room/emotion`
(RoomEmotion), every device's people. Alerts go out on `alerts` (av_emotion_msgs/Alert) when
a rule starts holding and when it ends; /diagnostics is WARN while any is active.
"""
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from av_emotion.hri import face_id
from av_emotion.ros import ManagedNode, StampError, probabilities_of, run
from av_emotion_monitor.monitor import NS, Estimate, Monitor
from av_emotion_monitor.moodlog import MoodLog
from av_emotion_monitor.rules import load_rules
from av_emotion_msgs.msg import Alert, FusedEmotion, RoomEmotion
from av_emotion_network.room import checked, device_of
from av_emotion_network.room_node import FUSED_QOS, ROOM_QOS

SOURCES = ('emotion', 'room')
RANGES = {'max_gap': (0.1, 3600.0), 'retention_days': (1, 36500)}
# Alerts are few and each matters: reliable; transient-local with the last 100, so that a
# view started later (the web view) learns the recent ones, active or cleared.
ALERT_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.TRANSIENT_LOCAL)


def nanoseconds(stamp):
    return stamp.sec * NS + stamp.nanosec


def estimate(device, face, emotion, modalities=None):
    """Estimate of an Emotion message, None when it is empty; ValueError if malformed."""
    probabilities = probabilities_of(emotion)
    if probabilities is None:
        return None
    _, valence, arousal = checked(emotion.label, emotion.valence, emotion.arousal)
    if not 0.0 <= emotion.confidence <= 1.0:
        raise ValueError(f'confidence {emotion.confidence} is not in [0, 1]')
    return Estimate(device, face, nanoseconds(emotion.header.stamp), probabilities, valence,
                    arousal, float(emotion.confidence), modalities)


def alert_msg(event):
    msg = Alert(device=event.device, face_id=event.face_id, rule=event.rule.name,
                description=event.rule.description, active=event.active,
                since=Time(sec=event.since // NS, nanosec=event.since % NS),
                keys=list(event.evidence), values=[float(v) for v in event.evidence.values()])
    msg.header.stamp = Time(sec=event.stamp // NS, nanosec=event.stamp % NS)
    return msg


class MonitorNode(ManagedNode):
    def __init__(self, **kwargs):
        super().__init__('monitor_node', 'monitor', RANGES, **kwargs)
        self.monitor = self.log = None

    def setup(self, params):
        if params['source'] not in SOURCES:
            raise ValueError(f"source {params['source']!r} is not one of {', '.join(SOURCES)}")
        rules = load_rules(params['rules'])
        self.log = (MoodLog(params['monitor_db'], params['retention_days'])
                    if params['monitor_db'] else None)
        self.monitor = Monitor(rules, params['max_gap'], self.log)
        self.publisher = self.output(Alert, 'alerts', ALERT_QOS)

    def start(self):
        if self.params['source'] == 'room':
            topic = self.connect(self.create_subscription(
                RoomEmotion, '/room/emotion', self.on_room, ROOM_QOS)).topic_name
        else:
            topic = self.connect(self.create_subscription(
                FusedEmotion, 'emotion', self.on_emotion, FUSED_QOS)).topic_name
            self.device = device_of(topic)
        log = self.log.path if self.log else 'no mood log (monitor_db empty)'
        return (f'watching {topic} with {len(self.monitor.rules)} rules, alerts on '
                f'{self.publisher.topic_name}; {log}')

    def release(self):
        if self.log:
            self.log.close()
        self.monitor = self.log = None

    def on_deactivate(self, state):
        self.publish(self.monitor.stop())  # while the publisher is still active
        return super().on_deactivate(state)

    def on_emotion(self, msg):
        self.count('inputs')
        try:
            self.stamp(msg.header)
            estimates = [estimate(self.device, msg.face_id, msg.emotion, tuple(msg.modalities))]
        except StampError as error:
            self.count('bad_stamps', f'ignoring an estimate: {error}')
            return
        except ValueError as error:
            self.count('bad_estimates', f'ignoring a malformed estimate: {error}')
            return
        self.observe(msg.header, estimates)

    def on_room(self, msg):
        self.count('inputs')
        try:
            self.stamp(msg.header)
            estimates = [estimate(m.device, m.face_id, m.emotion) for m in msg.members]
        except StampError as error:
            self.count('bad_stamps', f'ignoring a room view: {error}')
            return
        except ValueError as error:
            self.count('bad_estimates', f'ignoring a room view with a malformed estimate: '
                       f'{error}')
            return
        self.observe(msg.header, estimates)

    def observe(self, header, estimates):
        self.publish(self.monitor.observe(nanoseconds(header.stamp),
                                          [e for e in estimates if e is not None]))

    def publish(self, events):
        for event in events:
            self.publisher.publish(alert_msg(event))
            self.get_logger().info(
                f"alert {'raised' if event.active else 'cleared'}: {event.device} "
                f"{face_id(event.face_id)} {event.rule.name} ({event.rule.description})")

    def status(self):
        active = self.monitor.active()
        values = {'people': len(self.monitor.people), **self.monitor.counts, **self.counts,
                  'active': '; '.join(f'{d} {face_id(f)} {r}' for d, f, r in active) or 'none',
                  'mood_log': str(self.log.path) if self.log else 'off',
                  'minutes_logged': self.log.rows if self.log else 0}
        if active:
            return (DiagnosticStatus.WARN, f"{len(active)} alert{'s' * (len(active) > 1)} "
                    f"active: {values['active']}", values)
        return DiagnosticStatus.OK, f'watching {len(self.monitor.people)} people', values


def main(args=None):
    run(MonitorNode, args)
