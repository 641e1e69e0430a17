"""The central recogniser for edge devices (av_emotion.launch.py mode:=edge on each device).

    ros2 launch av_emotion_bringup central.launch.py   # every edge device of the domain
    ros2 launch av_emotion_bringup central.launch.py config:=my_central.yaml

It classifies each device's face_crops and voice_windows and publishes faces and voice into
that device's namespace (config/central.yaml: which devices, the models).
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
        DeclareLaunchArgument('config', default_value=PathJoinSubstitution(
            [FindPackageShare('av_emotion'), 'config', 'central.yaml']),
            description='Parameter file of the central node'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (rosbag play --clock)'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='Configure and activate the node at start (false: '
                              'it waits unconfigured for ros2 lifecycle set)'),
        LifecycleNode(
            package='av_emotion_network', executable='central_node', name='central_node',
            namespace='', output='screen', parameters=[arg('config'), {
                'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool),
                'autostart': ParameterValue(arg('autostart'), value_type=bool)}]),
    ])
