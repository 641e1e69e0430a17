"""The fusion core on real estimates: FER-2013 faces through the vision classifier, RAVDESS
clips through the audio pipeline (the same people never appear in both)."""
import cv2
import numpy as np
import pytest
import soundfile as sf

from av_emotion.taxonomy import LABELS
from av_emotion_audio.pipeline import AudioPipeline
from av_emotion_fusion.fusion import (Agreement, Combiner, Evidence, Smoother, combiner_input,
                                      face_reliability, fresh, fuse, speaker_face)
from av_emotion_fusion.stream import Face, FusionStream
from av_emotion_vision.pipeline import VisionPipeline


@pytest.fixture(scope='module')
def faces(data):
    """REP-155 probabilities of every FER-2013 sample face, by label."""
    classifier = VisionPipeline().classifier
    return {folder.name: classifier.classify(
        [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(folder.glob('*.jpg'))])
        for folder in sorted((data / 'faces' / 'fer2013').iterdir())}


@pytest.fixture(scope='module')
def voices(data):
    """REP-155 probabilities of every RAVDESS sample clip (mean of voiced windows), by label."""
    audio = AudioPipeline()
    out = {}
    for folder in sorted((data / 'speech' / 'ravdess').iterdir()):
        for clip in sorted(folder.glob('*.flac')):
            samples, rate = sf.read(str(clip), dtype='float32')
            voiced = [v.probabilities for v in audio.clip(samples, rate) if v.voiced]
            out.setdefault(folder.name, []).append(np.mean(voiced, axis=0))
    return out


@pytest.fixture(scope='module')
def estimates(faces, voices):
    """{label: (a face, a voice)} of that label."""
    return {label: (faces[label][0], voices[label][0]) for label in faces}


def test_missing_modality_degrades_to_the_other(estimates):
    face, voice = estimates['happy']
    fused, weights = fuse({'vision': Evidence(face, 0.9, 1.0)}, {'vision': 1, 'audio': 1})
    assert weights == {'vision': 1.0} and np.allclose(fused, face)
    silent = {'vision': Evidence(face, 0.9, 1.0), 'audio': Evidence(voice, 0.0, 1.0)}
    assert fuse(silent, {'vision': 1, 'audio': 1})[1] == {'vision': 1.0}
    assert fuse({}, {'vision': 1})[0] is None
    # Calibration sharpens a fusion of two, never a lone modality beyond what it said.
    for strategy in ('weighted', 'product'):
        alone, _ = fuse(silent, {'vision': 1, 'audio': 1}, strategy, temperature=0.5)
        assert np.allclose(alone, face)
        both = {'vision': Evidence(face, 0.9, 1.0), 'audio': Evidence(voice, 0.9, 1.0)}
        plain, sharp = (fuse(both, {}, strategy, temperature=t)[0] for t in (1.0, 0.5))
        assert sharp.max() > plain.max() and sharp.argmax() == plain.argmax()


@pytest.mark.parametrize('strategy', ['weighted', 'product'])
def test_fused_is_a_distribution_weighted_by_reliability(estimates, strategy):
    for face, voice in estimates.values():
        fused, weights = fuse({'vision': Evidence(face, 0.9, 1.0),
                               'audio': Evidence(voice, 0.3, 1.0)},
                              {'vision': 1.0, 'audio': 2.0}, strategy)
        assert fused.sum() == pytest.approx(1.0) and (fused >= 0).all()
        assert weights['vision'] == pytest.approx(0.9 / 1.5)
        assert weights['audio'] == pytest.approx(0.6 / 1.5)


def test_agreeing_modalities_reinforce_in_the_product(faces, voices):
    agreeing = [(f, v) for fs in faces.values() for f in fs for vs in voices.values()
                for v in vs if f.argmax() == v.argmax()]
    assert agreeing, 'some real face and voice estimates agree'
    for face, voice in agreeing:
        fused, _ = fuse({'vision': Evidence(face, 1, 0), 'audio': Evidence(voice, 1, 0)},
                        {'vision': 1, 'audio': 1}, 'product')
        assert fused.argmax() == face.argmax()
        assert fused.max() > min(face.max(), voice.max())


