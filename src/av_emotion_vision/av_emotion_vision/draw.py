"""Annotated image: face boxes, track ids, top label and a probability bar per class."""
import cv2
import numpy as np

from av_emotion.taxonomy import LABELS

# BGR colour per REP-155 label, in LABELS order.
COLOURS = [(200, 200, 200), (0, 200, 255), (255, 120, 0), (0, 0, 230), (255, 0, 200),
           (0, 160, 0), (120, 0, 160)]
FONT = cv2.FONT_HERSHEY_SIMPLEX


def annotate(bgr, faces):
    """A copy of `bgr` with each pipeline Face drawn on it."""
    out = bgr.copy()
    scale = max(0.35, out.shape[0] / 1000)
    row = int(18 * scale / 0.5)
    for face in faces:
        x, y, w, h = (int(v) for v in face.box)
        top = int(np.argmax(face.probabilities))
        colour = COLOURS[top]
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, 2)
        cv2.putText(out, f'#{face.id} {LABELS[top]} {face.probabilities[top]:.2f}',
                    (x, max(row, y - 6)), FONT, scale, colour, 1, cv2.LINE_AA)
        # Bars to the right of the box, or to its left when they would leave the image.
        bar_x = x + w + 6 if x + w + 6 + 5 * row < out.shape[1] else max(0, x - 6 - 5 * row)
        for k, (label, p) in enumerate(zip(LABELS, face.probabilities)):
            by = y + k * row
            cv2.rectangle(out, (bar_x, by + 2), (bar_x + int(p * 2 * row), by + row - 2),
                          COLOURS[k], -1)
            cv2.putText(out, label[:3], (bar_x + 2 * row + 4, by + row - 4), FONT, scale * 0.8,
                        COLOURS[k], 1, cv2.LINE_AA)
    return out
