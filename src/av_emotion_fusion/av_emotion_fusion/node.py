"""fusion_node: faces and voice in, one fused emotion of the speaker out, at a steady rate."""
from diagnostic_msgs.msg import DiagnosticStatus
from message_filters import ApproximateTimeSynchronizer, SimpleFilter
from rcl_interfaces.msg import SetParametersResult
from std_msgs.msg import Header

from av_emotion.hri import face_id
from av_emotion.ros import (ManagedNode, StampError, emotion_msg, probabilities_of, result_qos,
                            run, to_time)
from av_emotion.taxonomy import covered
from av_emotion_fusion.clock import MIN_SAMPLES, Clocks
from av_emotion_fusion.stream import Face, FusionStream
from av_emotion_msgs.msg import FaceArray, FusedEmotion, Voice

LIVE = {'weights.vision', 'weights.audio', 'max_age', 'face_full_height',
        'smoothing.time_constant', 'agreement.enabled'}
RANGES = {'weights.vision': (0.0, 100.0), 'weights.audio': (0.0, 100.0),
          'max_age': (0.0, 60.0), 'face_full_height': (1, 4096),
          'smoothing.time_constant': (0.0, 60.0), 'rate': (0.1, 200.0),
          'sync.queue_size': (1, 1000), 'sync.slop': (0.0, 10.0),
          'clock.tolerance': (0.0, 86400.0), 'clock.window': (MIN_SAMPLES, 10000),
          'agreement.window': (1, 100000), 'agreement.expected': (0.01, 1.0),
          'agreement.prior_pairs': (0, 100000), 'calibration.weighted': (0.05, 20.0),
          'calibration.product': (0.05, 20.0)}


def unit(name, value):
    """value, if a finite number in [0, 1]; else ValueError."""
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise ValueError(f'{name} {value} is not in [0, 1]')
    return value


def estimate_of(emotion):
    """(REP-155 probabilities, known labels) of an Emotion message; ValueError if malformed."""
    return probabilities_of(emotion), covered(emotion.labels)


def faces_of(msg):
    """The faces of a FaceArray that have an estimate; ValueError if one is malformed."""
    faces = []
    for f in msg.faces:
        if len(f.emotion.probabilities):
            probabilities, known = estimate_of(f.emotion)
            faces.append(Face(f.id, probabilities, unit('detection_score', f.detection_score),
                              f.roi.width, f.roi.height, known))
    return faces


def voice_of(msg):
    """(REP-155 probabilities, known labels) of a Voice message, (None, None) when it was
    not voiced; ValueError if malformed."""
    unit('speech_probability', msg.speech_probability)
    if msg.voiced and len(msg.emotion.probabilities):
        return estimate_of(msg.emotion)
    return None, None


