"""Calibrate an expression model: fit a temperature on FER-2013 PublicTest, store it in the model.

PublicTest is the validation split (never trained on); PrivateTest, the test split, is only
reported. The temperature goes into the ONNX metadata key "temperature", which
ExpressionClassifier applies; the graph is unchanged. Run it on each shipped model:

    .venv/bin/python tools/calibrate_expression.py DATA/fer2013 MODEL.onnx [MODEL.onnx ...]
"""
import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import onnx

from av_emotion.metrics import expected_calibration_error, fit_temperature
from av_emotion.runtime import tempered
from av_emotion.taxonomy import LABELS, canonical
from av_emotion_vision.expression import ExpressionClassifier


def split(root, usage, classifier):
    """(uncalibrated REP-155 probabilities, label indices) of a FER-2013 split."""
    paths = [(p, LABELS.index(canonical(d.name))) for d in sorted((root / usage).iterdir())
             for p in sorted(d.glob('*.jpg'))]
    faces = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p, _ in paths]
    probabilities = np.concatenate([classifier.classify(faces[i:i + 512])
                                    for i in range(0, len(faces), 512)])
    return probabilities, np.array([label for _, label in paths])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data', type=Path, help='FER-2013 <Usage>/<class>/*.jpg')
    parser.add_argument('models', type=Path, nargs='+')
    args = parser.parse_args()
    for path in args.models:
        classifier = ExpressionClassifier(str(path.resolve()))
        classifier.temperature = 1.0  # fit on the model's own probabilities
        fit_p, fit_y = split(args.data, 'PublicTest', classifier)
        test_p, test_y = split(args.data, 'PrivateTest', classifier)
        temperature = fit_temperature(fit_p, fit_y)
        figures = {'temperature': temperature, 'fit': 'FER-2013 PublicTest', 'ece': {
            usage: {'uncalibrated': expected_calibration_error(p, y),
                    'calibrated': expected_calibration_error(tempered(p, temperature), y)}
            for usage, p, y in (('PublicTest', fit_p, fit_y), ('PrivateTest', test_p, test_y))}}
        model = onnx.load(str(path))
        entries = [e for e in model.metadata_props if e.key != 'temperature']
        del model.metadata_props[:]
        model.metadata_props.extend(entries)
        entry = model.metadata_props.add()
        entry.key, entry.value = 'temperature', f'{temperature:.4f}'
        onnx.save(model, str(path))
        path.with_suffix('.calibration.json').write_text(json.dumps(figures, indent=1))
        print(f'{path.name}: {json.dumps(figures)}')


if __name__ == '__main__':
    main()
