"""Camera frame -> faces with stable ids and REP-155 expression probabilities (no ROS)."""
import time
from dataclasses import dataclass, field

import numpy as np

from av_emotion.config import merged
from av_emotion_vision.detector import FaceDetector
from av_emotion_vision.expression import ExpressionClassifier
from av_emotion_vision.tracker import FaceTracker


@dataclass
class Face:
    id: int
    box: np.ndarray  # x, y, width, height in pixels
    score: float  # detection score
    probabilities: np.ndarray  # REP-155 order (av_emotion.taxonomy.LABELS)


@dataclass
class Frame:
    faces: list
    timings_ms: dict = field(default_factory=dict)


class VisionPipeline:
    """Detect, classify and track faces; parameters as in config/vision.yaml.

    >>> pipeline = VisionPipeline(**{'detection.width': 480})
    >>> frame = pipeline(cv2.imread('photo.jpg'), stamp=0.0)  # BGR, as OpenCV reads it
    """

    def __init__(self, **overrides):
        p = merged('vision', overrides)
        self.params = p
        self.detector = FaceDetector(p['detection.score_threshold'], p['detection.nms_threshold'],
                                     p['detection.width'], p['detection.min_face_size'],
                                     p['detection.max_faces'], p['threads'])
        self.classifier = ExpressionClassifier(p['expression.model'], p['expression.margin'],
                                               p['threads'])
        self.tracker = FaceTracker(p['tracking.iou_threshold'], p['tracking.timeout'])

    def __call__(self, bgr, stamp):
        """Faces in a BGR uint8 image taken at `stamp` seconds."""
        if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.size == 0:
            shape = None if bgr is None else bgr.shape
            raise ValueError(f'expected a non-empty BGR image (height, width, 3), got {shape}')
        t0 = time.perf_counter()
        detections = self.detector(bgr)
        t1 = time.perf_counter()
        boxes = [d.box for d in detections]
        landmarks = [d.landmarks for d in detections] if self.params['expression.align'] \
            else None
        probabilities = self.classifier(bgr, boxes, landmarks)
        t2 = time.perf_counter()
        ids = self.tracker.update(boxes, stamp)
        t3 = time.perf_counter()
        faces = [Face(i, d.box, d.score, p) for i, d, p in zip(ids, detections, probabilities)]
        return Frame(faces, {'detect': 1e3 * (t1 - t0), 'expression': 1e3 * (t2 - t1),
                             'track': 1e3 * (t3 - t2)})
