"""Train the speech-emotion model on RAVDESS speech, with session adaptation, and export it.

Speaker-independent (whole actors): the model is chosen by 5-fold cross-validation over
actors 1-20 (4 whole actors per fold), refitted on 1-20 and tested once on actors 21-24.
Samples are the node's own 2 s windows (same VAD, same features: the hand-made prosody and
spectra, then the statistics of the pretrained voice encoder, av_emotion_audio.voice_encoder,
which hears a voice beyond RAVDESS's 24 speakers and one studio). Each actor is heard in
three sessions: the clean recordings and two recording chains drawn at random
(tools/speech_augment.py: gain, band limits, noise, room, pitch and tempo, lossy codec).
A session's clips are fed in a shuffled order through av_emotion_audio.adaptation, so the
model learns from the inputs the node will give it, cold start included. A clip's prediction is
the mean over its voiced windows. The probabilities are calibrated by a temperature fitted
on the out-of-fold clip estimates of actors 1-20.

    .venv/bin/pip install -r tools/train-speech-requirements.txt
    .venv/bin/python tools/train_speech.py DATA --cache ../cache/speech
DATA holds RAVDESS files (Actor_XX/03-01-...wav, any rate). Window features are cached per
clip and session in --cache, so a second run (or one cut off) resumes. About 10 min on 2 cores.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import soundfile as sf
import soxr
from joblib import Parallel, delayed
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).parent))
from speech_augment import Chain  # noqa: E402

from av_emotion.config import defaults  # noqa: E402
from av_emotion.datasets import ravdess  # noqa: E402
from av_emotion.metrics import (expected_calibration_error, fit_temperature,  # noqa: E402
                                plot_confusion, report)
from av_emotion.runtime import tempered  # noqa: E402
from av_emotion.taxonomy import LABELS  # noqa: E402
from av_emotion_audio.adaptation import SpeakerAdaptation  # noqa: E402
from av_emotion_audio.pipeline import clip_windows, describe  # noqa: E402
from av_emotion_audio.vad import RATE, VoiceActivity  # noqa: E402
from av_emotion_audio.voice_encoder import VoiceEncoder  # noqa: E402

FIT, TEST = range(1, 21), range(21, 25)
SESSIONS = ('clean', 'chain1', 'chain2')
ENCODER = 'voice_encoder.onnx'
_MODELS = []  # one VAD and encoder per worker process


def models():
    if not _MODELS:
        _MODELS.extend([VoiceActivity(), VoiceEncoder(ENCODER)])
    return _MODELS


def clip_features(path, actor, session, params):
    """(model inputs, median pitch) of a clip's voiced windows, heard through `session`."""
    samples, rate = sf.read(str(path), dtype='float32', always_2d=True)
    samples = soxr.resample(samples.mean(axis=1), rate, RATE)
    if session != 'clean':
        # Drawn per actor and session: every clip of a session goes through the same chain.
        samples = Chain(actor * 100 + SESSIONS.index(session))(samples, RATE)
    rows, pitch = [], []
    for _, window in clip_windows(samples, RATE, params['window'], params['hop']):
        _, features, voiced, _ = describe(models()[0], window, RATE, params, models()[1])
        if voiced:
            rows.append(features.model_input)
            pitch.append(features.pitch_hz)
    return (np.stack(rows) if rows else np.zeros((0, 0), np.float32)), np.array(pitch, np.float32)


def cached_features(files, session, params, cache, jobs):
    path = cache / f'{session}.npz'
    if path.exists():
        data = np.load(path, allow_pickle=True)
        if list(data['files']) == [f.name for f in files] and \
                str(data.get('encoder', '')) == ENCODER:
            return list(data['rows']), list(data['pitch'])
    out = Parallel(n_jobs=jobs)(delayed(clip_features)(f, ravdess(f)[1], session, params)
                                for f in tqdm(files, desc=f'features ({session})', unit='clip'))
    rows, pitch = [o[0] for o in out], [o[1] for o in out]
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, files=np.array([f.name for f in files]), rows=np.array(rows, dtype=object),
             pitch=np.array(pitch, dtype=object), encoder=ENCODER)
    return rows, pitch


