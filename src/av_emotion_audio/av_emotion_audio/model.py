"""Speech-emotion classification of feature vectors with an ONNX model."""
import hashlib
import json

import numpy as np

from av_emotion.runtime import ProbabilityModel


class SpeechEmotionClassifier(ProbabilityModel):
    """Takes features.analyse() model inputs, (n, d) float32; gives REP-155 probabilities."""

    def __init__(self, model, threads=1):
        super().__init__('av_emotion_audio', model, threads)

    def population(self):
        """(mean, var) of the training inputs, for adaptation; None if the model has none."""
        if 'adaptation' not in self.meta:
            return None
        stats = json.loads(self.meta['adaptation'])
        return np.array(stats['mean']), np.array(stats['var'])

    def feature_set(self, adapted):
        """Name of the inputs this model takes, as edge devices send them (VoiceWindow):
        features.analyse's vector, the statistics of the voice encoder its metadata names,
        and, when `adapted`, the speaker adaptation onto its population statistics (a
        digest of them: adapted inputs fit only a model of the same population)."""
        name = f"av_emotion_audio.features+{self.meta.get('encoder', 'no encoder')}" \
               f"/{self.session.get_inputs()[0].shape[-1]}"
        if adapted:
            name += f" adapted {hashlib.sha1(self.meta['adaptation'].encode()).hexdigest()[:8]}"
        return name

    def feature_sets(self):
        """The feature sets this model takes: raw inputs, and adapted ones if it can be."""
        return {self.feature_set(False)} | ({self.feature_set(True)} if self.population()
                                            else set())
