"""Export Resemblyzer's pretrained speaker encoder to ONNX, as the voice model's front end.

Resemblyzer 0.1.4 (Apache-2.0, https://github.com/resemble-ai/Resemblyzer) ships its weights
(pretrained.pt: a 3-layer LSTM over 40-band mel power frames at 16 kHz) inside its wheel.
The ONNX graph gives the mean and standard deviation over time of the last LSTM layer's
outputs, which carry how a voice sounds (speaker, and its emotional colour) rather than
what is said. The weights are read without torch (the file is torch's legacy pickle format),
so exporting needs only the wheel:

    .venv/bin/pip download Resemblyzer==0.1.4 --no-deps -d ../cache/wheels
    .venv/bin/python tools/export_voice_encoder.py ../cache/wheels/Resemblyzer-0.1.4-py3-none-any.whl
"""
import argparse
import collections
import io
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

_MAGIC = 0x1950a86a20f9469cfc6c  # torch.save's legacy (pre-1.6) format
_DTYPES = {'FloatStorage': np.float32, 'LongStorage': np.int64}
LAYERS, HIDDEN, MELS = 3, 256, 40


def torch_legacy_state(data):
    """{name: array} of a legacy torch.save file's 'model_state'."""
    f = io.BytesIO(data)
    if pickle.load(f) != _MAGIC:
        raise SystemExit('not a legacy torch.save file')
    pickle.load(f), pickle.load(f)  # protocol version, system info
    kinds, tensors = {}, []

    def rebuild(storage, offset, size, stride, *_):
        tensors.append((storage, offset, size, stride))
        return len(tensors) - 1

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ('torch._utils', '_rebuild_tensor_v2'):
                return rebuild
            if module == 'torch' and name in _DTYPES:
                return name
            if (module, name) == ('collections', 'OrderedDict'):
                return collections.OrderedDict
            raise pickle.UnpicklingError(f'unexpected {module}.{name}')

        def persistent_load(self, pid):
            kinds[pid[2]] = pid[1]
            return pid[2]

    state = Unpickler(f).load()['model_state']
    storages = {}
    for key in pickle.load(f):
        count = struct.unpack('<q', f.read(8))[0]
        dtype = np.dtype(_DTYPES[kinds[key]])
        storages[key] = np.frombuffer(f.read(count * dtype.itemsize), dtype)
    out = {}
    for name, index in state.items():
        storage, offset, size, stride = tensors[index]
        base = storages[storage][offset:]
        out[name] = np.lib.stride_tricks.as_strided(
            base, size, [s * base.itemsize for s in stride]).copy()
    return out


def onnx_gates(weight):
    """torch's LSTM gate blocks (input, forget, cell, output) in ONNX order (i, o, f, c)."""
    i, f, c, o = np.split(weight, 4, axis=0)
    return np.concatenate([i, o, f, c])[None]


def encoder_graph(state):
    nodes, inits = [], []
    x = 'mel'
    for layer in range(LAYERS):
        w, r, b = f'W{layer}', f'R{layer}', f'B{layer}'
        inits += [numpy_helper.from_array(onnx_gates(state[f'lstm.weight_ih_l{layer}']), w),
                  numpy_helper.from_array(onnx_gates(state[f'lstm.weight_hh_l{layer}']), r),
                  numpy_helper.from_array(np.concatenate(
                      [onnx_gates(state[f'lstm.bias_ih_l{layer}'][:, None])[..., 0],
                       onnx_gates(state[f'lstm.bias_hh_l{layer}'][:, None])[..., 0]], axis=1), b)]
        nodes.append(helper.make_node('LSTM', [x, w, r, b], [f'y{layer}'], hidden_size=HIDDEN))
        nodes.append(helper.make_node('Squeeze', [f'y{layer}', 'axis1'], [f'h{layer}']))
        x = f'h{layer}'
    inits.append(numpy_helper.from_array(np.array([1], np.int64), 'axis1'))
    inits.append(numpy_helper.from_array(np.array([0], np.int64), 'axis0'))
    nodes += [helper.make_node('ReduceMean', [x, 'axis0'], ['mean'], keepdims=0),
              helper.make_node('Sub', [x, 'mean'], ['centred']),
              helper.make_node('Mul', ['centred', 'centred'], ['square']),
              helper.make_node('ReduceMean', ['square', 'axis0'], ['var'], keepdims=0),
              helper.make_node('Sqrt', ['var'], ['std']),
              helper.make_node('Concat', ['mean', 'std'], ['stats'], axis=1)]
    graph = helper.make_graph(
        nodes, 'voice_encoder',
        [helper.make_tensor_value_info('mel', TensorProto.FLOAT, ['frames', 1, MELS])],
        [helper.make_tensor_value_info('stats', TensorProto.FLOAT, [1, 2 * HIDDEN])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 18)])
    for key, value in {
            'input': 'mel power frames (frames, 1, 40) of 16 kHz speech at -30 dBFS: 25 ms '
                     'Hann window, 10 ms hop, Slaney mel (av_emotion_audio.voice_encoder)',
            'output': 'mean and standard deviation over frames of the last LSTM layer (512)',
            'source': 'Resemblyzer 0.1.4 pretrained.pt (Apache-2.0, Resemble AI), converted by '
                      'av_emotion tools/export_voice_encoder.py'}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model


def reference(state, mel):
    """The same statistics by torch's LSTM equations in numpy, to check the graph."""
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    x = mel[:, 0].astype(np.float64)
    for layer in range(LAYERS):
        w, r = state[f'lstm.weight_ih_l{layer}'], state[f'lstm.weight_hh_l{layer}']
        b = state[f'lstm.bias_ih_l{layer}'] + state[f'lstm.bias_hh_l{layer}']
        h, c, out = np.zeros(HIDDEN), np.zeros(HIDDEN), []
        for t in range(len(x)):
            i, f, g, o = np.split(w @ x[t] + r @ h + b, 4)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            out.append(h)
        x = np.array(out)
    return np.concatenate([x.mean(axis=0), x.std(axis=0)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('wheel', type=Path, help='Resemblyzer-0.1.4-py3-none-any.whl')
    parser.add_argument('--out', type=Path,
                        default=Path('src/av_emotion_audio/av_emotion_audio/models/voice_encoder.onnx'))
    args = parser.parse_args()
    try:
        with zipfile.ZipFile(args.wheel) as wheel:
            state = torch_legacy_state(wheel.read('resemblyzer/pretrained.pt'))
    except (OSError, KeyError, zipfile.BadZipFile) as error:
        raise SystemExit(f'{args.wheel}: not a Resemblyzer 0.1.4 wheel ({error})')
    model = encoder_graph(state)
    onnx.save(model, str(args.out))

    import onnxruntime
    mel = np.random.default_rng(0).gamma(0.5, 0.02, (120, 1, MELS)).astype(np.float32)
    session = onnxruntime.InferenceSession(str(args.out), providers=['CPUExecutionProvider'])
    error = np.abs(session.run(None, {'mel': mel})[0][0] - reference(state, mel)).max()
    if error > 1e-4:
        raise SystemExit(f'exported graph differs from the reference by {error:.2e}')
    print(f'wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB; max error {error:.1e})')


if __name__ == '__main__':
    main()
