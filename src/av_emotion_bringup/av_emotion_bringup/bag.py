"""av-emotion-bag: turn a recording into a rosbag2 the nodes can be fed with.

    av-emotion-bag clip.mp4 --out my_bag
    av-emotion-bag speech.wav face.jpg --out my_bag      # a still image for the sound's length
    av-emotion-bag speech.wav frames/ --fps 30 --out my_bag

Writes sensor_msgs/Image (bgr8) on --image (or, with --jpeg, CompressedImage on
<image>/compressed: a tenth of the size), audio_common_msgs AudioDataStamped (S16LE chunks)
on --audio and AudioInfo on --audio-info, stamped from --start. Play it with
`av-emotion-replay`, or with `ros2 bag play --clock` next to the launched nodes.
"""
import argparse
import importlib
import sys
from pathlib import Path

import cv2
import numpy as np
from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo
from builtin_interfaces.msg import Time
from rclpy.serialization import serialize_message
from rosbags.rosbag2 import Reader, ReaderError, StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from sensor_msgs.msg import CompressedImage, Image

from av_emotion_bringup.recording import MediaError, read_recording, unreadable
from av_emotion_vision.image import bgr_fields

STORAGE = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}
# Message packages of ours and of audio_common that rosbags does not know by itself.
EXTRA_PACKAGES = ('av_emotion_msgs', 'audio_common_msgs')


def message_folder(package):
    """share/<package>/msg of an installed message package (ROS, colcon or .venv prefix)."""
    module = Path(importlib.import_module(package).__file__)
    # <prefix>/lib/pythonX.Y/site-packages/<package>/__init__.py
    return module.parents[4] / 'share' / package / 'msg'


def typestore():
    """rosbags type store with the standard messages and ours."""
    store = get_typestore(Stores.ROS2_JAZZY)
    types = {}
    for package in EXTRA_PACKAGES:
        for msg in sorted(message_folder(package).glob('*.msg')):
            types.update(get_types_from_msg(msg.read_text(), f'{package}/msg/{msg.stem}'))
    store.register(types)
    return store


def type_name(msg_type):
    """'pkg/msg/Type' of an rclpy message class."""
    return f"{msg_type.__module__.split('.')[0]}/msg/{msg_type.__name__}"


class BagWriter:
    """rosbags Writer of rclpy messages, one connection per topic."""

    def __init__(self, path, storage='mcap'):
        self.store = typestore()
        self.writer = Writer(path, version=8, storage_plugin=STORAGE[storage])
        self.connections = {}

    def __enter__(self):
        self.writer.open()
        return self

    def __exit__(self, *exc):
        self.writer.close()

    def write(self, topic, msg, nanoseconds, msgtype=None):
        """msg: an rclpy message, or CDR bytes with msgtype ('pkg/msg/Type')."""
        if topic not in self.connections:
            self.connections[topic] = self.writer.add_connection(
                topic, msgtype or type_name(type(msg)), typestore=self.store)
        data = msg if isinstance(msg, bytes) else serialize_message(msg)
        self.writer.write(self.connections[topic], nanoseconds, data)


def check_bag(path):
    """MediaError naming path unless rosbags opens it as a rosbag2."""
    try:
        with Reader(Path(path)):
            return
    except (ReaderError, FileNotFoundError):
        raise unreadable(path, 'a rosbag2 (a folder with metadata.yaml, or an .mcap or .db3 '
                         'file; av-emotion-bag makes one from a recording)') from None


def ros_time(ns):
    return Time(sec=ns // 10**9, nanosec=ns % 10**9)


def recording_messages(recording, start, chunk=0.1, frame_id='camera', mic_frame='mic',
                       jpeg=False):
    """(stamp ns, 'image' | 'compressed' | 'audio' | 'audio_info', message) in time order;
    start in ns; jpeg: CompressedImage frames instead of Image."""
    out = []
    for t, bgr in recording.frames:
        ns = start + int(round(t * 1e9))
        if jpeg:
            image = CompressedImage(format='jpeg', data=cv2.imencode('.jpg', bgr)[1].tobytes())
        else:
            image = Image(**bgr_fields(bgr))
        image.header.stamp, image.header.frame_id = ros_time(ns), frame_id
        out.append((ns, 'compressed' if jpeg else 'image', image))
    if recording.samples is not None:
        rate = recording.rate
        pcm = (np.clip(np.nan_to_num(recording.samples), -1, 32767 / 32768) * 32768).astype('<i2')
        info = AudioInfo(channels=1, sample_rate=rate, sample_format='S16LE',
                         bitrate=16 * rate, coding_format='wave')
        step = int(round(chunk * rate))
        for i in range(0, len(pcm), step):
            ns = start + i * 10**9 // rate
            if i % rate < step:  # the stream description once a second, for late joiners
                out.append((ns - 1, 'audio_info', info))
            msg = AudioDataStamped(audio=AudioData(data=pcm[i:i + step].tobytes()))
            msg.header.stamp, msg.header.frame_id = ros_time(ns), mic_frame
            out.append((ns, 'audio', msg))
    return sorted(out, key=lambda m: m[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('media', nargs='+', type=Path)
    parser.add_argument('--out', type=Path, required=True, help='bag folder to create')
    parser.add_argument('--storage', choices=sorted(STORAGE), default='mcap')
    parser.add_argument('--fps', type=float, default=15.0,
                        help='frame rate of still images and frame folders')
    parser.add_argument('--start', type=int, default=1_700_000_000,
                        help='stamp of the first sample (whole seconds)')
    parser.add_argument('--image', default='/camera/image_raw')
    parser.add_argument('--jpeg', action='store_true', help='JPEG-compressed frames')
    parser.add_argument('--audio', default='/audio_stamped')
    parser.add_argument('--audio-info', default='/audio_info')
    args = parser.parse_args(argv)
    if args.out.exists():
        parser.error(f'{args.out} exists; rosbag2 writes a new folder')
    try:
        recording = read_recording(args.media, args.fps)
    except MediaError as error:
        sys.exit(f'av-emotion-bag: {error}')
    topics = {'image': args.image, 'compressed': f'{args.image}/compressed', 'audio': args.audio,
              'audio_info': args.audio_info}
    counts = {}
    with BagWriter(args.out, args.storage) as bag:
        for ns, kind, msg in recording_messages(recording, args.start * 10**9, jpeg=args.jpeg):
            bag.write(topics[kind], msg, ns)
            counts[topics[kind]] = counts.get(topics[kind], 0) + 1
    print(f'{args.out}: {recording.duration:.1f} s, ' +
          ', '.join(f'{topic} {n}' for topic, n in counts.items()))


if __name__ == '__main__':
    main()
