"""The nodes are managed (lifecycle) nodes: `autostart:=false` leaves them unconfigured,
`ros2 lifecycle set` walks them through configure, activate, deactivate and cleanup, an
inactive node takes no input and costs no CPU, /diagnostics reports the state, and a
configure that cannot load its model fails with the reason."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from av_emotion_audio.node import AudioNode
from av_emotion_bringup.graph import wait_for
from av_emotion_fusion.node import FusionNode
from av_emotion_msgs.msg import FaceArray, FusedEmotion
from av_emotion_vision.image import bgr_fields
from av_emotion_vision.node import VisionNode

ROS2 = str(Path(sys.executable).parent / 'ros2')


def lifecycle(*args, timeout=60):
    """Output of `ros2 lifecycle ARGS`, asked again while discovery has not found the node."""
    for _ in range(30):
        run = subprocess.run([ROS2, 'lifecycle', *args, '--no-daemon'], capture_output=True,
                             text=True, timeout=timeout)
        if 'Node not found' not in run.stderr:
            return run.stdout
    raise AssertionError(f'ros2 lifecycle {args}: node not found')


def transition(node, name, state):
    """`ros2 lifecycle set NODE NAME`, then the node is in `state` ('inactive [2]').

    The CLI waits without end for the service's answer, which Fast DDS loses when the
    request arrives before the node's response writer has matched the CLI's reader (a known
    discovery race, ros2/rmw_fastrtps#842: the node transitions, the answer never comes;
    seen once on CI); then the state the node reports says whether the transition happened.
    """
    try:
        assert 'successful' in lifecycle('set', node, name, timeout=20)
    except subprocess.TimeoutExpired:
        pass
    assert state in lifecycle('get', node)


def cpu_seconds(pid):
    """User and system CPU time of a process and its threads so far."""
    fields = Path(f'/proc/{pid}/stat').read_text().rpartition(')')[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


class Camera:
    """A 30 fps camera of one real photo, sensor-data QoS, as camera drivers publish."""

    def __init__(self, graph, data, topic):
        frame = cv2.resize(cv2.imread(str(data / 'faces' / 'photos' / 'single_face.jpg')),
                           (640, 480))
        self.node = graph.node('lifecycle_camera')
        self.publisher = self.node.create_publisher(Image, topic, qos_profile_sensor_data)
        self.fields = bgr_fields(frame)
        self.sent = 0
        self.node.create_timer(1 / 30, self.publish)

    def publish(self):
        self.sent += 1
        msg = Image(**self.fields)
        msg.header.stamp.sec = self.sent  # the frame's number, to tell frames apart
        self.publisher.publish(msg)

    def frames(self, n):
        """Wait until n more frames are sent."""
        target = self.sent + n
        assert wait_for(lambda: self.sent >= target, 60)


def test_ros2_lifecycle_walks_the_vision_node_through_its_states(graph, data):
    launch = subprocess.Popen(
        [ROS2, 'launch', 'av_emotion_bringup', 'vision.launch.py', 'namespace:=lc',
         'image:=/lc/camera', 'autostart:=false'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        probe = graph.node('lifecycle_probe')
        faces, states = [], []
        probe.create_subscription(FaceArray, '/lc/faces',
                                  lambda m: faces.append(m.header.stamp.sec), 100)
        probe.create_subscription(DiagnosticArray, '/diagnostics', lambda m: states.extend(
            (s, {v.key: v.value for v in s.values}) for s in m.status
            if s.name.startswith('/lc/vision_node')), 10)

        def reports(state):
            states.clear()
            return wait_for(lambda: any(v['state'] == state for _, v in states), 30)

        node = '/lc/vision_node'
        assert 'unconfigured [1]' in lifecycle('get', node)
        assert reports('unconfigured')
        camera = Camera(graph, data, '/lc/camera')
        pid = int(subprocess.run(['pgrep', '-f', 'vision_node.*__ns:=/lc'],
                                 capture_output=True, text=True).stdout.split()[0])

        transition(node, 'configure', 'inactive [2]')
        assert reports('inactive')
        before = cpu_seconds(pid)
        camera.frames(60)
        idle = cpu_seconds(pid) - before
        assert camera.publisher.get_subscription_count() == 0 and not faces

        transition(node, 'activate', 'active [3]')
        assert wait_for(lambda: camera.publisher.get_subscription_count() == 1)
        before = cpu_seconds(pid)
        camera.frames(60)
        busy = cpu_seconds(pid) - before
        assert wait_for(lambda: len(faces) >= 10, 30)
        assert reports('active')
        assert idle < 0.2 * busy, (idle, busy)

        transition(node, 'deactivate', 'inactive [2]')
        last_before = camera.sent
        assert wait_for(lambda: camera.publisher.get_subscription_count() == 0)
        camera.frames(30)
        assert max(faces) <= last_before, 'no frame sent after deactivate is processed'
        transition(node, 'cleanup', 'unconfigured [1]')
        assert reports('unconfigured')
    finally:
        os.killpg(launch.pid, signal.SIGINT)
        launch.wait(30)


def test_configure_fails_with_the_reason(graph):
    node = graph.add(VisionNode(context=graph.context, namespace='lc_bad', parameter_overrides=[
        Parameter('expression.model', value='/nowhere/model.onnx')]), activate=False)
    assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
    assert node.state == 'unconfigured' and 'model.onnx' in node.failure
    reports = []
    probe = graph.node('lc_bad_probe')
    probe.create_subscription(DiagnosticArray, '/diagnostics', lambda m: reports.extend(
        s for s in m.status if s.name.startswith('/lc_bad/vision_node')), 10)
    assert wait_for(lambda: any(s.level == DiagnosticStatus.ERROR and 'model.onnx' in s.message
                                for s in reports), 30)


def test_audio_and_fusion_stop_and_resume(graph):
    audio = graph.add(AudioNode(context=graph.context, namespace='lc2'))
    fusion = graph.add(FusionNode(context=graph.context, namespace='lc2', parameter_overrides=[
        Parameter('rate', value=20.0)]))
    fused = []
    graph.node('lc2_probe').create_subscription(FusedEmotion, '/lc2/emotion',
                                                lambda m: fused.append(m), 100)
    assert wait_for(lambda: len(fused) >= 5)
    for node in (audio, fusion):
        assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
        assert node.state == 'inactive'
        # Nothing to wake it: no subscription, no timer but the diagnostics', no publishing.
        assert not any(node.subscriptions) and len(list(node.timers)) == 1
        assert not any(p.is_activated for p in node.outputs)
    count = len(fused)
    for node in (audio, fusion):
        assert node.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
    assert audio.pipeline is None and fusion.stream is None, 'cleanup frees the models'
    for node in (audio, fusion):
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert wait_for(lambda: len(fused) >= count + 5)
    assert np.isfinite(fused[-1].emotion.confidence)
