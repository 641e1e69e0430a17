"""ROS4HRI (REP-155) output of vision_node and fusion_node (`hri: true`) on real rclpy: a
photo of five faces through the vision node, a real voice into the fusion node."""
import sys

import cv2
import numpy as np
import pytest
import soundfile as sf
from hri_msgs.msg import Expression, IdsList, NormalizedRegionOfInterest2D
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from rclpy.exceptions import InvalidTopicNameException
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.validate_full_topic_name import validate_full_topic_name
from sensor_msgs.msg import Image

from av_emotion.hri import face_id, normalized_roi
from av_emotion.ros import emotion_msg, start, to_time
from av_emotion.taxonomy import LABELS
from av_emotion_audio.pipeline import AudioPipeline
from av_emotion_bringup.graph import wait_for
from av_emotion_fusion.node import FusionNode
from av_emotion_msgs.msg import FaceArray, FusedEmotion, Voice
from av_emotion_vision.node import VisionNode

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
BLANK = np.zeros((480, 640, 3), np.uint8)


def key(header):
    return header.stamp.sec, header.stamp.nanosec


def make_nodes(graph, namespace, hri):
    """vision_node and fusion_node, with `hri: true` or their defaults."""
    overrides = [Parameter('hri', value=True)] if hri else []
    # Reliable: a 1000x667 photo is 2 MB, which best-effort DDS mostly loses.
    return (VisionNode(context=graph.context, namespace=namespace, parameter_overrides=[
                *overrides, Parameter('image_reliability', value='reliable')]),
            FusionNode(context=graph.context, namespace=namespace, parameter_overrides=[
                *overrides, Parameter('rate', value=20.0)]))


class Robot:
    """vision_node and fusion_node in a namespace, fed camera frames and voice windows by a
    probe that collects what they publish."""

    def __init__(self, graph, namespace, hri=True, nodes=None):
        self.ns = namespace
        self.vision, self.fusion = (graph.add(node) for node in nodes or make_nodes(
            graph, namespace, hri))
        self.io = graph.node(f'probe_{namespace}')
        self.images = self.io.create_publisher(Image, f'/{namespace}/image', 10)
        self.voices = self.io.create_publisher(Voice, f'/{namespace}/voice', 10)
        self.faces, self.fused, self.tracked, self.per_face = {}, [], [], {}
        self.io.create_subscription(FaceArray, f'/{namespace}/faces',
                                    lambda m: self.faces.__setitem__(key(m.header), m), 10)
        self.io.create_subscription(FusedEmotion, f'/{namespace}/emotion', self.fused.append,
                                    100)
        if hri:
            self.io.create_subscription(IdsList, self.topic('tracked'), self.tracked.append,
                                        LATCHED)
        assert wait_for(lambda: self.images.get_subscription_count() and
                        self.voices.get_subscription_count())

    def topic(self, *names):
        return '/'.join([f'/{self.ns}/humans/faces', *names])

    def now(self):
        return self.io.get_clock().now().nanoseconds * 1e-9

    def watch(self, face, name, kind):
        """Collect the messages of humans/faces/<face>/<name>."""
        received = self.per_face[face, name] = []
        self.per_face[face, name, 'subscription'] = self.io.create_subscription(
            kind, self.topic(face, name), received.append, 10)

    def unwatch(self):
        for k in [k for k in self.per_face if len(k) == 3]:
            self.io.destroy_subscription(self.per_face.pop(k))

    def send(self, frame, voice=None):
        """One frame stamped now (and a voice window ending with it); its FaceArray."""
        msg = Image(height=frame.shape[0], width=frame.shape[1], encoding='bgr8',
                    step=frame.shape[1] * 3, data=frame.tobytes())
        assert wait_for(self.images.get_subscription_count)  # also after a reactivation
        msg.header.stamp, msg.header.frame_id = to_time(self.now()), 'camera'
        self.images.publish(msg)
        if voice is not None:
            probabilities, speech = voice
            window = Voice(header=msg.header, voiced=True, speech_probability=speech)
            window.emotion = emotion_msg(msg.header, probabilities)
            self.voices.publish(window)
        assert wait_for(lambda: key(msg.header) in self.faces, timeout=5)
        return self.faces[key(msg.header)]

    def stream(self, frame, until, voice=None, timeout=20.0):
        """Frames (stamped now, as a camera) until `until()`: whether it came."""
        def sent_and_until():
            self.send(frame, voice)
            return until()
        return wait_for(sent_and_until, timeout)

    def change_state(self, node, transition):
        """A lifecycle transition through the node's service, as `ros2 lifecycle set`."""
        client = self.io.create_client(ChangeState, f'/{self.ns}/{node}/change_state')
        assert client.wait_for_service(timeout_sec=5)
        future = client.call_async(ChangeState.Request(transition=Transition(id=transition)))
        assert wait_for(future.done) and future.result().success
        self.io.destroy_client(client)


