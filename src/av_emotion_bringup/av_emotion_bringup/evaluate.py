r"""av-emotion-eval: accuracy, macro-F1 and confusion matrix on a labelled folder.

    av-emotion-eval vision --data DIR --json OUT.json
    av-emotion-eval audio --data DIR --json OUT.json
    av-emotion-eval av --data DIR --json OUT.json
    av-emotion-eval pairs --faces DIR --speech DIR --json OUT.json

vision: DIR holds `<label>/<image>` (REP-155 names or dataset names such as fear, disgust),
or the FER-2013 layout `<Usage>/<class>/*.jpg`, of which --split (PrivateTest) is used.
audio: DIR holds `<label>/<clip>` (wav or flac, any rate), or RAVDESS files
(`Actor_XX/03-01-...wav`), of which --actors (21-24, the test actors) are used; a clip's
prediction is the mean over its voiced 2 s windows. Each clip is scored alone (a cold start of
the speaker adaptation) unless --speaker REGEX names the speaker in each file name (group 1;
for RAVDESS --speaker='-(\d+)\.\w+$', joined by = as it starts with -): each speaker's
clips are then one session, fed in a fixed shuffled order with the adaptation carried from
clip to clip, as the node would, and the JSON's accuracy and macro_f1 are those adapted
figures, `cold` those of every clip alone.
av: DIR holds `<label>/<video with its audio track>`; audio-only, vision-only and fused
are reported side by side (a clip's estimate per modality is its mean over the clip, the
fused one their fusion), with a timeline plot per clip in OUT.timelines/. A clip without a
face or without a voiced window has 'none' for that modality and is fused from the other;
`unvoiced_clips` counts those without a voiced window.
pairs: label-matched pairing of faces (--faces, layout as for vision) with speech clips of
other people (--speech, layout as for audio), on the labels both hold; every face and
every clip is used at least once. Its numbers are "label-matched pairing", not
audio-visual accuracy. The pairs are fused as a stream, as fusion_node fuses them: in a fixed
shuffled order (per speaker session, in its clip order, with --speaker), so the voice's trust
is the agreement it earned on the pairs before; `unchecked` is the fusion without that check.
Confusion matrices are drawn next to the JSON (OUT.png; OUT.<modality>.png for av, pairs).
Every result has `ece`, the expected calibration error of the top label over 15 bins.
"""
import argparse
import json
import re
import sys
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from av_emotion.config import defaults
from av_emotion.datasets import pair_by_label, ravdess
from av_emotion.metrics import expected_calibration_error, plot_confusion, report
from av_emotion.taxonomy import LABELS, canonical
from av_emotion_audio.pipeline import AudioPipeline, clip_windows
from av_emotion_bringup.recording import MediaError, read_image, read_recording, read_sound
from av_emotion_bringup.timeline import plot_timeline, track
from av_emotion_fusion.fusion import (STRATEGIES, Combiner, Evidence, face_reliability, fuse,
                                      temperature)
from av_emotion_fusion.stream import Face, FusionStream
from av_emotion_vision.pipeline import VisionPipeline

IMAGE_SUFFIXES = {'.jpg', '.jpeg', '.png', '.bmp', '.webp'}
AUDIO_SUFFIXES = {'.wav', '.flac'}
VIDEO_SUFFIXES = {'.mp4', '.flv', '.mkv', '.avi', '.mov', '.webm'}
MODALITIES = ('audio', 'vision', 'fused')
FER_SPLITS = ('Training', 'PublicTest', 'PrivateTest')
# Images this small are face crops already (FER-2013 is 48x48): classified whole.
CROP_SIDE = 128
# Progress bars on a terminal only: in a log or a pipe they are noise around the result
# or the one line of an error.
progress = partial(tqdm, disable=None)


def labelled_files(root, suffixes):
    """(path, REP-155 label) for every file under root/<label>/; other folders are skipped."""
    items, skipped = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        label = canonical(folder.name)
        if label is None:
            skipped.append(folder.name)
            continue
        items += [(f, label) for f in sorted(folder.rglob('*')) if f.suffix.lower() in suffixes]
    if skipped:
        print(f'skipping folders that name no REP-155 class: {", ".join(skipped)}')
    return items


