"""audio_node on real rclpy: a real speech clip streamed as audio_common_msgs chunks."""
import numpy as np
import pytest
import soundfile as sf
import soxr
from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo
from diagnostic_msgs.msg import DiagnosticArray

from av_emotion_audio.node import AudioNode
from av_emotion_bringup.graph import wait_for
from av_emotion_msgs.msg import Voice

ENCODE = {'S16LE': lambda x: (np.clip(x, -1, 0.99997) * 2 ** 15).astype('<i2'),
          'S32LE': lambda x: (np.clip(x, -1, 0.99997) * 2 ** 31).astype('<i4'),
          'F32LE': lambda x: x.astype('<f4')}


@pytest.fixture(scope='module')
def clip(data):
    path = data / 'speech' / 'ravdess' / 'angry' / '03-01-05-02-01-01-22.flac'
    speech, rate = sf.read(str(path), dtype='float32')
    assert rate == 16000
    return np.concatenate([speech, np.zeros(3 * rate, np.float32)])  # then 3 s of silence


class Stream:
    """Publishes a clip into a namespace as chunks and collects the Voice messages."""

    def __init__(self, graph, namespace):
        graph.add(AudioNode(context=graph.context, namespace=namespace))
        self.node = graph.node(f'stream_{namespace}')
        self.audio = self.node.create_publisher(AudioDataStamped, f'/{namespace}/audio_stamped',
                                                100)
        self.info = self.node.create_publisher(AudioInfo, f'/{namespace}/audio_info', 10)
        self.voices, self.diagnostics = [], []
        self.node.create_subscription(Voice, f'/{namespace}/voice', self.voices.append, 100)
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self.diagnostics.append, 10)
        assert wait_for(lambda: self.audio.get_subscription_count() and
                        self.info.get_subscription_count())

    def send_info(self, rate, channels, sample_format, coding='wave'):
        self.info.publish(AudioInfo(channels=channels, sample_rate=rate,
                                    sample_format=sample_format, coding_format=coding))
        wait_for(lambda: False, timeout=0.3)  # let it arrive before the audio

    def send(self, samples, rate, channels, sample_format, start=1000.0, chunk=0.1):
        frames = samples if channels == 1 else np.repeat(samples[:, None], channels, axis=1)
        step = int(rate * chunk)
        for i in range(0, len(frames), step):
            msg = AudioDataStamped(audio=AudioData(
                data=ENCODE[sample_format](frames[i:i + step]).tobytes()))
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(
                int(round((start + i / rate) * 1e9)), 10**9)
            msg.header.frame_id = 'mic'
            self.audio.publish(msg)


def seconds(t):
    return t.sec + t.nanosec * 1e-9


@pytest.mark.parametrize('rate, channels, sample_format', [
    (16000, 1, 'S16LE'), (48000, 2, 'S32LE'), (44100, 1, 'F32LE')])
def test_voice_per_hop_from_chunks(graph, clip, rate, channels, sample_format):
    stream = Stream(graph, f'mic_{sample_format.lower()}')
    samples = clip if rate == 16000 else soxr.resample(clip, 16000, rate)
    stream.send_info(rate, channels, sample_format)
    stream.send(samples, rate, channels, sample_format)
    expected = int((len(samples) / rate - 2.0) / 0.5) + 1
    assert wait_for(lambda: len(stream.voices) >= expected, timeout=30), len(stream.voices)
    starts = [seconds(v.window_start) for v in stream.voices]
    assert np.all(np.diff(starts) > 0), 'windows must advance'
    assert np.diff(starts) == pytest.approx(0.5, abs=1e-3)
    for v in stream.voices:
        assert seconds(v.window_end) - seconds(v.window_start) == pytest.approx(2.0, abs=1e-3)
        assert v.header.stamp == v.window_end and v.header.frame_id == 'mic'
    voiced = [v for v in stream.voices if v.voiced]
    silent = [v for v in stream.voices if not v.voiced]
    assert voiced and silent, 'the clip has speech, then silence'
    for v in voiced:
        assert len(v.emotion.probabilities) == 7
        assert sum(v.emotion.probabilities) == pytest.approx(1.0, abs=1e-4)
        assert 70 < v.features.pitch_hz < 400
    for v in silent:
        assert list(v.emotion.probabilities) == [] and v.emotion.label == ''
    assert seconds(stream.voices[-1].window_start) > seconds(voiced[-1].window_start)


def test_mp3_and_malformed_chunks_are_survived(graph, clip):
    stream = Stream(graph, 'mic_bad')
    stream.send_info(16000, 1, 'S16LE', coding='mp3')
    stream.send(clip[:32000], 16000, 1, 'S16LE')
    wait_for(lambda: False, timeout=1.0)  # the mp3 chunks are handled before wave resumes
    stream.send_info(16000, 1, 'S16LE')
    broken = AudioDataStamped(audio=AudioData(data=b'\x01\x02\x03'))  # half a sample
    broken.header.stamp.sec = 2000
    stream.audio.publish(broken)
    stream.send(clip, 16000, 1, 'S16LE', start=2000.0)
    assert wait_for(lambda: len(stream.voices) >= 5, timeout=30)
    assert all(seconds(v.window_start) >= 2000.0 for v in stream.voices)

    def bad_chunks():
        return [int(dict((kv.key, kv.value) for kv in s.values).get('bad_chunks', 0))
                for d in stream.diagnostics for s in d.status if 'mic_bad' in s.name]
    assert wait_for(lambda: any(n >= 21 for n in bad_chunks()), timeout=5), bad_chunks()
