"""The audio core's stream (av_emotion_audio.stream) on real RAVDESS speech: each 10 ms frame
analysed once per stream, the windows' statistics as for each window alone."""
import numpy as np
import pytest
import soundfile as sf
import soxr

from av_emotion_audio import features as feats
from av_emotion_audio import voice_encoder
from av_emotion_audio.buffer import AudioBuffer
from av_emotion_audio.pipeline import AudioPipeline, clip_windows
from av_emotion_audio.stream import WindowStream
from av_emotion_audio.vad import FRAME, ActivityStream


@pytest.fixture(scope='module')
def clips(data):
    paths = sorted((data / 'speech' / 'ravdess').glob('*/*.flac'))
    return [sf.read(str(p), dtype='float32')[0] for p in paths[::6]]  # 16 kHz, about 4 s


@pytest.fixture(scope='module')
def pipeline():
    # No adaptation: a window's model input is then its features alone, comparable across
    # pipelines and orders.
    return AudioPipeline(**{'adaptation.enabled': False})


def alone(window, rate):
    """Frame values of a window analysed alone, as analyse() computes them."""
    audio = window if rate == 16000 else soxr.resample(window, rate, 16000)
    values = feats.frame_values(audio)
    values['encoder'] = voice_encoder.frame_values(audio)
    return audio, values


def flat(values):
    return {k: np.vstack([np.atleast_2d(a) for a in v]) if isinstance(v, tuple) else v
            for k, v in values.items()}


def assert_same_frames(stream, window, rate):
    """The stream's frames of `window` are those of the window alone. At 16 kHz they are the
    same computation on the same samples. A resampled window's middle differs from the
    same stretch of the last (longer-reaching) window by soxr's rounding, about 1e-7. So
    they are compared where a window's statistics can use them (frames within twice
    features.SPEECH_DB_RANGE of its loudest; in near silence, spectral shape is a ratio of
    magnitudes near that rounding), where values move by 1e-3 of their scale at most (2e-3
    allowed, and 5e-3 of the model input's scale), zero crossings most: samples that close
    to zero change sign, a few in a frame (16 of 512 allowed)."""
    audio, values = alone(window, rate)
    tolerance = 1e-6 if rate == 16000 else 2e-3
    level = values['level_db']
    used = level > (level.max() - 2 * feats.SPEECH_DB_RANGE if rate != 16000 else -np.inf)
    for name, theirs in flat(values).items():
        ours, theirs = flat(stream.values)[name][..., used], theirs[..., used]
        scale = np.abs(theirs).max()
        if name == 'crossings' and rate != 16000:
            assert np.abs(ours - theirs).max() <= 16 / feats.N_FFT
        else:
            assert np.abs(ours - theirs).max() <= tolerance * scale, name
    mask = np.random.default_rng(1).random(len(values['level_db'])) > 0.3
    a = feats.window_features(stream.values, mask).model_input
    b = feats.analyse(audio, mask).model_input
    assert np.abs(a - b).max() <= (1e-6 if rate == 16000 else 5e-3) * np.abs(b).max()


@pytest.mark.parametrize('rate', [16000, 48000, 8000])
def test_stream_frames_are_the_windows_own(pipeline, clips, rate):
    for clip in clips:
        samples = clip if rate == 16000 else soxr.resample(clip, 16000, rate)
        stream = WindowStream(pipeline.vad, pipeline.encoder, pipeline.params)
        for start, window in clip_windows(samples, rate, 2.0, 0.5):
            stream.describe(window, rate, start)
            assert_same_frames(stream, window, rate)


