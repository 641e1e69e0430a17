"""Edge mode and the central recogniser on real rclpy: edge vision_node and audio_node in
/dev1 and /dev2, central_node serving them, and full-mode nodes with the central's models
given the same real frames and speech, whose outputs the central's must equal."""
import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf
from audio_common_msgs.msg import AudioData, AudioDataStamped
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from launch_ros.actions import Node
from rclpy.parameter import Parameter
from rclpy.serialization import serialize_message
from sensor_msgs.msg import Image

from av_emotion.ros import FACE_CROPS_QOS, VOICE_WINDOWS_QOS, start
from av_emotion_audio.node import AudioNode
from av_emotion_bringup.graph import wait_for
from av_emotion_msgs.msg import FaceArray, FaceCropArray, Voice, VoiceWindow
from av_emotion_network.central_node import CentralNode
from av_emotion_vision.image import bgr_fields
from av_emotion_vision.node import VisionNode

CENTRAL_MODEL = 'expression_cnn.onnx'  # central.yaml's default, given to the full nodes too
LAUNCH = Path(__file__).parent.parent / 'launch'


def key(msg):
    return msg.header.stamp.sec, msg.header.stamp.nanosec


class Listener:
    """Collects messages of one topic by header stamp."""

    def __init__(self, node, kind, topic, qos=10):
        self.messages = {}
        node.create_subscription(kind, topic, lambda m: self.messages.__setitem__(key(m), m),
                                 qos)


@pytest.fixture(scope='module')
def central(graph):
    # /dev1 listed (served from the start), the other /dev* found in the graph.
    return graph.add(CentralNode(context=graph.context, parameter_overrides=[
        Parameter('devices', value=['/dev1', '/dev*']),
        Parameter('discovery_period', value=0.2)]))


@pytest.fixture(scope='module')
def probe(graph, central):
    """Edge nodes in /dev1 and /dev2, full nodes with the central's model in /full1 and
    /full2, and a node that feeds them and listens."""
    for device in ('dev1', 'dev2'):
        graph.add(VisionNode(context=graph.context, namespace=device, parameter_overrides=[
            Parameter('mode', value='edge')]))
    graph.add(AudioNode(context=graph.context, namespace='dev1', parameter_overrides=[
        Parameter('mode', value='edge')]))
    for full in ('full1', 'full2'):
        graph.add(VisionNode(context=graph.context, namespace=full, parameter_overrides=[
            Parameter('expression.model', value=CENTRAL_MODEL)]))
    graph.add(AudioNode(context=graph.context, namespace='full1'))
    node = graph.node('edge_probe')
    node.images = {ns: node.create_publisher(Image, f'/{ns}/image', 10)
                   for ns in ('dev1', 'dev2', 'full1', 'full2')}
    node.audio = {ns: node.create_publisher(AudioDataStamped, f'/{ns}/audio_stamped', 100)
                  for ns in ('dev1', 'full1')}
    node.faces = {ns: Listener(node, FaceArray, f'/{ns}/faces')
                  for ns in ('dev1', 'dev2', 'full1', 'full2')}
    node.crops = {ns: Listener(node, FaceCropArray, f'/{ns}/face_crops', FACE_CROPS_QOS)
                  for ns in ('dev1', 'dev2')}
    node.voices = {ns: Listener(node, Voice, f'/{ns}/voice') for ns in ('dev1', 'full1')}
    node.windows = Listener(node, VoiceWindow, '/dev1/voice_windows', VOICE_WINDOWS_QOS)
    node.diagnostics = []
    node.create_subscription(DiagnosticArray, '/diagnostics', node.diagnostics.append, 50)
    assert wait_for(lambda: all(p.get_subscription_count() for p in node.images.values()))
    assert wait_for(lambda: {'/dev1', '/dev2'} <= set(central.devices))
    return node


def send_frame(probe, namespace, frame, seconds):
    """Publish a frame until its faces come back (camera QoS is best effort)."""
    msg = Image(**bgr_fields(frame))
    msg.header.stamp, msg.header.frame_id = Time(sec=seconds), 'camera'
    for _ in range(3):
        probe.images[namespace].publish(msg)
        if wait_for(lambda: key(msg) in probe.faces[namespace].messages, timeout=5.0):
            return probe.faces[namespace].messages[key(msg)]
    raise AssertionError(f'no faces on /{namespace}/faces for the frame of {seconds} s')


@pytest.fixture(scope='module')
def video(data):
    capture = cv2.VideoCapture(str(data / 'video' / 'WolfgangLanger_Pexels.mp4'))
    frames = [capture.read()[1] for _ in range(30)][::6]
    assert all(f is not None for f in frames)
    return frames


@pytest.mark.parametrize('device, full, media', [
    ('dev1', 'full1', 'video'), ('dev2', 'full2', 'multi_face.jpg')])
def test_central_faces_equal_a_full_vision_node(probe, data, video, device, full, media):
    frames = video if media == 'video' else \
        [cv2.imread(str(data / 'faces' / 'photos' / media))] * 3
    for index, frame in enumerate(frames):
        edge = send_frame(probe, device, frame, 100 + index)
        local = send_frame(probe, full, frame, 100 + index)
        assert len(local.faces) == (1 if media == 'video' else 5)
        assert (edge.image_width, edge.image_height, edge.header.frame_id) == (
            local.image_width, local.image_height, local.header.frame_id)
        assert [f.id for f in edge.faces] == [f.id for f in local.faces]
        for e, f in zip(edge.faces, local.faces):
            assert e.roi == f.roi
            assert e.detection_score == pytest.approx(f.detection_score, abs=1e-6)
            assert e.emotion.labels == f.emotion.labels and e.emotion.label == f.emotion.label
            np.testing.assert_allclose(e.emotion.probabilities, f.emotion.probabilities,
                                       atol=1e-5)
            assert e.emotion.confidence == pytest.approx(f.emotion.confidence, abs=1e-5)
        crops = probe.crops[device].messages[key(edge)]
        assert [c.roi for c in crops.faces] == [f.roi for f in local.faces]
        for face in crops.faces:  # the model's input, nothing more of the image
            assert (face.crop.width, face.crop.height, face.crop.encoding) == (48, 48, 'mono8')
            assert len(face.crop.data) == 48 * 48
        assert len(serialize_message(crops)) < 2600 * len(crops.faces) + 200


