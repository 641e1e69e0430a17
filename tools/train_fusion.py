"""Fit the learned fusion combiner on training-split pairs and export it to ONNX.

Only training splits: faces are FER-2013 `Training` through the shipped expression model,
voices are RAVDESS actors 1-20 through the shipped speech model's architecture, predicted
out-of-fold (5 folds of whole actors) so that no clip is scored by a model that heard its
actor. Faces and clips of the same label are paired (av_emotion.datasets.pair_by_label);
a share of pairs loses one modality, so the combiner also learns the missing-modality case.
The strategies are compared by 5-fold cross-validation over the pairs, grouped by actor;
the test splits are left to `av-emotion-eval pairs`.

    .venv/bin/pip install -r tools/train-speech-requirements.txt
    .venv/bin/python tools/train_fusion.py --faces FER_DIR --speech RAVDESS_DIR
"""
import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import onnx
from joblib import Parallel, delayed
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm import tqdm

from av_emotion.config import defaults
from av_emotion.datasets import pair_by_label, ravdess
from av_emotion.taxonomy import LABELS, canonical, to_rep155
from av_emotion_fusion.fusion import Evidence, combiner_input, fuse
from av_emotion_vision.pipeline import VisionPipeline

sys.path.insert(0, str(Path(__file__).parent))
from train_speech import candidates, clip_features  # noqa: E402

TRAIN_ACTORS = range(1, 21)
# Share of pairs that keep only one modality (each way).
DROP = 0.15


def face_probabilities(root):
    """REP-155 probabilities and labels of FER-2013 Training faces."""
    classifier = VisionPipeline().classifier
    paths = [(p, canonical(d.name)) for d in sorted((root / 'Training').iterdir())
             for p in sorted(d.glob('*.jpg'))]
    probabilities = []
    for start in tqdm(range(0, len(paths), 256), desc='faces', unit='batch'):
        probabilities += list(classifier.classify(
            [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p, _ in paths[start:start + 256]]))
    return np.array(probabilities), [label for _, label in paths]


def voice_probabilities(root, jobs):
    """Out-of-fold REP-155 clip probabilities, speech probabilities, labels and actors."""
    params = defaults('audio')
    files = [f for f in sorted(root.rglob('03-01-*.wav')) if ravdess(f)[1] in TRAIN_ACTORS]
    rows = Parallel(n_jobs=jobs)(delayed(clip_features)(f, params)
                                 for f in tqdm(files, desc='voices', unit='clip'))
    keep = [i for i, (windows, _) in enumerate(rows) if windows]
    labels = np.array([ravdess(files[i])[0] for i in keep])
    actors = np.array([ravdess(files[i])[1] for i in keep])
    chosen = json.loads(Path('src/av_emotion_audio/av_emotion_audio/models/'
                             'speech_emotion.metrics.json').read_text())['chosen']
    classifier = dict(candidates(0))[chosen]
    probabilities = np.zeros((len(keep), len(LABELS)))
    for train, held in GroupKFold(n_splits=5).split(keep, labels, groups=actors):
        X = np.concatenate([rows[keep[i]][0] for i in train])
        y = np.concatenate([[labels[i]] * len(rows[keep[i]][0]) for i in train])
        model = make_pipeline(StandardScaler(), clone(classifier)).fit(X, y)
        for i in held:
            clip = model.predict_proba(np.array(rows[keep[i]][0])).mean(axis=0)
            probabilities[i] = to_rep155(clip, list(model.classes_))
    speech = np.array([np.mean(rows[i][1]) for i in keep])
    return probabilities, speech, list(labels), actors


def pair_evidence(faces, voices, pairs, rng):
    """Evidence dicts per pair; DROP of them keep only vision, DROP only audio."""
    out = []
    for f, c, _ in pairs:
        evidence = {'vision': Evidence(faces[f], 1.0, 0.0),
                    'audio': Evidence(voices[0][c], float(voices[1][c]), 0.0)}
        draw = rng.random()
        if draw < DROP:
            del evidence['audio']
        elif draw < 2 * DROP:
            del evidence['vision']
        out.append(evidence)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--faces', type=Path, required=True, help='FER-2013 <Usage>/<class>/')
    parser.add_argument('--speech', type=Path, required=True, help='RAVDESS Actor_XX/*.wav')
    parser.add_argument('--out', type=Path,
                        default=Path('src/av_emotion_fusion/av_emotion_fusion/models/'
                                     'fusion_combiner.onnx'))
    parser.add_argument('--jobs', type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    faces, face_labels = face_probabilities(args.faces)
    voice_p, speech, clip_labels, actors = voice_probabilities(args.speech, args.jobs)
    pairs = pair_by_label(face_labels, clip_labels, seed=0)
    evidence = pair_evidence(faces, (voice_p, speech), pairs, rng)
    X = np.array([combiner_input(e) for e in evidence])
    y = np.array([label for _, _, label in pairs])
    groups = actors[[c for _, c, _ in pairs]]
    both = np.array([len(e) == 2 for e in evidence])
    weights = defaults('fusion')

    combiner = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    learned = np.empty(len(y), object)
    for train, held in GroupKFold(n_splits=5).split(X, y, groups=groups):
        model = clone(combiner).fit(X[train], y[train])
        learned[held] = model.predict(X[held])
    scores = {'vision only': float(np.mean([LABELS[int(np.argmax(faces[f]))] == label
                                            for f, _, label in np.array(pairs, object)[both]])),
              'audio only': float(np.mean([LABELS[int(np.argmax(voice_p[c]))] == label
                                           for _, c, label in np.array(pairs, object)[both]])),
              'learned (cross-validated)': float(np.mean(learned[both] == y[both]))}
    for strategy in ('weighted', 'product'):
        prior = {m: weights[f'weights.{m}'] for m in ('vision', 'audio')}
        predicted = [LABELS[int(np.argmax(fuse(e, prior, strategy)[0]))]
                     for e, keep in zip(evidence, both) if keep]
        scores[strategy] = float(np.mean(np.array(predicted) == y[both]))
    for name, score in scores.items():
        print(f'training pairs with both modalities, {name}: accuracy {score:.3f}')

    model = clone(combiner).fit(X, y)
    onnx_model = convert_sklearn(model, name='fusion_combiner',
                                 initial_types=[('evidence', FloatTensorType([None, X.shape[1]]))],
                                 options={id(model.steps[-1][1]): {'zipmap': False}},
                                 target_opset=17)
    meta = {'labels': ','.join(model.classes_),
            'input': 'av_emotion_fusion.fusion.combiner_input rows (vision, audio)',
            'source': 'av_emotion tools/train_fusion.py: FER-2013 Training faces x RAVDESS '
                      'actors 1-20 (out-of-fold) clips, label-matched pairs'}
    for key, value in meta.items():
        entry = onnx_model.metadata_props.add()
        entry.key, entry.value = key, value
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(onnx_model, str(args.out))
    metrics = {'fit': 'label-matched pairs of FER-2013 Training faces and RAVDESS actors 1-20 '
                      'clips (speech probabilities out-of-fold over whole actors)',
               'pairs': len(pairs), 'pairs_with_one_modality_dropped': int((~both).sum()),
               'faces': len(face_labels), 'clips': len(clip_labels),
               'training_pair_accuracy': scores}
    args.out.with_suffix('.metrics.json').write_text(json.dumps(metrics, indent=1))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
