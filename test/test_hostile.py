"""Broken and hostile input published into the launched graph: impossible stamps (negative,
a minute ahead), NaN, infinite and out-of-range numbers, implausible audio streams and a
flood of format changes. Every node stays alive, /emotion keeps its rate with finite
values in range, the refusals are counted, and real input is used again at once."""
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf
from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from av_emotion.config import config_path
from av_emotion.ros import emotion_msg
from av_emotion.taxonomy import LABELS
from av_emotion_bringup.graph import wait_for
from av_emotion_msgs.msg import Face, FaceArray, FusedEmotion, Voice
from av_emotion_vision.image import bgr_fields

ROS2 = str(Path(sys.executable).parent / 'ros2')
NS = '/hostile'


def confident(label):
    p = np.full(len(LABELS), 0.02)
    p[LABELS.index(label)] = 1 - 0.02 * (len(LABELS) - 1)
    return p


class Inputs:
    """Publishes into the launched graph and collects what comes out."""

    def __init__(self, graph, data):
        self.node = graph.node('hostile_probe')
        pub = self.node.create_publisher
        self.camera = pub(Image, f'{NS}/camera', qos_profile_sensor_data)
        self.audio = pub(AudioDataStamped, f'{NS}/audio_stamped', 100)
        self.info = pub(AudioInfo, f'{NS}/audio_info', 100)
        self.faces = pub(FaceArray, f'{NS}/faces', 100)
        self.voice = pub(Voice, f'{NS}/voice', 100)
        self.fused, self.seen_faces, self.seen_voices, self.diagnostics = [], [], [], {}
        sub = self.node.create_subscription
        sub(FusedEmotion, f'{NS}/emotion', lambda m: self.fused.append((time.monotonic(), m)),
            1000)
        sub(FaceArray, f'{NS}/faces', self.seen_faces.append, 1000)
        sub(Voice, f'{NS}/voice', self.seen_voices.append, 1000)
        sub(DiagnosticArray, '/diagnostics', lambda m: self.diagnostics.update(
            {s.name: {v.key: v.value for v in s.values} for s in m.status}), 100)
        photo = cv2.imread(str(data / 'faces' / 'photos' / 'single_face.jpg'))
        self.image = bgr_fields(cv2.resize(photo, (320, 240)))
        speech, rate = sf.read(str(next((data / 'speech' / 'ravdess' / 'happy').glob(
            '*.flac'))), dtype='float32')
        assert rate == 16000
        self.speech = (np.clip(speech, -1, 0.99997) * 2 ** 15).astype('<i2')
        self.speech_end = 0.0

    def stamp(self, ahead=0.0):
        return (self.node.get_clock().now().nanoseconds * 1e-9 + ahead)

    def header_of(self, msg, seconds, frame_id):
        msg.header.stamp.sec = math.floor(seconds)
        msg.header.stamp.nanosec = int((seconds % 1) * 1e9)
        msg.header.frame_id = frame_id
        return msg

    def send_faces(self, seconds, probabilities=None, score=0.9, label='happy'):
        msg = self.header_of(FaceArray(image_width=640, image_height=480), seconds, 'test')
        emotion = emotion_msg(msg.header, confident(label))
        if probabilities is not None:
            emotion.probabilities = [float(p) for p in probabilities]
        face = Face(id=1, detection_score=float(score), emotion=emotion)
        face.roi.width = face.roi.height = 120
        msg.faces = [face]
        self.faces.publish(msg)
        return msg

    def send_voice(self, seconds, probabilities=None, speech=0.9, label='sad'):
        msg = self.header_of(Voice(voiced=True, speech_probability=float(speech)), seconds,
                             'test')
        msg.emotion = emotion_msg(msg.header, confident(label))
        if probabilities is not None:
            msg.emotion.probabilities = [float(p) for p in probabilities]
        self.voice.publish(msg)
        return msg

    def send_image(self, seconds):
        self.camera.publish(self.header_of(Image(**self.image), seconds, 'camera'))

    def send_info(self, rate=16000, channels=1, sample_format='S16LE'):
        self.info.publish(AudioInfo(sample_rate=rate, channels=channels,
                                    sample_format=sample_format, coding_format='wave'))

    def send_chunk(self, seconds, samples):
        msg = self.header_of(AudioDataStamped(), seconds, 'mic')
        msg.audio = AudioData(data=samples.tobytes())
        self.audio.publish(msg)

    def send_speech(self, channels=1):
        """The speech clip in 0.1 s chunks, as if recorded until now (after the clip sent
        before); returns its start."""
        start = max(self.stamp(-len(self.speech) / 16000), self.speech_end)
        self.speech_end = start + len(self.speech) / 16000
        for i in range(0, len(self.speech), 1600):
            self.send_chunk(start + i / 16000, np.repeat(self.speech[i:i + 1600], channels))
        return start

    def stream_is(self, stream):
        """Whether the audio node's last diagnostics name this stream format."""
        return any(v.get('stream') == stream for name, v in self.diagnostics.items()
                   if name.startswith(f'{NS}/audio_node'))

    def counted(self, node, key):
        return sum(int(v.get(key, 0)) for name, v in self.diagnostics.items()
                   if name.startswith(f'{NS}/{node}'))


