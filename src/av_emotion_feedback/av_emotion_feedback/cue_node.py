"""cue_node: the fused emotion in, a colour (LED ring) and a short sound out on each
confirmed change."""
from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo
from diagnostic_msgs.msg import DiagnosticStatus
from rcl_interfaces.msg import SetParametersResult
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import ColorRGBA

from av_emotion.ros import ManagedNode, StampError, probabilities_of, run
from av_emotion.taxonomy import LABELS
from av_emotion_feedback.cues import Cues, Speaker, SpeakerError, colour, sound
from av_emotion_msgs.msg import FusedEmotion

LIVE = {'mute', 'min_interval', 'volume'}
RANGES = {'dwell': (0.0, 3600.0), 'hysteresis.margin': (0.0, 1.0),
          'confidence.enter': (0.0, 1.0), 'confidence.leave': (0.0, 1.0),
          'min_interval': (0.0, 3600.0), 'sample_rate': (8000, 192000), 'volume': (0.0, 1.0)}
OUTPUTS = ('speaker', 'topic', 'none')
# The current colour: an LED node started later gets it at once (transient local); volatile
# subscribers match it too.
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
# A sound is for now: a player that joins later must not play old ones (volatile).
SOUND_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)


def estimate_of(emotion):
    """(REP-155 probabilities or None when empty, confidence) of an Emotion message;
    ValueError if malformed."""
    if not 0.0 <= emotion.confidence <= 1.0:  # NaN fails too
        raise ValueError(f'confidence {emotion.confidence} is not in [0, 1]')
    probabilities = probabilities_of(emotion)
    return probabilities, 0.0 if probabilities is None else emotion.confidence


class CueNode(ManagedNode):
    def __init__(self, **kwargs):
        super().__init__('cue_node', 'cues', RANGES, LIVE, **kwargs)
        self.cues = None
        self.add_on_set_parameters_callback(self.on_parameters)

    def setup(self, params):
        if params['sound_output'] not in OUTPUTS:
            raise ValueError(f"sound_output {params['sound_output']!r} is not one of "
                             f"{', '.join(OUTPUTS)}")
        self.cues = Cues(**params)
        self.sounds = {label: sound(label, params['sample_rate']) for label in LABELS}
        self.sound_output, self.speaker = params['sound_output'], None
        if self.sound_output == 'speaker':
            self.open_speaker()
        self.color_pub = self.output(ColorRGBA, 'cue/color', LATCHED)
        if self.sound_output == 'topic':
            self.audio_pub = self.output(AudioData, 'cue/audio', SOUND_QOS)
            self.stamped_pub = self.output(AudioDataStamped, 'cue/audio_stamped', SOUND_QOS)
        self.counts = {'estimates': 0, 'changes': 0, 'sounds': 0}

    def open_speaker(self):
        try:
            self.speaker = Speaker(self.params['device'], self.params['sample_rate'])
        except SpeakerError as error:
            self.no_speaker(error)

    def no_speaker(self, error):
        """Sounds off from now on, said once; the colours go on."""
        self.get_logger().warning(f'no sound: {error}; sound_output falls back to none')
        self.sound_output, self.speaker = 'none', None

    def start(self):
        self.connect(self.create_subscription(FusedEmotion, 'emotion', self.on_emotion, 10))
        if self.sound_output == 'topic':
            # Published once, latched, by a plain publisher of the active state: a lifecycle
            # one drops what is published before activation completes.
            info = self.connect(self.create_publisher(AudioInfo, 'cue/audio_info', LATCHED))
            rate = self.params['sample_rate']
            info.publish(AudioInfo(channels=1, sample_rate=rate, sample_format='S16LE',
                                   coding_format='wave', bitrate=16 * rate))
        return (f"cues of {self.resolve_topic_name('emotion')} on "
                f"{self.color_pub.topic_name}, sound: {self.sound_output}")

    def release(self):
        self.cues = self.speaker = None

    def on_parameters(self, parameters):
        # Unconfigured, they take effect at configure, which reads them.
        if self.cues:
            self.cues.params.update((p.name, p.value) for p in parameters)
            self.params.update((p.name, p.value) for p in parameters)
        return SetParametersResult(successful=True)

    def on_emotion(self, msg):
        self.counts['estimates'] += 1
        try:
            stamp = self.stamp(msg.header)
            probabilities, confidence = estimate_of(msg.emotion)
        except StampError as error:
            self.count('bad_stamps', f'ignoring an estimate: {error}')
            return
        except ValueError as error:
            self.count('bad_estimates', f'ignoring a malformed estimate: {error}')
            return
        change = self.cues.hear(stamp, probabilities, confidence)
        if change is None:
            return
        self.counts['changes'] += 1
        self.color_pub.publish(ColorRGBA(**dict(zip('rgba', colour(change.label)))))
        if change.sound and self.sound_output != 'none':
            self.play(msg.header, self.sounds[change.label] * self.params['volume'])

    def play(self, header, samples):
        if self.sound_output == 'speaker':
            try:
                self.speaker.play(samples)
            except SpeakerError as error:
                self.no_speaker(error)
                return
        else:
            audio = AudioData(data=(samples * 32767).astype('<i2').tobytes())
            self.audio_pub.publish(audio)
            self.stamped_pub.publish(AudioDataStamped(header=header, audio=audio))
        self.counts['sounds'] += 1

    def status(self):
        label = self.cues.label or 'off'
        return DiagnosticStatus.OK, f'cue {label}, sound: {self.sound_output}', {
            'cue': label, 'sound_output': self.sound_output, 'mute': self.params['mute'],
            **self.counts}


def main(args=None):
    run(CueNode, args)
