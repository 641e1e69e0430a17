"""Speech-emotion classification of feature vectors with an ONNX model."""
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
