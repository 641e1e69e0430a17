"""Face crops as an expression model takes them, and their classification with it."""
import cv2
import numpy as np

from av_emotion.runtime import (class_labels, model_temperature, packaged_model, session,
                                tempered)
from av_emotion.taxonomy import covered, to_rep155

# Eye lines tilted less than this (degrees) are left as they are.
MIN_TILT = 3.0
# A turned square of side s fits in one of side s * sqrt(2).
ROOM = 1.42


class FaceCropper:
    """Grey square face crops of `size` pixels, as an expression model takes them.

    The edge of a device (vision_node with mode: edge) and the full pipeline crop alike, so
    a central recogniser classifies exactly what a full vision_node would.
    """

    def __init__(self, size, margin=0.1):
        self.size, self.margin = size, margin

    def __call__(self, image, box, landmarks=None):
        """Grey square crop around a face box, grown by the margin, padded at the edges.

        `image` is grey or BGR; a BGR image is made grey crop by crop, not whole. With the
        detector's landmarks, the crop is turned so that the eyes are level, as the faces
        the model learnt from are (a tilted head is not another expression).
        """
        x, y, w, h = box
        side = max(w, h) * (1 + 2 * self.margin)
        cx, cy = x + w / 2, y + h / 2
        angle = 0.0 if landmarks is None else np.degrees(np.arctan2(
            landmarks[1][1] - landmarks[0][1], landmarks[1][0] - landmarks[0][0]))
        if abs(angle) < MIN_TILT:
            return resize(square(image, cx, cy, side), self.size)
        # A square large enough for the turned one, brought near the model's size first
        # (area averaging), then turned about its centre and cut to the model's size.
        big = int(np.ceil(self.size * ROOM))
        patch = cv2.resize(square(image, cx, cy, side * ROOM), (big, big),
                           interpolation=cv2.INTER_AREA)
        turn = cv2.getRotationMatrix2D((big / 2, big / 2), angle, 1.0)
        turn[:, 2] -= (big - self.size) / 2
        return cv2.warpAffine(patch, turn, (self.size, self.size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)


def square(image, cx, cy, side):
    """Grey square patch of `side` pixels centred on (cx, cy), edges replicated."""
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x1, y1 = x0 + int(round(side)), y0 + int(round(side))
    height, width = image.shape[:2]
    # The part inside the image (at least a pixel), grown to the square by replicating
    # its edges: padding the patch, not the whole frame, which would cost a frame's copy.
    xa, ya = min(max(x0, 0), width - 1), min(max(y0, 0), height - 1)
    xb, yb = max(min(x1, width), xa + 1), max(min(y1, height), ya + 1)
    patch = image[ya:yb, xa:xb]
    if patch.ndim == 3:
        patch = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)
    if (xa, ya, xb, yb) != (x0, y0, x1, y1):
        patch = cv2.copyMakeBorder(patch, max(0, ya - y0), max(0, y1 - yb), max(0, xa - x0),
                                   max(0, x1 - xb), cv2.BORDER_REPLICATE)
    return patch


def resize(patch, size):
    """A grey patch as a size x size square."""
    if patch.shape == (size, size):
        return patch
    # Area averaging suits shrinking only; enlarging small crops needs interpolation.
    shrink = patch.shape[0] > size
    return cv2.resize(patch, (size, size),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def input_size(model):
    """Side of the square crops an expression model (file or packaged name) takes."""
    return session(str(packaged_model('av_emotion_vision', model))).get_inputs()[0].shape[-1]


class ExpressionClassifier:
    """Runs a model taking grey pixels 0..255 as (n, 1, size, size) and giving probabilities.

    The model's ONNX metadata "labels" names its output classes; results are REP-155 ordered.
    A metadata key "temperature" (tools/calibrate_expression.py) calibrates them.
    """

    def __init__(self, model, threads=1):
        self.session = session(str(packaged_model('av_emotion_vision', model)), threads)
        self.labels = class_labels(self.session, model)
        self.known = covered(self.labels)  # the REP-155 labels this model can tell
        self.temperature = model_temperature(self.session)
        face = self.session.get_inputs()[0]
        self.input_name, self.size = face.name, face.shape[-1]

    def classify(self, crops):
        """REP-155 probabilities, shape (n, 7), of grey face crops of any size."""
        if len(crops) == 0:
            return np.zeros((0, 7), dtype=np.float32)
        batch = np.stack([resize(c, self.size) for c in crops]).astype(np.float32)[:, None]
        probabilities = self.session.run(None, {self.input_name: batch})[0]
        return to_rep155(tempered(probabilities, self.temperature), self.labels)
