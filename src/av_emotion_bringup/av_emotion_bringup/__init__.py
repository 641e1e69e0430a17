"""av_emotion_bringup: launch files and the command-line tools (eval, bench, demo)."""
