"""Central recogniser: classifies what edge devices send, for any number of them (no ROS).

An edge device (vision_node and audio_node with mode: edge) keeps its pixels and sound on
it: it sends aligned grey face crops (FaceCropper) and, per voice window, the speech
model's speaker-adapted input. This core runs the models on them. It keeps no state per
device (the adaptation runs on the edge, see av_emotion_audio.pipeline), so one instance
serves any number of devices, and a restarted central loses nothing.

>>> central = CentralRecogniser()  # defaults from config/central.yaml
>>> central.faces([crop])          # (1, 7) REP-155 probabilities
>>> central.voice(window.feature_set, window.model_input, window.voiced)
"""
from fnmatch import fnmatchcase

import numpy as np

from av_emotion.config import merged
from av_emotion_audio.model import SpeechEmotionClassifier
from av_emotion_vision.expression import ExpressionClassifier

# An edge device's topics, under its namespace.
EDGE_TOPICS = ('face_crops', 'voice_windows')
WILDCARDS = set('*?[')


class FeatureSetError(ValueError):
    """Voice-window inputs of a feature set the speech model does not take."""


def namespace(name):
    """'/robot1' for 'robot1', '/robot1/' or '/robot1'; '/' for the root."""
    return '/' + name.strip('/')


class CentralRecogniser:
    """Face crops and voice windows of edge devices -> REP-155 probabilities."""

    def __init__(self, **overrides):
        p = merged('central', overrides)
        self.params = p
        devices = [namespace(d) for d in p['devices']]
        self.listed = [d for d in devices if not WILDCARDS & set(d)]  # served from the start
        self.patterns = [d for d in devices if WILDCARDS & set(d)]  # found in the graph
        self.expression = ExpressionClassifier(p['expression.model'], p['threads'])
        self.speech = SpeechEmotionClassifier(p['emotion.model'], p['threads'])
        self.feature_sets = self.speech.feature_sets()
        self.inputs = self.speech.session.get_inputs()[0].shape[-1]

    def devices_in(self, topics):
        """Namespaces of the edge devices whose topics (names) are among `topics` and that
        the `devices` patterns take."""
        found = set()
        for topic in topics:
            space, _, name = topic.rpartition('/')
            space = space or '/'
            if name in EDGE_TOPICS and any(fnmatchcase(space, p) for p in self.patterns):
                found.add(space)
        return sorted(found)

    def faces(self, crops):
        """REP-155 probabilities (n, 7) of grey face crops; other sizes than the model's
        are resized, which costs accuracy against cropping at its size on the edge."""
        return self.expression.classify(crops)

    def voice(self, feature_set, model_input, voiced):
        """REP-155 probabilities of a voice window, None when it is not voiced.

        FeatureSetError for inputs of another feature set, ValueError for a voiced
        window whose inputs are not the model's length or not finite."""
        if feature_set not in self.feature_sets:
            raise FeatureSetError(
                f'feature set {feature_set!r} is not what {self.params["emotion.model"]} takes '
                f'({" or ".join(repr(s) for s in sorted(self.feature_sets))})')
        if not voiced:
            return None
        x = np.asarray(model_input, np.float32)
        if x.shape != (self.inputs,) or not np.isfinite(x).all():
            raise ValueError(f'model input of {x.size} values, expected {self.inputs} finite')
        return self.speech(x[None])[0]
