"""Fit the learned fusion combiner and the agreement check on training-side streams; export.

Only data the shipped models' test numbers do not use: faces are FER-2013 PublicTest (the
expression model never trained on them; they only set its temperature) through the shipped,
calibrated expression model; voices are RAVDESS actors 1-20, clean and through their two
drawn recording chains, scored out-of-fold (5 folds of whole actors) by the shipped speech
model's recipe (tools/train_speech.py: same candidate, adaptation and temperature). Each
actor session is one stream, its clips in the adaptation order, each paired with a face of
the same label. Every stream is also played with its voices shuffled (a voice at chance, as
a voice model out of its domain is). Streams go through fusion.Agreement as in the node, so
the voice's reliability is its speech probability (drawn from U(0.5, 1): RAVDESS clips are
all speech) times the trust it earned on the earlier pairs; a share of pairs loses one
modality. `agreement.expected` is the mean kappa between face and voice within a
label-matched stream; the combiner is fit on matched and chance streams alike, and so are
the temperatures calibrating the weighted and product fusions. Strategies are compared by
5-fold cross-validation grouped by actor.

    .venv/bin/pip install -r tools/train-speech-requirements.txt
    .venv/bin/python tools/train_fusion.py --faces FER_DIR --speech RAVDESS_DIR --cache ../cache/speech
About 15 min on 2 cores with the speech cache of train_speech.py (which it reuses).
"""
import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import onnx
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm import tqdm

from av_emotion.config import defaults
from av_emotion.datasets import ravdess
from av_emotion.metrics import fit_temperature
from av_emotion.taxonomy import LABELS, canonical
from av_emotion_fusion.fusion import Agreement, Evidence, combiner_input, fuse, voice_reliability
from av_emotion_vision.pipeline import VisionPipeline

sys.path.insert(0, str(Path(__file__).parent))
from train_speech import (FIT, SESSIONS, Sessions, cached_features, candidates,  # noqa: E402
                          prior_of, rep155)

SPEECH_METRICS = Path('src/av_emotion_audio/av_emotion_audio/models/speech_emotion.metrics.json')
# Share of pairs that keep only one modality (each way).
DROP = 0.15


def face_probabilities(root):
    """REP-155 probabilities of FER-2013 PublicTest faces, by label."""
    classifier = VisionPipeline().classifier
    by_label = {}
    for folder in sorted((root / 'PublicTest').iterdir()):
        crops = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(folder.glob('*.jpg'))]
        by_label[canonical(folder.name)] = classifier.classify(crops)
    return by_label


def voice_streams(root, cache, jobs):
    """[(actor, [(label, clip probabilities)])] per actor session, scored out-of-fold."""
    params = defaults('audio')
    files = sorted(root.rglob('03-01-*.wav'))
    features = {s: cached_features(files, s, params, cache, jobs) for s in SESSIONS}
    sessions = Sessions(files, features, seed=0)
    shipped = json.loads(SPEECH_METRICS.read_text())
    classifier = dict(candidates(shipped['seed']))[shipped['chosen']]
    weight = shipped['adaptation_prior_weight']
    fit = list(FIT)
    streams = []
    for train, held in tqdm(list(GroupKFold(n_splits=5).split(fit, groups=fit)), desc='voices'):
        train_actors = [fit[i] for i in train]
        prior = (*prior_of(sessions.raw(train_actors)), weight)
        X, y, _, _ = sessions.windows(train_actors, SESSIONS, prior)
        model = make_pipeline(StandardScaler(), clone(classifier)).fit(X, y)
        for actor in (fit[i] for i in held):
            for session in SESSIONS:
                Xh, yh, keys, _ = sessions.windows([actor], [session], prior)
                probs = rep155(model, Xh, shipped['temperature'])
                order = list(dict.fromkeys(keys))  # clips in the order they were heard
                streams.append((actor, [(yh[keys == k][0], probs[keys == k].mean(axis=0))
                                        for k in order]))
    return streams


def paired(streams, faces):
    """Each stream's clips with a face of the same label: [(actor, [(label, face, voice)])]."""
    cursor = {label: 0 for label in faces}
    out = []
    for actor, clips in streams:
        triples = []
        for label, voice in clips:
            triples.append((label, faces[label][cursor[label] % len(faces[label])], voice))
            cursor[label] += 1
        out.append((actor, triples))
    return out


def kappa(triples):
    agreement = Agreement(window=len(triples))
    for _, face, voice in triples:
        agreement.add(face, voice)
    return agreement.kappa()[0]


