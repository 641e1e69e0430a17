"""The whole graph (vision, audio, fusion) on real rclpy, fed with real clips from
../shared/data: replayed from a bag and recorded to a bag read back with rosbags, and live
with the audio node stopped and started again mid-run."""
import threading
import time

import cv2
import numpy as np
import pytest
import soundfile as sf
from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo
from rosbags.rosbag2 import Reader
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from av_emotion.ros import to_time
from av_emotion_audio.node import AudioNode
from av_emotion_bringup import bag
from av_emotion_bringup.bag import BagWriter, typestore
from av_emotion_bringup.graph import Graph, wait_for
from av_emotion_bringup.replay import replay
from av_emotion_fusion.node import FusionNode
from av_emotion_msgs.msg import FusedEmotion
from av_emotion_vision.image import bgr_fields
from av_emotion_vision.node import VisionNode


def happy_media(data):
    """A posed happy face photo and a happy RAVDESS utterance (different people)."""
    return (next((data / 'faces' / 'photos').glob('happy_*.jpg')),
            sorted((data / 'speech' / 'ravdess' / 'happy').glob('*.flac'))[3])


def read_bag(path):
    store, out = typestore(), {}
    with Reader(path) as reader:
        for connection, ns, data in reader.messages():
            out.setdefault(connection.topic, []).append(
                (ns, bytes(data), store.deserialize_cdr(data, connection.msgtype)))
    return out


@pytest.fixture(scope='module')
def input_bag(data, tmp_path_factory):
    path = tmp_path_factory.mktemp('bags') / 'happy_in'
    bag.main([*map(str, happy_media(data)), '--out', str(path), '--storage', 'sqlite3'])
    return path


def test_replay_records_every_output_deterministically(input_bag, tmp_path):
    counts = replay(input_bag, tmp_path / 'out1', namespace='robot1')
    first = read_bag(tmp_path / 'out1')
    inputs = read_bag(input_bag)
    images = len(inputs['/camera/image_raw'])
    seconds = len(inputs['/audio_stamped']) * 0.1
    assert counts['images'] == images and counts['bad_images'] == 0
    # Nothing dropped: a face array per image, a voice per full 0.5 s hop, the fused
    # emotion at 15 Hz over the whole bag.
    assert len(first['/robot1/faces']) == images
    assert len(first['/robot1/voice']) == int((seconds - 2.0) / 0.5) + 1
    fused = [m for _, _, m in first['/robot1/emotion']]
    assert len(fused) == pytest.approx(seconds * 15, abs=2)
    both = [m for m in fused if set(m.modalities) == {'vision', 'audio'}]
    assert len(both) >= len(fused) // 3
    assert all(m.face_id == fused[-1].face_id != 0 for m in both)
    labels = [m.emotion.label for m in both]
    assert max(set(labels), key=labels.count) == 'happy'
    assert '/diagnostics' in first

    replay(input_bag, tmp_path / 'out2', namespace='robot1')
    second = read_bag(tmp_path / 'out2')
    for topic in ('/robot1/faces', '/robot1/voice', '/robot1/emotion'):
        assert [(ns, raw) for ns, raw, _ in first[topic]] == \
               [(ns, raw) for ns, raw, _ in second[topic]], topic


def test_compressed_images_and_the_choice_of_topics(data, tmp_path):
    photo, clip = happy_media(data)
    bag.main([str(photo), str(clip), '--out', str(tmp_path / 'jpeg'), '--jpeg'])
    inputs = read_bag(tmp_path / 'jpeg')
    assert inputs['/camera/image_raw/compressed'][0][2].format == 'jpeg'
    counts = replay(tmp_path / 'jpeg', tmp_path / 'out')
    out = read_bag(tmp_path / 'out')
    assert len(out['/faces']) == counts['images'] == len(inputs['/camera/image_raw/compressed'])
    assert any(len(m.modalities) == 2 for _, _, m in out['/emotion'])
    # Outputs only: nothing to play. Two cameras: one must be chosen.
    with pytest.raises(ValueError, match='no sensor_msgs/msg/Image'):
        replay(tmp_path / 'out', tmp_path / 'again')
    with BagWriter(tmp_path / 'two_cameras') as writer:
        for topic in ('/left/image_raw', '/right/image_raw'):
            writer.write(topic, Image(**bgr_fields(cv2.imread(str(photo)))), 1)
    with pytest.raises(ValueError, match='several camera topics'):
        replay(tmp_path / 'two_cameras', tmp_path / 'none')
    assert replay(tmp_path / 'two_cameras', tmp_path / 'left',
                  topics=['/left/image_raw'])['images'] == 1


