"""av_emotion_vision: faces and facial expressions from camera images."""