def test_edge_nodes_publish_nothing_of_the_image_or_sound(probe):
    for device in ('dev1', 'dev2'):
        topics = {name for name, _ in probe.get_publisher_names_and_types_by_node(
            'vision_node', f'/{device}')}
        assert f'/{device}/face_crops' in topics
        assert not {f'/{device}/faces', f'/{device}/image_annotated'} & topics, topics
    topics = {name for name, _ in probe.get_publisher_names_and_types_by_node(
        'audio_node', '/dev1')}
    assert '/dev1/voice_windows' in topics and '/dev1/voice' not in topics, topics


def test_central_voice_equals_a_full_audio_node(probe, data):
    path = data / 'speech' / 'ravdess' / 'happy' / '03-01-03-02-01-01-21.flac'
    speech, rate = sf.read(str(path), dtype='int16')
    samples = np.concatenate([speech, np.zeros(2 * rate, np.int16)])  # then silence
    for i in range(0, len(samples), rate // 10):
        msg = AudioDataStamped(audio=AudioData(data=samples[i:i + rate // 10].tobytes()))
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(1000 * 10**9 + i * 10**9 //
                                                                rate, 10**9)
        for publisher in probe.audio.values():
            publisher.publish(msg)
    expected = int((len(samples) / rate - 2.0) / 0.5) + 1
    voices = probe.voices
    assert wait_for(lambda: min(len(v.messages) for v in voices.values()) >= expected,
                    timeout=60), {ns: len(v.messages) for ns, v in voices.items()}
    assert set(voices['dev1'].messages) == set(voices['full1'].messages)
    for stamp, local in voices['full1'].messages.items():
        central, window = voices['dev1'].messages[stamp], probe.windows.messages[stamp]
        assert (central.voiced, central.window_start) == (local.voiced, local.window_start)
        assert central.features.mfcc == pytest.approx(local.features.mfcc, abs=1e-4)
        assert central.emotion.label == local.emotion.label
        np.testing.assert_allclose(central.emotion.probabilities, local.emotion.probabilities,
                                   atol=1e-5)
        # Features and the model's input, no samples: 2 s of this audio are 64 kB.
        assert len(window.model_input) == (745 if window.voiced else 0)
        assert len(serialize_message(window)) < 4096
    assert sum(v.voiced for v in voices['dev1'].messages.values()) >= 3
    assert not all(v.voiced for v in voices['dev1'].messages.values())


def test_diagnostics_per_device(probe):
    def keys():
        return {kv.key for d in probe.diagnostics for s in d.status
                if s.name.endswith('central_node: central') for kv in s.values}
    assert wait_for(lambda: {'/dev1 fps', '/dev2 fps', '/dev1 voice_windows',
                             '/dev1 stamp_age_ms_p95'} <= keys(), timeout=5), keys()


def test_another_feature_set_is_refused_once_and_counted(probe, central, capfd):
    publisher = probe.create_publisher(VoiceWindow, '/dev9/voice_windows', VOICE_WINDOWS_QOS)
    assert wait_for(lambda: publisher.get_subscription_count() >= 1, timeout=10)
    for second in (3000, 3001):
        window = VoiceWindow(feature_set='mfcc/20', voiced=True, model_input=[0.1] * 20)
        window.header.stamp = Time(sec=second)
        publisher.publish(window)
    assert wait_for(lambda: central.counts.get('/dev9 refused_windows') == 2), central.counts
    assert '/dev9' in central.devices
    lines = [line for line in capfd.readouterr().err.splitlines()
             if 'refusing voice windows' in line]
    assert len(lines) == 1 and "'mfcc/20'" in lines[0] and '/dev9' in lines[0], lines


def test_a_device_appearing_later_is_found_and_others_left_alone(graph, probe, central,
                                                                 video):
    probe.create_publisher(FaceCropArray, '/lab/face_crops', FACE_CROPS_QOS)  # not /dev*
    graph.add(VisionNode(context=graph.context, namespace='dev3', parameter_overrides=[
        Parameter('mode', value='edge')]))
    probe.images['dev3'] = probe.create_publisher(Image, '/dev3/image', 10)
    probe.faces['dev3'] = Listener(probe, FaceArray, '/dev3/faces')
    assert wait_for(lambda: '/dev3' in central.devices, timeout=10)
    reply = send_frame(probe, 'dev3', video[0], 4000)
    assert len(reply.faces) == 1 and len(reply.faces[0].emotion.probabilities) == 7
    assert '/lab' not in central.devices


@pytest.mark.parametrize('node_class', [VisionNode, AudioNode])
def test_unknown_mode_is_a_clear_error(graph, node_class):
    node = node_class(context=graph.context, namespace='badmode', parameter_overrides=[
        Parameter('mode', value='cloud')])
    with pytest.raises(RuntimeError, match="mode must be one of"):
        start(node)


def test_central_launch_file():
    spec = importlib.util.spec_from_file_location('central', LAUNCH / 'central.launch.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    node, = [e for e in module.generate_launch_description().entities if isinstance(e, Node)]
    assert (node.node_package, node.node_executable) == ('av_emotion_network', 'central_node')
