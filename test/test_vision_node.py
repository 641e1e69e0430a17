"""vision_node on real rclpy over loopback DDS, fed frames of a real video."""
import cv2
import numpy as np
import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.exceptions import InvalidParameterValueException
from rclpy.parameter import Parameter
from sensor_msgs.msg import CompressedImage, Image

from av_emotion.ros import start
from av_emotion_bringup.graph import wait_for
from av_emotion_msgs.msg import FaceArray
from av_emotion_vision.node import VisionNode

CONVERSIONS = {'bgr8': None, 'rgb8': cv2.COLOR_BGR2RGB, 'mono8': cv2.COLOR_BGR2GRAY,
               'bgra8': cv2.COLOR_BGR2BGRA, 'rgba8': cv2.COLOR_BGR2RGBA}


class Probe:
    """Publishes camera messages into a namespace and collects what comes back."""

    def __init__(self, graph, namespace, kind=Image, topic='image'):
        self.node = graph.node(f'probe_{namespace}')
        self.publisher = self.node.create_publisher(kind, f'/{namespace}/{topic}', 10)
        self.faces, self.annotated, self.diagnostics = {}, {}, []
        self.node.create_subscription(FaceArray, f'/{namespace}/faces', self.on_faces, 10)
        self.node.create_subscription(Image, f'/{namespace}/image_annotated',
                                      lambda m: self.annotated.__setitem__(key(m), m), 10)
        self.node.create_subscription(DiagnosticArray, '/diagnostics',
                                      self.diagnostics.append, 10)

    def on_faces(self, msg):
        self.faces[key(msg)] = msg

    def send(self, msg, expect_reply=True):
        """Publish until the node answers (best-effort QoS may drop a message)."""
        for _ in range(3):
            self.publisher.publish(msg)
            if wait_for(lambda: key(msg) in self.faces, timeout=3.0 if expect_reply else 0.5):
                return self.faces[key(msg)]
        return None


def key(msg):
    return msg.header.stamp.sec, msg.header.stamp.nanosec


def stamp(seconds):
    return Time(sec=int(seconds), nanosec=int(seconds % 1 * 1e9))


@pytest.fixture(scope='module')
def probe(graph):
    graph.add(VisionNode(context=graph.context, namespace='cam'))
    probe = Probe(graph, 'cam')
    assert wait_for(lambda: probe.publisher.get_subscription_count() == 1)
    return probe


@pytest.fixture(scope='module')
def video(data):
    capture = cv2.VideoCapture(str(data / 'video' / 'WolfgangLanger_Pexels.mp4'))
    frames = [capture.read()[1] for _ in range(60)]
    assert all(f is not None for f in frames)
    return frames


def image_msg(frame, encoding, seconds):
    conversion = CONVERSIONS[encoding]
    pixels = frame if conversion is None else cv2.cvtColor(frame, conversion)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    msg = Image(height=pixels.shape[0], width=pixels.shape[1], encoding=encoding,
                step=pixels.shape[1] * channels, data=pixels.tobytes())
    msg.header.stamp, msg.header.frame_id = stamp(seconds), 'camera_optical'
    return msg


def test_every_encoding_gives_faces_with_a_stable_id(probe, video):
    encodings = list(CONVERSIONS)
    assert wait_for(lambda: probe.node.count_publishers('/cam/image_annotated') == 1)
    replies = []
    for index, frame in enumerate(video[::4]):
        msg = image_msg(frame, encodings[index % len(encodings)], 100 + index / 6)
        reply = probe.send(msg)
        assert reply is not None, f'no FaceArray for a {msg.encoding} frame'
        assert reply.header.frame_id == 'camera_optical'
        assert (reply.image_width, reply.image_height) == (640, 360)
        replies.append(reply)
    ids = [face.id for reply in replies for face in reply.faces]
    assert len(ids) >= 0.8 * len(replies)
    assert len(set(ids)) == 1, f'face id changed over the sequence: {ids}'
    face = replies[0].faces[0]
    assert face.emotion.labels[0] == 'neutral' and len(face.emotion.probabilities) == 7
    assert face.emotion.label in face.emotion.labels
    assert -1 <= face.emotion.valence <= 1 and -1 <= face.emotion.arousal <= 1
    assert 0 < face.roi.width <= 640 and 0 < face.roi.height <= 360
    assert wait_for(lambda: key(replies[-1]) in probe.annotated)
    annotated = probe.annotated[key(replies[-1])]
    assert (annotated.width, annotated.height, annotated.encoding) == (640, 360, 'bgr8')