@pytest.fixture(scope='module')
def photo(data):
    frame = cv2.imread(str(data / 'faces' / 'photos' / 'multi_face.jpg'))
    assert frame is not None
    return frame


@pytest.fixture(scope='module')
def voice(data):
    """(probabilities, speech probability) of a voiced window of a real RAVDESS clip."""
    clip = sorted((data / 'speech' / 'ravdess' / 'happy').glob('*.flac'))[0]
    samples, rate = sf.read(str(clip), dtype='float32')
    window = next(v for v in AudioPipeline().clip(samples, rate) if v.voiced)
    return window.probabilities, window.speech_probability


@pytest.fixture(scope='module')
def robot(graph):
    return Robot(graph, 'hri')


def test_face_ids_names_and_boxes():
    assert face_id(7) == 'f00007' and face_id(123456) == 'f123456'
    for track in (0, 1, 99999, 10**7):
        assert validate_full_topic_name(f'/humans/faces/{face_id(track)}/roi')
    with pytest.raises(InvalidTopicNameException):  # why the ids do not start with a digit
        validate_full_topic_name('/humans/faces/7/roi')
    with pytest.raises(ValueError):
        face_id(-1)
    constants = {value for name in dir(Expression)
                 if name.isupper() and isinstance(value := getattr(Expression, name), str)}
    assert set(LABELS) <= constants  # our labels are REP-155 expressions as they are
    assert normalized_roi(-10, 20, 60, 500, 100, 200) == (0.0, 0.1, 0.5, 1.0)


def test_tracked_faces_their_rois_and_expressions(robot, photo, voice):
    faces = robot.send(photo, voice)
    assert len(faces.faces) == 5
    robot.ids = {face_id(f.id) for f in faces.faces}
    assert wait_for(lambda: robot.tracked and set(robot.tracked[-1].ids) == robot.ids)
    assert robot.io.count_publishers(robot.topic('tracked')) == 1  # vision_node's only
    for face in robot.ids:
        robot.watch(face, 'roi', NormalizedRegionOfInterest2D)
        robot.watch(face, 'expression', Expression)
    assert robot.stream(photo, lambda: all(robot.per_face[k] for k in robot.per_face
                                           if len(k) == 2), voice)
    assert set(robot.tracked[-1].ids) == robot.ids

    # roi: the FaceArray's, divided by the image size.
    for face in robot.ids:
        for roi in robot.per_face[face, 'roi']:
            array = robot.faces[key(roi.header)]
            seen = next(f for f in array.faces if face_id(f.id) == face)
            assert roi.header.frame_id == 'camera' and roi.c == pytest.approx(
                seen.detection_score)
            assert [roi.xmin, roi.ymin, roi.xmax, roi.ymax] == pytest.approx([
                seen.roi.x_offset / array.image_width, seen.roi.y_offset / array.image_height,
                (seen.roi.x_offset + seen.roi.width) / array.image_width,
                (seen.roi.y_offset + seen.roi.height) / array.image_height], abs=1e-6)
            assert 0 <= roi.xmin < roi.xmax <= 1 and 0 <= roi.ymin < roi.ymax <= 1

    # expression: the fused estimate for the speaker's face, its own for every other one.
    speakers = {m.face_id for m in robot.fused if m.face_id}
    assert len(speakers) == 1
    speaker = face_id(speakers.pop())
    assert any(set(m.modalities) == {'vision', 'audio'} for m in robot.fused)

    def fused_one(expression):
        return any(face_id(m.face_id) == speaker and m.header.stamp == expression.header.stamp
                   and (m.emotion.label, m.emotion.valence, m.emotion.arousal,
                        m.emotion.confidence) == (expression.expression, expression.valence,
                                                  expression.arousal, expression.confidence)
                   for m in robot.fused)
    # The fused message of a tick may be taken after that tick's expression: wait for it.
    assert wait_for(lambda: all(map(fused_one, robot.per_face[speaker, 'expression'])))
    for face in robot.ids - {speaker}:
        for expression in robot.per_face[face, 'expression']:
            seen = next(f for f in robot.faces[key(expression.header)].faces
                        if face_id(f.id) == face)
            assert expression.header.frame_id == 'camera'
            assert expression.expression == seen.emotion.label
            assert [expression.valence, expression.arousal, expression.confidence] == \
                pytest.approx([seen.emotion.valence, seen.emotion.arousal,
                               seen.emotion.confidence], abs=1e-5)