def test_voice_activity_carries_its_state(pipeline, clips):
    """Chunks of any size score each 32 ms frame once, as one pass over the whole stream
    from a cold start; a window's activity is that of the stream's frames within it."""
    clip = clips[0]
    whole = pipeline.vad.frame_probabilities(clip[:len(clip) // FRAME * FRAME])
    activity, pieces, at = ActivityStream(pipeline.vad), [], 0
    for size in np.random.default_rng(0).integers(1, 3000, 100):
        pieces.append(activity.push(clip[at:at + size]))
        at += size
    streamed = np.concatenate(pieces)
    assert len(streamed) == min(at, len(clip)) // FRAME
    assert np.allclose(streamed, whole[:len(streamed)], atol=1e-5)
    voices = pipeline.clip(clip, 16000)
    for voice in voices:
        first = int(voice.start * 16000) // FRAME
        last = int(voice.end * 16000) // FRAME  # the window's last frame is still incomplete
        assert voice.speech_probability == pytest.approx(whole[first:last].mean(), abs=1e-5)


def test_clip_is_what_the_node_computes(pipeline, clips):
    """clip() (evaluation) and push() (the node) give the same voices."""
    clip = clips[1]
    offline = pipeline.clip(clip, 16000)
    node = AudioPipeline(**{'adaptation.enabled': False})
    live = []
    for i in range(0, len(clip), 1600):
        live += node.push(clip[i:i + 1600], 16000, 5.0 + i / 16000)[0]
    assert len(live) == len(offline)
    for a, b in zip(live, offline):
        assert a.start == pytest.approx(b.start + 5.0)
        assert a.voiced == b.voiced and a.speech_probability == b.speech_probability
        assert np.array_equal(a.features.model_input, b.features.model_input)


def test_gaps_restarts_and_late_chunks(pipeline, clips):
    """A gap the buffer fills with silence continues the stream (the silence is its audio); a
    late chunk is dropped and changes nothing; a restart starts it anew, as a new node."""
    speech = np.concatenate(clips[:2])
    node = AudioPipeline(**{'adaptation.enabled': False})
    buffer = AudioBuffer(16000, 2.0, 0.5)  # the windows node's buffer makes

    def push(chunk, stamp, expected):
        voices, event = node.push(chunk, 16000, stamp)
        windows, _ = buffer.push(chunk, stamp)
        assert event == expected and len(voices) == len(windows)
        if windows:  # the last window's frames, most of them from those before
            assert_same_frames(node.stream, windows[-1][1], 16000)
        return voices

    push(speech[:40000], 0.0, None)
    push(speech[40000:48000], 2.5 + 0.3, 'gap')  # 0.3 s of silence
    assert push(speech[:1600], 1.0, 'late') == []
    push(speech[48000:64000], 3.3, None)
    after = push(speech[64000:112000], 30.0, 'restart')
    fresh = AudioPipeline(**{'adaptation.enabled': False}).push(
        speech[64000:112000], 16000, 30.0)[0]
    assert [v.speech_probability for v in after] == [v.speech_probability for v in fresh]
    assert all(np.array_equal(a.features.model_input, b.features.model_input)
               for a, b in zip(after, fresh))


def test_sample_rate_changes(pipeline, clips):
    """Another rate (a new AudioInfo) starts the stream anew at that rate."""
    clip = clips[2]
    node = AudioPipeline(**{'adaptation.enabled': False})
    node.push(clip[:40000], 16000, 0.0)
    loud = soxr.resample(clip, 16000, 48000)
    changed = node.push(loud[:120000], 48000, 2.5)[0]
    fresh = AudioPipeline(**{'adaptation.enabled': False}).push(loud[:120000], 48000, 2.5)[0]
    assert len(changed) == len(fresh) == 2
    for a, b in zip(changed, fresh):
        assert a.speech_probability == b.speech_probability
        assert np.array_equal(a.features.model_input, b.features.model_input)
    windows = clip_windows(loud[:120000], 48000, 2.0, 0.5)
    assert_same_frames(node.stream, windows[-1][1], 48000)
    back = node.push(clip, 16000, 10.0)[0]
    assert back and all(np.isfinite(v.features.model_input).all() for v in back)


def test_the_encoder_statistics_serve_two_windows(clips):
    """With encoder_interval 2 a voiced window either has the encoder's statistics of its
    own samples or those of the window before (which also computed them); the hand-made
    features are every window's own."""
    clip = np.concatenate(clips[:2])
    every, second = (AudioPipeline(**{'adaptation.enabled': False, 'encoder_interval': n})
                     .clip(clip, 16000) for n in (1, 2))
    own = reused = 0
    for i, (a, b) in enumerate(zip(every, second)):
        assert a.voiced == b.voiced
        if not a.voiced:
            continue
        x, y = a.features.model_input, b.features.model_input
        assert np.array_equal(x[:-512], y[:-512])
        if np.array_equal(x[-512:], y[-512:]):
            own += 1
        else:
            assert np.array_equal(y[-512:], every[i - 1].features.model_input[-512:])
            assert np.array_equal(y[-512:], second[i - 1].features.model_input[-512:])
            reused += 1
    assert reused >= 3 and own >= reused
