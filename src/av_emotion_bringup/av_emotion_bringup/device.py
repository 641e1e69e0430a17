"""device_node: the nodes of one device in one process, for a small computer's memory.

    ros2 run av_emotion_bringup device_node [--nodes capture,vision,audio,fusion] \
        [--config-dir DIR] [--ros-args -r __ns:=/robot1 -r image:=/camera/image_raw ...]
    ros2 launch av_emotion_bringup av_emotion.launch.py one_process:=true

ROS 2 composition loads C++ components into a container process; these nodes are Python, so
this process is the honest equivalent: one interpreter and one copy of rclpy, numpy and ONNX
Runtime for all of them. Each node keeps its name, namespace and parameters: it reads its
own file of the config folder (<name>.yaml), then the process's ROS arguments (remappings,
-p, --params-file from a launch file), which thus win over it as they would over a node of
its own. One single-threaded executor spins them all: in Python, rclpy's multi-threaded
executor only adds threads contending for the interpreter lock (measured on 2 cores, camera
at 30 fps: fused p95 0.3-0.5 s and 9 of the 15 fused messages a second, against 49-54 ms and
all 15). Stops as each node does (Ctrl-C, SIGTERM: exit 0).
"""
import argparse
import importlib
import sys
from pathlib import Path

from rclpy.utilities import remove_ros_args

from av_emotion import dds
from av_emotion.config import config_path
from av_emotion.ros import run

# name (also of its file in the config folder) -> module and class. Imported only when
# started: a device without a microphone loads no PortAudio, one without a camera no vision.
NODES = {'capture': ('av_emotion_audio.capture', 'CaptureNode'),
         'vision': ('av_emotion_vision.node', 'VisionNode'),
         'audio': ('av_emotion_audio.node', 'AudioNode'),
         'fusion': ('av_emotion_fusion.node', 'FusionNode')}


def options(argv):
    parser = argparse.ArgumentParser(prog='device_node', description=__doc__.splitlines()[0])
    parser.add_argument('--nodes', default='vision,audio,fusion',
                        help=f"comma-separated, of {', '.join(NODES)} (default: %(default)s)")
    parser.add_argument('--config-dir', type=Path, default=Path(str(config_path('fusion'))).parent,
                        help="folder of the nodes' <name>.yaml (default: the package's)")
    args = parser.parse_args(argv)
    args.nodes = args.nodes.split(',')
    unknown = [name for name in args.nodes if name not in NODES]
    missing = [str(args.config_dir / f'{name}.yaml') for name in args.nodes
               if not (args.config_dir / f'{name}.yaml').is_file()]
    if unknown or missing:
        parser.exit(2, f'device_node: unknown nodes {unknown}; known: {list(NODES)}\n' if unknown
                    else f'device_node: no parameter file {missing[0]}\n')
    return args


def main(args=None):
    args = sys.argv if args is None else args
    chosen = options(remove_ros_args(args)[1:])
    nodes = []
    for name in chosen.nodes:
        module, cls = NODES[name]
        # Global ROS arguments would come before a node's own file, and lose to it: each
        # node gets its file first and the process's arguments after, as its own.
        nodes.append((getattr(importlib.import_module(module), cls), {
            'cli_args': ['--ros-args', '--params-file', str(chosen.config_dir / f'{name}.yaml'),
                         '--', *args[1:]],
            'use_global_arguments': False}))
    if 'vision' in chosen.nodes:
        # Before rclpy.init (in run), as vision_node's own main does: Fast DDS reads its
        # profile when the participant is made (av_emotion.dds: no lost camera frames).
        dds.use_camera_profile()
    run(nodes, args)
