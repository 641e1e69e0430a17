"""Train the speech-emotion model on RAVDESS speech and export it to ONNX.

Speaker-independent splits (whole actors): the model is chosen by 5-fold cross-validation
over actors 1-20 (4 whole actors per fold; one 4-actor validation set ranked near-equal
models by chance), refitted on 1-20, and tested once on actors 21-24. Samples are the 2 s
windows the node analyses (same VAD, same features); a clip's prediction is the mean
over its voiced windows. DATA holds RAVDESS files (Actor_XX/03-01-...wav, any rate).

    .venv/bin/pip install -r tools/train-speech-requirements.txt
    .venv/bin/python tools/train_speech.py DATA --out src/av_emotion_audio/av_emotion_audio/models/speech_emotion.onnx
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnx
import soundfile as sf
from joblib import Parallel, delayed
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from tqdm import tqdm

from av_emotion.config import defaults
from av_emotion.datasets import ravdess
from av_emotion.metrics import plot_confusion, report
from av_emotion_audio.pipeline import clip_windows, describe, is_voiced
from av_emotion_audio.vad import VoiceActivity

FIT, TEST = range(1, 21), range(21, 25)
_VAD = []  # one session per worker process


def vad():
    if not _VAD:
        _VAD.append(VoiceActivity())
    return _VAD[0]


def clip_features(path, params):
    """Model inputs and speech probabilities of a clip's voiced windows."""
    samples, rate = sf.read(str(path), dtype='float32', always_2d=True)
    rows, speech = [], []
    for _, window in clip_windows(samples.mean(axis=1), rate, params['window'], params['hop']):
        frame_speech, features, _ = describe(vad(), window, rate, params['vad.threshold'])
        if is_voiced(frame_speech, params):
            rows.append(features.model_input)
            speech.append(float(frame_speech.mean()))
    return rows, speech


def candidates(seed):
    for c in (0.01, 0.03, 0.1, 0.3):
        yield f'logistic C={c}', LogisticRegression(C=c, max_iter=3000, class_weight='balanced')
    for c in (1.0, 3.0):
        yield f'svm rbf C={c}', SVC(C=c, probability=True, class_weight='balanced',
                                    random_state=seed)
    for alpha in (0.01, 0.1, 1.0):
        yield f'mlp 128 alpha={alpha}', MLPClassifier(
            (128,), alpha=alpha, max_iter=600, early_stopping=True, random_state=seed)


def clip_predictions(model, X, clips):
    probs = model.predict_proba(X)
    labels = []
    for clip in np.unique(clips):
        labels.append((clip, model.classes_[probs[clips == clip].mean(axis=0).argmax()]))
    return dict(labels)


def evaluate(model, X, y, clips):
    predicted = clip_predictions(model, X, clips)
    truth = {c: y[clips == c][0] for c in predicted}
    keys = sorted(predicted)
    result = report([truth[k] for k in keys], [predicted[k] for k in keys])
    result['window_accuracy'] = float((model.predict(X) == y).mean())
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data', type=Path)
    parser.add_argument('--out', type=Path,
                        default=Path('src/av_emotion_audio/av_emotion_audio/models/speech_emotion.onnx'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--jobs', type=int, default=2)
    args = parser.parse_args()
    np.random.seed(args.seed)
    params = defaults('audio')
    started = time.time()

    files = sorted(args.data.rglob('03-01-*.wav')) + sorted(args.data.rglob('03-01-*.flac'))
    if not files:
        raise SystemExit(f'no RAVDESS speech files (03-01-*.wav) under {args.data}')
    rows = Parallel(n_jobs=args.jobs)(delayed(clip_features)(f, params) for f in tqdm(
        files, desc='features', unit='clip'))
    X, y, actors, clips = [], [], [], []
    for index, (path, (windows, _)) in enumerate(zip(files, rows)):
        label, actor = ravdess(path)
        X += windows
        y += [label] * len(windows)
        actors += [actor] * len(windows)
        clips += [index] * len(windows)
    X, y, actors, clips = map(np.array, (X, y, actors, clips))
    print(f'{len(files)} clips, {len(X)} voiced windows, {X.shape[1]} features')
    fit, t = np.isin(actors, list(FIT)), np.isin(actors, list(TEST))
    folds = list(GroupKFold(n_splits=5).split(X[fit], y[fit], groups=actors[fit]))
    tried = {}
    for name, classifier in tqdm(list(candidates(args.seed)), desc='models'):
        scores = []
        for train, held in folds:
            model = make_pipeline(StandardScaler(), clone(classifier))
            model.fit(X[fit][train], y[fit][train])
            scores.append(evaluate(model, X[fit][held], y[fit][held],
                                   clips[fit][held])['accuracy'])
        tried[name] = float(np.mean(scores))
        print(f'{name}: cross-validated clip accuracy {tried[name]:.3f}')
    best = max(tried, key=tried.get)
    model = make_pipeline(StandardScaler(), dict(candidates(args.seed))[best]).fit(X[fit], y[fit])
    test = evaluate(model, X[t], y[t], clips[t])
    print(f'chosen {best}; test actors 21-24: clip accuracy {test["accuracy"]:.3f}, '
          f'macro-F1 {test["macro_f1"]:.3f}, window accuracy {test["window_accuracy"]:.3f}')

    onnx_model = convert_sklearn(model, initial_types=[('features', FloatTensorType([None, X.shape[1]]))],
                                 options={id(model.steps[-1][1]): {'zipmap': False}},
                                 target_opset=17)
    meta = {'labels': ','.join(model.classes_),
            'input': f'{X.shape[1]} av_emotion_audio.features model_input values of a 2 s window',
            'source': f'av_emotion tools/train_speech.py on RAVDESS actors 1-20 ({best})'}
    for key, value in meta.items():
        entry = onnx_model.metadata_props.add()
        entry.key, entry.value = key, value
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(onnx_model, str(args.out))
    metrics = {'split': {'model choice': '5-fold cross-validation over actors 1-20, whole '
                         'actors per fold', 'final fit': 'actors 1-20', 'test': 'actors 21-24'},
               'cross_validated_accuracy': tried, 'chosen': best, 'test': test,
               'windows': int(len(X)), 'features': int(X.shape[1]), 'seed': args.seed,
               'minutes': (time.time() - started) / 60}
    metrics_path = args.out.with_suffix('.metrics.json')
    metrics_path.write_text(json.dumps(metrics, indent=1))
    plot_confusion(test, args.out.with_suffix('.confusion.png'),
                   'speech emotion, RAVDESS actors 21-24 (clips)')
    print(f'wrote {args.out}, {metrics_path}')


if __name__ == '__main__':
    main()
