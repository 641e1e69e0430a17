"""Vision node on one camera.

    ros2 launch av_emotion_bringup vision.launch.py image:=/camera/image_raw namespace:=robot1
    ros2 launch av_emotion_bringup vision.launch.py mode:=edge  # face crops for central_node
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
        DeclareLaunchArgument('image', default_value='/camera/image_raw',
                              description='Camera image topic'),
        DeclareLaunchArgument('image_transport', default_value='raw',
                              description='raw (Image) or compressed (<image>/compressed)'),
        DeclareLaunchArgument('faces', default_value='faces',
                              description='Output av_emotion_msgs/FaceArray topic (relative: '
                              'in the namespace)'),
        DeclareLaunchArgument('mode', default_value='full',
                              description='full (faces) or edge (only face_crops, for a '
                              'central recogniser: central.launch.py)'),
        DeclareLaunchArgument('config', default_value=PathJoinSubstitution(
            [FindPackageShare('av_emotion'), 'config', 'vision.yaml']),
            description='Parameter file of the vision node'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (rosbag play --clock)'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='Configure and activate the nodes at start (false: '
                              'they wait unconfigured for ros2 lifecycle set)'),
        LifecycleNode(
            package='av_emotion_vision', executable='vision_node', name='vision_node',
            namespace=arg('namespace'), output='screen',
            parameters=[arg('config'), {
                'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool),
                'autostart': ParameterValue(arg('autostart'), value_type=bool),
                'image_transport': ParameterValue(arg('image_transport'), value_type=str),
                'mode': ParameterValue(arg('mode'), value_type=str)}],
            remappings=[('image', arg('image')),
                        ('image/compressed', [arg('image'), '/compressed']),
                        ('faces', arg('faces'))],
            # av_emotion.launch.py one_process:=true runs it in its device_node instead.
            condition=UnlessCondition(arg('one_process', default='false'))),
    ])