class Sessions:
    """Windows of every (actor, session) fed in a shuffled clip order through adaptation."""

    def __init__(self, files, features, seed):
        self.files, self.features, self.seed = files, features, seed
        self.labels = np.array([ravdess(f)[0] for f in files])
        self.actors = np.array([ravdess(f)[1] for f in files])

    def raw(self, actors, sessions=SESSIONS):
        return np.concatenate([self.features[s][0][i] for s in sessions for i in
                               np.flatnonzero(np.isin(self.actors, list(actors)))
                               if len(self.features[s][0][i])])

    def windows(self, actors, sessions, prior, adapt=True):
        """X, y, clip keys, actor per window; adapt=False: each clip alone (cold start)."""
        X, y, keys, groups = [], [], [], []
        for session in sessions:
            rows, pitch = self.features[session]
            for actor in actors:
                clips = np.flatnonzero(self.actors == actor)
                order = np.random.default_rng(self.seed * 1000 + actor).permutation(clips)
                adaptation = SpeakerAdaptation(*prior)
                for clip in order:
                    if not adapt:
                        adaptation = SpeakerAdaptation(*prior)
                    for row, hz in zip(rows[clip], pitch[clip]):
                        X.append(adaptation(row, pitch_hz=float(hz)))
                        y.append(self.labels[clip])
                        keys.append(f'{session}/{clip}')
                        groups.append(actor)
        return np.array(X), np.array(y), np.array(keys), np.array(groups)


def prior_of(X):
    return X.mean(axis=0), X.var(axis=0)


def candidates(seed):
    for c in (0.01, 0.03):
        yield f'logistic C={c}', LogisticRegression(C=c, max_iter=3000, class_weight='balanced')
    for alpha in (1.0, 3.0):
        yield f'mlp 128 alpha={alpha}', MLPClassifier(
            (128,), alpha=alpha, max_iter=600, early_stopping=True, random_state=seed)


def rep155(model, X, temperature=1.0):
    """Window probabilities in REP-155 order, sharpened or softened by `temperature`."""
    probs = np.zeros((len(X), len(LABELS)))
    probs[:, [LABELS.index(c) for c in model.classes_]] = model.predict_proba(X)
    return tempered(probs, temperature)


def clip_scores(probs, y, keys):
    """Per clip: mean window probabilities and the label."""
    order = sorted(set(keys))
    mean = np.array([probs[keys == k].mean(axis=0) for k in order])
    truth = np.array([y[keys == k][0] for k in order])
    return mean, truth


def evaluate(probs, y, keys):
    mean, truth = clip_scores(probs, y, keys)
    result = report(list(truth), [LABELS[i] for i in mean.argmax(axis=1)])
    result['ece'] = expected_calibration_error(mean, [LABELS.index(t) for t in truth])
    return result