def face_images(root, split):
    """(path, label) of labelled images; the --split folder of a FER-2013 layout."""
    splits = [name for name in FER_SPLITS if (root / name).is_dir()]
    if splits:
        if split not in splits:
            sys.exit(f'{root} has FER-2013 splits {splits}, not {split} (see --split)')
        root = root / split
        print(f'FER-2013 layout: evaluating {root}')
    items = labelled_files(root, IMAGE_SUFFIXES)
    if not items:
        sys.exit(f'no labelled images under {root}/<label>/')
    return root, items


def face_estimate(pipeline, path):
    """(REP-155 probabilities, detected) of the largest face of an image file.

    Small images are face crops already and are classified whole, as are images in which
    no face is found (detected is then False). MediaError for an unreadable file.
    """
    bgr = read_image(path)
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    faces = [] if max(grey.shape) <= CROP_SIDE else pipeline.detector(bgr)
    if faces:
        largest = max(faces, key=lambda f: f.box[2] * f.box[3])
        return pipeline.classifier.classify([pipeline.cropper(grey, largest.box)])[0], True
    return pipeline.classifier.classify([grey])[0], False


def evaluate_vision(args):
    root, items = face_images(args.data, args.split)
    pipeline = VisionPipeline(**{'expression.model': args.model} if args.model else {})
    truth, probabilities, detected, whole = [], [], 0, 0
    for path, label in progress(items, desc='vision', unit='img'):
        estimate = face_estimate(pipeline, path)
        detected += estimate[1]
        whole += not estimate[1]
        truth.append(label)
        probabilities.append(estimate[0])
    result = scored(truth, probabilities)
    result.update(model=pipeline.params['expression.model'], data=str(root),
                  faces_detected=detected, classified_whole=whole)
    return result


def ravdess_files(root, actors):
    """(path, label) of RAVDESS speech files of the given actors, or [] if none are named so."""
    items = []
    for path in sorted(root.rglob('03-01-*')):
        if path.suffix.lower() in AUDIO_SUFFIXES:
            label, actor = ravdess(path)
            if actor in actors:
                items.append((path, label))
    return items


def speech_clips(root, actors):
    """(path, label) of RAVDESS files of --actors, or of `<label>/<clip>` files."""
    first, last = (int(a) for a in actors.split('-'))
    items = ravdess_files(root, range(first, last + 1))
    if items:
        print(f'RAVDESS layout: actors {actors}')
    else:
        items = labelled_files(root, AUDIO_SUFFIXES)
    if not items:
        sys.exit(f'no labelled clips under {root}/<label>/ and no RAVDESS files')
    return items


def clip_estimate(pipeline, samples, rate, voices=None):
    """(REP-155 probabilities, speech probability, voiced) of a whole clip, from its
    `voices` when they were analysed already.

    The mean over its voiced windows; a clip with none still gets the model's answer on
    its most speech-like window (voiced False), with that window's low speech probability.
    """
    voices = pipeline.clip(samples, rate) if voices is None else voices
    voiced = [v for v in voices if v.voiced]
    if voiced:
        return (np.mean([v.probabilities for v in voiced], axis=0),
                float(np.mean([v.speech_probability for v in voiced])), True)
    best = max(range(len(voices)), key=lambda i: voices[i].speech_probability)
    window = clip_windows(samples, rate, pipeline.params['window'], pipeline.params['hop'])[best]
    guess = pipeline.analyse(window[1], rate, unvoiced_too=True)
    return guess.probabilities, voices[best].speech_probability, False


def sessions(paths, speaker, seed):
    """Indices of `paths` grouped into one session per speaker (group 1 of the regex
    `speaker` in the file name), each in a fixed shuffled order."""
    pattern, groups = re.compile(speaker), {}
    for i, path in enumerate(paths):
        match = pattern.search(Path(path).name)
        if not match:
            sys.exit(f'--speaker {speaker!r} finds no speaker (group 1) in {Path(path).name}')
        groups.setdefault(match.group(1), []).append(i)
    rng = np.random.default_rng(seed)
    return [list(rng.permutation(groups[k])) for k in sorted(groups)]


