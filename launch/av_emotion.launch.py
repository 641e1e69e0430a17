"""The whole av_emotion graph of one robot: vision, audio (+ capture), fusion.

    ros2 launch av_emotion_bringup av_emotion.launch.py namespace:=robot1 \
        image:=/camera/image_raw audio:=/audio_stamped
    ros2 launch av_emotion_bringup av_emotion.launch.py capture:=true device:=USB
    ros2 launch av_emotion_bringup av_emotion.launch.py one_process:=true  # a small device
    ros2 launch av_emotion_bringup av_emotion.launch.py namespace:=robot1 mode:=edge
    ros2 launch av_emotion_bringup av_emotion.launch.py use_sim_time:=true  # with:
    ros2 bag play IN_BAG --clock

Includes vision.launch.py, audio.launch.py and fusion.launch.py (their arguments apply
here too: image, image_transport, faces, audio, audio_info, voice, capture, device). Outputs,
inside the namespace: faces, voice, emotion (av_emotion_msgs/FusedEmotion), /diagnostics.
With one_process:=true the same nodes run in one process (device_node), for less memory.
With mode:=edge (a device too weak to classify, or whose pixels and sound must stay on it)
vision and audio publish only face_crops and voice_windows; a central_node elsewhere
(central.launch.py) publishes faces and voice back into the namespace. Fusion stays on the
device: it is cheap, the robot keeps its own emotion topic, and only results cross back.
With room:=true, room.launch.py as well: the room view of every robot on /room/emotion
(start it on one device of the domain). With cues:=true, cues.launch.py as well: a colour on
cue/color and a sound at each confirmed change of the emotion (cues.yaml). With
monitor:=true, monitor.launch.py as well: alert rules and the mood log (monitor_db). With
web:=true, web.launch.py as well: the live web view (web_host, web_port, web_token).
"""
from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.conditions import IfCondition
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution, PythonExpression
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

# The modality launch files are installed next to this one.
HERE = Path(__file__).parent


def generate_launch_description():
    arg = LaunchConfiguration

    def config(name):
        return PathJoinSubstitution([arg('config_dir'), f'{name}.yaml'])

    def include(name, condition=None, **configs):
        return IncludeLaunchDescription(
            PythonLaunchDescriptionSource(str(HERE / f'{name}.launch.py')),
            launch_arguments={k: config(v) for k, v in configs.items()}.items(),
            condition=condition)

    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of this robot (one robot, one namespace)'),
        DeclareLaunchArgument('config_dir', default_value=PathJoinSubstitution(
            [FindPackageShare('av_emotion'), 'config']),
            description='Folder of vision.yaml, audio.yaml, capture.yaml, fusion.yaml and '
            'room.yaml'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (ros2 bag play --clock)'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='Configure and activate the nodes at start (false: '
                              'they wait unconfigured for ros2 lifecycle set)'),
        DeclareLaunchArgument('one_process', default_value='false',
                              description='All nodes in one process (device_node), for a small '
                              "device's memory"),
        DeclareLaunchArgument('room', default_value='false',
                              description='Start the room view too (room.launch.py): one per '
                              'DDS domain'),
        DeclareLaunchArgument('cues', default_value='false',
                              description='Start the feedback cues too (cues.launch.py): colour '
                              'and sound at each confirmed change of the emotion'),
        DeclareLaunchArgument('monitor', default_value='false',
                              description='Start the monitor too (monitor.launch.py): alerts '
                              'and the mood log in monitor_db'),
        include('vision', config='vision'),
        include('room', IfCondition(arg('room')), config='room'),
        include('cues', IfCondition(arg('cues')), config='cues'),
        include('monitor', IfCondition(arg('monitor')), config='monitor'),
        DeclareLaunchArgument('web', default_value='false',
                              description='Start the live web view too (web.launch.py)'),
        DeclareLaunchArgument('web_host', default_value='',
                              description="Its address ('': web.yaml's; 0.0.0.0 for a phone on "
                              'the LAN, with web_token)'),
        DeclareLaunchArgument('web_port', default_value='',
                              description="Its TCP port ('': web.yaml's)"),
        DeclareLaunchArgument('web_token', default_value='',
                              description="Its access token ('': web.yaml's); required "
                              'beyond 127.0.0.1'),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(str(HERE / 'web.launch.py')),
            condition=IfCondition(arg('web')), launch_arguments={
                'config': config('web'), 'host': arg('web_host'), 'port': arg('web_port'),
                'token': arg('web_token')}.items()),
        include('audio', config='audio', capture_config='capture'),
        include('fusion', config='fusion'),
        # one_process:=true: the included files start no node; this process runs them all,
        # each with its file of config_dir, and the arguments the included files declare.
        Node(package='av_emotion_bringup', executable='device_node', namespace=arg('namespace'),
             output='screen', condition=IfCondition(arg('one_process')),
             arguments=['--config-dir', arg('config_dir'), '--nodes', PythonExpression([
                 "'capture,' * ('", arg('capture'), "'.lower() == 'true') + 'vision,audio,fusion'"
             ])],
             # These reach every node of the process: each takes the parameters it declares,
             # and the remapped names are each one node's.
             parameters=[{
                 'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool),
                 'autostart': ParameterValue(arg('autostart'), value_type=bool),
                 'image_transport': ParameterValue(arg('image_transport'), value_type=str),
                 'mode': ParameterValue(arg('mode'), value_type=str),
                 'device': ParameterValue(arg('device'), value_type=str)}],
             remappings=[('image', arg('image')),
                         ('image/compressed', [arg('image'), '/compressed']),
                         ('faces', arg('faces')), ('audio_stamped', arg('audio')),
                         ('audio_info', arg('audio_info')), ('voice', arg('voice'))]),
    ])
