"""The ROS-free audio core on real RAVDESS speech clips."""
import numpy as np
import pytest
import soundfile as sf
import soxr

from av_emotion_audio.buffer import AudioBuffer
from av_emotion_audio.decode import AudioFormatError, check_info, decode
from av_emotion_audio.features import analyse
from av_emotion_audio.vad import VoiceActivity


@pytest.fixture(scope='module')
def clips(data):
    paths = sorted((data / 'speech' / 'ravdess').glob('*/*.flac'))
    assert len(paths) == 30
    return {p: sf.read(str(p), dtype='float32')[0] for p in paths}


@pytest.fixture(scope='module')
def speech(clips):
    return next(iter(clips.values()))  # 16 kHz, about 4 s, speech in the middle


@pytest.mark.parametrize('sample_format, dtype, scale', [
    ('S16LE', '<i2', 2 ** 15), ('S16BE', '>i2', 2 ** 15), ('S32LE', '<i4', 2 ** 31),
    ('F32LE', '<f4', 1.0)])
def test_decode_formats(speech, sample_format, dtype, scale):
    top = scale if np.dtype(dtype).kind == 'f' else scale - 1
    encoded = np.clip(speech * scale, -scale, top).astype(dtype).tobytes()
    assert np.allclose(decode(encoded, sample_format, 1), speech, atol=1e-4)


def test_decode_averages_channels(speech):
    stereo = np.stack([speech, np.zeros_like(speech)], axis=1)
    encoded = (stereo * 2 ** 15).astype('<i2').tobytes()
    assert np.allclose(decode(encoded, 'S16LE', 2), speech / 2, atol=1e-4)


def test_bad_audio_is_explained():
    with pytest.raises(AudioFormatError, match='format:=wave'):
        check_info('S16LE', 1, 16000, 'mp3')
    with pytest.raises(AudioFormatError, match='sample_format'):
        check_info('S24_3LE', 1, 16000, 'wave')
    for channels, rate in ((1, 0), (1, 1_000_000), (1, 2**32 - 1), (255, 16000), (0, 16000)):
        with pytest.raises(AudioFormatError, match='8000 to 384000 Hz'):
            check_info('S16LE', channels, rate, 'wave')
    with pytest.raises(AudioFormatError, match='whole number'):
        decode(b'\x00' * 7, 'S16LE', 2)
    with pytest.raises(AudioFormatError, match='NaN'):
        decode(np.array([0.1, np.nan], '<f4').tobytes(), 'F32LE', 1)
    with pytest.raises(AudioFormatError, match='1e\\+30'):
        decode(np.array([0.1, 1e30], '<f4').tobytes(), 'F32LE', 1)


def test_buffer_windows_follow_the_sample_clock(speech):
    buffer = AudioBuffer(16000, window=2.0, hop=0.5)
    windows = []
    for i in range(0, len(speech), 1600):  # 0.1 s chunks with jittered stamps
        jitter = 0.004 * np.sin(i)
        windows += buffer.push(speech[i:i + 1600], 10.0 + i / 16000 + jitter)[0]
    starts = [start for start, _ in windows]
    assert starts == pytest.approx([10.0 + 0.5 * k for k in range(len(starts))], abs=1e-6)
    assert all(len(w) == 32000 for _, w in windows)
    assert np.array_equal(windows[1][1], speech[8000:40000])


def test_buffer_gaps_restarts_and_late_chunks(speech):
    buffer = AudioBuffer(16000, window=2.0, hop=0.5, tolerance=0.1, max_fill=1.0)
    assert buffer.push(speech[:16000], 0.0)[1] is None
    windows, event = buffer.push(speech[16000:32000], 1.5)  # 0.5 s missing: silence
    assert event == 'gap' and len(windows) == 2
    assert np.abs(windows[0][1][16000:24000]).max() == 0
    assert buffer.push(speech[:1600], 0.2) == ([], 'late')
    assert buffer.push(speech[:16000], 30.0)[1] == 'restart'
    windows, _ = buffer.push(speech[16000:32000], 31.0)
    assert windows[0][0] == pytest.approx(30.0)


def test_features_are_plausible_on_real_speech(clips):
    for path, samples in clips.items():
        f = analyse(samples[8000:40000])
        assert 70 < f.pitch_hz < 400, path.name
        assert 0.2 < f.voiced_fraction <= 1
        assert -80 < f.intensity_db < 0
        assert 300 < f.spectral_centroid_hz < 4000
        assert f.spectral_slope_db_per_khz < 0  # speech spectra fall with frequency
        assert 0 < f.spectral_flatness < 0.5
        assert f.mfcc.shape == (20,) and np.isfinite(f.model_input).all()