def export(model, d, temperature, prior, weight, name, out):
    onnx_model = convert_sklearn(model, initial_types=[('features', FloatTensorType([None, d]))],
                                 options={id(model.steps[-1][1]): {'zipmap': False}},
                                 target_opset=17)
    meta = {'labels': ','.join(model.classes_),
            'input': f'{d} values of a 2 s window: av_emotion_audio.features model_input, '
                     f'then the statistics of {ENCODER}; adapted by av_emotion_audio.adaptation',
            'encoder': ENCODER,
            'temperature': f'{temperature:.4f}',
            'adaptation': json.dumps({'mean': prior[0].round(6).tolist(),
                                      'var': prior[1].round(6).tolist(), 'prior_weight': weight}),
            'source': f'av_emotion tools/train_speech.py on RAVDESS actors 1-20 ({name})'}
    for key, value in meta.items():
        entry = onnx_model.metadata_props.add()
        entry.key, entry.value = key, value
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(onnx_model, str(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data', type=Path)
    parser.add_argument('--out', type=Path,
                        default=Path('src/av_emotion_audio/av_emotion_audio/models/speech_emotion.onnx'))
    parser.add_argument('--cache', type=Path, default=Path('../cache/speech'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--jobs', type=int, default=2)
    args = parser.parse_args()
    params = defaults('audio')
    weight = params['adaptation.prior_weight']
    started = time.time()

    files = sorted(args.data.rglob('03-01-*.wav')) + sorted(args.data.rglob('03-01-*.flac'))
    if not files:
        raise SystemExit(f'no RAVDESS speech files (03-01-*.wav) under {args.data}')
    features = {s: cached_features(files, s, params, args.cache, args.jobs) for s in SESSIONS}
    sessions = Sessions(files, features, args.seed)
    fit_actors = list(FIT)

    folds = list(GroupKFold(n_splits=5).split(fit_actors, groups=fit_actors))
    tried, oof = {}, {}
    for name, classifier in tqdm(list(candidates(args.seed)), desc='models'):
        scores, probs = [], []
        for train, held in folds:
            train_actors = [fit_actors[i] for i in train]
            prior = (*prior_of(sessions.raw(train_actors)), weight)
            X, y, _, _ = sessions.windows(train_actors, SESSIONS, prior)
            model = make_pipeline(StandardScaler(), clone(classifier)).fit(X, y)
            Xh, yh, kh, _ = sessions.windows([fit_actors[i] for i in held], SESSIONS, prior)
            p = rep155(model, Xh)
            scores.append(evaluate(p, yh, kh)['accuracy'])
            probs.append((p, yh, kh))
        tried[name] = float(np.mean(scores))
        oof[name] = probs
        print(f'{name}: cross-validated clip accuracy {tried[name]:.3f}')
    best = max(tried, key=tried.get)
    # Calibrated as a clip's estimate (the mean of its windows) is used.
    temperature = fit_temperature(np.concatenate([p for p, _, _ in oof[best]]),
                                  [LABELS.index(t) for _, y, _ in oof[best] for t in y],
                                  np.concatenate([k for _, _, k in oof[best]]))
    print(f'chosen {best}; temperature {temperature:.3f}')

    prior = (*prior_of(sessions.raw(fit_actors)), weight)
    X, y, _, _ = sessions.windows(fit_actors, SESSIONS, prior)
    model = make_pipeline(StandardScaler(), dict(candidates(args.seed))[best]).fit(X, y)
    test = {}
    for session in ('clean', 'chain1'):
        for mode, adapt in (('adapted', True), ('cold', False)):
            Xt, yt, kt, _ = sessions.windows(list(TEST), [session], prior, adapt)
            test[f'{session} {mode}'] = evaluate(rep155(model, Xt, temperature), yt, kt)
            test[f'{session} {mode}']['ece_uncalibrated'] = evaluate(
                rep155(model, Xt), yt, kt)['ece']
            r = test[f'{session} {mode}']
            print(f'test actors 21-24, {session} {mode}: accuracy {r["accuracy"]:.3f}, '
                  f'macro-F1 {r["macro_f1"]:.3f}, ECE {r["ece"]:.3f} '
                  f'(uncalibrated {r["ece_uncalibrated"]:.3f})')

    export(model, X.shape[1], temperature, prior[:2], weight, best, args.out)
    metrics = {'split': {'model choice': '5-fold cross-validation over actors 1-20, whole '
                         'actors per fold', 'final fit': 'actors 1-20', 'test': 'actors 21-24'},
               'sessions': 'clean + 2 drawn recording chains per actor (tools/speech_augment.py); '
                           'test "chain1" = actors 21-24 through their first drawn chain',
               'cross_validated_accuracy': tried, 'chosen': best, 'temperature': temperature,
               'adaptation_prior_weight': weight, 'test': test, 'windows': int(len(X)),
               'features': int(X.shape[1]), 'seed': args.seed,
               'minutes': (time.time() - started) / 60}
    metrics_path = args.out.with_suffix('.metrics.json')
    metrics_path.write_text(json.dumps(metrics, indent=1))
    plot_confusion(test['clean adapted'], args.out.with_suffix('.confusion.png'),
                   'speech emotion, RAVDESS actors 21-24 (clips), session adaptation')
    print(f'wrote {args.out}, {metrics_path}')


if __name__ == '__main__':
    main()
