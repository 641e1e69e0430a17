"""The room view: every av_emotion_msgs/FusedEmotion topic in the DDS domain, whichever
namespace, summed up on /room/emotion (av_emotion_msgs/RoomEmotion). One per domain.

    ros2 launch av_emotion_bringup room.launch.py
    ros2 launch av_emotion_bringup room.launch.py config:=my_room.yaml
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
                              description='Namespace of the node (/room/emotion stays absolute)'),
        DeclareLaunchArgument('config', default_value=PathJoinSubstitution(
            [FindPackageShare('av_emotion'), 'config', 'room.yaml']),
            description='Parameter file of the room node'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (rosbag play --clock)'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='Configure and activate the node at start (false: '
                              'it waits unconfigured for ros2 lifecycle set)'),
        LifecycleNode(
            package='av_emotion_network', executable='room_node', name='room_node',
            namespace=arg('namespace'), output='screen', parameters=[arg('config'), {
                'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool),
                'autostart': ParameterValue(arg('autostart'), value_type=bool)}]),
    ])
