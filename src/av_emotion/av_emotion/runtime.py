"""ONNX Runtime sessions set up for small CPUs (Raspberry Pi, Jetson, 2-core laptops)."""
import os
from importlib.resources import files
from pathlib import Path

import onnxruntime as ort


def session(model, threads=1):
    """An InferenceSession on the CPU using `threads` intra-op threads.

    Spinning is off: several sessions (detector, classifier, other nodes) share few cores,
    and spin-waiting threads would steal them from each other.
    """
    if isinstance(model, (str, os.PathLike)) and not os.path.isfile(model):
        raise FileNotFoundError(f'model file not found: {model}')
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=['CPUExecutionProvider'])


def packaged_model(package, name):
    """A model shipped in `package`'s models/ folder, or `name` itself when it is a path."""
    path = Path(name)
    return path if path.is_absolute() else Path(str(files(package) / 'models' / name))


def class_labels(model_session, model):
    """Output class names from the ONNX metadata key "labels" (comma-separated)."""
    meta = model_session.get_modelmeta().custom_metadata_map
    if 'labels' not in meta:
        raise ValueError(f'{model}: ONNX metadata has no "labels" entry naming the classes')
    return meta['labels'].split(',')