def test_label_a_modality_lacks_is_decided_by_the_other(estimates):
    face, voice = estimates['disgusted']
    known = np.array([label != 'disgusted' for label in LABELS])
    voice_without = np.where(known, voice, 0) / voice[known].sum()
    for strategy in ('weighted', 'product', 'learned'):
        fused, _ = fuse({'vision': Evidence(face, 1, 0),
                         'audio': Evidence(voice_without, 1, 0, known)},
                        {'vision': 1, 'audio': 1}, strategy, Combiner('fusion_combiner.onnx'))
        d = LABELS.index('disgusted')
        assert fused[d] > 0, 'the label is kept, not dropped'
        if strategy == 'weighted':
            others = fused[known].sum()
            expected_ratio = face[d] / ((face[known] + voice_without[known]).sum() / 2)
            assert fused[d] / others == pytest.approx(expected_ratio, rel=1e-6)


def test_stale_evidence_is_missing(estimates):
    face, voice = estimates['sad']
    evidence = {'vision': Evidence(face, 1, 10.0), 'audio': Evidence(voice, 1, 8.5)}
    assert set(fresh(evidence, now=10.2, max_age=1.0)) == {'vision'}
    assert set(fresh(evidence, now=9.0, max_age=1.0)) == {'vision', 'audio'}


def test_smoothing_follows_its_time_constant(estimates):
    face, voice = estimates['angry']
    smoother = Smoother(time_constant=0.5)
    assert np.allclose(smoother.update(1, face, 0.0), face)
    step = smoother.update(1, voice, 0.5)
    assert np.allclose(step, face + (1 - np.exp(-1)) * (voice - face))
    assert np.allclose(smoother.update(1, face, 0.2), step)  # older than the last: ignored
    assert np.allclose(smoother.update(2, voice, 0.6), voice)  # faces smoothed apart
    smoother.forget(keep={2})
    assert set(smoother.state) == {2}
    assert np.allclose(Smoother(0).update(1, voice, 3.0), voice)


def test_voice_goes_to_the_largest_face():
    assert speaker_face([(3, 40, 50), (7, 120, 150), (9, 60, 60)]) == 7
    assert speaker_face([]) == 0
    assert face_reliability(0.9, 48, 96) == pytest.approx(0.45)
    assert face_reliability(0.9, 200, 96) == pytest.approx(0.9)
    with pytest.raises(ValueError, match='strategy'):
        fuse({}, {}, 'average')


def test_learned_combiner_fuses_and_covers_a_missing_modality(faces, voices):
    combiner = Combiner('fusion_combiner.onnx')
    right = {'vision': 0, 'audio': 0, 'fused': 0}
    for label in faces:
        for face, voice in zip(faces[label], voices[label] * 3):
            both = {'vision': Evidence(face, 1.0, 0), 'audio': Evidence(voice, 0.9, 0)}
            fused, weights = fuse(both, {'vision': 1, 'audio': 1}, 'learned', combiner)
            assert fused.sum() == pytest.approx(1.0, abs=1e-5) and set(weights) == set(both)
            right['fused'] += LABELS[fused.argmax()] == label
            right['vision'] += LABELS[face.argmax()] == label
            right['audio'] += LABELS[voice.argmax()] == label
            alone, weights = fuse({'vision': both['vision']}, {}, 'learned', combiner)
            assert weights == {'vision': 1.0} and alone.sum() == pytest.approx(1.0, abs=1e-5)
    # 35 real pairs: fused beats each modality alone here too.
    assert right['fused'] > max(right['vision'], right['audio']), right
    row = combiner_input({'audio': Evidence(voices['sad'][0], 0.5, 0)})
    assert not row[:len(LABELS)].any() and row[len(LABELS):].all()
    with pytest.raises(ValueError, match='Combiner'):
        fuse({'vision': Evidence(faces['sad'][0], 1, 0)}, {}, 'learned')


def test_stream_follows_the_speaker_and_ages_evidence_out(estimates):
    face, voice = estimates['happy']
    stream = FusionStream(strategy='weighted', max_age=1.0)
    big, small = Face(2, face, 0.9, 120, 150), Face(1, np.roll(face, 1), 0.9, 40, 50)
    assert stream.faces(10.0, [small, big])
    assert stream.voice(10.0, voice, 0.8)
    stream.attribute([small, big])
    estimate = stream.step(10.1)
    assert estimate.face_id == 2 and set(estimate.weights) == {'vision', 'audio'}
    assert not stream.faces(9.9, [small]), 'an older frame is ignored'
    assert stream.voice(10.5, None, 0.1), 'silence is taken, keeping the last voiced window'
    assert stream.step(10.8).evidence['audio'].stamp == 10.0
    assert stream.faces(11.0, [small, big])
    estimate = stream.step(11.05)
    assert set(estimate.weights) == {'vision'}, 'the voice is older than max_age'
    estimate = stream.step(12.5)
    assert estimate.probabilities is None and estimate.face_id == 0 and not estimate.confidence


