"""av_emotion: what every modality shares (taxonomy, config defaults, ONNX Runtime, metrics)."""