def speech_estimates(pipeline, paths, speaker, seed):
    """{index: clip_estimate} with adaptation carried through each speaker's session, and
    the same with every clip alone (None when there are no sessions)."""
    alone, adapted = {}, None
    for i in progress(range(len(paths)), desc='speech', unit='clip'):
        pipeline.new_session()
        alone[i] = clip_estimate(pipeline, *read_sound(paths[i]))
    if speaker is not None:
        adapted = {}
        for session in progress(sessions(paths, speaker, seed), desc='sessions', unit='speaker'):
            pipeline.new_session()
            for i in session:
                adapted[i] = clip_estimate(pipeline, *read_sound(paths[i]))
    return alone, adapted


def scored(truth, probabilities):
    """report() of the top labels, with the ECE of the probabilities."""
    result = report(truth, [LABELS[int(np.argmax(p))] for p in probabilities])
    result['ece'] = expected_calibration_error(probabilities, [LABELS.index(t) for t in truth])
    return result


def summary(result):
    return {k: result[k] for k in ('accuracy', 'macro_f1', 'ece')}


def evaluate_audio(args):
    items = speech_clips(args.data, args.actors)
    pipeline = AudioPipeline(**{'emotion.model': args.model} if args.model else {})
    alone, adapted = speech_estimates(pipeline, [p for p, _ in items], args.speaker, args.seed)
    truth = [label for _, label in items]
    cold = scored(truth, [alone[i][0] for i in range(len(items))])
    result = cold if adapted is None else scored(truth, [adapted[i][0] for i in range(len(items))])
    result.update(model=pipeline.params['emotion.model'], data=str(args.data),
                  unvoiced_clips=sum(not e[2] for e in alone.values()),
                  adaptation=pipeline.adaptation is not None and adapted is not None,
                  cold=summary(cold))
    return result


def fused_estimate(vision, audio, strategy, combiner):
    """Fused probabilities of (probabilities, reliability) per modality; None: absent."""
    weights = defaults('fusion')
    evidence = {m: Evidence(np.asarray(e[0]), e[1], 0.0)
                for m, e in (('vision', vision), ('audio', audio)) if e is not None}
    return fuse(evidence, {m: weights[f'weights.{m}'] for m in evidence}, strategy, combiner,
                temperature(weights, strategy))[0]


def fused_label(vision, audio, strategy, combiner):
    """Top label of fused_estimate(); 'none' when neither modality is present."""
    fused = fused_estimate(vision, audio, strategy, combiner)
    return 'none' if fused is None else LABELS[int(np.argmax(fused))]


def side_by_side(truth, predicted, **extra):
    """{'audio', 'vision', 'fused': report(), 'n', ...}; predicted: modality -> labels, or
    probabilities (then with `ece`)."""
    result = {m: report(truth, p) if isinstance(p[0], str) else scored(truth, p)
              for m, p in predicted.items()}
    result.update(n=len(truth), **extra)
    return result


def streamed(pairs, face_p, clip_p, order, **params):
    """Fused probabilities of each pair, fed through a FusionStream per session in `order`
    (lists of pair indices), one pair per second: faces, voice, then the pair itself."""
    fused = [None] * len(pairs)
    for session in order:
        stream = FusionStream(**{'smoothing.time_constant': 0.0, **params})
        for t, i in enumerate(session):
            f, c, _ = pairs[i]
            faces = [Face(1, face_p[f][0], 1.0, 96, 96)]
            stream.faces(float(t), faces)
            stream.voice(float(t), clip_p[c][0], clip_p[c][1])
            stream.attribute(faces, clip_p[c][0])
            fused[i] = stream.step(t + 0.1).probabilities
    return fused


def pair_order(pairs, clip_sessions, seed):
    """Sessions of pair indices: one shuffled session, or one per speaker session in its
    clip order."""
    shuffled = np.random.default_rng(seed).permutation(len(pairs))
    if clip_sessions is None:
        return [list(shuffled)]
    order = []
    for session in clip_sessions:
        position = {c: k for k, c in enumerate(session)}
        order.append(sorted((i for i in shuffled if pairs[i][1] in position),
                            key=lambda i: position[pairs[i][1]]))
    return order


