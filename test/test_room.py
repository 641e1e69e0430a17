"""The room view (av_emotion_network): its core, and room_node on real rclpy finding
FusedEmotion devices in several namespaces through the ROS graph, with no list of them."""
import importlib.util
import math
import time
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from launch_ros.actions import Node
from rclpy.parameter import Parameter
from std_msgs.msg import Header

from av_emotion.ros import emotion_msg
from av_emotion.taxonomy import LABELS
from av_emotion_bringup.graph import wait_for
from av_emotion_fusion.node import FusionNode
from av_emotion_msgs.msg import Emotion, FusedEmotion, RoomEmotion
from av_emotion_network.room import Room, device_of
from av_emotion_network.room_node import RoomNode

LAUNCH = Path(__file__).parent.parent / 'launch'


def confident(label):
    p = np.full(len(LABELS), 0.02)
    p[LABELS.index(label)] = 1 - 0.02 * (len(LABELS) - 1)
    return p


def estimate(label):
    """(label, valence, arousal) of a confident estimate, as fusion_node publishes it."""
    msg = emotion_msg(Header(), confident(label))
    return msg.label, msg.valence, msg.arousal


def test_core_sums_up_the_people_of_every_device():
    room = Room(timeout=3.0, max_age=1.0)
    assert room.hear('/robot1', 1, 9.9, 10.0, *estimate('happy'))
    assert not room.hear('/robot1', 2, 9.9, 10.0, *estimate('sad'))
    assert room.hear('/robot2', 7, 9.9, 10.0, *estimate('happy'))
    assert room.hear('/robot3', 0, 9.9, 10.0, '', 0.0, 0.0)  # sees nobody: present, no one
    assert room.expire(10.5) == []
    view = room.view()
    assert view.devices == ['/robot1', '/robot2', '/robot3']
    assert [(m.device, m.face_id, m.label) for m in view.members] == [
        ('/robot1', 1, 'happy'), ('/robot1', 2, 'sad'), ('/robot2', 7, 'happy')]
    valences = [estimate(label)[1] for label in ('happy', 'sad', 'happy')]
    arousals = [estimate(label)[2] for label in ('happy', 'sad', 'happy')]
    assert view.mean_valence == pytest.approx(np.mean(valences))
    assert view.mean_arousal == pytest.approx(np.mean(arousals))
    assert dict(zip(LABELS, view.label_counts)) == {
        'neutral': 0, 'happy': 2, 'sad': 1, 'angry': 0, 'surprised': 0, 'disgusted': 0,
        'scared': 0}
    # A newer estimate of a face replaces its older one.
    room.hear('/robot1', 2, 10.4, 10.5, *estimate('angry'))
    assert [m.label for m in room.view().members] == ['happy', 'angry', 'happy']


def test_core_ages_estimates_and_devices_leave_after_timeout():
    room = Room(timeout=3.0, max_age=1.0)
    room.hear('/robot1', 1, 0.0, 0.0, *estimate('happy'))
    room.hear('/robot2', 1, 0.0, 0.0, *estimate('sad'))
    room.hear('/robot2', 0, 2.0, 2.0, '', 0.0, 0.0)  # robot2 still talks, its face is gone
    assert room.expire(1.0) == [] and len(room.view().members) == 2
    assert room.expire(1.5) == []
    view = room.view()
    assert view.devices == ['/robot1', '/robot2'] and view.members == []
    assert (view.mean_valence, view.mean_arousal, sum(view.label_counts)) == (0.0, 0.0, 0)
    assert room.expire(3.0) == []  # exactly timeout: not yet
    assert room.expire(3.1) == ['/robot1']
    assert room.expire(5.1) == ['/robot2'] and room.view().devices == []
    assert room.hear('/robot1', 1, 6.0, 6.0, *estimate('happy'))  # back: joins again