def test_a_lone_face_is_never_more_confident_than_its_node(faces, voices):
    # Face and voice agree at first, then the voice ages out and real faces of changing
    # certainty follow each other every 0.1 s: smoothing holds a sharper past on.
    stream = FusionStream()
    stream.voice(0.0, voices['sad'][0], 0.9)
    alone, held = 0, False
    for i, probabilities in enumerate(np.concatenate([faces[k] for k in ('sad', 'happy', 'sad')])):
        face = Face(1, probabilities, 0.9, 120, 150)
        stream.faces(i * 0.1, [face])
        estimate = stream.step(i * 0.1 + 0.05)
        if set(estimate.weights) == {'vision'}:
            alone += 1
            held |= estimate.probabilities.max() > probabilities.max()
            # vision_node reports probability x detection score
            assert estimate.confidence <= probabilities.max() * face.score + 1e-6
    assert alone >= 7 and held


def streamed(pairs, **params):
    """Labels fused by a FusionStream fed (face, voice) probabilities one pair per second,
    as fusion_node feeds it (voice, then the synchronised pair), and the stream."""
    stream = FusionStream(**{'smoothing.time_constant': 0.0, **params})
    fused = []
    for t, (face, voice) in enumerate(pairs):
        faces = [Face(1, face, 1.0, 96, 96)]
        stream.faces(float(t), faces)
        stream.voice(float(t), voice, 0.9)
        stream.attribute(faces, voice)
        fused.append(LABELS[stream.step(t + 0.1).probabilities.argmax()])
    return fused, stream


def test_a_voice_at_chance_ends_with_almost_no_weight(faces):
    """Real faces, each heard with a confident random voice (a model out of its domain)."""
    rng = np.random.default_rng(0)
    session = [(label, face) for _ in range(12) for label in faces for face in faces[label]]
    session = [session[i] for i in rng.permutation(len(session))]
    truth = [label for label, _ in session]
    vision = np.mean([LABELS[face.argmax()] == label for label, face in session])
    voices = rng.dirichlet(np.full(len(LABELS), 0.3), len(session))
    for strategy in ('learned', 'weighted', 'product'):
        fused, stream = streamed([(f, v) for (_, f), v in zip(session, voices)],
                                 strategy=strategy)
        assert np.mean(np.array(fused) == truth) >= vision - 0.01, strategy
        assert stream.voice_trust() < 0.05
        unchecked, _ = streamed([(f, v) for (_, f), v in zip(session, voices)],
                                strategy=strategy, **{'agreement.enabled': False})
        assert np.mean(np.array(unchecked) == truth) < vision - 0.05, 'the check matters'


def test_a_voice_that_agrees_keeps_its_weight(faces, voices):
    """Label-matched real faces and RAVDESS clips: the voice keeps its trust and helps."""
    rng = np.random.default_rng(1)
    session = [(label, face, voices[label][i % len(voices[label])]) for _ in range(4)
               for label in faces for i, face in enumerate(faces[label])]
    session = [session[i] for i in rng.permutation(len(session))]
    fused, stream = streamed([(f, v) for _, f, v in session])
    truth = [label for label, _, _ in session]
    vision = np.mean([LABELS[f.argmax()] == label for label, f, _ in session])
    assert stream.voice_trust() > 0.8
    assert np.mean(np.array(fused) == truth) > vision


def test_agreement_is_kappa_shrunk_toward_expected():
    agreement = Agreement(window=4, expected=0.5, prior_pairs=0)
    assert agreement.trust() == 1.0 and agreement.kappa() == (None, None)
    eye = np.eye(len(LABELS))
    for i in range(6):  # the window keeps the last 4: all agree on labels 2..5
        agreement.add(eye[i], eye[i] if i >= 2 else eye[i + 1])
    assert agreement.kappa() == (1.0, 0.25)
    for i in range(4):  # always off by one label: below chance
        agreement.add(eye[i], eye[i + 1])
    assert agreement.kappa()[0] < 0 and agreement.trust() == 0.0
    assert Agreement(window=4, expected=0.5, prior_pairs=1000).trust() == 1.0
