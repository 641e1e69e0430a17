"""Labels of public emotion data sets, in REP-155 names."""
from pathlib import Path

# RAVDESS file names: modality-channel-emotion-intensity-statement-repetition-actor.
RAVDESS_EMOTIONS = {'01': 'neutral', '02': 'neutral', '03': 'happy', '04': 'sad', '05': 'angry',
                    '06': 'scared', '07': 'disgusted', '08': 'surprised'}


def ravdess(path):
    """(REP-155 label, actor number) of a RAVDESS file name such as 03-01-06-01-02-01-12.wav."""
    parts = Path(path).stem.split('-')
    if len(parts) != 7 or parts[2] not in RAVDESS_EMOTIONS:
        raise ValueError(f'{Path(path).name} is not a RAVDESS file name')
    return RAVDESS_EMOTIONS[parts[2]], int(parts[6])