class FusionNode(ManagedNode):
    def __init__(self, **kwargs):
        super().__init__('fusion_node', 'fusion', RANGES, LIVE, **kwargs)
        self.stream = None
        self.add_on_set_parameters_callback(self.on_parameters)
        self.frame_id = ''
        # Header stamps of the evidence the stream holds, passed on exactly (not via float).
        self.stamps = {}
        # Since start; ticks and used: in this diagnostics period.
        self.counts = {'faces': 0, 'voices': 0, 'pairs': 0, 'published': 0}
        self.ticks, self.used = 0, {'vision': 0, 'audio': 0}

    def setup(self, params):
        self.stream = FusionStream(**params)
        self.clocks = Clocks(('faces', 'voice'), **params)
        self.publisher = self.output(FusedEmotion, 'emotion', result_qos(params['rate']))
        # ROS4HRI: humans/faces/<id>/expression (vision_node publishes the tracked list).
        self.hri = self.hri_output({'expression': 'Expression'}) if params['hri'] else None

    def start(self):
        p = self.params
        self.connect(self.create_subscription(FaceArray, 'faces', self.on_faces, 10))
        self.connect(self.create_subscription(Voice, 'voice', self.on_voice, 10))
        # Pairs each voice window with the frame at its end: whose voice it is. Only input
        # that passed the checks reaches it.
        self.faces_in, self.voice_in = SimpleFilter(), SimpleFilter()
        self.sync = ApproximateTimeSynchronizer([self.faces_in, self.voice_in],
                                                p['sync.queue_size'], p['sync.slop'])
        self.sync.registerCallback(self.on_pair)
        self.sent_early = False  # this period's estimate went out with a frame (on_faces)
        self.output_timer = self.connect(self.create_timer(1.0 / p['rate'], self.tick))
        return (
            f"fusing {self.resolve_topic_name('faces')} and {self.resolve_topic_name('voice')} "
            f"({p['strategy']}) at {p['rate']} Hz")

    def release(self):
        self.stream = self.clocks = None

    def on_parameters(self, parameters):
        # Unconfigured, they take effect at configure, which reads them.
        if self.stream:
            self.stream.params.update((p.name, p.value) for p in parameters)
        return SetParametersResult(successful=True)

    def on_faces(self, msg):
        self.take_faces(msg)
        # Counted once handled, its estimate published: replay waits for this count.
        self.counts['faces'] += 1

    def take_faces(self, msg):
        try:
            stamp, faces = self.clocked('faces', msg.header), faces_of(msg)
        except StampError as error:
            self.count('bad_stamps', f'ignoring a face array: {error}')
            return
        except ValueError as error:
            self.count('bad_faces', f'ignoring a face array with a malformed estimate: {error}')
            return
        if not self.stream.faces(stamp, faces):
            self.count('late_faces', 'ignoring a face array older than the last one '
                       '(out-of-order stamps)')
            return
        self.frame_id = msg.header.frame_id
        self.stamps['vision'] = msg.header.stamp
        msg.header.stamp = to_time(stamp)  # the synchroniser pairs stamps on this clock
        self.faces_in.signalMessage(msg)
        # The first frame of a timer period takes that period's estimate with it, now: the
        # fused result then lags the camera by the processing only, not by up to a period
        # more; the timer publishes only for a period without a frame. Still one estimate a
        # period, whatever the inputs do.
        if not self.sent_early:
            self.publish_estimate()
            self.sent_early = True

    def on_voice(self, msg):
        self.counts['voices'] += 1
        try:
            stamp = self.clocked('voice', msg.header)
            probabilities, known = voice_of(msg)
        except StampError as error:
            self.count('bad_stamps', f'ignoring a voice window: {error}')
            return
        except ValueError as error:
            self.count('bad_voices', f'ignoring a malformed voice window: {error}')
            return
        if not self.stream.voice(stamp, probabilities, msg.speech_probability, known):
            self.count('late_voices', 'ignoring a voice window older than the last one '
                       '(out-of-order stamps)')
            return
        if probabilities is not None:
            self.stamps['audio'] = msg.header.stamp
        msg.header.stamp = to_time(stamp)
        self.voice_in.signalMessage(msg)

    def clocked(self, name, header):
        """Seconds of an input's header stamp on this node's clock: the stamp adds to the
        estimate of the input's clock offset, is corrected by it (clock.*), and is then
        checked as stamp() checks; StampError if it cannot be right. Correcting first lets
        a device whose clock is ahead in; a lone wild stamp moves no estimate and is
        refused."""
        now = self.get_clock().now()
        if header.stamp.sec >= 0 and now.nanoseconds:  # 0: sim time before its first /clock
            self.clocks.add(name, header.stamp.sec + header.stamp.nanosec * 1e-9,
                            now.nanoseconds * 1e-9)
            spread = self.clocks.drifted_apart()
            if spread is not None:
                self.get_logger().warning(
                    f'the clocks of faces and voice differ by {spread:.2f} s (offset plus '
                    'delay; clock_offset_* in /diagnostics), more than sync.slop: ' + (
                        'their stamps are corrected (clock.correct)' if self.clocks.corrected()
                        else 'not corrected (clock.tolerance, clock.correct), so they will '
                        'not pair; synchronise the clocks (chrony)'))
        return self.stamp(header, self.clocks.correction(name))

    def on_pair(self, faces, voice):
        self.counts['pairs'] += 1
        self.stream.attribute(faces_of(faces), voice_of(voice)[0])

    def tick(self):
        if self.sent_early:
            self.sent_early = False
            return
        self.publish_estimate()

    def publish_estimate(self):
        now = self.get_clock().now()
        estimate = self.stream.step(now.nanoseconds * 1e-9)
        msg = FusedEmotion(face_id=estimate.face_id, strategy=self.stream.params['strategy'],
                           modalities=list(estimate.weights),
                           weights=[float(w) for w in estimate.weights.values()])
        used = estimate.evidence
        newest = max(used, key=lambda m: used[m].stamp, default=None)
        msg.header.stamp = self.stamps[newest] if newest else now.to_msg()
        msg.header.frame_id = self.frame_id if 'vision' in used else ''
        msg.emotion = emotion_msg(msg.header, estimate.probabilities)
        msg.emotion.confidence = estimate.confidence
        for modality, evidence in used.items():
            setattr(msg, modality, emotion_msg(Header(stamp=self.stamps[modality]),
                                               evidence.probabilities, evidence.reliability,
                                               evidence.known))
            self.used[modality] += 1
        self.publisher.publish(msg)
        if self.hri:
            self.publish_hri(now.nanoseconds * 1e-9, msg)
        self.counts['published'] += 1
        self.ticks += 1

    def publish_hri(self, now, fused):
        """The expression of each face of the newest frame: the fused one for the face it is
        about, each other face's own. A face's topic stays while it is seen within max_age."""
        expressions = {}
        for face in self.stream.current(now):
            emotion = (fused.emotion if face.id == fused.face_id and fused.emotion.label else
                       emotion_msg(Header(stamp=self.stamps['vision'], frame_id=self.frame_id),
                                   face.probabilities, face.score, face.known))
            expressions[face_id(face.id)] = {'expression': self.hri.expression(emotion)}
        self.hri.publish(fused.header, map(face_id, self.stream.present(now)), expressions)

    def status(self):
        missing = [m for m, n in self.used.items() if self.ticks and n < self.ticks]
        if not self.ticks:
            level, message = DiagnosticStatus.WARN, 'nothing published yet'
        elif len(missing) == 2:
            level, message = DiagnosticStatus.WARN, 'no face and no voice'
        elif missing:
            level = DiagnosticStatus.OK
            message = f'{missing[0]} missing at times; fusing what is there'
        else:
            level, message = DiagnosticStatus.OK, 'fusing vision and audio'
        kappa, _ = self.stream.agreement.kappa()
        offsets = {f'clock_offset_{name}': 'none' if e is None else f'{e:.3f}'
                   for name, e in self.clocks.estimates().items()}
        values = {**self.counts, **{f'used_{m}': n for m, n in self.used.items()},
                  **offsets, 'clock_corrected': self.clocks.corrected(),
                  'voice_trust': f'{self.stream.voice_trust():.2f}',
                  'face_voice_kappa': 'none' if kappa is None else f'{kappa:.2f}',
                  'agreement_pairs': len(self.stream.agreement.pairs)}
        self.ticks, self.used = 0, {'vision': 0, 'audio': 0}
        return level, message, values


def main(args=None):
    run(FusionNode, args)
