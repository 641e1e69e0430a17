"""Camera frame -> faces with stable ids and REP-155 expression probabilities (no ROS).

In edge mode (a device too weak to classify, or one whose pixels must stay on it) it stops
at the aligned face crops; a central recogniser (av_emotion_network) classifies them.
"""
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from av_emotion.config import MODES, merged
from av_emotion_vision.detector import Detection, FaceDetector
from av_emotion_vision.flow import follow
from av_emotion_vision.expression import ExpressionClassifier, FaceCropper, input_size
from av_emotion_vision.tracker import FaceTracker


@dataclass
class Face:
    id: int
    box: np.ndarray  # x, y, width, height in pixels
    score: float  # detection score
    probabilities: np.ndarray  # REP-155 order (av_emotion.taxonomy.LABELS); None in edge mode
    crop: np.ndarray = None  # grey square, what the expression model takes


@dataclass
class Frame:
    faces: list
    timings_ms: dict = field(default_factory=dict)


class VisionPipeline:
    """Detect (or follow by optical flow between detections), track, crop and (mode full)
    classify faces; parameters as config/vision.yaml.

    >>> pipeline = VisionPipeline(**{'detection.width': 480})
    >>> frame = pipeline(cv2.imread('photo.jpg'), stamp=0.0)  # BGR, as OpenCV reads it
    """

    def __init__(self, **overrides):
        p = merged('vision', overrides)
        if p['mode'] not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {p['mode']!r}")
        self.params = p
        self.detector = FaceDetector(p['detection.score_threshold'], p['detection.nms_threshold'],
                                     p['detection.width'], p['detection.min_face_size'],
                                     p['detection.max_faces'], p['threads'])
        # In edge mode the model is not loaded to run: only the size of its crops is needed.
        self.classifier = ExpressionClassifier(p['expression.model'], p['threads']) \
            if p['mode'] == 'full' else None
        self.cropper = FaceCropper(self.classifier.size if self.classifier else
                                   input_size(p['expression.model']), p['expression.margin'])
        self.tracker = FaceTracker(p['tracking.iou_threshold'], p['tracking.timeout'])
        # The previous frame (grey, detector-sized), its stamp and faces; frames since the
        # last detection and the motion (box sides) since then.
        self.previous, self.since_detection, self.drift = None, 0, 0.0

    def __call__(self, bgr, stamp):
        """Faces in a BGR uint8 image taken at `stamp` seconds."""
        if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.size == 0:
            shape = None if bgr is None else bgr.shape
            raise ValueError(f'expected a non-empty BGR image (height, width, 3), got {shape}')
        t0 = time.perf_counter()
        # Grey once for the whole frame (crops come from it), shrunk for the flow.
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        scale = min(1.0, self.params['detection.width'] / bgr.shape[1])
        small = grey if scale == 1.0 else cv2.resize(
            grey, (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale)),
            interpolation=cv2.INTER_AREA)
        detections = self.carried(small, scale, stamp)
        t1 = time.perf_counter()
        if detections is None:
            detections = self.detector(bgr)
            self.since_detection, self.drift = 0, 0.0
        t2 = time.perf_counter()
        self.previous = (small, stamp, detections)
        ids = self.tracker.update([d.box for d in detections], stamp)
        t3 = time.perf_counter()
        crops = [self.crop(grey, small, scale, d) for d in detections]
        t4 = time.perf_counter()
        # Stages that did not run this frame are 0, so that means over frames add up.
        timings = {'flow': 1e3 * (t1 - t0), 'detect': 1e3 * (t2 - t1),
                   'track': 1e3 * (t3 - t2), 'crop': 1e3 * (t4 - t3)}
        probabilities = [None] * len(crops)
        if self.classifier:
            probabilities = self.classifier.classify(crops)
            timings['expression'] = 1e3 * (time.perf_counter() - t4)
        faces = [Face(i, d.box, d.score, p, c)
                 for i, d, p, c in zip(ids, detections, probabilities, crops)]
        return Frame(faces, timings)

    def crop(self, grey, small, scale, face):
        """A face's crop. One at least twice the crop's side in the detector-sized frame is
        cut from that frame, which area averaging made from the full one: shrinking it
        again to the crop gives the crop to within a few grey levels, from a quarter of the
        pixels (0.15 ms against 0.6 for a face filling half a 640x480 frame)."""
        marks = face.landmarks if self.params['expression.align'] else None
        if scale < 1.0 and min(face.box[2:]) * scale >= 2 * self.cropper.size:
            return self.cropper(small, face.box * scale, None if marks is None else marks * scale)
        return self.cropper(grey, face.box, marks)

    def carried(self, grey, scale, stamp):
        """The previous frame's faces followed into this one by optical flow, or None when
        the detector must run: every tracking.detect_interval frames (a face that enters is
        found within that many), once the faces have moved tracking.max_drift box sides
        since the last detection (fast motion: sooner), when a face is lost, and when this
        frame does not follow the previous one (another size, a stamp not later, a gap
        longer than tracking.timeout)."""
        if self.previous is None:
            return None
        p = self.params
        previous, previous_stamp, faces = self.previous
        if (self.since_detection + 1 >= p['tracking.detect_interval'] or
                self.drift > p['tracking.max_drift'] or previous.shape != grey.shape or
                not 0 < stamp - previous_stamp <= p['tracking.timeout']):
            return None
        moved = follow(previous, grey, [d.box * scale for d in faces],
                       [None if d.landmarks is None else d.landmarks * scale for d in faces])
        if moved is None:
            return None
        self.since_detection += 1
        self.drift += max(moved[2], default=0.0)
        return [Detection(box / scale, d.score, None if marks is None else marks / scale)
                for d, box, marks in zip(faces, *moved[:2])]
