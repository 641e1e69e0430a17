"""Fusion node: faces and voice in (from this machine or others), emotion out.

    ros2 launch av_emotion_bringup fusion.launch.py namespace:=robot1
    ros2 launch av_emotion_bringup fusion.launch.py faces:=/door_camera/faces voice:=/desk_mic/voice
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import UnlessCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    arg = LaunchConfiguration
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of this robot (one robot, one namespace)'),
        DeclareLaunchArgument('faces', default_value='faces',
                              description='av_emotion_msgs/FaceArray topic (relative: in the '
                              'namespace)'),
        DeclareLaunchArgument('voice', default_value='voice',
                              description='av_emotion_msgs/Voice topic (relative: in the '
                              'namespace)'),
        DeclareLaunchArgument('config', default_value=PathJoinSubstitution(
            [FindPackageShare('av_emotion'), 'config', 'fusion.yaml']),
            description='Parameter file of the fusion node'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (rosbag play --clock)'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='Configure and activate the nodes at start (false: '
                              'they wait unconfigured for ros2 lifecycle set)'),
        LifecycleNode(
            package='av_emotion_fusion', executable='fusion_node', name='fusion_node',
            namespace=arg('namespace'), output='screen', parameters=[arg('config'), {
                'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool),
                'autostart': ParameterValue(arg('autostart'), value_type=bool)}],
            remappings=[('faces', arg('faces')), ('voice', arg('voice'))],
            # av_emotion.launch.py one_process:=true runs it in its device_node instead.
            condition=UnlessCondition(arg('one_process', default='false'))),
    ])
