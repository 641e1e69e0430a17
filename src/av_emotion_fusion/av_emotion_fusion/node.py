"""fusion_node: faces and voice in, one fused emotion of the speaker out, at a steady rate."""
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from message_filters import ApproximateTimeSynchronizer, Subscriber
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from rclpy.time import Time
from std_msgs.msg import Header

from av_emotion.ros import declare_parameters, emotion_msg, run
from av_emotion.taxonomy import covered, to_rep155
from av_emotion_fusion.stream import Face, FusionStream
from av_emotion_msgs.msg import FaceArray, FusedEmotion, Voice

LIVE = {'weights.vision', 'weights.audio', 'max_age', 'face_full_height',
        'smoothing.time_constant', 'agreement.enabled'}
RANGES = {'weights.vision': (0.0, 100.0), 'weights.audio': (0.0, 100.0),
          'max_age': (0.0, 60.0), 'face_full_height': (1, 4096),
          'smoothing.time_constant': (0.0, 60.0), 'rate': (0.1, 200.0),
          'sync.queue_size': (1, 1000), 'sync.slop': (0.0, 10.0),
          'agreement.window': (1, 100000), 'agreement.expected': (0.01, 1.0),
          'agreement.prior_pairs': (0, 100000), 'calibration.weighted': (0.05, 20.0),
          'calibration.product': (0.05, 20.0), 'diagnostics_period': (0.1, 60.0)}


def seconds(stamp):
    return Time.from_msg(stamp).nanoseconds * 1e-9


def estimate_of(emotion):
    """(REP-155 probabilities, known labels) of an Emotion message; ValueError if malformed."""
    if len(emotion.labels) != len(emotion.probabilities):
        raise ValueError(f'{len(emotion.probabilities)} probabilities for '
                         f'{len(emotion.labels)} labels')
    return to_rep155(emotion.probabilities, emotion.labels), covered(emotion.labels)


def faces_of(msg):
    """The faces of a FaceArray that have an estimate; ValueError if one is malformed."""
    faces = []
    for f in msg.faces:
        if len(f.emotion.probabilities):
            probabilities, known = estimate_of(f.emotion)
            faces.append(Face(f.id, probabilities, f.detection_score, f.roi.width,
                              f.roi.height, known))
    return faces


