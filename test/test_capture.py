"""capture_node with the machine's real PortAudio: a clear error without a microphone,
chunks with capture-time stamps where one exists."""
import pytest
from audio_common_msgs.msg import AudioDataStamped, AudioInfo

from av_emotion_audio.capture import CaptureError, CaptureNode
from av_emotion_bringup.graph import wait_for

sounddevice = pytest.importorskip('sounddevice', exc_type=OSError,
                                  reason='PortAudio missing (make setup installs libportaudio2)')


def has_microphone():
    return any(d['max_input_channels'] for d in sounddevice.query_devices())


def test_capture(graph):
    if not has_microphone():
        with pytest.raises(CaptureError, match='input devices: none'):
            CaptureNode(context=graph.context, namespace='capture')
        return
    graph.add(CaptureNode(context=graph.context, namespace='capture'))
    probe = graph.node('capture_probe')
    chunks, infos = [], []
    probe.create_subscription(AudioDataStamped, '/capture/audio_stamped', chunks.append, 100)
    probe.create_subscription(AudioInfo, '/capture/audio_info', infos.append, 10)
    assert wait_for(lambda: len(chunks) >= 5 and infos, timeout=10)
    assert infos[0].sample_format == 'S16LE' and infos[0].coding_format == 'wave'
    stamps = [c.header.stamp.sec + c.header.stamp.nanosec * 1e-9 for c in chunks]
    chunk = len(chunks[0].audio.data) / 2 / infos[0].channels / infos[0].sample_rate
    assert all(abs((b - a) - chunk) < 0.05 for a, b in zip(stamps, stamps[1:]))