def evaluate_pairs(args):
    face_root, faces = face_images(args.faces, args.split)
    clips = speech_clips(args.speech, args.actors)
    pairs = pair_by_label([label for _, label in faces], [label for _, label in clips],
                          seed=args.seed)
    if not pairs:
        sys.exit('no label has both faces and speech clips')
    vision, audio = VisionPipeline(), AudioPipeline()
    face_p = {i: face_estimate(vision, faces[i][0])
              for i in progress(sorted({f for f, _, _ in pairs}), desc='faces', unit='img')}
    paths = [p for p, _ in clips]
    alone, adapted = speech_estimates(audio, paths, args.speaker, args.seed)
    order = pair_order(pairs, None if args.speaker is None
                       else sessions(paths, args.speaker, args.seed), args.seed)
    truth = [label for _, _, label in pairs]

    def scores(clip_p):
        predicted = {'vision': [face_p[f][0] for f, _, _ in pairs],
                     'audio': [clip_p[c][0] for _, c, _ in pairs]}
        by_strategy = {s: streamed(pairs, face_p, clip_p, order, strategy=s)
                       for s in STRATEGIES}
        predicted['fused'] = by_strategy[args.strategy]
        unchecked = streamed(pairs, face_p, clip_p, order, strategy=args.strategy,
                             **{'agreement.enabled': False})
        return predicted, {'strategies': {s: summary(scored(truth, p))
                                          for s, p in by_strategy.items()},
                           'unchecked': summary(scored(truth, unchecked))}

    predicted, extra = scores(adapted or alone)
    if adapted is not None:
        cold, cold_extra = scores(alone)
        extra['cold'] = {**{m: summary(scored(truth, p)) for m, p in cold.items()},
                         **cold_extra}
    return side_by_side(
        truth, predicted, strategy=args.strategy, **extra,
        pairing='label-matched pairing: each face is paired with a speech clip of the same '
                'label from another person; not audio-visual accuracy',
        faces=len(face_p), clips=len(alone), labels=sorted(set(truth), key=LABELS.index),
        data={'faces': str(face_root), 'speech': str(args.speech)})


def evaluate_av(args):
    items = labelled_files(args.data, VIDEO_SUFFIXES)
    if not items:
        sys.exit(f'no labelled videos under {args.data}/<label>/')
    timelines = args.json.with_suffix('.timelines')
    timelines.mkdir(parents=True, exist_ok=True)
    audio = AudioPipeline()
    combiner = Combiner(defaults('fusion')['learned.model'])
    truth, predicted, clips = [], {m: [] for m in MODALITIES}, []
    for path, label in progress(items, desc='av', unit='clip'):
        recording = read_recording([path])
        vision, heard, tracks = clip_modalities(recording, audio, args.strategy)
        labels = {'vision': vision, 'audio': heard}
        labels = {m: 'none' if e is None else LABELS[int(np.argmax(e[0]))]
                  for m, e in labels.items()}
        labels['fused'] = fused_label(vision, heard, args.strategy, combiner)
        truth.append(label)
        for m in MODALITIES:
            predicted[m].append(labels[m])
        png = timelines / f'{label}_{path.stem}.png'
        plot_timeline(tracks, png, f'{path.name} (true: {label}); fused: {labels["fused"]}')
        clips.append({'clip': str(path), 'label': label, **labels, 'timeline': str(png)})
    return side_by_side(truth, predicted, strategy=args.strategy, clips=clips,
                        unvoiced_clips=predicted['audio'].count('none'), data=str(args.data))


