"""web_node: the live web view, a page for a phone or the robot's screen showing each
person's fused emotion, the annotated camera image, timelines and alerts.

It listens to results only (emotion, /room/emotion, alerts, image_annotated): no audio topic,
so no sound can reach a page. The HTTP server (av_emotion_feedback.server) runs in a thread
of its own; this node converts messages and hands them over.
"""
import ctypes
import ctypes.util
import time

from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from av_emotion.ros import ManagedNode, StampError, run
from av_emotion_feedback.server import WebServer
from av_emotion_feedback.view import LiveView, Throttle, check_host, estimate, jpeg
from av_emotion_monitor.node import ALERT_QOS
from av_emotion_msgs.msg import Alert, FusedEmotion, RoomEmotion
from av_emotion_network.room import device_of
from av_emotion_network.room_node import FUSED_QOS, ROOM_QOS
from av_emotion_vision.image import ImageError, image_to_bgr

RANGES = {'port': (0, 65535), 'image_fps': (0.0, 30.0), 'image_width': (16, 4096),
          'jpeg_quality': (1, 100), 'history': (1.0, 86400.0), 'timeline_step': (0.0, 60.0),
          'stale_after': (0.1, 3600.0), 'forget_after': (1.0, 86400.0),
          'outbox_limit': (10, 100000)}
# Newest frame only, best effort: a lost annotated frame is replaced by the next one, and
# repairs would cost vision_node (which publishes it reliably) time on every frame.
IMAGE_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)


def values_of(emotion):
    """LiveView estimate values of an av_emotion_msgs/Emotion; ValueError if malformed."""
    return estimate(emotion.labels, emotion.probabilities, emotion.label, emotion.valence,
                    emotion.arousal, emotion.confidence)


def seconds(stamp):
    return stamp.sec + stamp.nanosec * 1e-9


class WebNode(ManagedNode):
    def __init__(self, **kwargs):
        super().__init__('web_node', 'web', RANGES, **kwargs)
        self.server = None
        self.images = None  # image_annotated subscription, while a page is open
        self.watching = False  # whether pages want images (active, image_fps > 0)

    def setup(self, params):
        check_host(params['host'], params['token'])
        self.device = device_of(self.resolve_topic_name('emotion'))
        self.view = LiveView(self.device, params['history'], params['timeline_step'],
                             params['stale_after'], params['forget_after'],
                             image=params['image_fps'] > 0)
        self.throttle = Throttle(params['image_fps'])
        # The server thread says when pages come or go; watch() runs in this node's.
        self.pages_changed = self.create_guard_condition(self.watch)
        # Listening at configure, so that a port in use fails it with the reason.
        self.server = WebServer(self.view, params['host'], params['port'], params['token'],
                                params['outbox_limit'], self.pages_changed.trigger)
        self.server.start()

    def start(self):
        p = self.params
        # As the room view and the monitor take them: best effort (a repair would come after
        # newer estimates); alerts transient-local, so those of before this node come too.
        self.connect(self.create_subscription(FusedEmotion, 'emotion', self.on_fused,
                                              FUSED_QOS))
        self.connect(self.create_subscription(Alert, 'alerts', self.on_alert, ALERT_QOS))
        if p['room']:
            self.connect(self.create_subscription(RoomEmotion, '/room/emotion', self.on_room,
                                                  ROOM_QOS))
        self.watching = p['image_fps'] > 0
        self.watch()
        host = f"[{p['host']}]" if ':' in p['host'] else p['host']
        return (f"web view of {self.resolve_topic_name('emotion')} on "
                f"http://{host}:{self.server.port}/" + ('?token=...' if p['token'] else ''))

    def release(self):
        self.server.stop()
        self.destroy_guard_condition(self.pages_changed)
        self.server = self.view = None

    def destroy_node(self):
        if self.server is not None:  # still configured: stop listening with the node
            self.server.stop()
        return super().destroy_node()

    def on_deactivate(self, state):
        self.watching, self.images = False, None  # destroyed with the other connections
        return super().on_deactivate(state)

    def watch(self):
        """Camera images only while a page is open: vision_node annotates frames only while
        someone subscribes, and an image is the largest thing this node receives."""
        wanted = self.watching and self.server.clients > 0
        if wanted and self.images is None:
            self.images = self.connect(self.create_subscription(
                Image, 'image_annotated', self.on_image, IMAGE_QOS))
        elif not wanted and self.images is not None:
            self.connections.remove(self.images)
            self.destroy_subscription(self.images)
            self.images = None

    def on_fused(self, msg):
        try:
            # Simulated time before its first /clock reads 0: no clock to check against yet.
            stamp = (self.stamp(msg.header) if self.get_clock().now().nanoseconds else
                     seconds(msg.header.stamp))
            values = values_of(msg.emotion)
        except StampError as error:
            self.count('bad_stamps', f'ignoring a fused estimate: {error}')
            return
        except ValueError as error:
            self.count('bad_estimates', f'ignoring a malformed fused estimate: {error}')
            return
        self.count('estimates')
        self.server.submit(self.view.fused, msg.face_id, list(msg.modalities), values, stamp)

    def on_room(self, msg):
        members = []
        for member in msg.members:
            try:
                values = values_of(member.emotion)
            except ValueError as error:
                self.count('bad_members', f'ignoring a malformed room member: {error}')
                continue
            if values is not None:
                members.append((member.device, member.face_id, values,
                                seconds(member.emotion.header.stamp)))
        self.count('room_views')
        self.server.submit(self.view.room, list(msg.devices), members)

    def on_alert(self, msg):
        if len(msg.keys) != len(msg.values):
            self.count('bad_alerts', f'ignoring an alert with {len(msg.values)} values for '
                       f'{len(msg.keys)} keys')
            return
        self.count('alerts')
        self.server.submit(self.view.alert, {
            'device': msg.device, 'face': msg.face_id, 'rule': msg.rule,
            'description': msg.description, 'since': seconds(msg.since),
            'active': msg.active, 'evidence': {k: round(float(v), 3) for k, v in
                                               zip(msg.keys, msg.values)}})

    def on_image(self, msg):
        if not self.throttle.ready(time.monotonic()):
            return
        try:
            data = jpeg(image_to_bgr(msg), self.params['image_width'],
                        self.params['jpeg_quality'])
        except ImageError as error:
            self.count('bad_images', f'ignoring an annotated image: {error}')
            return
        self.count('images')
        self.server.image(data)

    def status(self):
        values = {'pages': self.server.clients, **self.server.sent, **self.counts}
        return DiagnosticStatus.OK, f'{self.server.clients} pages open', values


def keep_large_buffers():
    """Each camera image passes through several 0.9 MB buffers (DDS, rclpy, numpy). glibc
    gives freed blocks that large back to the kernel and maps them anew for the next image,
    page faults and zeroing included: about 1 % of a core at 5 images a second (make
    bench). Up to 4 MB blocks come from the heap instead, and it keeps 64 MB free before
    trimming. Elsewhere than glibc this does nothing."""
    libc = ctypes.CDLL(ctypes.util.find_library('c'))
    if hasattr(libc, 'mallopt'):
        libc.mallopt(-3, 4 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD


def main(args=None):
    keep_large_buffers()
    run(WebNode, args)
