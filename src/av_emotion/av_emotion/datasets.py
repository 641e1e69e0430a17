"""Labels of public emotion data sets, in REP-155 names."""
from pathlib import Path

import numpy as np

from av_emotion.taxonomy import LABELS

# RAVDESS file names: modality-channel-emotion-intensity-statement-repetition-actor.
RAVDESS_EMOTIONS = {'01': 'neutral', '02': 'neutral', '03': 'happy', '04': 'sad', '05': 'angry',
                    '06': 'scared', '07': 'disgusted', '08': 'surprised'}


def ravdess(path):
    """(REP-155 label, actor number) of a RAVDESS file name such as 03-01-06-01-02-01-12.wav."""
    parts = Path(path).stem.split('-')
    if len(parts) != 7 or parts[2] not in RAVDESS_EMOTIONS:
        raise ValueError(f'{Path(path).name} is not a RAVDESS file name')
    return RAVDESS_EMOTIONS[parts[2]], int(parts[6])


def pair_by_label(face_labels, clip_labels, seed=0):
    """Label-matched pairing: (face index, clip index, label) for labels both sides have.

    Per label, max(faces, clips) pairs: both sides shuffled and cycled, so every face and
    every clip is used at least once. The people in a pair are different, so numbers on
    such pairs are "label-matched pairing", never audio-visual accuracy.
    """
    rng = np.random.default_rng(seed)
    pairs = []
    for label in LABELS:
        faces = [i for i, name in enumerate(face_labels) if name == label]
        clips = [i for i, name in enumerate(clip_labels) if name == label]
        if faces and clips:
            n = max(len(faces), len(clips))
            pairs += zip(np.resize(rng.permutation(faces), n).tolist(),
                         np.resize(rng.permutation(clips), n).tolist(), [label] * n)
    return pairs