def test_core_include_exclude_and_device_names():
    room = Room(3.0, 1.0, include='^/robot', exclude='^/robot2/')
    assert [t for t in ('/robot1/emotion', '/robot2/emotion', '/robot3/emotion', '/emotion',
                        '/lab/robot1/emotion') if room.wants(t)] == [
        '/robot1/emotion', '/robot3/emotion']
    assert Room(3.0, 1.0).wants('/anything/emotion')
    assert device_of('/robot1/emotion') == '/robot1'
    assert device_of('/a/b/emotion') == '/a/b'
    assert device_of('/emotion') == '/'
    assert device_of('/robot1/emotion_raw') == '/robot1/emotion_raw'
    with pytest.raises(ValueError, match="include '\\(' is no regular expression"):
        Room(3.0, 1.0, include='(')


@pytest.mark.parametrize('label, valence, arousal, reason', [
    ('joy', 0.5, 0.5, 'not a REP-155'), ('happy', math.nan, 0.5, 'valence nan'),
    ('happy', 0.5, 1.5, 'arousal 1.5'), ('happy', -math.inf, 0.0, 'valence -inf')])
def test_core_refuses_what_it_cannot_count(label, valence, arousal, reason):
    room = Room(3.0, 1.0)
    with pytest.raises(ValueError, match=reason):
        room.hear('/robot1', 1, 0.0, 0.0, label, valence, arousal)
    assert room.view().devices == [] and room.view().members == []


class Device:
    """A robot's fusion output, crafted: FusedEmotion on `topic` at 10 Hz, one face per
    message in turn (fusion_node estimates one face a tick); a label None: empty estimate."""

    def __init__(self, graph, topic, faces):
        self.node = graph.node('device' + topic.replace('/', '_'))
        self.publisher = self.node.create_publisher(FusedEmotion, topic, 10)
        self.faces, self.sent, self.last, self.running = faces, 0, None, True
        self.node.create_timer(0.1, self.publish)

    def publish(self):
        if not self.running:
            return
        face_id, label = self.faces[self.sent % len(self.faces)]
        header = Header(stamp=self.node.get_clock().now().to_msg())
        emotion = (Emotion(header=header, label=label, valence=0.5) if label == 'joy' else
                   emotion_msg(header, confident(label) if label else None))
        self.publisher.publish(FusedEmotion(header=header, face_id=face_id, emotion=emotion))
        self.sent += 1
        self.last = time.monotonic()


class Listener:
    """/room/emotion (or its remapping) and the room nodes' /diagnostics."""

    def __init__(self, graph, name, topic='/room/emotion'):
        self.node = graph.node(name)
        self.views, self.diagnostics = [], []
        self.node.create_subscription(RoomEmotion, topic,
                                      lambda m: self.views.append((time.monotonic(), m)), 100)
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self.on_diagnostics, 100)

    def on_diagnostics(self, msg):
        self.diagnostics.extend((time.monotonic(), {kv.key: kv.value for kv in s.values})
                                for s in msg.status if s.hardware_id == 'room')

    def said(self, key, device, since):
        """Whether a room node's diagnostics after `since` name `device` under `key`."""
        return any(device in v.get(key, '').split() for t, v in self.diagnostics if t > since)

    def view(self, condition, timeout=20.0, since=0.0):
        """The first view after `since` (monotonic) that satisfies condition, or None."""
        def found():
            return next((m for t, m in self.views if t > since and condition(m)), None)
        wait_for(lambda: found() is not None, timeout)
        return found()


@pytest.fixture(scope='module')
def scene(graph):
    """Devices in three namespaces (robot3: a real fusion node with no input, so empty
    estimates), a room view, then one more device once the room runs."""
    devices = {'/robot1': Device(graph, '/robot1/emotion', [(1, 'happy'), (2, 'sad')]),
               '/robot2': Device(graph, '/robot2/emotion', [(7, 'angry')])}
    graph.add(FusionNode(context=graph.context, namespace='robot3'))
    listener = Listener(graph, 'room_listener')
    room = graph.add(RoomNode(context=graph.context,
                              parameter_overrides=[Parameter('timeout', value=2.0)]))
    assert listener.view(lambda m: len(m.devices) == 3)
    devices['/lab'] = Device(graph, '/lab/emotion', [(3, 'happy')])
    devices['/broken'] = Device(graph, '/broken/emotion', [(1, 'joy')])
    return devices, room, listener


