"""fusion_node on real rclpy, fed with real estimates: a FER-2013 face through the vision
classifier and a RAVDESS clip through the audio pipeline, both labelled happy."""
import cv2
import numpy as np
import pytest
import soundfile as sf
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.exceptions import InvalidParameterValueException
from rcl_interfaces.msg import Log
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import RegionOfInterest

from av_emotion.config import defaults
from av_emotion.ros import emotion_msg, start, to_time
from av_emotion.taxonomy import LABELS
from av_emotion_audio.pipeline import AudioPipeline
from av_emotion_bringup.graph import wait_for
from av_emotion_fusion.fusion import Evidence, face_reliability, fuse
from av_emotion_fusion.node import FusionNode
from av_emotion_msgs.msg import Face, FaceArray, FusedEmotion, Voice
from av_emotion_vision.pipeline import VisionPipeline


@pytest.fixture(scope='module')
def happy(data):
    """(face probabilities, voice probabilities, speech probability), both labelled happy."""
    face = next((data / 'faces' / 'fer2013' / 'happy').glob('*.jpg'))
    face_p = VisionPipeline().classifier.classify([cv2.imread(str(face), cv2.IMREAD_GRAYSCALE)])[0]
    audio = AudioPipeline()
    # The first happy clip the voice model hears as happy (the tests are about fusion).
    for clip in sorted((data / 'speech' / 'ravdess' / 'happy').glob('*.flac')):
        samples, rate = sf.read(str(clip), dtype='float32')
        audio.new_session()
        voiced = [v for v in audio.clip(samples, rate) if v.voiced]
        voice_p = np.mean([v.probabilities for v in voiced], axis=0)
        if LABELS[int(np.argmax(voice_p))] == 'happy':
            return face_p, voice_p, voiced[0].speech_probability
    raise AssertionError('no sample happy clip sounds happy to the voice model')


class Probe:
    """Publishes faces and voice into a namespace, collects the fused emotion."""

    def __init__(self, graph, namespace, **params):
        self.node = graph.add(FusionNode(context=graph.context, namespace=namespace,
                                         parameter_overrides=[Parameter(k, value=v)
                                                              for k, v in params.items()]))
        self.io = graph.node(f'probe_{namespace}')
        self.faces = self.io.create_publisher(FaceArray, f'/{namespace}/faces', 10)
        self.voice = self.io.create_publisher(Voice, f'/{namespace}/voice', 10)
        self.out, self.diagnostics = [], []
        self.io.create_subscription(FusedEmotion, f'/{namespace}/emotion', self.out.append, 100)
        self.io.create_subscription(DiagnosticArray, '/diagnostics', self.diagnostics.append, 10)
        assert wait_for(lambda: self.faces.get_subscription_count() and
                        self.voice.get_subscription_count() and
                        self.node.publisher.get_subscription_count())

    def now(self):
        return self.io.get_clock().now().nanoseconds * 1e-9

    def send_faces(self, stamp, faces):
        """faces: (id, probabilities, height)."""
        msg = FaceArray(image_width=640, image_height=480)
        msg.header.stamp, msg.header.frame_id = to_time(stamp), 'camera'
        for face_id, probabilities, height in faces:
            msg.faces.append(Face(id=face_id, detection_score=0.95,
                                  roi=RegionOfInterest(width=height, height=height),
                                  emotion=emotion_msg(msg.header, probabilities)))
        self.faces.publish(msg)

    def send_voice(self, stamp, probabilities, speech_probability):
        msg = Voice(voiced=probabilities is not None, speech_probability=speech_probability)
        msg.header.stamp = to_time(stamp)
        msg.emotion = emotion_msg(msg.header, probabilities)
        self.voice.publish(msg)

    def next(self, condition, timeout=5.0):
        """The first fused message after now that satisfies condition."""
        seen = len(self.out)
        found = wait_for(lambda: any(condition(m) for m in self.out[seen:]), timeout)
        return next((m for m in self.out[seen:] if condition(m)), None) if found else None


