"""Quantise an expression model to int8 (ONNX Runtime static quantisation, QDQ).

Calibrates activations on FER-2013 `Training` faces (never the test split) and keeps the
model's metadata. About 1.7x faster per face on a CPU without VNNI; evaluate the result
with av-emotion-eval before shipping it.

    .venv/bin/python tools/quantize_expression.py DATA/Training IN.onnx OUT.onnx
"""
import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
import onnx
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quant_pre_process, quantize_static)


class Faces(CalibrationDataReader):
    def __init__(self, paths, name, size):
        self.batches = iter(
            {name: cv2.resize(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), (size, size))
             .astype(np.float32)[None, None]} for p in paths)

    def get_next(self):
        return next(self.batches, None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('training', type=Path, help='FER-2013 Training folder (<class>/*.jpg)')
    parser.add_argument('model', type=Path)
    parser.add_argument('out', type=Path)
    parser.add_argument('--faces', type=int, default=500, help='calibration faces')
    args = parser.parse_args()

    source = onnx.load(str(args.model))
    face = source.graph.input[0]
    size = face.type.tensor_type.shape.dim[-1].dim_value
    paths = sorted(args.training.glob('*/*.jpg'))
    paths = paths[::max(1, len(paths) // args.faces)]
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / 'prepared.onnx'
        quant_pre_process(str(args.model), str(prepared), skip_symbolic_shape=True)
        quantize_static(str(prepared), str(args.out), Faces(paths, face.name, size),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    quantised = onnx.load(str(args.out))
    del quantised.metadata_props[:]
    quantised.metadata_props.extend(source.metadata_props)
    entry = quantised.metadata_props.add()
    entry.key, entry.value = 'quantised', f'int8 QDQ, calibrated on {len(paths)} Training faces'
    onnx.save(quantised, str(args.out))
    print(f'wrote {args.out} ({len(paths)} calibration faces)')


if __name__ == '__main__':
    main()