def test_room_node_finds_every_device_and_sums_up(scene):
    devices, room, listener = scene
    view = listener.view(lambda m: m.people == 4 and '/lab' in m.devices)
    assert view, listener.views[-1:]
    assert list(view.devices) == ['/lab', '/robot1', '/robot2', '/robot3']
    assert [(m.device, m.face_id, m.emotion.label) for m in view.members] == [
        ('/lab', 3, 'happy'), ('/robot1', 1, 'happy'), ('/robot1', 2, 'sad'),
        ('/robot2', 7, 'angry')]
    labels = ('happy', 'happy', 'sad', 'angry')
    assert view.mean_valence == pytest.approx(np.mean([estimate(x)[1] for x in labels]), abs=1e-6)
    assert view.mean_arousal == pytest.approx(np.mean([estimate(x)[2] for x in labels]), abs=1e-6)
    assert list(view.labels) == list(LABELS)
    assert dict(zip(view.labels, view.label_counts)) == {
        'neutral': 0, 'happy': 2, 'sad': 1, 'angry': 1, 'surprised': 0, 'disgusted': 0,
        'scared': 0}
    assert all(0.0 <= m.age < 2.0 for m in view.members)
    # The joins are stated in /diagnostics; the device with bad estimates is refused.
    for device in ('/lab', '/robot1', '/robot2', '/robot3'):
        assert wait_for(lambda: listener.said('joined', device, 0.0)), device
    assert wait_for(lambda: room.counts.get('bad_estimates', 0) > 0)
    assert not listener.said('joined', '/broken', 0.0)
    assert '/broken' not in listener.views[-1][1].devices


def test_include_and_exclude_pick_the_topics(graph, scene):
    devices, _, _ = scene
    other = Listener(graph, 'room_b_listener', '/room_b/emotion')
    node = graph.add(RoomNode(context=graph.context, parameter_overrides=[
        Parameter('include', value='^/robot'), Parameter('exclude', value='^/robot2/')],
        cli_args=['--ros-args', '-r', '__node:=room_b', '-r', '/room/emotion:=/room_b/emotion']))
    view = other.view(lambda m: m.people == 2)
    assert view and list(view.devices) == ['/robot1', '/robot3']
    assert set(node.topics) == {'/robot1/emotion', '/robot3/emotion'}


def test_a_device_leaving_is_reported_after_timeout_and_seen_again(scene):
    devices, room, listener = scene
    robot2 = devices['/robot2']
    robot2.running = False
    stopped = time.monotonic()
    view = listener.view(lambda m: '/robot2' not in m.devices, since=stopped)
    assert view, 'robot2 never left'
    left = next(t for t, m in listener.views if t > stopped and m is view)
    # Not before `timeout` (2 s) after its last message; the rest of the room stays.
    assert left - robot2.last >= 2.0
    assert list(view.devices) == ['/lab', '/robot1', '/robot3'] and view.people == 3
    assert wait_for(lambda: listener.said('left', '/robot2', stopped))
    robot2.running = True
    back = time.monotonic()
    assert listener.view(lambda m: '/robot2' in m.devices and m.people == 4, since=back)
    assert wait_for(lambda: listener.said('joined', '/robot2', back))
    assert room.counts['leaves'] == 1 and room.counts['joins'] == 5


def test_room_launch_starts_room_node():
    spec = importlib.util.spec_from_file_location('room', LAUNCH / 'room.launch.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    assert {a.name for a in description.get_launch_arguments()} == {
        'namespace', 'config', 'use_sim_time', 'autostart'}
    node, = [e for e in description.entities if isinstance(e, Node)]
    scripts = {e.name: e.value for e in entry_points(group='console_scripts')}
    assert (node.node_package, scripts[node.node_executable]) == (
        'av_emotion_network', 'av_emotion_network.room_node:main')
