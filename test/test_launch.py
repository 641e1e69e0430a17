"""The launch files start the nodes as documented.

The descriptions are read with the real launch/launch_ros; then the whole graph is started
with `ros2 launch` in a subprocess, as a user would, and what comes out is checked.
"""
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from importlib.metadata import entry_points
from pathlib import Path

import cv2
import numpy as np
import soundfile as sf
from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo
from diagnostic_msgs.msg import DiagnosticArray
from launch import LaunchContext
from launch.actions import GroupAction, IncludeLaunchDescription
from launch.utilities import normalize_to_list_of_substitutions, perform_substitutions
from launch_ros.actions import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage

from av_emotion.config import config_path
from av_emotion.ros import to_time
from av_emotion_bringup.graph import wait_for
from av_emotion_msgs.msg import FusedEmotion

LAUNCH = Path(__file__).parent.parent / 'launch'
ROS2 = str(Path(sys.executable).parent / 'ros2')


def unsourced():
    """This environment without AMENT_PREFIX_PATH: as a user's shell that sourced nothing."""
    return {k: v for k, v in os.environ.items() if k != 'AMENT_PREFIX_PATH'}


def load(name):
    spec = importlib.util.spec_from_file_location(name.split('.')[0], LAUNCH / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_launch_description()


def test_vision_launch_arguments_and_node():
    description = load('vision.launch.py')
    arguments = {a.name: a for a in description.get_launch_arguments()}
    assert set(arguments) == {'namespace', 'image', 'image_transport', 'faces', 'mode',
                              'config', 'use_sim_time', 'autostart'}
    context = LaunchContext()
    for name, argument in arguments.items():
        context.launch_configurations[name] = perform_substitutions(
            context, argument.default_value)
    assert context.launch_configurations['config'].endswith('av_emotion/config/vision.yaml')
    assert context.launch_configurations['image'] == '/camera/image_raw'

    node, = [e for e in description.entities if isinstance(e, Node)]
    assert (node.node_package, node.node_executable) == ('av_emotion_vision', 'vision_node')
    scripts = {e.name: e.value for e in entry_points(group='console_scripts')}
    assert scripts['vision_node'] == 'av_emotion_vision.node:main'


def test_audio_launch_capture_is_optional():
    description = load('audio.launch.py')
    arguments = {a.name: a for a in description.get_launch_arguments()}
    assert {'namespace', 'audio', 'audio_info', 'capture', 'device', 'config',
            'use_sim_time'} <= set(arguments)
    context = LaunchContext()
    for name, argument in arguments.items():
        context.launch_configurations[name] = perform_substitutions(
            context, argument.default_value)
    group, = [e for e in description.entities if isinstance(e, GroupAction)]
    nodes = {n.node_executable: n for n in group.get_sub_entities() if isinstance(n, Node)}
    assert set(nodes) == {'audio_node', 'capture_node'}
    assert group.condition.evaluate(context)  # not one_process (see test_whole_graph_launch)
    assert nodes['audio_node'].condition is None
    assert not nodes['capture_node'].condition.evaluate(context)
    context.launch_configurations['capture'] = 'true'
    assert nodes['capture_node'].condition.evaluate(context)
    scripts = {e.name: e.value for e in entry_points(group='console_scripts')}
    assert scripts['audio_node'] == 'av_emotion_audio.node:main'
    assert scripts['capture_node'] == 'av_emotion_audio.capture:main'


def test_whole_graph_launch():
    description = load('av_emotion.launch.py')
    arguments = {a.name: a for a in description.get_launch_arguments()}
    # Its own and those of the included vision, audio and fusion launch files.
    assert {'namespace', 'image', 'image_transport', 'faces', 'audio', 'audio_info', 'voice',
            'capture', 'device', 'config_dir', 'use_sim_time', 'one_process'} <= set(arguments)
    context = LaunchContext()
    for name, argument in arguments.items():
        context.launch_configurations.setdefault(name, perform_substitutions(
            context, argument.default_value))
    # The files themselves are checked in the built wheels (test_packaging).
    assert context.launch_configurations['config_dir'].endswith('av_emotion/config')
    includes = {}
    for entity in description.entities:
        if isinstance(entity, IncludeLaunchDescription):
            entity.launch_description_source.get_launch_description(context)  # expands it
            includes[Path(entity.launch_description_source.location).name] = entity
    assert set(includes) == {'vision.launch.py', 'audio.launch.py', 'fusion.launch.py',
                             'room.launch.py', 'cues.launch.py', 'monitor.launch.py',
                             'web.launch.py'}  # cues: test_cues.py; monitor: test_monitor.py;
    # web: test_web.py
    # The room view only with room:=true.
    assert not includes['room.launch.py'].condition.evaluate(context)
    context.launch_configurations['room'] = 'true'
    assert includes['room.launch.py'].condition.evaluate(context)
    passed = {perform_substitutions(context, normalize_to_list_of_substitutions(k)):
              perform_substitutions(context, normalize_to_list_of_substitutions(v))
              for k, v in includes['audio.launch.py'].launch_arguments}
    assert passed['config'].endswith('av_emotion/config/audio.yaml')
    assert passed['capture_config'].endswith('av_emotion/config/capture.yaml')
    fusion, = [e for e in includes['fusion.launch.py'].launch_description_source
               .get_launch_description(context).entities if isinstance(e, Node)]
    scripts = {e.name: e.value for e in entry_points(group='console_scripts')}
    assert (fusion.node_package, scripts[fusion.node_executable]) == (
        'av_emotion_fusion', 'av_emotion_fusion.node:main')
    # one_process:=true: device_node instead of the included files' nodes.
    device, = [e for e in description.entities if isinstance(e, Node)]
    assert scripts[device.node_executable] == 'av_emotion_bringup.device:main'
    assert fusion.condition.evaluate(context) and not device.condition.evaluate(context)
    context.launch_configurations['one_process'] = 'true'
    assert device.condition.evaluate(context) and not fusion.condition.evaluate(context)


def test_ros2_launch_runs_two_robots_side_by_side(graph, tmp_path):
    """`ros2 launch` from this environment, nothing sourced: robot1 and robot2 each get
    their three nodes in their namespace, /<robot>/emotion flows at its rate, a parameter
    file in config_dir takes effect (robot2's fusion rate), and robot1's output stays apart."""
    config_dir = tmp_path / 'config'
    shutil.copytree(config_path('fusion').parent, config_dir)
    fusion = (config_dir / 'fusion.yaml').read_text()
    (config_dir / 'fusion.yaml').write_text(fusion.replace('rate: 15.0', 'rate: 5.0'))
    launches = [subprocess.Popen(
        [ROS2, 'launch', 'av_emotion_bringup', 'av_emotion.launch.py', f'namespace:={robot}',
         f'image:=/{robot}/camera', f'audio:=/{robot}/audio_stamped', *extra],
        env=unsourced(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
        for robot, extra in (('robot1', []), ('robot2', [f'config_dir:={config_dir}']))]
    try:
        probe = graph.node('launch_probe')
        stamps = {'robot1': [], 'robot2': []}
        for robot in stamps:
            probe.create_subscription(FusedEmotion, f'/{robot}/emotion',
                                      lambda m, r=robot: stamps[r].append(time.monotonic()), 10)
        expected = {f'/{r}/{n}' for r in stamps for n in ('vision_node', 'audio_node',
                                                          'fusion_node')}
        assert wait_for(lambda: expected <= {f'{ns.rstrip("/")}/{n}' for n, ns in
                                             probe.get_node_names_and_namespaces()}, 60)
        assert wait_for(lambda: all(len(s) >= 30 for s in stamps.values()), 60)
        rates = {r: (len(s) - 1) / (s[-1] - s[0]) for r, s in stamps.items()}
        assert rates['robot2'] < 7 and rates['robot1'] > 1.5 * rates['robot2'], rates
    finally:
        for launch in launches:
            os.killpg(launch.pid, signal.SIGINT)
        for launch in launches:
            try:
                launch.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(launch.pid, signal.SIGKILL)
                launch.wait()


def test_one_process_runs_the_graph_and_stops_cleanly(graph, data, tmp_path):
    """one_process:=true: vision, audio and fusion come up with their names in one process
    (device_node), fuse a face and a voice sent in, and Ctrl-C ends it with exit 0."""
    # Evidence fresh for 10 s: the test asks whether both are fused, not how fast.
    config_dir = tmp_path / 'config'
    shutil.copytree(config_path('fusion').parent, config_dir)
    fusion = (config_dir / 'fusion.yaml').read_text()
    (config_dir / 'fusion.yaml').write_text(fusion.replace('max_age: 0.8', 'max_age: 10.0'))
    launch = subprocess.Popen(
        [ROS2, 'launch', 'av_emotion_bringup', 'av_emotion.launch.py', 'namespace:=single',
         'one_process:=true', f'config_dir:={config_dir}', 'image:=/single/camera',
         'image_transport:=compressed', 'audio:=/single/audio_stamped',
         'audio_info:=/single/audio_info'],
        env=unsourced(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(launch.stdout), daemon=True)
    reader.start()
    try:
        probe = graph.node('one_process_probe')
        camera = probe.create_publisher(CompressedImage, '/single/camera/compressed',
                                        qos_profile_sensor_data)
        audio = probe.create_publisher(AudioDataStamped, '/single/audio_stamped', 100)
        info = probe.create_publisher(AudioInfo, '/single/audio_info', 10)
        fused, streams = [], set()
        probe.create_subscription(FusedEmotion, '/single/emotion', fused.append, 100)
        probe.create_subscription(DiagnosticArray, '/diagnostics', lambda m: streams.update(
            v.value for s in m.status if s.name.startswith('/single/audio_node')
            for v in s.values if v.key == 'stream'), 10)
        expected = {f'/single/{n}' for n in ('vision_node', 'audio_node', 'fusion_node')}
        assert wait_for(lambda: expected <= {f'{ns.rstrip("/")}/{n}' for n, ns in
                                             probe.get_node_names_and_namespaces()}, 60)
        processes = subprocess.run(['pgrep', '-s', str(launch.pid)], capture_output=True,
                                   text=True).stdout.split()
        device, = [p for p in processes if int(p) != launch.pid]
        assert 'device_node' in Path(f'/proc/{device}/cmdline').read_text()

        assert wait_for(lambda: info.get_subscription_count() and audio.get_subscription_count()
                        and camera.get_subscription_count(), 60)
        info.publish(AudioInfo(channels=1, sample_rate=16000, sample_format='S16LE',
                               coding_format='wave'))
        assert wait_for(lambda: '1 ch, 16000 Hz, S16LE, wave' in streams, 30)
        speech, rate = sf.read(str(next((data / 'speech' / 'ravdess' / 'happy').glob(
            '*.flac'))), dtype='int16')
        now = probe.get_clock().now().nanoseconds * 1e-9
        for i in range(0, len(speech), rate // 10):  # recorded until now, in 0.1 s chunks
            msg = AudioDataStamped(audio=AudioData(data=speech[i:i + rate // 10].tobytes()))
            msg.header.stamp = to_time(now - (len(speech) - i) / rate)
            audio.publish(msg)
        photo = cv2.imread(str(data / 'faces' / 'photos' / 'single_face.jpg'))
        jpeg = np.frombuffer(cv2.imencode('.jpg', cv2.resize(photo, (320, 240)))[1], np.uint8)

        def both():  # frames go on (best effort, as a camera's) until a face and voice fuse
            msg = CompressedImage(format='jpeg', data=jpeg.tobytes())
            msg.header.stamp = probe.get_clock().now().to_msg()
            camera.publish(msg)
            return wait_for(lambda: any(set(m.modalities) == {'vision', 'audio'}
                                        for m in fused), 0.2)
        assert wait_for(both, 60)
    finally:
        os.killpg(launch.pid, signal.SIGINT)
        launch.wait(60)
        reader.join(10)
    output = ''.join(lines)
    assert launch.returncode == 0 and 'process has finished cleanly' in output, output
    assert 'Traceback' not in output, output


def test_stopping_the_service_leaves_no_node_behind():
    """As systemd stops the unit (src/av_emotion_bringup/systemd/av_emotion.service):
    SIGTERM to every process of the launch; all its nodes end."""
    launch = subprocess.Popen(
        [ROS2, 'launch', 'av_emotion_bringup', 'av_emotion.launch.py', 'namespace:=service'],
        env=unsourced(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    started = 0
    for line in launch.stdout:
        started += 'listening on' in line or 'fusing' in line
        if started == 3:
            break
    nodes = subprocess.run(['pgrep', '-s', str(launch.pid)], capture_output=True, text=True)
    pids = [int(p) for p in nodes.stdout.split() if int(p) != launch.pid]
    assert len(pids) >= 3
    os.killpg(launch.pid, signal.SIGTERM)
    launch.communicate(timeout=60)
    try:
        assert wait_for(lambda: all(state(p) in (None, 'Z') for p in pids), 30), \
            {p: state(p) for p in pids}
    finally:
        for p in pids:
            if state(p) not in (None, 'Z'):
                os.kill(p, signal.SIGKILL)


def state(pid):
    """The process's state letter, None once it is gone. A node that ends after the launch
    process is reparented, and where nothing reaps it (CI's init) it stays a zombie, 'Z':
    ended, yet still in /proc."""
    try:
        stat = Path(f'/proc/{pid}/stat').read_text()
    except FileNotFoundError:
        return None
    return stat.rpartition(')')[2].split()[0]