def test_fuses_face_and_voice_of_the_speaker(graph, happy):
    face, voice, speech = happy
    probe = Probe(graph, 'f1', strategy='weighted', rate=20.0)
    t = probe.now()
    # Two faces; the voice window ends with this frame, so it is the larger face's.
    probe.send_faces(t, [(1, np.roll(face, 3), 40), (2, face, 120)])
    probe.send_voice(t, voice, speech)
    fused = probe.next(lambda m: set(m.modalities) == {'vision', 'audio'})
    assert fused is not None
    assert fused.face_id == 2 and fused.strategy == 'weighted'
    assert fused.header.stamp == to_time(t) and fused.header.frame_id == 'camera'
    assert sum(fused.weights) == pytest.approx(1.0)
    assert fused.emotion.label == 'happy' and list(fused.emotion.labels)[1] == 'happy'
    assert sum(fused.emotion.probabilities) == pytest.approx(1.0, abs=1e-5)
    assert -1 <= fused.emotion.valence <= 1 and -1 <= fused.emotion.arousal <= 1
    assert list(fused.vision.probabilities) == pytest.approx(face, abs=1e-6)
    assert probe.node.counts['pairs'] == 1

    def reported():
        return [{kv.key: kv.value for kv in s.values} for d in probe.diagnostics
                for s in d.status if s.name.startswith('/f1/fusion_node')]
    assert wait_for(lambda: any(r.get('pairs') == '1' for r in reported()), timeout=3)


def test_a_missing_modality_degrades_and_recovers(graph, happy):
    face, voice, speech = happy
    probe = Probe(graph, 'f2', max_age=0.5, rate=20.0)
    t = probe.now()
    probe.send_faces(t, [(7, face, 120)])
    probe.send_voice(t, voice, speech)
    assert probe.next(lambda m: len(m.modalities) == 2) is not None
    # The voice stops; frames go on: vision alone, then both again when the voice is back.
    for _ in range(20):
        probe.send_faces(probe.now(), [(7, face, 120)])
        wait_for(lambda: False, timeout=0.05)
    alone = probe.next(lambda m: list(m.modalities) == ['vision'], timeout=0.1) or next(
        (m for m in probe.out if list(m.modalities) == ['vision']), None)
    assert alone is not None and alone.face_id == 7 and list(alone.weights) == [1.0]
    assert list(alone.audio.probabilities) == []
    # Smoothing holds the sharper fused past, yet never claims more than the face alone.
    assert all(m.emotion.confidence <= m.vision.confidence + 1e-6 for m in probe.out
               if list(m.modalities) == ['vision'])
    t = probe.now()
    probe.send_faces(t, [(7, face, 120)])
    probe.send_voice(t, voice, speech)
    assert probe.next(lambda m: len(m.modalities) == 2) is not None
    # Nothing at all: the output goes on, empty.
    empty = probe.next(lambda m: not m.modalities, timeout=3.0)
    assert empty is not None and empty.face_id == 0 and list(empty.emotion.probabilities) == []


def test_audio_alone_and_bad_inputs_keep_it_running(graph, happy):
    face, voice, speech = happy
    probe = Probe(graph, 'f3', strategy='product', rate=20.0)
    t = probe.now()
    probe.send_voice(t, voice, speech)
    heard = probe.next(lambda m: list(m.modalities) == ['audio'])
    assert heard is not None and heard.face_id == 0 and heard.emotion.label == 'happy'
    probe.send_faces(t + 0.2, [(3, face, 120)])
    probe.send_faces(t + 0.1, [(3, np.roll(face, 2), 120)])  # out of order: ignored
    malformed = Voice(voiced=True, speech_probability=0.9)
    malformed.header.stamp = to_time(t + 0.2)
    malformed.emotion.probabilities = [0.2, 0.3, 0.5]  # three labels, not seven: not used
    probe.voice.publish(malformed)
    probe.send_voice(t + 0.2, None, 0.05)  # silence
    assert wait_for(lambda: probe.node.counts.get('late_faces') == 1 and
                    probe.node.counts.get('bad_voices') == 1)
    fused = probe.next(lambda m: len(m.modalities) == 2)
    assert fused is not None and list(fused.vision.probabilities) == pytest.approx(face, abs=1e-6)


def test_learned_combiner_runs_and_bad_parameters_are_clear(graph, happy, tmp_path):
    face, voice, speech = happy
    probe = Probe(graph, 'f4', strategy='learned', rate=20.0)
    t = probe.now()
    probe.send_faces(t, [(5, face, 120)])
    probe.send_voice(t, voice, speech)
    fused = probe.next(lambda m: len(m.modalities) == 2)
    assert fused is not None and fused.strategy == 'learned' and fused.emotion.label == 'happy'
    for overrides, reason in (
            ([Parameter('strategy', value='vote')], 'strategy'),
            ([Parameter('strategy', value='learned'),
              Parameter('learned.model', value=str(tmp_path / 'missing.onnx'))], 'missing.onnx')):
        node = FusionNode(context=graph.context, namespace='bad', parameter_overrides=overrides)
        with pytest.raises(RuntimeError, match=reason):
            start(node)
        assert node.state == 'unconfigured' and reason in node.failure
    with pytest.raises(InvalidParameterValueException, match='rate'):
        FusionNode(context=graph.context, namespace='bad',
                   parameter_overrides=[Parameter('rate', value=0.0)])
    assert not probe.node.set_parameters([Parameter('max_age', value=-1.0)])[0].successful
    assert probe.node.set_parameters([Parameter('weights.audio', value=0.0)])[0].successful
    t = probe.now()
    probe.send_faces(t, [(5, face, 120)])
    probe.send_voice(t, voice, speech)
    only_face = probe.next(lambda m: m.modalities and m.header.stamp == to_time(t))
    assert list(only_face.modalities) == ['vision']


