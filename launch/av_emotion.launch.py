"""The whole av_emotion graph of one robot: vision, audio (+ capture), fusion.

    ros2 launch av_emotion_bringup av_emotion.launch.py namespace:=robot1 \
        image:=/camera/image_raw audio:=/audio_stamped
    ros2 launch av_emotion_bringup av_emotion.launch.py capture:=true device:=USB
    ros2 launch av_emotion_bringup av_emotion.launch.py use_sim_time:=true  # with:
    ros2 bag play IN_BAG --clock

Outputs, inside the namespace: faces, voice, emotion (av_emotion_msgs/FusedEmotion) and
/diagnostics. config_dir holds vision.yaml, audio.yaml, capture.yaml and fusion.yaml.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    arg = LaunchConfiguration
    sim_time = {'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool)}
    audio_topics = [('audio_stamped', arg('audio')), ('audio_info', arg('audio_info'))]

    def config(name):
        return PathJoinSubstitution([arg('config_dir'), f'{name}.yaml'])

    def node(package, executable, parameters, remappings=(), condition=None):
        return Node(package=package, executable=executable, name=executable,
                    namespace=arg('namespace'), output='screen', condition=condition,
                    parameters=[*parameters, sim_time], remappings=list(remappings))

    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of this robot (one robot, one namespace)'),
        DeclareLaunchArgument('image', default_value='/camera/image_raw',
                              description='Camera image topic'),
        DeclareLaunchArgument('image_transport', default_value='raw',
                              description='raw (Image) or compressed (<image>/compressed)'),
        DeclareLaunchArgument('audio', default_value='/audio_stamped',
                              description='audio_common_msgs/AudioDataStamped topic'),
        DeclareLaunchArgument('audio_info', default_value='/audio_info',
                              description='audio_common_msgs/AudioInfo topic'),
        DeclareLaunchArgument('capture', default_value='false',
                              description='Start our microphone capture node'),
        DeclareLaunchArgument('device', default_value='',
                              description='Capture device: index or part of its name'),
        DeclareLaunchArgument('config_dir', default_value=PathJoinSubstitution(
            [FindPackageShare('av_emotion'), 'config']),
            description='Folder of the parameter files (vision.yaml, audio.yaml, ...)'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (ros2 bag play --clock)'),
        node('av_emotion_vision', 'vision_node',
             [config('vision'), {'image_transport': ParameterValue(arg('image_transport'),
                                                                   value_type=str)}],
             [('image', arg('image')), ('image/compressed', [arg('image'), '/compressed'])]),
        node('av_emotion_audio', 'capture_node',
             [config('capture'), {'device': ParameterValue(arg('device'), value_type=str)}],
             audio_topics, IfCondition(arg('capture'))),
        node('av_emotion_audio', 'audio_node', [config('audio')], audio_topics),
        node('av_emotion_fusion', 'fusion_node', [config('fusion')]),
    ])