def test_topics_of_vanished_faces_go(robot):
    topics = [robot.topic(face, name) for face in robot.ids for name in ('roi', 'expression')]
    # Frames without a face, past tracking.timeout (vision) and max_age (fusion).
    assert robot.stream(BLANK, lambda: robot.tracked[-1].ids == [] and not any(
        map(robot.io.count_publishers, topics)))
    robot.unwatch()
    assert wait_for(lambda: not set(topics) & {
        name for name, _ in robot.io.get_topic_names_and_types()})
    assert not robot.vision.face_topics[0].faces and not robot.fusion.face_topics[0].faces


def test_deactivate_withdraws_every_face(robot, photo):
    assert robot.stream(photo, lambda: len(robot.vision.face_topics[0].faces) == 5 and
                        len(robot.fusion.face_topics[0].faces) == 5)
    ids = set(robot.vision.face_topics[0].faces)
    assert ids.isdisjoint(robot.ids)  # new tracks: REP-155 face ids are not reused
    topics = [robot.topic(face, name) for face in ids for name in ('roi', 'expression')]
    assert wait_for(lambda: all(map(robot.io.count_publishers, topics)))
    for node in ('vision_node', 'fusion_node'):
        robot.change_state(node, Transition.TRANSITION_DEACTIVATE)
    assert wait_for(lambda: robot.tracked[-1].ids == [] and not any(
        map(robot.io.count_publishers, topics)))
    # Latched: a late subscriber hears that there is no face.
    late = []
    robot.io.create_subscription(IdsList, robot.topic('tracked'), late.append, LATCHED)
    assert wait_for(lambda: late and late[-1].ids == [])
    robot.change_state('vision_node', Transition.TRANSITION_CLEANUP)
    assert wait_for(lambda: robot.io.count_publishers(robot.topic('tracked')) == 0)
    robot.change_state('vision_node', Transition.TRANSITION_CONFIGURE)
    for node in ('vision_node', 'fusion_node'):
        robot.change_state(node, Transition.TRANSITION_ACTIVATE)
    assert robot.stream(photo, lambda: robot.tracked[-1].ids and
                        len(robot.fusion.face_topics[0].faces) == 5)


def test_hri_is_off_by_default(graph, photo, voice):
    plain = Robot(graph, 'plain', hri=False)
    assert plain.stream(photo, lambda: any('vision' in m.modalities for m in plain.fused),
                        voice)
    assert plain.vision.hri is None and plain.fusion.hri is None
    assert not plain.vision.face_topics and not plain.fusion.face_topics
    names = [name for name, _ in plain.io.get_topic_names_and_types()]
    assert '/plain/faces' in names and not [n for n in names if n.startswith('/plain/humans')]


def test_without_hri_msgs_a_warning_and_the_rest_as_ever(graph, photo, monkeypatch, capfd):
    for module in ('hri_msgs', 'hri_msgs.msg'):
        monkeypatch.setitem(sys.modules, module, None)  # import fails, as where not installed
    nodes = make_nodes(graph, 'nohri', hri=True)
    for node in nodes:  # configured twice: still one warning
        start(node)
        node.trigger_deactivate()
        node.trigger_cleanup()
    bare = Robot(graph, 'nohri', hri=False, nodes=nodes)
    assert len(bare.send(photo).faces) == 5
    assert wait_for(lambda: any('vision' in m.modalities for m in bare.fused))
    assert bare.vision.hri is None and bare.fusion.hri is None
    names = [name for name, _ in bare.io.get_topic_names_and_types()]
    assert '/nohri/faces' in names and not [n for n in names if n.startswith('/nohri/humans')]
    warnings = [line for line in capfd.readouterr().err.splitlines()
                if 'ROS4HRI output (hri: true) is off' in line]
    assert len(warnings) == 2, warnings
    assert sorted(n for line in warnings for n in ('nohri.vision_node', 'nohri.fusion_node')
                  if n in line) == ['nohri.fusion_node', 'nohri.vision_node']