def test_frame_without_faces_still_gets_an_array(probe):
    reply = probe.send(image_msg(np.zeros((480, 640, 3), np.uint8), 'bgr8', 200.0))
    assert reply is not None and list(reply.faces) == []


def test_bad_images_are_dropped_and_the_node_keeps_running(probe, video):
    good = image_msg(video[0], 'bgr8', 300.0)
    empty = Image(height=0, width=0, encoding='bgr8', step=0)
    unknown = image_msg(video[0], 'bgr8', 301.0)
    unknown.encoding = 'no_such_encoding'
    truncated = image_msg(video[0], 'bgr8', 302.0)
    truncated.data = bytes(truncated.data[:1000])
    empty.header.stamp = stamp(303.0)
    for bad in (unknown, truncated, empty):
        assert probe.send(bad, expect_reply=False) is None
    assert probe.send(good) is not None
    assert wait_for(lambda: any(
        int(dict((v.key, v.value) for v in s.values).get('bad_images', 0)) >= 3
        for d in probe.diagnostics for s in d.status if s.name.endswith('vision')), timeout=5)


def test_diagnostics_report_rate_and_latency(probe, video):
    probe.send(image_msg(video[1], 'bgr8', 400.0))
    assert wait_for(lambda: any('latency_ms_p95' in [v.key for v in s.values]
                                for d in probe.diagnostics for s in d.status), timeout=5)


def test_parameters_are_validated(graph):
    node = next(n for n in graph.nodes if isinstance(n, VisionNode))
    assert not node.set_parameters([Parameter('threads', value=4)])[0].successful  # read-only
    assert not node.set_parameters([Parameter('detection.max_faces', value='3')])[0].successful
    assert not node.set_parameters(
        [Parameter('detection.score_threshold', value=1.5)])[0].successful
    assert node.set_parameters([Parameter('detection.score_threshold', value=0.9)])[0].successful
    assert node.pipeline.detector.score_threshold == 0.9


def test_compressed_transport(graph, video):
    graph.add(VisionNode(context=graph.context, namespace='zip', parameter_overrides=[
        Parameter('image_transport', value='compressed')]))
    probe = Probe(graph, 'zip', CompressedImage, 'image/compressed')
    assert wait_for(lambda: probe.publisher.get_subscription_count() == 1)
    msg = CompressedImage(format='jpeg', data=cv2.imencode('.jpg', video[0])[1].tobytes())
    msg.header.stamp = stamp(500.0)
    reply = probe.send(msg)
    assert reply is not None and len(reply.faces) == 1
    broken = CompressedImage(format='jpeg', data=b'not a jpeg')
    broken.header.stamp = stamp(501.0)
    assert probe.send(broken, expect_reply=False) is None
    msg.header.stamp = stamp(502.0)
    assert probe.send(msg) is not None


@pytest.mark.parametrize('name', ['image_transport', 'image_reliability'])
def test_bad_choice_parameter_is_a_clear_error(graph, name):
    node = VisionNode(context=graph.context, namespace='bad', parameter_overrides=[
        Parameter(name, value='carrier_pigeon')])
    with pytest.raises(RuntimeError, match=name):
        start(node)
    assert node.state == 'unconfigured'


def test_out_of_range_start_value_is_a_clear_error(graph):
    with pytest.raises(InvalidParameterValueException, match='detection.max_faces'):
        VisionNode(context=graph.context, namespace='bad', parameter_overrides=[
            Parameter('detection.max_faces', value=0)])
