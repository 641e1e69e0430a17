"""av_emotion_audio: voice activity, prosodic features and speech emotion from audio."""
