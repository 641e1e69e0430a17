"""The live web view of one robot: its people's fused emotion, camera, timelines and alerts
on a page for a phone or the robot's screen (and the room's other robots, when a room view
runs).

    ros2 launch av_emotion_bringup web.launch.py namespace:=robot1   # http://127.0.0.1:8080/
    ros2 launch av_emotion_bringup web.launch.py host:=0.0.0.0 token:=$(openssl rand -hex 16)

host, port and token override the config file's only when given ('': the file's), so that
a token kept in a private copy of web.yaml (config) is not replaced by an empty one.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from av_emotion.config import defaults

# Launch argument -> parameter type, passed on only when the argument is not ''.
OVERRIDES = {'host': str, 'port': int, 'token': str}


def web_node(context):
    arg = LaunchConfiguration
    given = {name: ParameterValue(arg(name), value_type=kind)
             for name, kind in OVERRIDES.items() if arg(name).perform(context)}
    return [LifecycleNode(
        package='av_emotion_feedback', executable='web_node', name='web_node',
        namespace=arg('namespace'), output='screen', parameters=[arg('config'), {
            'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool),
            'autostart': ParameterValue(arg('autostart'), value_type=bool), **given}])]


def generate_launch_description():
    default = defaults('web')
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of this robot (one robot, one namespace)'),
        DeclareLaunchArgument('host', default_value='',
                              description="Address to listen on ('': the config's, "
                              f"{default['host']}; 0.0.0.0 for a phone on the LAN, with a token)"),
        DeclareLaunchArgument('port', default_value='',
                              description=f"TCP port ('': the config's, {default['port']})"),
        DeclareLaunchArgument('token', default_value='',
                              description="Access token, 16 characters or more ('': the "
                              "config's); required beyond 127.0.0.1"),
        DeclareLaunchArgument('config', default_value=PathJoinSubstitution(
            [FindPackageShare('av_emotion'), 'config', 'web.yaml']),
            description='Parameter file of the web node'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (ros2 bag play --clock)'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='Configure and activate the node at start (false: '
                              'it waits unconfigured for ros2 lifecycle set)'),
        OpaqueFunction(function=web_node),
    ])
