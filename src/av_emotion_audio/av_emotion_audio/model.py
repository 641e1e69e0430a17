"""Speech-emotion classification of feature vectors with an ONNX model."""
import numpy as np

from av_emotion.runtime import class_labels, packaged_model, session
from av_emotion.taxonomy import to_rep155


class SpeechEmotionClassifier:
    """Takes features.analyse() model inputs, (n, d) float32; gives REP-155 probabilities."""

    def __init__(self, model, threads=1):
        self.session = session(str(packaged_model('av_emotion_audio', model)), threads)
        self.labels = class_labels(self.session, model)
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = next(o.name for o in self.session.get_outputs()
                                if o.name == 'probabilities')

    def __call__(self, vectors):
        vectors = np.asarray(vectors, np.float32).reshape(len(vectors), -1)
        probabilities = self.session.run([self.output_name], {self.input_name: vectors})[0]
        return to_rep155(probabilities, self.labels)
