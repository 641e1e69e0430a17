"""av_emotion_fusion: face and voice emotion estimates fused per person."""
