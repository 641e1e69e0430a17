"""Stable face ids across frames: greedy IoU matching with a timeout."""
import numpy as np


def iou(a, b):
    """Intersection over union of two x, y, width, height boxes."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


class FaceTracker:
    def __init__(self, iou_threshold=0.3, timeout=1.0):
        self.iou_threshold = iou_threshold
        self.timeout = timeout
        self.tracks = {}  # id -> (box, time last seen)
        self.next_id = 1

    def update(self, boxes, stamp):
        """Ids for `boxes` seen at `stamp` (seconds); unmatched boxes open new tracks.

        A stamp older than the newest seen (a replayed or reordered frame) starts afresh,
        since overlaps with the future say nothing about identity.
        """
        if self.tracks and stamp < max(seen for _, seen in self.tracks.values()):
            self.tracks.clear()
        self.tracks = {i: t for i, t in self.tracks.items() if stamp - t[1] <= self.timeout}
        pairs = sorted(((iou(box, track[0]), b, i) for b, box in enumerate(boxes)
                        for i, track in self.tracks.items()), reverse=True)
        ids = [None] * len(boxes)
        taken = set()
        for overlap, b, i in pairs:
            if overlap < self.iou_threshold:
                break
            if ids[b] is None and i not in taken:
                ids[b] = i
                taken.add(i)
        for b, box in enumerate(boxes):
            if ids[b] is None:
                ids[b] = self.next_id
                self.next_id += 1
            self.tracks[ids[b]] = (np.asarray(box, dtype=np.float32), stamp)
        return ids
