"""Audio node on an audio_common stream, or on our own microphone capture.

    ros2 launch av_emotion_bringup audio.launch.py audio:=/audio_stamped
    ros2 launch av_emotion_bringup audio.launch.py capture:=true device:=USB
    ros2 launch av_emotion_bringup audio.launch.py mode:=edge  # voice_windows for central_node
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode, Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    arg = LaunchConfiguration
    sim_time = {'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool)}
    config = FindPackageShare('av_emotion')
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of this robot (one robot, one namespace)'),
        DeclareLaunchArgument('audio', default_value='/audio_stamped',
                              description='audio_common_msgs/AudioDataStamped topic'),
        DeclareLaunchArgument('audio_info', default_value='/audio_info',
                              description='audio_common_msgs/AudioInfo topic'),
        DeclareLaunchArgument('voice', default_value='voice',
                              description='Output av_emotion_msgs/Voice topic (relative: in '
                              'the namespace)'),
        DeclareLaunchArgument('mode', default_value='full',
                              description='full (voice) or edge (only voice_windows, for a '
                              'central recogniser: central.launch.py)'),
        DeclareLaunchArgument('capture', default_value='false',
                              description='Start our microphone capture node'),
        DeclareLaunchArgument('device', default_value='',
                              description='Capture device: index or part of its name'),
        DeclareLaunchArgument('config', default_value=PathJoinSubstitution(
            [config, 'config', 'audio.yaml']), description='Parameter file of the audio node'),
        DeclareLaunchArgument('capture_config', default_value=PathJoinSubstitution(
            [config, 'config', 'capture.yaml']), description='Parameter file of capture_node'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (rosbag play --clock)'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='Configure and activate the nodes at start (false: '
                              'they wait unconfigured for ros2 lifecycle set)'),
        # av_emotion.launch.py one_process:=true runs these in its device_node instead.
        GroupAction(condition=UnlessCondition(arg('one_process', default='false')), actions=[
            Node(package='av_emotion_audio', executable='capture_node', name='capture_node',
                 namespace=arg('namespace'), output='screen', condition=IfCondition(arg('capture')),
                 parameters=[arg('capture_config'), sim_time,
                             {'device': ParameterValue(arg('device'), value_type=str)}],
                 remappings=[('audio_stamped', arg('audio')), ('audio_info', arg('audio_info'))]),
            LifecycleNode(
                package='av_emotion_audio', executable='audio_node', name='audio_node',
                namespace=arg('namespace'), output='screen', parameters=[arg('config'), sim_time, {
                    'autostart': ParameterValue(arg('autostart'), value_type=bool),
                    'mode': ParameterValue(arg('mode'), value_type=str)}],
                remappings=[('audio_stamped', arg('audio')), ('audio_info', arg('audio_info')),
                            ('voice', arg('voice'))]),
        ]),
    ])
