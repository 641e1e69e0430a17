"""Speech-emotion classification of feature vectors with an ONNX model."""
from av_emotion.runtime import ProbabilityModel


class SpeechEmotionClassifier(ProbabilityModel):
    """Takes features.analyse() model inputs, (n, d) float32; gives REP-155 probabilities."""

    def __init__(self, model, threads=1):
        super().__init__('av_emotion_audio', model, threads)
