"""vision_node: camera images in, faces with expression probabilities out (mode: full), or
only the faces' crops for a central recogniser (mode: edge)."""
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus
from rcl_interfaces.msg import SetParametersResult
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.time import Time
from sensor_msgs.msg import CompressedImage, Image, RegionOfInterest

from av_emotion import dds
from av_emotion.hri import face_id
from av_emotion.ros import FACE_CROPS_QOS, ManagedNode, emotion_msg, run
from av_emotion_msgs.msg import Face, FaceArray, FaceCrop, FaceCropArray
from av_emotion_vision.draw import annotate
from av_emotion_vision.image import bgr_fields, compressed_to_bgr, image_to_bgr
from av_emotion_vision.pipeline import VisionPipeline

# Parameters that may change while running; the others need a restart.
LIVE = {'publish_annotated', 'detection.score_threshold', 'detection.min_face_size',
        'detection.max_faces'}
TRANSPORTS = ('raw', 'compressed')
RELIABILITY = {'best_effort': ReliabilityPolicy.BEST_EFFORT, 'reliable': ReliabilityPolicy.RELIABLE}
# Valid ranges, enforced by rclpy both at start and on every change.
RANGES = {'threads': (1, 16), 'detection.score_threshold': (0.0, 1.0),
          'detection.nms_threshold': (0.0, 1.0), 'detection.width': (32, 4096),
          'detection.min_face_size': (0, 4096), 'detection.max_faces': (1, 100),
          'expression.margin': (0.0, 1.0), 'tracking.iou_threshold': (0.0, 1.0),
          'tracking.timeout': (0.0, 60.0), 'tracking.detect_interval': (1, 1000),
          'tracking.max_drift': (0.0, 100.0)}


def roi_msg(box, image_shape):
    """RegionOfInterest of a face box (x, y, width, height), cut to the image."""
    x, y, w, h = (int(round(v)) for v in box)
    x0, y0 = max(0, x), max(0, y)
    return RegionOfInterest(x_offset=x0, y_offset=y0,
                            width=max(0, min(x + w, image_shape[1]) - x0),
                            height=max(0, min(y + h, image_shape[0]) - y0))


def face_array_msg(header, image_shape, faces, known):
    msg = FaceArray(header=header, image_height=image_shape[0], image_width=image_shape[1])
    for face in faces:
        msg.faces.append(Face(id=face.id, roi=roi_msg(face.box, image_shape),
                              detection_score=float(face.score),
                              emotion=emotion_msg(header, face.probabilities, face.score, known)))
    return msg


def face_crops_msg(header, image_shape, faces):
    """Edge mode's output: each face's box and grey crop, nothing else of the image."""
    msg = FaceCropArray(header=header, image_height=image_shape[0],
                        image_width=image_shape[1])
    for face in faces:
        side = face.crop.shape[0]
        crop = Image(header=header, height=side, width=side, encoding='mono8', step=side,
                     data=face.crop.tobytes())
        msg.faces.append(FaceCrop(id=face.id, roi=roi_msg(face.box, image_shape),
                                  detection_score=float(face.score), crop=crop))
    return msg


