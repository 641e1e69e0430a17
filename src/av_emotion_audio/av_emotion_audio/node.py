"""audio_node: audio_common_msgs audio in, one Voice message per hop out (mode: full), or
one VoiceWindow (features and model input, no samples) for a central recogniser (edge)."""
import time

from audio_common_msgs.msg import AudioDataStamped, AudioInfo
from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.qos import QoSProfile, ReliabilityPolicy

from av_emotion.ros import (VOICE_WINDOWS_QOS, ManagedNode, StampError, emotion_msg, run,
                            to_time)
from av_emotion_audio.decode import CHANNELS, RATES, check_info, decode
from av_emotion_audio.pipeline import AudioPipeline
from av_emotion_msgs.msg import Voice, VoiceFeatures, VoiceWindow

RANGES = {'window': (0.5, 10.0), 'hop': (0.05, 10.0), 'tolerance': (0.0, 1.0),
          'max_fill': (0.0, 10.0), 'threads': (1, 16), 'vad.threshold': (0.0, 1.0),
          'vad.min_speech_fraction': (0.0, 1.0), 'default_info.sample_rate': RATES,
          'default_info.channels': CHANNELS, 'adaptation.prior_weight': (0.0, 1000.0),
          'adaptation.reset_after': (0.0, 86400.0),
          'adaptation.change_semitones': (0.0, 24.0), 'adaptation.change_windows': (1, 100),
          'encoder_interval': (1, 100)}
# Reliable and deep: every chunk counts, and audio_capture publishes reliably.
AUDIO_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


def window_fields(voice, msg, frame_id):
    """Fill what Voice and VoiceWindow share: window, header, voice activity, features."""
    f = voice.features
    msg.window_start, msg.window_end = to_time(voice.start), to_time(voice.end)
    msg.speech_probability, msg.voiced = voice.speech_probability, voice.voiced
    msg.header.stamp, msg.header.frame_id = msg.window_end, frame_id
    msg.features = VoiceFeatures(
        pitch_hz=f.pitch_hz, pitch_std_hz=f.pitch_std_hz, voiced_fraction=f.voiced_fraction,
        intensity_db=f.intensity_db, intensity_std_db=f.intensity_std_db,
        spectral_centroid_hz=f.spectral_centroid_hz,
        spectral_slope_db_per_khz=f.spectral_slope_db_per_khz,
        spectral_flatness=f.spectral_flatness, mfcc=f.mfcc.tolist())
    return msg


def voice_msg(voice, frame_id, known):
    msg = window_fields(voice, Voice(), frame_id)
    msg.emotion = emotion_msg(msg.header, voice.probabilities, voice.speech_probability, known)
    return msg


def voice_window_msg(voice, frame_id, feature_set):
    """Edge mode's output: the window's analysis and the model's input; no samples."""
    msg = window_fields(voice, VoiceWindow(feature_set=feature_set), frame_id)
    if voice.voiced:
        msg.model_input = voice.model_input.tolist()
    return msg


