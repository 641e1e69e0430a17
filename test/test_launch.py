"""The launch files start the nodes as documented.

Runs against the real launch/launch_ros on a ROS machine, test doubles elsewhere.
"""
import importlib.util
from importlib.metadata import entry_points
from pathlib import Path

from launch import LaunchContext
from launch.actions import IncludeLaunchDescription
from launch.utilities import perform_substitutions
from launch_ros.actions import Node

LAUNCH = Path(__file__).parent.parent / 'launch'


def load(name):
    spec = importlib.util.spec_from_file_location(name.split('.')[0], LAUNCH / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_launch_description()


def test_vision_launch_arguments_and_node():
    description = load('vision.launch.py')
    arguments = {a.name: a for a in description.get_launch_arguments()}
    assert set(arguments) == {'namespace', 'image', 'image_transport', 'config', 'use_sim_time'}
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
    nodes = {n.node_executable: n for n in description.entities if isinstance(n, Node)}
    assert set(nodes) == {'audio_node', 'capture_node'}
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
    # Its own and those of the included vision and audio launch files.
    assert {'namespace', 'image', 'image_transport', 'audio', 'audio_info', 'capture', 'device',
            'config_dir', 'use_sim_time'} <= set(arguments)
    context = LaunchContext()
    for name, argument in arguments.items():
        context.launch_configurations.setdefault(name, perform_substitutions(
            context, argument.default_value))
    # The files themselves are checked in the built wheels (test_packaging).
    assert context.launch_configurations['config_dir'].endswith('av_emotion/config')
    includes = {Path(e.launch_description_source.location).name: e
                for e in description.entities if isinstance(e, IncludeLaunchDescription)}
    assert set(includes) == {'vision.launch.py', 'audio.launch.py'}
    passed = {perform_substitutions(context, k): perform_substitutions(context, v)
              for k, v in includes['audio.launch.py'].launch_arguments}
    assert passed['config'].endswith('av_emotion/config/audio.yaml')
    assert passed['capture_config'].endswith('av_emotion/config/capture.yaml')
    node, = [e for e in description.entities if isinstance(e, Node)]
    scripts = {e.name: e.value for e in entry_points(group='console_scripts')}
    assert (node.node_package, scripts[node.node_executable]) == (
        'av_emotion_fusion', 'av_emotion_fusion.node:main')