class VisionNode(ManagedNode):
    def __init__(self, **kwargs):
        super().__init__('vision_node', 'vision', RANGES, LIVE, **kwargs)
        self.pipeline = None
        self.add_on_set_parameters_callback(self.on_parameters)
        self.latencies_ms, self.ages_ms, self.stage_ms = [], [], {}
        # bad: dropped images by error kind since start; bad_recent: in this diagnostics period.
        self.frames, self.faces_seen, self.bad, self.bad_recent = 0, 0, {}, 0
        self.handled, self.published = 0, 0  # images (processed or dropped), face arrays
        self.window_start = time.monotonic()

    def setup(self, params):
        if params['image_transport'] not in TRANSPORTS:
            raise ValueError(f"image_transport must be one of {TRANSPORTS}, "
                             f"got {params['image_transport']!r}")
        if params['image_reliability'] not in RELIABILITY:
            raise ValueError(f"image_reliability must be one of {tuple(RELIABILITY)}, "
                             f"got {params['image_reliability']!r}")
        self.pipeline = VisionPipeline(**params)
        self.publish_annotated = params['publish_annotated']
        # Edge mode: only the crops leave; no faces, no annotated image (scene pixels).
        self.edge = params['mode'] == 'edge'
        if self.edge:
            self.crops_pub = self.output(FaceCropArray, 'face_crops', FACE_CROPS_QOS)
        else:
            self.faces_pub = self.output(FaceArray, 'faces', 10)
            self.annotated_pub = self.output(Image, 'image_annotated', 1)
        # ROS4HRI: humans/faces/tracked (the tracker's faces) and humans/faces/<id>/roi.
        self.hri = (self.hri_output({'roi': 'NormalizedRegionOfInterest2D'}, tracked=True)
                    if params['hri'] else None)

    def start(self):
        # Newest frame only: a frame that waits behind a slow one is stale when its turn comes.
        reliability = RELIABILITY[self.params['image_reliability']]
        camera_qos = QoSProfile(depth=1, reliability=reliability,
                                durability=qos_profile_sensor_data.durability)
        if self.params['image_transport'] == 'compressed':
            self.connect(self.create_subscription(CompressedImage, 'image/compressed',
                                                  self.on_compressed, camera_qos))
        else:
            self.connect(self.create_subscription(Image, 'image', self.on_image, camera_qos))
            warning = dds.profile_in_use() and dds.receive_buffer_warning()
            if warning:
                self.get_logger().warning(warning)
        if self.edge:
            return (f"edge mode: listening on {self.resolve_topic_name('image')} "
                    f"({self.params['image_transport']}), publishing "
                    f"{self.resolve_topic_name('face_crops')} "
                    f"({self.pipeline.cropper.size} px crops)")
        return (
            f"listening on {self.resolve_topic_name('image')} "
            f"({self.params['image_transport']}), model {self.params['expression.model']}")

    def release(self):
        self.pipeline = None

    def on_parameters(self, parameters):
        # rclpy has checked type, range and read-only against the descriptors already.
        # Unconfigured, they take effect at configure, which reads them.
        for p in parameters:
            if p.name == 'publish_annotated':
                self.publish_annotated = p.value
            elif self.pipeline:
                setattr(self.pipeline.detector, p.name.split('.')[1], p.value)
        return SetParametersResult(successful=True)

    def on_image(self, msg):
        self.process(msg, lambda: image_to_bgr(msg))
        self.handled += 1

    def on_compressed(self, msg):
        self.process(msg, lambda: compressed_to_bgr(msg))
        self.handled += 1

    def process(self, msg, convert):
        started = time.perf_counter()
        try:
            bgr = convert()
            frame = self.pipeline(bgr, self.stamp(msg.header))
        except Exception as error:  # noqa: BLE001 - any bad frame is dropped, never fatal
            self.reject(msg, error)
            return
        if self.edge:
            faces = face_crops_msg(msg.header, bgr.shape, frame.faces)
            self.crops_pub.publish(faces)
        else:
            faces = face_array_msg(msg.header, bgr.shape, frame.faces,
                                   self.pipeline.classifier.known)
            self.faces_pub.publish(faces)
        if self.hri:
            self.publish_hri(faces)
        self.published += 1
        if not self.edge and self.publish_annotated and \
                self.annotated_pub.get_subscription_count():
            self.annotated_pub.publish(
                Image(header=msg.header, **bgr_fields(annotate(bgr, frame.faces))))
        self.frames += 1
        self.faces_seen = len(frame.faces)
        self.latencies_ms.append(1e3 * (time.perf_counter() - started))
        now = self.get_clock().now()
        self.ages_ms.append((now - Time.from_msg(msg.header.stamp, clock_type=now.clock_type))
                            .nanoseconds * 1e-6)
        for stage, ms in frame.timings_ms.items():
            self.stage_ms.setdefault(stage, []).append(ms)

    def publish_hri(self, faces):
        """Every face the tracker holds is tracked (also one unseen in this frame, until
        tracking.timeout); the roi of each face in this frame (a FaceArray or, in edge
        mode, a FaceCropArray: boxes only, no pixels)."""
        self.hri.publish(faces.header, map(face_id, self.pipeline.tracker.tracks), {
            face_id(f.id): {'roi': self.hri.roi(faces.header, f.roi, faces.image_width,
                                                faces.image_height, f.detection_score)}
            for f in faces.faces})

    def reject(self, msg, error):
        kind = type(error).__name__
        if kind not in self.bad:
            encoding = getattr(msg, 'encoding', None) or getattr(msg, 'format', '?')
            self.get_logger().warning(
                f'dropping bad image ({encoding}, {getattr(msg, "width", "?")}x'
                f'{getattr(msg, "height", "?")}): {kind}: {error}; further {kind} errors '
                'are counted in /diagnostics')
        self.bad[kind] = self.bad.get(kind, 0) + 1
        self.bad_recent += 1

    def status(self):
        elapsed = time.monotonic() - self.window_start
        fps = self.frames / elapsed if elapsed > 0 else 0.0
        if self.bad_recent:
            level, message = DiagnosticStatus.WARN, f'{self.bad_recent} bad images dropped'
        elif not self.frames:
            level, message = DiagnosticStatus.WARN, 'no images received'
        else:
            level, message = DiagnosticStatus.OK, f'{fps:.1f} fps, {self.faces_seen} faces'
        values = {'fps': fps, 'faces': self.faces_seen, 'frames': self.frames,
                  'images': self.handled, 'bad_images': sum(self.bad.values())}
        if self.latencies_ms:
            values['latency_ms_mean'] = float(np.mean(self.latencies_ms))
            values['latency_ms_p95'] = float(np.percentile(self.latencies_ms, 95))
            values['stamp_age_ms_p95'] = float(np.percentile(self.ages_ms, 95))
            values.update({f'{stage}_ms_mean': float(np.mean(ms))
                           for stage, ms in self.stage_ms.items()})
        values.update({f'bad_{kind}': count for kind, count in self.bad.items()})
        self.frames, self.latencies_ms, self.ages_ms, self.stage_ms = 0, [], [], {}
        self.bad_recent = 0
        self.window_start = time.monotonic()
        return level, message, values


def main(args=None):
    # Before rclpy.init (in run): Fast DDS reads its profile when the participant is made.
    dds.use_camera_profile()
    run(VisionNode, args)
