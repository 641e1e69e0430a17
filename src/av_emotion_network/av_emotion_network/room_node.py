"""room_node: every av_emotion_msgs/FusedEmotion topic in the DDS domain, found through the
ROS graph, summed up on /room/emotion: each device's people and the group's mood."""
from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from av_emotion.ros import ManagedNode, StampError, run
from av_emotion.taxonomy import LABELS
from av_emotion_msgs.msg import FusedEmotion, RoomEmotion, RoomMember
from av_emotion_network.room import Room, device_of

FUSED_TYPE = 'av_emotion_msgs/msg/FusedEmotion'
RANGES = {'rate': (0.1, 100.0), 'discovery_period': (0.1, 60.0), 'timeout': (0.1, 3600.0),
          'max_age': (0.0, 3600.0)}
# The room wants each device's newest estimate, now: best effort (it matches fusion_node's
# reliable publisher). A reliable reader holds every later sample back until a lost one is
# sent again, after the writer's next heartbeat (Fast DDS: every 3 s; measured up to 3.6 s
# across 5 % packet loss, enough to make a device look gone); best effort skips it and takes
# the next, 1/15 s later.
FUSED_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)
# /room/emotion: only the newest view matters, so depth 1; transient-local (which needs
# reliable), so that a dashboard started later gets the room at once. Volatile and best-effort
# subscribers match it too: across a lossy link, best effort, as above.
ROOM_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


class RoomNode(ManagedNode):
    def __init__(self, **kwargs):
        super().__init__('room_node', 'room', RANGES, **kwargs)
        self.room = None
        self.topics = {}  # FusedEmotion topic -> subscription, while active
        self.joined, self.left = [], []  # since the last diagnostics

    def setup(self, params):
        self.room = Room(params['timeout'], params['max_age'], params['include'],
                         params['exclude'])
        self.publisher = self.output(RoomEmotion, '/room/emotion', ROOM_QOS)

    def start(self):
        p = self.params
        self.topics = {}
        self.connect(self.create_timer(p['discovery_period'], self.discover))
        self.connect(self.create_timer(1.0 / p['rate'], self.tick))
        self.discover()
        return (f"room view of every FusedEmotion topic (include {p['include']!r}, exclude "
                f"{p['exclude']!r}) on {self.publisher.topic_name} at {p['rate']} Hz")

    def release(self):
        self.room = None

    def discover(self):
        """Subscribe to each wanted FusedEmotion topic the graph has that we do not follow.
        A subscription stays when its topic leaves the graph: a device that comes back
        (or that a lossy link hid from discovery for a while) is heard through it again."""
        for topic, types in self.get_topic_names_and_types():
            if FUSED_TYPE in types and topic not in self.topics and self.room.wants(topic):
                self.topics[topic] = self.connect(self.create_subscription(
                    FusedEmotion, topic, lambda msg, t=topic: self.on_emotion(t, msg),
                    FUSED_QOS))

    def on_emotion(self, topic, msg):
        device = device_of(topic)
        try:
            stamp = self.stamp(msg.header)
            now = self.get_clock().now().nanoseconds * 1e-9
            joined = self.room.hear(device, msg.face_id, stamp, now, msg.emotion.label,
                                    msg.emotion.valence, msg.emotion.arousal, msg.emotion)
        except StampError as error:
            self.count('bad_stamps', f'ignoring an estimate on {topic}: {error}')
            return
        except ValueError as error:
            self.count('bad_estimates', f'ignoring an estimate on {topic}: {error}')
            return
        self.count('estimates')
        if joined:
            self.joined.append(device)
            self.count('joins')
            self.get_logger().info(f'{device} joined the room ({topic})')

    def tick(self):
        now = self.get_clock().now()
        seconds = now.nanoseconds * 1e-9
        for device in self.room.expire(seconds):
            self.left.append(device)
            self.count('leaves')
            self.get_logger().info(f'{device} left the room: nothing heard for '
                                   f"{self.params['timeout']} s")
        view = self.room.view()
        msg = RoomEmotion(devices=view.devices, people=len(view.members),
                          mean_valence=view.mean_valence, mean_arousal=view.mean_arousal,
                          labels=list(LABELS), label_counts=view.label_counts)
        msg.header.stamp = now.to_msg()
        # A stamp a little ahead of our clock (within future_tolerance) is no negative age.
        msg.members = [RoomMember(device=m.device, face_id=m.face_id,
                                  age=max(0.0, seconds - m.stamp), emotion=m.estimate)
                       for m in view.members]
        self.publisher.publish(msg)

    def status(self):
        view = self.room.view()
        message = f'{len(view.devices)} devices, {len(view.members)} people'
        values = {'devices': ' '.join(view.devices) or 'none', 'topics': len(self.topics),
                  'joined': ' '.join(self.joined) or 'none',
                  'left': ' '.join(self.left) or 'none', **self.counts}
        if self.left:
            message += f"; left: {' '.join(self.left)}"
        self.joined, self.left = [], []
        return DiagnosticStatus.OK, message, values


def main(args=None):
    run(RoomNode, args)
