import numpy as np
import pytest

from av_emotion.config import defaults, merged
from av_emotion.taxonomy import (LABELS, VALENCE_AROUSAL, canonical, covered, to_rep155,
                                 valence_arousal)


def test_labels_are_rep155():
    assert LABELS == ('neutral', 'happy', 'sad', 'angry', 'surprised', 'disgusted', 'scared')
    assert set(VALENCE_AROUSAL) == set(LABELS)
    assert all(-1 <= v <= 1 and -1 <= a <= 1 for v, a in VALENCE_AROUSAL.values())


@pytest.mark.parametrize('name, expected', [
    ('fear', 'scared'), ('Fearful', 'scared'), ('calm', 'neutral'), ('disgust', 'disgusted'),
    ('surprise', 'surprised'), ('happy', 'happy'), ('contempt', None)])
def test_dataset_names_map_to_rep155(name, expected):
    assert canonical(name) == expected


def test_to_rep155_reorders_and_merges():
    # RAVDESS-like labels: calm and neutral both become neutral.
    labels = ['neutral', 'calm', 'happy', 'fearful']
    out = to_rep155(np.array([[0.1, 0.2, 0.3, 0.4]]), labels)[0]
    assert out[LABELS.index('neutral')] == pytest.approx(0.3)
    assert out[LABELS.index('happy')] == pytest.approx(0.3)
    assert out[LABELS.index('scared')] == pytest.approx(0.4)
    assert out.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match='contempt'):
        to_rep155([1.0], ['contempt'])


def test_valence_arousal_weighted_mean():
    happy = np.eye(7)[LABELS.index('happy')]
    assert valence_arousal(happy) == pytest.approx(VALENCE_AROUSAL['happy'])
    mixed = (np.eye(7)[LABELS.index('happy')] + np.eye(7)[LABELS.index('sad')]) / 2
    v, a = valence_arousal(mixed)
    assert v == pytest.approx((0.8 - 0.7) / 2) and a == pytest.approx((0.5 - 0.4) / 2)


def test_config_defaults_come_from_the_yaml():
    params = defaults('vision')
    assert params['detection.max_faces'] >= 1 and 0 < params['detection.score_threshold'] < 1
    assert merged('vision', {'detection.width': 480})['detection.width'] == 480
    with pytest.raises(KeyError, match='detection.widht'):
        merged('vision', {'detection.widht': 480})


def test_covered_labels_of_a_model():
    mask = covered(['fear', 'happy', 'calm', 'neutral'])
    assert [label for label, k in zip(LABELS, mask) if k] == ['neutral', 'happy', 'scared']
