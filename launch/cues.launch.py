"""Feedback cues of one robot: a colour on cue/color (std_msgs/ColorRGBA, for an LED ring)
and a short sound (the speaker, or audio_common messages on cue/audio) each time its fused
emotion changes for good.

    ros2 launch av_emotion_bringup cues.launch.py namespace:=robot1
    ros2 launch av_emotion_bringup cues.launch.py config:=my_cues.yaml
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    arg = LaunchConfiguration
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the robot whose emotion is cued'),
        DeclareLaunchArgument('config', default_value=PathJoinSubstitution(
            [FindPackageShare('av_emotion'), 'config', 'cues.yaml']),
            description='Parameter file of the cue node'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (rosbag play --clock)'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='Configure and activate the node at start (false: '
                              'it waits unconfigured for ros2 lifecycle set)'),
        LifecycleNode(
            package='av_emotion_feedback', executable='cue_node', name='cue_node',
            namespace=arg('namespace'), output='screen', parameters=[arg('config'), {
                'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool),
                'autostart': ParameterValue(arg('autostart'), value_type=bool)}]),
    ])