def test_a_label_the_voice_model_lacks_comes_from_the_face(graph, happy):
    face, voice, speech = happy
    probe = Probe(graph, 'f5', strategy='weighted', rate=20.0,
                  **{'smoothing.time_constant': 0.0})
    known = np.array([label != 'disgusted' for label in LABELS])
    partial = np.where(known, voice, 0) / voice[known].sum()
    t = probe.now()
    probe.send_faces(t, [(4, face, 120)])
    msg = Voice(voiced=True, speech_probability=speech)
    msg.header.stamp = to_time(t)
    msg.emotion = emotion_msg(msg.header, partial, speech, known)  # six labels, six values
    probe.voice.publish(msg)
    fused = probe.next(lambda m: len(m.modalities) == 2)
    assert fused is not None
    assert list(fused.audio.labels) == [label for label in LABELS if label != 'disgusted']
    assert list(fused.emotion.labels) == list(LABELS)
    expected, _ = fuse({'vision': Evidence(face, face_reliability(0.95, 120, 96), 0),
                        'audio': Evidence(partial, speech, 0, known)},
                       {'vision': 1.0, 'audio': 1.0}, 'weighted',
                       temperature=defaults('fusion')['calibration.weighted'])
    assert list(fused.emotion.probabilities) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize('shift', [-2.0, 3.0], ids=['faces 2 s behind', 'faces 3 s ahead'])
def test_a_device_whose_clock_is_off_still_fuses(graph, happy, shift):
    """Faces from a device whose clock is `shift` s off, voice on time: the offsets are
    reported, one warning says so, and faces and voice are still fused and paired right."""
    face, voice, speech = happy
    namespace = f'clock{int(abs(shift))}'
    probe = Probe(graph, namespace, rate=20.0, **{'sync.slop': 0.1})
    warnings = []
    probe.io.create_subscription(  # rosout keeps recent lines for late subscribers
        Log, '/rosout', lambda m: m.name == f'{namespace}.fusion_node' and
        'clocks of faces and voice' in m.msg and warnings.append(m.msg),
        QoSProfile(depth=100, durability=DurabilityPolicy.TRANSIENT_LOCAL))

    def reported():
        return next((values for d in reversed(probe.diagnostics) for s in d.status
                     if s.name.startswith(f'/{namespace}/fusion_node') and
                     'clock_offset_faces' in (values := {v.key: v.value for v in s.values})),
                    {})

    def estimated():
        offsets = reported()
        return offsets.get('clock_offset_voice', 'none') != 'none' and abs(
            float(offsets['clock_offset_faces']) + shift) < 0.1

    # Face 2 alone while the offsets are learnt; each pair sent once the last has arrived.
    sent = 0
    while not estimated():
        t = probe.now()
        probe.send_faces(t + shift, [(2, face, 120)])
        probe.send_voice(t, voice, speech)
        sent += 1
        assert wait_for(lambda: probe.node.counts['voices'] == sent), 'fusion_node stalled'
        assert sent < 2000, f'offsets not reported: {reported()}'
    assert abs(float(reported()['clock_offset_voice'])) < 0.1
    assert reported()['clock_corrected'] == 'True'
    # Stamps 3 s ahead are refused until the offset is known (from its fifth message on).
    assert probe.node.counts.get('bad_stamps', 0) == (4 if shift > 0 else 0)
    assert wait_for(lambda: warnings, timeout=5)
    # The voice window ending now is face 1's, the larger face at its end; 0.3 s later
    # face 2 is the larger. Sent after a pause longer than sync.slop, so that no earlier
    # frame can pair with it.
    last = probe.now()
    assert wait_for(lambda: probe.now() > last + 0.2)
    t = probe.now()
    probe.send_faces(t + shift, [(1, face, 120), (2, face, 40)])
    probe.send_faces(t + 0.3 + shift, [(1, face, 40), (2, face, 120)])
    probe.send_voice(t, voice, speech)
    fused = probe.next(lambda m: m.audio.header.stamp == to_time(t) and
                       m.vision.header.stamp == to_time(t + 0.3 + shift))
    assert fused is not None and set(fused.modalities) == {'vision', 'audio'}
    assert fused.face_id == 1
    assert len(warnings) == 1, warnings