def played(streams, params, expected, rng):
    """Evidence, labels, groups, chance flags and (face, voice) of every stream played as
    paired and with its voices shuffled (chance)."""
    evidence, labels, groups, chance, pairs = [], [], [], [], []
    for actor, triples in streams:
        for shuffled in (False, True):
            voices = [voice for _, _, voice in triples]
            if shuffled:
                voices = [voices[i] for i in rng.permutation(len(voices))]
            agreement = Agreement(params['agreement.window'], expected,
                                  params['agreement.prior_pairs'])
            for (label, face, _), voice in zip(triples, voices):
                pair = {'vision': Evidence(face, 1.0, 0.0),
                        'audio': Evidence(voice, voice_reliability(rng.uniform(0.5, 1.0))
                                          * agreement.trust(), 0.0)}
                agreement.add(face, voice)
                draw = rng.random()
                if draw < DROP:
                    del pair['audio']
                elif draw < 2 * DROP:
                    del pair['vision']
                evidence.append(pair)
                labels.append(label)
                groups.append(actor)
                chance.append(shuffled)
                pairs.append((face, voice))
    return evidence, np.array(labels), np.array(groups), np.array(chance), pairs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--faces', type=Path, required=True, help='FER-2013 <Usage>/<class>/')
    parser.add_argument('--speech', type=Path, required=True, help='RAVDESS Actor_XX/*.wav')
    parser.add_argument('--cache', type=Path, default=Path('../cache/speech'))
    parser.add_argument('--out', type=Path,
                        default=Path('src/av_emotion_fusion/av_emotion_fusion/models/'
                                     'fusion_combiner.onnx'))
    parser.add_argument('--jobs', type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    params = defaults('fusion')

    faces = face_probabilities(args.faces)
    streams = paired(voice_streams(args.speech, args.cache, args.jobs), faces)
    # What the node measures: the kappa within one speaker's stream.
    expected = round(float(np.mean([kappa(triples) for _, triples in streams])), 3)
    print(f'face-voice kappa on label-matched training streams: {expected:.3f}')
    evidence, y, groups, chance, pairs = played(streams, params, expected, rng)
    X = np.array([combiner_input(e) for e in evidence])
    both = np.array([len(e) == 2 for e in evidence])

    combiner = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    learned = np.empty(len(y), object)
    for train, held in GroupKFold(n_splits=5).split(X, y, groups=groups):
        learned[held] = clone(combiner).fit(X[train], y[train]).predict(X[held])
    prior = {m: params[f'weights.{m}'] for m in ('vision', 'audio')}
    scores, fused, truth = {}, {'weighted': [], 'product': []}, []
    for name, voice_at_chance in (('matched', False), ('chance voice', True)):
        keep = both & (chance == voice_at_chance)
        rows = np.flatnonzero(keep)

        def accuracy(probabilities):
            return float(np.mean([LABELS[int(np.argmax(p))] == y[i]
                                  for p, i in zip(probabilities, rows)]))
        score = {'vision only': accuracy([pairs[i][0] for i in rows]),
                 'audio only': accuracy([pairs[i][1] for i in rows]),
                 'learned (cross-validated)': float(np.mean(learned[keep] == y[keep]))}
        for strategy in fused:
            probabilities = [fuse(evidence[i], prior, strategy)[0] for i in rows]
            score[strategy] = accuracy(probabilities)
            fused[strategy] += probabilities
        truth += [LABELS.index(y[i]) for i in rows]
        scores[name] = score
        for strategy, value in score.items():
            print(f'{name} streams, pairs with both modalities, {strategy}: {value:.3f}')

    calibration = {s: round(fit_temperature(fused[s], truth), 3) for s in fused}
    print(f'calibration temperatures of two-modality fusions: {calibration}')

    model = clone(combiner).fit(X, y)
    onnx_model = convert_sklearn(model, name='fusion_combiner',
                                 initial_types=[('evidence', FloatTensorType([None, X.shape[1]]))],
                                 options={id(model.steps[-1][1]): {'zipmap': False}},
                                 target_opset=17)
    meta = {'labels': ','.join(model.classes_),
            'input': 'av_emotion_fusion.fusion.combiner_input rows (vision, audio)',
            'source': 'av_emotion tools/train_fusion.py: FER-2013 PublicTest faces x RAVDESS '
                      'actors 1-20 (out-of-fold) clips, label-matched and chance-voice streams'}
    for key, value in meta.items():
        entry = onnx_model.metadata_props.add()
        entry.key, entry.value = key, value
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(onnx_model, str(args.out))
    metrics = {'fit': 'streams of FER-2013 PublicTest faces label-matched to RAVDESS actors '
                      '1-20 clips (clean and 2 chains per actor; speech out-of-fold over whole '
                      'actors), each also played with its voices shuffled',
               'agreement_expected_kappa': expected, 'calibration': calibration,
               'streams': len(streams),
               'pairs': len(y), 'pairs_with_one_modality_dropped': int((~both).sum()),
               'training_pair_accuracy': scores}
    args.out.with_suffix('.metrics.json').write_text(json.dumps(metrics, indent=1))
    print(f'wrote {args.out}; set agreement.expected: {expected} and calibration.*: '
          f'{calibration} in config/fusion.yaml')


if __name__ == '__main__':
    main()
