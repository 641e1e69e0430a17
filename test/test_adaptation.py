"""Speaker/session adaptation of the voice path, on real RAVDESS speech (actors 21, 22)."""
import json

import numpy as np
import pytest
import soundfile as sf

from av_emotion_audio.adaptation import SpeakerAdaptation
from av_emotion_audio.pipeline import AudioPipeline
from av_emotion_bringup.evaluate import main

SPEAKER = r'-(\d+)\.flac$'


# Work in progress (issue 8): the speech model retrained by tools/train_speech.py ships the
# population statistics adaptation needs; until it is committed these tests cannot run.
needs_adapted_model = pytest.mark.skipif(
    AudioPipeline().classifier.population() is None,
    reason='the shipped speech model has no adaptation statistics yet (tools/train_speech.py)')


@pytest.fixture(scope='module')
def pipeline():
    return AudioPipeline()


@pytest.fixture(scope='module')
def clips(data):
    paths = sorted((data / 'speech' / 'ravdess').glob('*/*.flac'))
    return [(p, p.parent.name, sf.read(str(p), dtype='float32')[0]) for p in paths]


def session(pipeline, clips):
    """Clip probabilities of `clips` heard one after the other as one session."""
    pipeline.new_session()
    out = []
    for _, _, samples in clips:
        voiced = [v.probabilities for v in pipeline.clip(samples, 16000) if v.voiced]
        out.append(np.mean(voiced, axis=0))
    return out


@needs_adapted_model
def test_the_shipped_model_carries_population_statistics(pipeline):
    assert pipeline.adaptation is not None
    assert pipeline.adaptation.mean0.shape == (len(pipeline.adaptation.var0),)
    assert pipeline.classifier.temperature != 1.0, 'calibrated on training-side data'


@needs_adapted_model
def test_adaptation_is_causal(pipeline, clips):
    # A clip's result depends on the clips before it, never on those after.
    actor = [c for c in clips if c[0].stem.endswith('-21')]
    full = session(pipeline, actor)
    for cut in (3, 8):
        early = session(pipeline, actor[:cut])
        assert np.allclose(early, full[:cut])
    assert not np.allclose(full[-1], session(pipeline, actor[-1:])[0]), 'adaptation acts'


@needs_adapted_model
def test_a_long_silence_starts_a_new_session(pipeline, clips):
    adapt = pipeline.adaptation
    _, _, samples = clips[0]
    pipeline.new_session()
    resets = adapt.resets
    pipeline.analyse(samples[:32000], 16000, start=0.0)
    pipeline.analyse(samples[16000:48000], 16000, start=1.0)
    assert adapt.n == 2 and adapt.resets == resets
    # Window ends: 2, 3, then 3 + reset_after - 0.1 s.
    pipeline.analyse(samples[:32000], 16000, start=1.0 + adapt.reset_after - 0.1)
    assert adapt.n == 3, 'a pause shorter than reset_after keeps the session'
    pipeline.analyse(samples[:32000], 16000, start=6.0 + 2 * adapt.reset_after)
    assert adapt.n == 1 and adapt.resets == resets + 1


def test_a_change_of_voice_starts_a_new_session():
    rng = np.random.default_rng(0)
    adapt = SpeakerAdaptation(np.zeros(3), np.ones(3), change_semitones=7.0, change_windows=2)
    for t in range(6):  # a man around 110 Hz
        adapt(rng.normal(size=3), t, pitch_hz=110 * 2 ** (rng.normal(0, 1) / 12))
    adapt(rng.normal(size=3), 6, pitch_hz=240.0)  # one high window: emphasis, not a new voice
    adapt(rng.normal(size=3), 7, pitch_hz=112.0)
    assert adapt.n == 8 and adapt.resets == 0
    adapt(rng.normal(size=3), 8, pitch_hz=230.0)  # a woman takes over
    adapt(rng.normal(size=3), 9, pitch_hz=225.0)
    assert adapt.resets == 1 and adapt.n == 2


@needs_adapted_model
def test_adaptation_improves_real_sessions(data, tmp_path):
    out = tmp_path / 'audio.json'
    main(['audio', '--data', str(data / 'speech' / 'ravdess'), f'--speaker={SPEAKER}',
          '--json', str(out)])
    result = json.loads(out.read_text())
    print(f"adapted {result['accuracy']:.3f} / cold {result['cold']['accuracy']:.3f}")
    assert result['adaptation'] and result['n'] == 30
    assert result['accuracy'] > result['cold']['accuracy']
    assert result['cold']['accuracy'] >= 0.3, 'a cold start still works (chance is 1/7)'
    assert result['macro_f1'] > result['cold']['macro_f1']
    assert 0 <= result['ece'] < 0.5 and set(result['cold']) == {'accuracy', 'macro_f1', 'ece'}


def test_bad_speaker_pattern_is_one_line(data, tmp_path, capsys):
    for pattern in ('(', r'\d+'):
        with pytest.raises(SystemExit) as exit_info:
            main(['audio', '--data', str(data / 'speech' / 'ravdess'), '--speaker', pattern,
                  '--json', str(tmp_path / 'x.json')])
        assert exit_info.value.code == 2
    with pytest.raises(SystemExit, match='finds no speaker'):
        main(['audio', '--data', str(data / 'speech' / 'ravdess'), '--speaker', r'(zz)',
              '--json', str(tmp_path / 'x.json')])