def clip_modalities(recording, audio, strategy):
    """Clip estimates ((probabilities, reliability); None: no face, no voiced window) of
    vision and audio, and the timeline tracks of vision, audio and their fusion as the node
    computes it (at its rate)."""
    full_height = defaults('fusion')['face_full_height']
    pipeline, events = VisionPipeline(), []
    seen = []  # (t, probabilities, reliability) of the largest face per frame
    for t, bgr in recording.frames:
        faces = [Face(f.id, f.probabilities, f.score, f.box[2], f.box[3])
                 for f in pipeline(bgr, t).faces]
        events.append((t, 'faces', faces))
        if faces:
            largest = max(faces, key=lambda f: f.width * f.height)
            seen.append((t, largest.probabilities,
                         face_reliability(largest.score, largest.height, full_height)))
    vision = (np.mean([p for _, p, _ in seen], axis=0),
              float(np.mean([r for _, _, r in seen]))) if seen else None
    heard, voices = None, []
    if recording.samples is not None:
        audio.new_session()  # each clip is a speaker of its own
        voices = audio.clip(recording.samples, recording.rate)
        probabilities, speech, voiced = clip_estimate(audio, recording.samples, recording.rate,
                                                      voices)
        # No voiced window (silence, noise): no voice emotion, as the node publishes none.
        heard = (probabilities, speech) if voiced else None
        voices = [v for v in voices if v.voiced]
        events += [(v.end, 'voice', v) for v in voices]
    stream = FusionStream(strategy=strategy)
    fused, pending = [], sorted(events, key=lambda e: e[0])
    for now in np.arange(0.0, recording.duration + 1e-9, 1 / defaults('fusion')['rate']):
        while pending and pending[0][0] <= now:
            t, kind, item = pending.pop(0)
            if kind == 'faces':
                stream.faces(t, item)
            else:
                stream.voice(t, item.probabilities, item.speech_probability)
        estimate = stream.step(now)
        if estimate.probabilities is not None:
            fused.append((now, estimate.probabilities))
    tracks = {'vision': track([t for t, _, _ in seen], [p for _, p, _ in seen]),
              'audio': track([v.end for v in voices], [v.probabilities for v in voices]),
              'fused': track([t for t, _ in fused], [p for _, p in fused])}
    return vision, heard, tracks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('modality', choices=['vision', 'audio', 'av', 'pairs'])
    parser.add_argument('--data', type=Path, help='labelled folder (vision, audio, av)')
    parser.add_argument('--faces', type=Path, help='labelled face images (pairs)')
    parser.add_argument('--speech', type=Path, help='labelled speech clips (pairs)')
    parser.add_argument('--json', type=Path, required=True)
    parser.add_argument('--split', default='PrivateTest', choices=FER_SPLITS,
                        help='FER-2013 split to evaluate (FER layout only)')
    parser.add_argument('--actors', default='21-24',
                        help='RAVDESS actors to evaluate (RAVDESS layout only)')
    parser.add_argument('--model', help='model file (vision, audio; default: config/)')
    parser.add_argument('--strategy', default=defaults('fusion')['strategy'],
                        choices=('weighted', 'product', 'learned'),
                        help='fusion strategy of the "fused" column (av, pairs)')
    parser.add_argument('--seed', type=int, default=0,
                        help='shuffle of the pairing (pairs) and of each speaker\'s clips')
    parser.add_argument('--speaker', metavar='REGEX',
                        help='group 1 of REGEX in a clip\'s file name is its speaker: each '
                             'speaker is one adapted session (audio, pairs)')
    args = parser.parse_args(argv)
    if args.speaker is not None:
        try:
            if re.compile(args.speaker).groups < 1:
                parser.error('--speaker needs a group: the speaker id is its group 1')
        except re.error as error:
            parser.error(f'--speaker {args.speaker!r}: {error}')
    folders = ('faces', 'speech') if args.modality == 'pairs' else ('data',)
    for name in folders:
        folder = getattr(args, name)
        if folder is None or not folder.is_dir():
            parser.error(f'--{name} {folder} is not a folder')

    evaluate = {'vision': evaluate_vision, 'audio': evaluate_audio, 'av': evaluate_av,
                'pairs': evaluate_pairs}[args.modality]
    try:
        result = evaluate(args)
    except MediaError as error:
        sys.exit(f'av-emotion-eval: {error}')
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    if args.modality in ('vision', 'audio'):
        png = args.json.with_suffix('.png')
        plot_confusion(result, png, f'{args.modality}: {result["data"]}')
        print(f"{args.modality}: accuracy {result['accuracy']:.4f}, "
              f"macro-F1 {result['macro_f1']:.4f}, n={result['n']} -> {args.json}, {png}")
        return
    title = 'label-matched pairing' if args.modality == 'pairs' else 'audio-visual clips'
    for m in MODALITIES:
        plot_confusion(result[m], args.json.with_suffix(f'.{m}.png'), f'{m}: {title}')
        print(f"{m:>6}: accuracy {result[m]['accuracy']:.4f}, "
              f"macro-F1 {result[m]['macro_f1']:.4f}")
    print(f"{title}, n={result['n']}, fused by {args.strategy} -> {args.json}")


if __name__ == '__main__':
    main()