class FusionNode(Node):
    def __init__(self, **kwargs):
        super().__init__('fusion_node', **kwargs)
        params = declare_parameters(self, 'fusion', RANGES, LIVE)
        self.stream = FusionStream(**params)
        self.add_on_set_parameters_callback(self.on_parameters)
        self.publisher = self.create_publisher(FusedEmotion, 'emotion', 10)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 1)
        faces = Subscriber(self, FaceArray, 'faces', qos_profile=10)
        voice = Subscriber(self, Voice, 'voice', qos_profile=10)
        faces.registerCallback(self.on_faces)
        voice.registerCallback(self.on_voice)
        # Pairs each voice window with the frame at its end: whose voice it is.
        self.sync = ApproximateTimeSynchronizer([faces, voice], params['sync.queue_size'],
                                                params['sync.slop'])
        self.sync.registerCallback(self.on_pair)
        self.output_timer = self.create_timer(1.0 / params['rate'], self.tick)
        self.create_timer(params['diagnostics_period'], self.publish_diagnostics)
        self.frame_id = ''
        # Header stamps of the evidence the stream holds, passed on exactly (not via float).
        self.stamps = {}
        # Since start; ticks and used: in this diagnostics period.
        self.counts = {'faces': 0, 'voices': 0, 'pairs': 0, 'published': 0}
        self.ticks, self.used = 0, {'vision': 0, 'audio': 0}
        self.get_logger().info(
            f"fusing {self.resolve_topic_name('faces')} and {self.resolve_topic_name('voice')} "
            f"({params['strategy']}) at {params['rate']} Hz")

    def on_parameters(self, parameters):
        for p in parameters:
            self.stream.params[p.name] = p.value
        return SetParametersResult(successful=True)

    def on_faces(self, msg):
        self.counts['faces'] += 1
        try:
            faces = faces_of(msg)
        except ValueError as error:
            self.count('bad_faces', f'ignoring a face array with a malformed estimate: {error}')
            return
        if self.stream.faces(seconds(msg.header.stamp), faces):
            self.frame_id = msg.header.frame_id
            self.stamps['vision'] = msg.header.stamp
        else:
            self.count('late_faces', 'ignoring a face array older than the last one '
                       '(out-of-order stamps)')

    def on_voice(self, msg):
        self.counts['voices'] += 1
        probabilities, known = None, None
        if msg.voiced and len(msg.emotion.probabilities):
            try:
                probabilities, known = estimate_of(msg.emotion)
            except ValueError as error:
                self.count('bad_voices', f'ignoring the malformed emotion of a voice window: '
                           f'{error}')
        if not self.stream.voice(seconds(msg.header.stamp), probabilities,
                                 msg.speech_probability, known):
            self.count('late_voices', 'ignoring a voice window older than the last one '
                       '(out-of-order stamps)')
        elif probabilities is not None:
            self.stamps['audio'] = msg.header.stamp

    def on_pair(self, faces, voice):
        self.counts['pairs'] += 1
        try:
            probabilities = (estimate_of(voice.emotion)[0]
                             if voice.voiced and len(voice.emotion.probabilities) else None)
            self.stream.attribute(faces_of(faces), probabilities)
        except ValueError:
            pass  # already counted by on_faces or on_voice

    def count(self, key, message):
        if key not in self.counts:
            self.get_logger().warning(f'{message}; further ones are counted in /diagnostics')
        self.counts[key] = self.counts.get(key, 0) + 1

    def tick(self):
        now = self.get_clock().now()
        estimate = self.stream.step(now.nanoseconds * 1e-9)
        msg = FusedEmotion(face_id=estimate.face_id, strategy=self.stream.params['strategy'],
                           modalities=list(estimate.weights),
                           weights=[float(w) for w in estimate.weights.values()])
        used = estimate.evidence
        newest = max(used, key=lambda m: used[m].stamp, default=None)
        msg.header.stamp = self.stamps[newest] if newest else now.to_msg()
        msg.header.frame_id = self.frame_id if 'vision' in used else ''
        msg.emotion = emotion_msg(msg.header, estimate.probabilities,
                                  max((e.reliability for e in used.values()), default=0.0))
        for modality, evidence in used.items():
            setattr(msg, modality, emotion_msg(Header(stamp=self.stamps[modality]),
                                               evidence.probabilities, evidence.reliability,
                                               evidence.known))
            self.used[modality] += 1
        self.publisher.publish(msg)
        self.counts['published'] += 1
        self.ticks += 1

    def publish_diagnostics(self):
        status = DiagnosticStatus(name=f'{self.get_fully_qualified_name()}: fusion',
                                  hardware_id='fusion')
        missing = [m for m, n in self.used.items() if self.ticks and n < self.ticks]
        if not self.ticks:
            status.level, status.message = DiagnosticStatus.WARN, 'nothing published yet'
        elif len(missing) == 2:
            status.level, status.message = DiagnosticStatus.WARN, 'no face and no voice'
        elif missing:
            status.level = DiagnosticStatus.OK
            status.message = f'{missing[0]} missing at times; fusing what is there'
        else:
            status.level, status.message = DiagnosticStatus.OK, 'fusing vision and audio'
        kappa, _ = self.stream.agreement.kappa()
        values = {**self.counts, **{f'used_{m}': n for m, n in self.used.items()},
                  'voice_trust': f'{self.stream.voice_trust():.2f}',
                  'face_voice_kappa': 'none' if kappa is None else f'{kappa:.2f}',
                  'agreement_pairs': len(self.stream.agreement.pairs)}
        status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        diagnostics = DiagnosticArray(status=[status])
        diagnostics.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics_pub.publish(diagnostics)
        self.ticks, self.used = 0, {'vision': 0, 'audio': 0}


def main(args=None):
    run(FusionNode, args)
