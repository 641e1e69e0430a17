"""The whole av_emotion graph of one robot: vision, audio (+ capture), fusion.

    ros2 launch av_emotion_bringup av_emotion.launch.py namespace:=robot1 \
        image:=/camera/image_raw audio:=/audio_stamped
    ros2 launch av_emotion_bringup av_emotion.launch.py capture:=true device:=USB
    ros2 launch av_emotion_bringup av_emotion.launch.py use_sim_time:=true  # with:
    ros2 bag play IN_BAG --clock

Includes vision.launch.py and audio.launch.py (their arguments apply here too: image,
image_transport, audio, audio_info, capture, device) and adds the fusion node. Outputs,
inside the namespace: faces, voice, emotion (av_emotion_msgs/FusedEmotion), /diagnostics.
"""
from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

# The modality launch files are installed next to this one.
HERE = Path(__file__).parent


def generate_launch_description():
    arg = LaunchConfiguration

    def config(name):
        return PathJoinSubstitution([arg('config_dir'), f'{name}.yaml'])

    def include(name, **configs):
        return IncludeLaunchDescription(
            PythonLaunchDescriptionSource(str(HERE / f'{name}.launch.py')),
            launch_arguments={k: config(v) for k, v in configs.items()}.items())

    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of this robot (one robot, one namespace)'),
        DeclareLaunchArgument('config_dir', default_value=PathJoinSubstitution(
            [FindPackageShare('av_emotion'), 'config']),
            description='Folder of vision.yaml, audio.yaml, capture.yaml and fusion.yaml'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (ros2 bag play --clock)'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='Configure and activate the nodes at start (false: '
                              'they wait unconfigured for ros2 lifecycle set)'),
        include('vision', config='vision'),
        include('audio', config='audio', capture_config='capture'),
        LifecycleNode(
            package='av_emotion_fusion', executable='fusion_node', name='fusion_node',
            namespace=arg('namespace'), output='screen', parameters=[config('fusion'), {
                'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool),
                'autostart': ParameterValue(arg('autostart'), value_type=bool)}]),
    ])
