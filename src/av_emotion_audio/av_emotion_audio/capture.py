"""capture_node: microphone -> audio_common_msgs AudioDataStamped + AudioInfo (S16LE wave).

For machines without audio_common. The stamp of a chunk is the capture time of its first
sample: PortAudio's ADC time of the buffer, carried over to the ROS clock.
"""
import queue

from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo
from rclpy.node import Node

from av_emotion.ros import declare_parameters, run

RANGES = {'sample_rate': (8000, 192000), 'channels': (1, 32), 'chunk': (64, 192000)}


class CaptureError(RuntimeError):
    """No usable microphone; the text says why."""


def open_stream(device, rate, channels, chunk, callback):
    try:
        import sounddevice
    except OSError as error:  # sounddevice raises OSError when libportaudio is missing
        raise CaptureError(f'PortAudio is not installed ({error}); on Debian/Ubuntu: '
                           'sudo apt-get install libportaudio2') from error
    device = int(device) if device.isdigit() else (device or None)
    try:
        sounddevice.check_input_settings(device=device, channels=channels, dtype='int16',
                                         samplerate=rate)
        return sounddevice.RawInputStream(device=device, channels=channels, dtype='int16',
                                          samplerate=rate, blocksize=chunk, callback=callback)
    except (sounddevice.PortAudioError, ValueError) as error:
        inputs = [d['name'] for d in sounddevice.query_devices() if d['max_input_channels']]
        raise CaptureError(f'cannot open microphone {device or "(default)"} at {rate} Hz, '
                           f'{channels} ch: {error}; input devices: {inputs or "none"}') from error


class CaptureNode(Node):
    def __init__(self, **kwargs):
        self.stream = None  # a node that fails to open its stream is still destroyed
        super().__init__('capture_node', **kwargs)
        p = declare_parameters(self, 'capture', RANGES)
        self.frame_id = p['frame_id']
        self.info = AudioInfo(channels=p['channels'], sample_rate=p['sample_rate'],
                              sample_format='S16LE', coding_format='wave',
                              bitrate=16 * p['sample_rate'] * p['channels'])
        self.audio_pub = self.create_publisher(AudioDataStamped, 'audio_stamped', 100)
        self.info_pub = self.create_publisher(AudioInfo, 'audio_info', 10)
        self.chunks = queue.Queue()
        self.stream = open_stream(p['device'], p['sample_rate'], p['channels'], p['chunk'],
                                  self.on_chunk)
        # PortAudio calls back on its own thread; publishing happens on the executor's.
        self.create_timer(p['chunk'] / p['sample_rate'] / 2, self.publish_chunks)
        self.create_timer(1.0, lambda: self.info_pub.publish(self.info))
        self.stream.start()
        self.get_logger().info(f"capturing {p['channels']} ch at {p['sample_rate']} Hz")

    def on_chunk(self, data, frames, timing, status):
        # Seconds between this buffer's first sample and now, on PortAudio's clock.
        age = self.stream.time - timing.inputBufferAdcTime
        self.chunks.put((bytes(data), self.get_clock().now().nanoseconds - int(age * 1e9)))

    def publish_chunks(self):
        while not self.chunks.empty():
            data, stamp = self.chunks.get()
            msg = AudioDataStamped(audio=AudioData(data=data))
            msg.header.frame_id = self.frame_id
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 10**9)
            self.audio_pub.publish(msg)

    def destroy_node(self):
        if self.stream is not None:
            self.stream.close()
        return super().destroy_node()


def main(args=None):
    run(CaptureNode, args)
