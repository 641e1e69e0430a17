"""Face boxes carried from one frame to the next by optical flow, between detections.

Median flow (Kalal, Mikolajczyk and Matas 2010): a grid of points inside each box is
followed into the new frame by pyramidal Lucas-Kanade and back again; a point that does not
come back to where it started was followed wrongly. The box moves by the median displacement
of the points that came back and scales by the median change of their distances. A face
whose points mostly fail (covered, turned away, blurred by fast motion) is lost, and the
pipeline runs the detector instead. About 0.3 ms per face on a 320x240 frame, against
several for a detection.
"""
import cv2
import numpy as np

GRID = 5  # points per side of the grid in a box
# Inner part of the box the grid covers: the face's own texture, not the background.
INSET = 0.15
LUCAS_KANADE = {'winSize': (11, 11), 'maxLevel': 2,
                'criteria': (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 10, 0.03)}
# A point is followed right when it comes back within this (pixels of the flow frame).
MAX_ERROR = 1.0
# A face is lost when fewer of its points than this share are followed right ...
MIN_FOLLOWED = 0.5
# ... or when it seems to change size by more than this factor in one frame.
MAX_SCALE = 1.2


def grid(box):
    """(GRID², 2) points spread over the inside of an x, y, width, height box."""
    x, y, w, h = box
    steps = INSET + (1 - 2 * INSET) * (np.arange(GRID) + 0.5) / GRID
    xs, ys = np.meshgrid(x + w * steps, y + h * steps)
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def follow(previous, current, boxes, landmarks):
    """Boxes (n, 4) and landmarks (n, 5, 2, or None each) of `previous` (grey) moved into
    `current` (grey, same size), with each face's motion in box sides; None when a face is
    lost or leaves the frame."""
    if len(boxes) == 0:
        return [], [], []
    points = np.concatenate([grid(b) for b in boxes]).astype(np.float32)
    ahead, found, _ = cv2.calcOpticalFlowPyrLK(previous, current, points, None, **LUCAS_KANADE)
    back, returned, _ = cv2.calcOpticalFlowPyrLK(current, previous, ahead, None,
                                                 **LUCAS_KANADE)
    followed = (found[:, 0] == 1) & (returned[:, 0] == 1) & \
        (np.linalg.norm(back - points, axis=1) < MAX_ERROR)
    height, width = current.shape[:2]
    moved_boxes, moved_landmarks, motions = [], [], []
    for k, (box, marks) in enumerate(zip(boxes, landmarks)):
        part = slice(k * GRID * GRID, (k + 1) * GRID * GRID)
        ok = followed[part]
        if ok.mean() < MIN_FOLLOWED:
            return None
        start, end = points[part][ok], ahead[part][ok]
        shift = np.median(end - start, axis=0)
        i, j = np.triu_indices(len(start), 1)
        before = np.linalg.norm(start[i] - start[j], axis=1)
        scale = float(np.median(np.linalg.norm(end[i] - end[j], axis=1)[before > 0] /
                                before[before > 0]))
        if not 1 / MAX_SCALE < scale < MAX_SCALE:
            return None
        x, y, w, h = box
        centre = np.array([x + w / 2, y + h / 2])
        new_centre = centre + shift
        if not (0 <= new_centre[0] < width and 0 <= new_centre[1] < height):
            return None
        moved_boxes.append(np.array([new_centre[0] - w * scale / 2,
                                     new_centre[1] - h * scale / 2, w * scale, h * scale],
                                    dtype=np.float32))
        moved_landmarks.append(None if marks is None else
                               (new_centre + (marks - centre) * scale).astype(np.float32))
        motions.append(float(np.linalg.norm(shift)) / max(w, h))
    return moved_boxes, moved_landmarks, motions