class AudioNode(ManagedNode):
    def __init__(self, **kwargs):
        super().__init__('audio_node', 'audio', RANGES, **kwargs)
        self.pipeline = None
        self.busy, self.audio_seconds, self.voiced, self.windows = 0.0, 0.0, 0, 0
        self.handled, self.published = 0, 0  # chunks (analysed or dropped), voice messages

    def setup(self, params):
        if params['hop'] > params['window']:
            raise ValueError(f"hop ({params['hop']} s) must not exceed window "
                             f"({params['window']} s)")
        self.pipeline = AudioPipeline(**params)
        self.info = AudioInfo(**{k.split('.')[1]: v for k, v in params.items()
                                 if k.startswith('default_info.')})
        self.edge = params['mode'] == 'edge'
        if self.edge:
            self.windows_pub = self.output(VoiceWindow, 'voice_windows', VOICE_WINDOWS_QOS)
        else:
            self.voice_pub = self.output(Voice, 'voice', 10)

    def start(self):
        self.connect(self.create_subscription(AudioInfo, 'audio_info', self.on_info, 10))
        self.connect(self.create_subscription(AudioDataStamped, 'audio_stamped', self.on_audio,
                                              AUDIO_QOS))
        if self.edge:
            return (f"edge mode: listening on {self.resolve_topic_name('audio_stamped')}, "
                    f"publishing {self.resolve_topic_name('voice_windows')} "
                    f"(feature set {self.pipeline.feature_set})")
        return f"listening on {self.resolve_topic_name('audio_stamped')}"

    def release(self):
        self.pipeline = None

    def on_info(self, msg):
        try:
            check_info(msg.sample_format, msg.channels, msg.sample_rate, msg.coding_format)
        except ValueError as error:
            self.count('bad_infos', f'audio stream refused, its chunks are dropped: {error}')
        if (msg.sample_rate, msg.channels, msg.sample_format, msg.coding_format) != (
                self.info.sample_rate, self.info.channels, self.info.sample_format,
                self.info.coding_format):
            self.count('format_changes')
            # A stream whose format flips back and forth must not flood the log.
            self.get_logger().info(f'audio stream: {msg.channels} ch, {msg.sample_rate} Hz, '
                                   f'{msg.sample_format}, {msg.coding_format}',
                                   throttle_duration_sec=10.0)
        self.info = msg

    def on_audio(self, msg):
        started = time.perf_counter()
        info = self.info
        try:
            stamp = self.stamp(msg.header)
            check_info(info.sample_format, info.channels, info.sample_rate, info.coding_format)
            samples = decode(msg.audio.data, info.sample_format, info.channels)
        except StampError as error:
            self.count('bad_stamps', f'dropping audio chunk: {error}')
            self.handled += 1
            return
        except ValueError as error:
            self.count('bad_chunks', f'dropping audio chunk: {error}')
            self.handled += 1
            return
        voices, event = self.pipeline.push(samples, info.sample_rate, stamp)
        if event == 'late':
            self.count('late_chunks', 'dropping an audio chunk older than audio already '
                       'analysed (reordered or replayed stamps)')
        elif event:
            self.count(f'{event}s', f'audio stamps jumped ahead: {event} '
                       f'(gaps up to max_fill are filled with silence)')
        for voice in voices:
            if self.edge:
                self.windows_pub.publish(voice_window_msg(voice, msg.header.frame_id,
                                                          self.pipeline.feature_set))
            else:
                self.voice_pub.publish(voice_msg(voice, msg.header.frame_id,
                                                 self.pipeline.classifier.known))
            self.published += 1
            self.voiced += voice.voiced
        self.windows += len(voices)
        self.audio_seconds += len(samples) / info.sample_rate
        self.busy += time.perf_counter() - started
        self.handled += 1

    def status(self):
        rtf = self.busy / self.audio_seconds if self.audio_seconds else 0.0
        if not self.audio_seconds:
            level, message = DiagnosticStatus.WARN, 'no audio received'
        elif self.counts.get('bad_chunks'):
            level, message = DiagnosticStatus.WARN, 'undecodable audio chunks'
        else:
            level = DiagnosticStatus.OK
            message = f'{self.voiced}/{self.windows} windows voiced, RTF {rtf:.3f}'
        info = self.info
        values = {'stream': f'{info.channels} ch, {info.sample_rate} Hz, {info.sample_format}, '
                            f'{info.coding_format}',
                  'real_time_factor': f'{rtf:.4f}', 'chunks': self.handled,
                  'windows': self.windows, 'voiced_windows': self.voiced, **self.counts}
        adaptation = self.pipeline.adaptation
        if adaptation:
            values.update(adaptation_session_windows=adaptation.n,
                          adaptation_resets=adaptation.resets)
        self.busy, self.audio_seconds, self.voiced, self.windows = 0.0, 0.0, 0, 0
        return level, message, values


def main(args=None):
    run(AudioNode, args)
