"""The monitor: alert rules on the fused emotion of each person, and the mood log.

    ros2 launch av_emotion_bringup monitor.launch.py namespace:=robot1
    ros2 launch av_emotion_bringup monitor.launch.py source:=room monitor_db:=/data/mood.sqlite

source:=emotion (default) watches <namespace>/emotion, one robot; source:=room the room view
/room/emotion (room.launch.py), every robot of the domain, logged by device. Alerts on
<namespace>/alerts (av_emotion_msgs/Alert); the mood log in monitor_db ('' for none).
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from av_emotion.config import defaults


def generate_launch_description():
    arg = LaunchConfiguration
    default = defaults('monitor')
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of this robot (one robot, one namespace)'),
        DeclareLaunchArgument('source', default_value=default['source'],
                              description='emotion (<namespace>/emotion) or room '
                              '(/room/emotion: every robot)'),
        DeclareLaunchArgument('monitor_db', default_value=default['monitor_db'],
                              description="The mood log (SQLite file; '' for none)"),
        DeclareLaunchArgument('config', default_value=PathJoinSubstitution(
            [FindPackageShare('av_emotion'), 'config', 'monitor.yaml']),
            description='Parameter file of the monitor node (its rules: parameter rules)'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (ros2 bag play --clock)'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='Configure and activate the node at start (false: '
                              'it waits unconfigured for ros2 lifecycle set)'),
        LifecycleNode(
            package='av_emotion_monitor', executable='monitor_node', name='monitor_node',
            namespace=arg('namespace'), output='screen', parameters=[arg('config'), {
                'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool),
                'autostart': ParameterValue(arg('autostart'), value_type=bool),
                'source': ParameterValue(arg('source'), value_type=str),
                'monitor_db': ParameterValue(arg('monitor_db'), value_type=str)}]),
    ])
