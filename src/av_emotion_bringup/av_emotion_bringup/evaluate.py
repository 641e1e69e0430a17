"""av-emotion-eval: accuracy, macro-F1 and confusion matrix on a labelled folder.

    av-emotion-eval vision --data DIR --json OUT.json
    av-emotion-eval audio --data DIR --json OUT.json

vision: DIR holds `<label>/<image>` (REP-155 names or dataset names such as fear, disgust),
or the FER-2013 layout `<Usage>/<class>/*.jpg`, of which --split (PrivateTest) is used.
audio: DIR holds `<label>/<clip>` (wav or flac, any rate), or RAVDESS files
(`Actor_XX/03-01-...wav`), of which --actors (21-24, the test actors) are used; a clip's
prediction is the mean over its voiced 2 s windows.
The confusion matrix is drawn next to the JSON (OUT.png).
"""
import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from av_emotion.datasets import ravdess
from av_emotion.metrics import plot_confusion, report
from av_emotion.taxonomy import LABELS, canonical

IMAGE_SUFFIXES = {'.jpg', '.jpeg', '.png', '.bmp', '.webp'}
AUDIO_SUFFIXES = {'.wav', '.flac'}
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


def ravdess_files(root, actors):
    """(path, label) of RAVDESS speech files of the given actors, or [] if none are named so."""
    items = []
    for path in sorted(root.rglob('03-01-*')):
        if path.suffix.lower() in AUDIO_SUFFIXES:
            label, actor = ravdess(path)
            if actor in actors:
                items.append((path, label))
    return items


def evaluate_audio(args):
    import soundfile as sf
    from av_emotion_audio.pipeline import AudioPipeline

    first, last = (int(a) for a in args.actors.split('-'))
    items = ravdess_files(args.data, range(first, last + 1))
    if items:
        print(f'RAVDESS layout: actors {args.actors}')
    else:
        items = labelled_files(args.data, AUDIO_SUFFIXES)
    if not items:
        sys.exit(f'no labelled clips under {args.data}/<label>/ and no RAVDESS files')
    pipeline = AudioPipeline(**{'emotion.model': args.model} if args.model else {})
    truth, predicted, unvoiced = [], [], 0
    for path, label in tqdm(items, desc='audio', unit='clip'):
        samples, rate = sf.read(str(path), dtype='float32', always_2d=True)
        voices = pipeline.clip(samples.mean(axis=1), rate)
        voiced = [v.probabilities for v in voices if v.voiced]
        if not voiced:  # still ask the model, about the most speech-like window
            unvoiced += 1
            best = max(voices, key=lambda v: v.speech_probability)
            voiced = pipeline.classifier(best.features.model_input[None])
        truth.append(label)
        predicted.append(LABELS[int(np.argmax(np.mean(voiced, axis=0)))])
    result = report(truth, predicted)
    result.update(model=pipeline.params['emotion.model'], data=str(args.data),
                  unvoiced_clips=unvoiced)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('modality', choices=['vision', 'audio'])
    parser.add_argument('--data', type=Path, required=True)
    parser.add_argument('--json', type=Path, required=True)
    parser.add_argument('--split', default='PrivateTest', choices=FER_SPLITS,
                        help='FER-2013 split to evaluate (FER layout only)')
    parser.add_argument('--actors', default='21-24',
                        help='RAVDESS actors to evaluate (RAVDESS layout only)')
    parser.add_argument('--model', help='model file (default: from config/<modality>.yaml)')
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f'--data {args.data} is not a folder')

    result = evaluate_vision(args) if args.modality == 'vision' else evaluate_audio(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    png = args.json.with_suffix('.png')
    plot_confusion(result, png, f'{args.modality}: {result["data"]}')
    print(f"{args.modality}: accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f}, "
          f"n={result['n']} -> {args.json}, {png}")


if __name__ == '__main__':
    main()