def test_features_survive_resampling(clips):
    """A 44.1 kHz round trip (another device's rate) barely moves the model's input."""
    for samples in list(clips.values())[::5]:
        window = samples[8000:40000]
        copy = soxr.resample(soxr.resample(window, 16000, 44100), 44100, 16000)[:len(window)]
        a, b = analyse(window).model_input, analyse(copy).model_input
        assert np.abs(a - b).max() < 0.1 * a.std()


def test_voice_activity(speech):
    vad = VoiceActivity()
    frames = vad.frame_probabilities(speech)
    assert len(frames) == -(-len(speech) // 512)
    middle = frames[len(frames) // 3: 2 * len(frames) // 3]
    assert (middle > 0.5).mean() > 0.6
    assert vad.frame_probabilities(np.zeros(32000, np.float32)).max() < 0.1
    noise = np.random.default_rng(0).normal(0, 0.003, 32000).astype(np.float32)
    assert vad.frame_probabilities(noise).max() < 0.5


def test_dsp_follows_librosa(clips):
    """The node computes features without librosa (memory); the definitions are librosa's."""
    librosa = pytest.importorskip('librosa')
    from av_emotion_audio import dsp
    from av_emotion_audio.features import _BAND, _FREQS
    for samples in list(clips.values())[::6]:
        y = samples[8000:40000]
        ours, theirs = dsp.magnitude(dsp.frames(y, 512, 160)), np.abs(librosa.stft(
            y, n_fft=512, hop_length=160))
        assert np.abs(ours - theirs).max() < 1e-5 * theirs.max()
        assert np.allclose(dsp.rms(theirs, 512), librosa.feature.rms(S=theirs, frame_length=512)[0],
                           rtol=1e-5)
        mel = librosa.filters.mel(sr=16000, n_fft=512, n_mels=40, fmax=7000)
        assert np.allclose(dsp.mel_filters(16000, 512, 40, 7000), mel, atol=1e-7)
        log_mel = librosa.power_to_db(mel @ theirs ** 2, top_db=None)
        mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=20)
        assert np.allclose(dsp.dct_matrix(20, 40) @ log_mel, mfcc, atol=1e-3)
        assert np.allclose(dsp.delta(mfcc), librosa.feature.delta(mfcc), atol=1e-3)
        band = theirs[_BAND]
        assert np.allclose(dsp.spectral_contrast(*dsp.contrast_levels(band, _FREQS[_BAND])),
                           librosa.feature.spectral_contrast(S=band, freq=_FREQS[_BAND],
                                                             n_bands=5, fmin=150.0), atol=1e-3)
        f0 = librosa.yin(y, fmin=65, fmax=500, sr=16000, frame_length=1024, hop_length=160)
        assert np.allclose(dsp.yin(dsp.frames(y.astype(np.float64), 1024, 160), 65, 500, 16000),
                           f0, rtol=1e-3)
        assert np.allclose(dsp.zero_crossing_rate(dsp.frames(y, 512, 160, 'edge')),
                           librosa.feature.zero_crossing_rate(y, frame_length=512,
                                                              hop_length=160)[0])


def test_features_do_not_load_librosa():
    import subprocess
    import sys
    code = ('import sys, numpy as np; from av_emotion_audio.pipeline import AudioPipeline; '
            'AudioPipeline().analyse(np.zeros(32000, np.float32), 16000); '
            'sys.exit(int("librosa" in sys.modules or "numba" in sys.modules))')
    assert subprocess.run([sys.executable, '-c', code]).returncode == 0


def test_voice_encoder_hears_the_speaker_not_the_gain(clips):
    """The pretrained speaker encoder separates the two sample actors (nearest centroid,
    leave one out), ignores a 20 dB change of microphone gain, and takes Resemblyzer's mel."""
    from av_emotion_audio import voice_encoder
    encoder = voice_encoder.VoiceEncoder()
    stats = {p: encoder(s[8000:40000]) for p, s in clips.items()}
    actors = np.array([p.stem.rsplit('-', 1)[1] for p in stats])
    X = np.array(list(stats.values()))
    assert X.shape == (30, 512) and len(set(actors)) == 2
    right = 0
    for i in range(len(X)):
        rest = np.arange(len(X)) != i
        centroids = {a: X[rest & (actors == a)].mean(axis=0) for a in set(actors)}
        right += min(centroids, key=lambda a: np.linalg.norm(X[i] - centroids[a])) == actors[i]
    assert right >= 27
    window = next(iter(clips.values()))[8000:40000]
    quiet = encoder(window * 0.1)
    assert np.abs(quiet - stats[next(iter(clips))]).max() < 1e-3
    librosa = pytest.importorskip('librosa')
    theirs = librosa.feature.melspectrogram(y=window, sr=16000, n_fft=400, hop_length=160,
                                            n_mels=40)
    ours = voice_encoder.frame_values(window)[0]
    assert np.allclose(ours, theirs, rtol=1e-4, atol=1e-6 * theirs.max())
