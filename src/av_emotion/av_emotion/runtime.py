"""ONNX Runtime sessions set up for small CPUs (Raspberry Pi, Jetson, 2-core laptops)."""
import os
from importlib.resources import files
from pathlib import Path

import numpy as np
import onnxruntime as ort

from av_emotion.taxonomy import covered, to_rep155


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


def model_temperature(model_session):
    """The calibration temperature in the ONNX metadata key "temperature"; 1 without one."""
    return float(model_session.get_modelmeta().custom_metadata_map.get('temperature', 1.0))


def tempered(probabilities, temperature):
    """Probabilities calibrated by a temperature: p ** (1 / T), renormalised per row."""
    if temperature == 1.0:
        return probabilities
    probabilities = np.power(np.maximum(probabilities, 1e-12), 1.0 / temperature)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


class ProbabilityModel:
    """An ONNX classifier of feature rows whose output `probabilities` has its columns named
    in the metadata key "labels"; gives REP-155 probabilities (n, 7).

    A metadata key "temperature" (fitted on training-side data) calibrates them:
    p ** (1 / T), renormalised.
    """

    def __init__(self, package, model, threads=1):
        self.session = session(str(packaged_model(package, model)), threads)
        self.labels = class_labels(self.session, model)
        self.known = covered(self.labels)  # the REP-155 labels this model can tell
        self.meta = self.session.get_modelmeta().custom_metadata_map
        self.temperature = model_temperature(self.session)
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = next(o.name for o in self.session.get_outputs()
                                if o.name == 'probabilities')

    def __call__(self, rows):
        rows = np.asarray(rows, np.float32).reshape(len(rows), -1)
        probabilities = self.session.run([self.output_name], {self.input_name: rows})[0]
        return to_rep155(tempered(probabilities, self.temperature), self.labels)
