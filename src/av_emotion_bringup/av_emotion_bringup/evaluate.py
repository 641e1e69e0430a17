"""av-emotion-eval: accuracy, macro-F1 and confusion matrix on a labelled folder.

    av-emotion-eval vision --data DIR --json OUT.json

DIR holds `<label>/<image>` (REP-155 names or dataset names such as fear, disgust), or the
FER-2013 image-folder layout `<Usage>/<class>/*.jpg`, of which --split (PrivateTest) is used.
The confusion matrix is drawn next to the JSON (OUT.png).
"""
import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from av_emotion.metrics import plot_confusion, report
from av_emotion.taxonomy import LABELS, canonical

IMAGE_SUFFIXES = {'.jpg', '.jpeg', '.png', '.bmp', '.webp'}
FER_SPLITS = ('Training', 'PublicTest', 'PrivateTest')
# Images this small are face crops already (FER-2013 is 48x48): classified whole.
CROP_SIDE = 128


def labelled_files(root, suffixes):
    """(path, REP-155 label) for every file under root/<label>/; other folders are skipped."""
    items, skipped = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        label = canonical(folder.name)
        if label is None:
            skipped.append(folder.name)
            continue
        items += [(f, label) for f in sorted(folder.rglob('*')) if f.suffix.lower() in suffixes]
    if skipped:
        print(f'skipping folders that name no REP-155 class: {", ".join(skipped)}')
    return items


def evaluate_vision(args):
    from av_emotion_vision.pipeline import VisionPipeline

    root = args.data
    splits = [split for split in FER_SPLITS if (root / split).is_dir()]
    if splits:
        if args.split not in splits:
            sys.exit(f'{root} has FER-2013 splits {splits}, not {args.split} (see --split)')
        root = root / args.split
        print(f'FER-2013 layout: evaluating {root}')
    items = labelled_files(root, IMAGE_SUFFIXES)
    if not items:
        sys.exit(f'no labelled images under {root}/<label>/')
    pipeline = VisionPipeline(**{'expression.model': args.model} if args.model else {})
    truth, predicted, detected, whole = [], [], 0, 0
    for path, label in tqdm(items, desc='vision', unit='img'):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            print(f'unreadable image skipped: {path}')
            continue
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        faces = [] if max(grey.shape) <= CROP_SIDE else pipeline.detector(bgr)
        if faces:
            largest = max(faces, key=lambda f: f.box[2] * f.box[3])
            probabilities = pipeline.classifier(grey, [largest.box])[0]
            detected += 1
        else:
            probabilities = pipeline.classifier.classify([grey])[0]
            whole += 1
        truth.append(label)
        predicted.append(LABELS[int(np.argmax(probabilities))])
    result = report(truth, predicted)
    result.update(model=pipeline.params['expression.model'], data=str(root),
                  faces_detected=detected, classified_whole=whole)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('modality', choices=['vision'])
    parser.add_argument('--data', type=Path, required=True)
    parser.add_argument('--json', type=Path, required=True)
    parser.add_argument('--split', default='PrivateTest', choices=FER_SPLITS,
                        help='FER-2013 split to evaluate (FER layout only)')
    parser.add_argument('--model', help='expression model (default: from config/vision.yaml)')
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f'--data {args.data} is not a folder')

    result = evaluate_vision(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    png = args.json.with_suffix('.png')
    plot_confusion(result, png, f'{args.modality}: {result["data"]}')
    print(f"{args.modality}: accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f}, "
          f"n={result['n']} -> {args.json}, {png}")


if __name__ == '__main__':
    main()
