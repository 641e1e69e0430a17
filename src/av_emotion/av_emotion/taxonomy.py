"""The emotion taxonomy shared by every modality: REP-155 names, valence and arousal.

Valence/arousal of each class are its place on Russell's circumplex (Russell 1980;
coordinates after Scherer 2005, scaled to [-1, 1]); an estimate's valence and arousal
are the probability-weighted means of these.
"""
import numpy as np

# REP-155 expression names, in the order every probability vector of this project uses.
LABELS = ('neutral', 'happy', 'sad', 'angry', 'surprised', 'disgusted', 'scared')

VALENCE_AROUSAL = {
    'neutral': (0.0, 0.0),
    'happy': (0.8, 0.5),
    'sad': (-0.7, -0.4),
    'angry': (-0.6, 0.7),
    'surprised': (0.2, 0.8),
    'disgusted': (-0.7, 0.3),
    'scared': (-0.6, 0.6),
}

# Colour of each label (RGB, 0-255): the one palette of every display (annotated video,
# timeline, LED ring, web view). Hues far apart, so that an LED ring tells them apart.
COLOURS = {
    'neutral': (200, 200, 200),
    'happy': (255, 200, 0),
    'sad': (0, 120, 255),
    'angry': (230, 0, 0),
    'surprised': (200, 0, 255),
    'disgusted': (0, 160, 0),
    'scared': (160, 0, 120),
}

# Dataset class names (FER-2013, RAVDESS, ...) that are REP-155 classes under another name.
ALIASES = {
    'calm': 'neutral',
    'happiness': 'happy',
    'sadness': 'sad',
    'anger': 'angry',
    'surprise': 'surprised',
    'disgust': 'disgusted',
    'fear': 'scared',
    'fearful': 'scared',
    'afraid': 'scared',
}

_VA = np.array([VALENCE_AROUSAL[label] for label in LABELS], dtype=np.float32)


def canonical(name):
    """The REP-155 name of a class name, or None when it is not one of them."""
    name = name.strip().lower()
    name = ALIASES.get(name, name)
    return name if name in LABELS else None


def to_rep155(probabilities, labels):
    """Reorder a model's probabilities (columns named `labels`) to LABELS.

    Several source classes that map to one REP-155 class are summed; a REP-155 class
    the model lacks gets probability 0. Rows are renormalised to sum to 1, which
    quantised models only do to within their rounding. Works on a vector or a batch.
    ValueError for values that are no probabilities: not finite, negative, all zero.
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if not np.isfinite(probabilities).all() or (probabilities < 0).any():
        raise ValueError('probabilities must be finite and not negative')
    matrix = np.zeros((len(labels), len(LABELS)), dtype=np.float32)
    for row, name in enumerate(labels):
        target = canonical(name)
        if target is None:
            raise ValueError(f'class {name!r} has no REP-155 name')
        matrix[row, LABELS.index(target)] = 1.0
    merged = probabilities @ matrix
    total = merged.sum(axis=-1, keepdims=True)
    if (total <= 0).any():
        raise ValueError('probabilities sum to 0')
    return merged / total


def covered(labels):
    """Bool per LABELS entry: whether one of a model's class names maps to it."""
    names = {canonical(name) for name in labels}
    return np.array([label in names for label in LABELS])


def valence_arousal(probabilities):
    """Probability-weighted valence and arousal of a REP-155 vector (or batch)."""
    va = np.asarray(probabilities, dtype=np.float32) @ _VA
    return va[..., 0], va[..., 1]