@pytest.fixture
def launched(tmp_path):
    # Evidence stays fresh for 10 s rather than 0.8: on a busy machine a real input may
    # take longer than 0.8 s to be handled, and the test asks whether it is used at all.
    config_dir = tmp_path / 'config'
    shutil.copytree(config_path('fusion').parent, config_dir)
    fusion = (config_dir / 'fusion.yaml').read_text()
    (config_dir / 'fusion.yaml').write_text(fusion.replace('max_age: 0.8', 'max_age: 10.0'))
    launch = subprocess.Popen(
        [ROS2, 'launch', 'av_emotion_bringup', 'av_emotion.launch.py', f'namespace:={NS[1:]}',
         f'image:={NS}/camera', f'audio:={NS}/audio_stamped', f'audio_info:={NS}/audio_info',
         f'config_dir:={config_dir}'],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(launch.stdout), daemon=True)
    reader.start()
    yield launch, lines
    os.killpg(launch.pid, signal.SIGINT)
    launch.wait(60)
    reader.join(10)


def test_hostile_input_leaves_the_graph_running(graph, data, launched):
    launch, lines = launched
    io = Inputs(graph, data)
    assert wait_for(lambda: all(p.get_subscription_count() for p in (
        io.camera, io.audio, io.info, io.faces, io.voice)) and len(io.fused) >= 5, 60)

    # Impossible stamps, into each node. Camera frames go best effort, as drivers send
    # them: one may be lost, so they are sent again until refused.
    assert any(io.send_image(-5.0) or io.send_image(io.stamp(60.0)) or wait_for(
        lambda: io.counted('vision_node', 'bad_StampError') >= 2, 1.0) for _ in range(30))
    for seconds in (-5.0, io.stamp(60.0)):
        io.send_faces(seconds, label='angry')
        io.send_voice(seconds, label='angry')
        io.send_chunk(seconds, np.zeros(160000, '<i2'))  # a 10 s chunk
    # Real input right after is used at once: no lock-out by the stamp a minute ahead.
    real_faces = io.send_faces(io.stamp())
    real_voice = io.send_voice(io.stamp())
    assert wait_for(lambda: any(m.vision.header.stamp == real_faces.header.stamp and
                                m.audio.header.stamp == real_voice.header.stamp and
                                m.vision.label == 'happy' and m.audio.label == 'sad'
                                for _, m in io.fused), 30)
    image_at = io.stamp()
    assert any(io.send_image(io.stamp()) or wait_for(lambda: any(
        f.header.frame_id == 'camera' and f.header.stamp.sec >= math.floor(image_at)
        for f in io.seen_faces), 1.0) for _ in range(30))
    speech_at = io.send_speech()
    assert wait_for(lambda: any(v.header.frame_id == 'mic' and v.voiced and
                                v.window_start.sec >= math.floor(speech_at) - 2
                                for v in io.seen_voices), 30)

    # Numbers that are no probabilities or scores.
    nan, inf = float('nan'), float('inf')
    for probabilities in ([nan] * 7, [0.0] * 7, [-1.0] + [1 / 3] * 6, [inf] + [0.0] * 6):
        io.send_faces(io.stamp(), probabilities=probabilities)
        io.send_voice(io.stamp(), probabilities=probabilities)
    for score in (nan, inf, 5.0, -1.0):
        io.send_faces(io.stamp(), score=score)
        io.send_voice(io.stamp(), speech=score)
    # Implausible audio streams, then a flood of format changes, then the real format.
    # (Chunks and AudioInfo travel on two topics: each chunk is sent once its info is read.)
    for rate, channels in ((1_000_000, 1), (2 ** 32 - 1, 1), (16000, 255)):
        refused = io.counted('audio_node', 'bad_infos')
        io.send_info(rate, channels)
        assert wait_for(lambda: io.counted('audio_node', 'bad_infos') > refused, 30)
        dropped = io.counted('audio_node', 'bad_chunks')
        io.send_chunk(io.stamp(), np.zeros(1600 * channels, '<i2'))
        assert wait_for(lambda: io.counted('audio_node', 'bad_chunks') > dropped, 30)
    io.send_info(16000, 1, 'F32LE')
    assert wait_for(lambda: io.stream_is('1 ch, 16000 Hz, F32LE, wave'), 30)
    io.send_chunk(io.stamp(), np.full(1600, 1e30, '<f4'))
    assert wait_for(lambda: io.counted('audio_node', 'bad_chunks') > dropped + 1, 30)
    flood_started = time.monotonic()
    for i in range(1000):
        io.send_info(48000 if i % 2 else 16000)
    io.send_info(channels=2)
    flood_seconds = time.monotonic() - flood_started
    # Chunks and AudioInfo travel on two topics: speech is sent once the last info, the
    # only one with two channels, is read.
    assert wait_for(lambda: io.stream_is('2 ch, 16000 Hz, S16LE, wave'), 30)
    speech_at = io.send_speech(channels=2)
    assert wait_for(lambda: any(v.header.frame_id == 'mic' and v.voiced and
                                v.window_start.sec >= math.floor(speech_at) - 2
                                for v in io.seen_voices), 30)

    # Still running and fusing real input; every refusal counted.
    real_faces = io.send_faces(io.stamp())
    assert wait_for(lambda: any(m.vision.header.stamp == real_faces.header.stamp
                                for _, m in io.fused), 30)
    assert wait_for(lambda: io.counted('fusion_node', 'bad_stamps') >= 4 and
                    io.counted('fusion_node', 'bad_faces') >= 8 and
                    io.counted('fusion_node', 'bad_voices') >= 8 and
                    io.counted('audio_node', 'bad_stamps') >= 2 and
                    io.counted('audio_node', 'bad_infos') >= 3 and
                    io.counted('audio_node', 'bad_chunks') >= 4 and
                    io.counted('vision_node', 'bad_StampError') >= 2, 30), io.diagnostics
    count = len(io.fused)
    assert wait_for(lambda: len(io.fused) >= count + 30, 30)
    assert launch.poll() is None
    names = {f'{ns}/{n}' for n, ns in io.node.get_node_names_and_namespaces()}
    assert {f'{NS}/vision_node', f'{NS}/audio_node', f'{NS}/fusion_node'} <= names

    times = [t for t, _ in io.fused[-30:]]
    assert 29 / (times[-1] - times[0]) > 0.5 * 15.0, 'fusion keeps its rate (15 Hz)'
    for _, m in io.fused:
        e = m.emotion
        numbers = [e.valence, e.arousal, e.confidence, *e.probabilities, *m.weights]
        assert all(math.isfinite(x) for x in numbers), m
        assert all(0 <= x <= 1 for x in [e.confidence, *e.probabilities, *m.weights]), m
        assert -1 <= e.valence <= 1 and -1 <= e.arousal <= 1, m
    output = ''.join(lines)
    assert 'Traceback' not in output, output
    assert sum('audio stream:' in line for line in lines) <= 2 + flood_seconds / 10, output