def test_unusable_input_is_refused_in_one_line(data, input_bag, tmp_path, refused):
    photo, clip = happy_media(data)
    speech = sf.info(str(clip))
    silent = tmp_path / 'silent.wav'  # a header and no samples
    sf.SoundFile(str(silent), 'w', speech.samplerate, speech.channels).close()
    line = refused('av-emotion-bag', silent, photo, '--out', tmp_path / 'bag')
    assert line == f'av-emotion-bag: {silent} holds no sound (0 samples)'
    assert not (tmp_path / 'bag').exists()
    (tmp_path / 'empty').mkdir()
    for path in (data / 'video' / 'WolfgangLanger_Pexels.mp4', tmp_path / 'empty'):
        line = refused('av-emotion-replay', path, '--out', tmp_path / 'out')
        assert line.startswith(f'av-emotion-replay: cannot read {path}: not a rosbag2')
    assert not (tmp_path / 'out').exists()
    bag.check_bag(input_bag)  # a real one passes


def test_fusion_survives_the_audio_node_stopping(data):
    photo, clip = happy_media(data)
    frame = cv2.imread(str(photo))
    speech, rate = sf.read(str(clip), dtype='float32')
    pcm = (np.tile(speech, 6) * 32767).astype('<i2')
    graph = Graph()
    try:
        vision = graph.add(VisionNode(context=graph.context, namespace='live'))
        fusion = graph.add(FusionNode(context=graph.context, namespace='live'))
        audio = graph.add(AudioNode(context=graph.context, namespace='live'))
        io = graph.node('live_io')
        images = io.create_publisher(Image, '/live/image', 10)
        chunks = io.create_publisher(AudioDataStamped, '/live/audio_stamped', 100)
        info = io.create_publisher(AudioInfo, '/live/audio_info', 10)
        fused = []
        io.create_subscription(FusedEmotion, '/live/emotion',
                               lambda m: fused.append((time.monotonic(), m)), 100)
        assert wait_for(lambda: images.get_subscription_count() and
                        chunks.get_subscription_count() and info.get_subscription_count())
        stop = threading.Event()

        def play():
            start, sent = time.monotonic(), 0
            while not stop.is_set():
                t = time.monotonic() - start
                images.publish(Image(header=stamped(io), **bgr_fields(frame)))
                while sent < min(len(pcm), int(t * rate)):
                    chunk = pcm[sent:sent + rate // 10]
                    msg = AudioDataStamped(header=stamped(io, -len(chunk) / rate),
                                           audio=AudioData(data=chunk.tobytes()))
                    chunks.publish(msg)
                    sent += len(chunk)
                time.sleep(1 / 30)

        info.publish(AudioInfo(channels=1, sample_rate=rate, sample_format='S16LE',
                               coding_format='wave'))
        player = threading.Thread(target=play)
        player.start()
        try:
            assert wait_for(lambda: fused and set(fused[-1][1].modalities) == {'vision', 'audio'},
                            timeout=10)
            stopped = time.monotonic()
            graph.executor.remove_node(audio)
            graph.nodes.remove(audio)
            audio.destroy_node()
            assert wait_for(lambda: list(fused[-1][1].modalities) == ['vision'], timeout=3)
            alone = next(t for t, m in fused if t > stopped and list(m.modalities) == ['vision'])
            graph.add(AudioNode(context=graph.context, namespace='live'))
            assert wait_for(lambda: set(fused[-1][1].modalities) == {'vision', 'audio'},
                            timeout=10)
        finally:
            stop.set()
            player.join()
        # Vision alone once the last voice window is max_age (0.8 s) old.
        print(f'vision alone {alone - stopped:.3f} s after the audio node stopped')
        assert alone - stopped < 1.0
        gaps = np.diff([t for t, _ in fused])
        assert gaps.max() < 0.5, 'the output went on at its rate throughout'
        # Face arrays still in flight when the player stopped arrive shortly after.
        assert wait_for(lambda: fusion.counts['faces'] == vision.published)
    finally:
        graph.close()


def stamped(node, offset=0.0):
    now = node.get_clock().now().nanoseconds * 1e-9 + offset
    return Header(stamp=to_time(now), frame_id='sensor')
