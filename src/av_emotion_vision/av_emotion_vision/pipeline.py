"""Camera frame -> faces with stable ids and REP-155 expression probabilities (no ROS).

In edge mode (a device too weak to classify, or one whose pixels must stay on it) it stops
at the aligned face crops; a central recogniser (av_emotion_network) classifies them.
"""
import time
from dataclasses import dataclass, field

import numpy as np

from av_emotion.config import MODES, merged
from av_emotion_vision.detector import FaceDetector
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
    """Detect, track, crop and (mode full) classify faces; parameters as config/vision.yaml.

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

    def __call__(self, bgr, stamp):
        """Faces in a BGR uint8 image taken at `stamp` seconds."""
        if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.size == 0:
            shape = None if bgr is None else bgr.shape
            raise ValueError(f'expected a non-empty BGR image (height, width, 3), got {shape}')
        t0 = time.perf_counter()
        detections = self.detector(bgr)
        t1 = time.perf_counter()
        ids = self.tracker.update([d.box for d in detections], stamp)
        t2 = time.perf_counter()
        align = self.params['expression.align']
        crops = [self.cropper(bgr, d.box, d.landmarks if align else None) for d in detections]
        t3 = time.perf_counter()
        timings = {'detect': 1e3 * (t1 - t0), 'track': 1e3 * (t2 - t1), 'crop': 1e3 * (t3 - t2)}
        probabilities = [None] * len(crops)
        if self.classifier:
            probabilities = self.classifier.classify(crops)
            timings['expression'] = 1e3 * (time.perf_counter() - t3)
        faces = [Face(i, d.box, d.score, p, c)
                 for i, d, p, c in zip(ids, detections, probabilities, crops)]
        return Frame(faces, timings)
