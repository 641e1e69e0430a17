"""Prosody and tone of one 16 kHz speech window, and the emotion model's input.

Spectral features stop at 7 kHz: above it, spectra change with resampling and lossy
re-encoding, which would make the same voice look different on another microphone chain.
Pitch is YIN (about 4 ms per 2 s window; pYIN costs 40 times more). The DSP is
av_emotion_audio.dsp, which follows librosa's definitions without its memory cost.
"""
from dataclasses import dataclass, field

import numpy as np

from av_emotion_audio import dsp

RATE = 16000
N_FFT = 512  # 32 ms
HOP = 160  # 10 ms
FMAX = 7000.0
PITCH_RANGE = (65.0, 500.0)
N_MELS = 40
N_MFCC = 20
# Frames this far below the window's loudest are not analysed as speech.
SPEECH_DB_RANGE = 30.0

_FREQS = dsp.fft_frequencies(RATE, N_FFT)
_BAND = _FREQS <= FMAX
_BAND_KHZ = (_FREQS[_BAND] / 1000.0)[:, None]
_MEL = dsp.mel_filters(RATE, N_FFT, N_MELS, FMAX)
_DCT = dsp.dct_matrix(N_MFCC, N_MELS)
# Least-squares slope over the band's frequencies, as np.polyfit(.., 1)[0] (to 1e-14) at a
# fraction of its cost (lstsq takes up to 10 ms for a hop's frames).
_CENTRED_KHZ = _BAND_KHZ[:, 0] - _BAND_KHZ[:, 0].mean()
_SLOPE = _CENTRED_KHZ / (_CENTRED_KHZ @ _CENTRED_KHZ)


@dataclass
class Features:
    """Per-window values as in av_emotion_msgs/VoiceFeatures (NaN where undefined)."""
    pitch_hz: float
    pitch_std_hz: float
    voiced_fraction: float
    intensity_db: float
    intensity_std_db: float
    spectral_centroid_hz: float
    spectral_slope_db_per_khz: float
    spectral_flatness: float
    mfcc: np.ndarray = field(repr=False)
    model_input: np.ndarray = field(repr=False)  # vector for the speech-emotion model


def _stats(values):
    if values.size == 0:
        return np.zeros(2 * (values.shape[0] if values.ndim > 1 else 1), np.float32)
    axis = -1
    return np.concatenate([np.atleast_1d(values.mean(axis)), np.atleast_1d(values.std(axis))])


def analyse(samples, speech=None):
    """Features of 16 kHz mono float samples.

    speech: optional per-10 ms-frame mask of frames the voice-activity detector called
    speech; pitch and statistics are taken over speech frames that are also loud enough.
    """
    return window_features(frame_values(samples), speech)


def frame_values(samples, index=slice(None)):
    """{name: values with 10 ms frames on the last axis} of a window's frames (all, or those
    `index` picks). Each depends on its frame's samples only, so overlapping windows of a
    stream can share them (av_emotion_audio.stream); window_features combines them."""
    samples = np.asarray(samples, np.float32)
    spectrum = dsp.magnitude(dsp.frames(samples, N_FFT, HOP)[index])
    band = spectrum[_BAND].astype(np.float64)
    weights = band / np.maximum(band.sum(axis=0), 1e-12)
    centroid = (weights * _BAND_KHZ).sum(axis=0)  # kHz
    power = np.maximum(band ** 2, 1e-10)
    peaks, valleys = dsp.contrast_levels(band, _FREQS[_BAND])
    return {
        'level_db': 20 * np.log10(np.maximum(dsp.rms(spectrum, N_FFT), 1e-6)),
        # 1024 samples hold four periods of the lowest pitch; 2048 would cost 3x more.
        'f0': dsp.yin(dsp.frames(samples.astype(np.float64), 1024, HOP)[index], *PITCH_RANGE,
                      RATE),
        'centroid': centroid,
        'bandwidth': np.sqrt((weights * (_BAND_KHZ - centroid) ** 2).sum(axis=0)),
        'rolloff': _BAND_KHZ[np.argmax(weights.cumsum(axis=0) >= 0.85, axis=0), 0],
        'flatness': np.exp(np.log(power).mean(axis=0)) / power.mean(axis=0),
        'slope': _SLOPE @ dsp.power_to_db(band ** 2, amin=1e-10),
        'crossings': dsp.zero_crossing_rate(dsp.frames(samples, N_FFT, HOP, 'edge')[index]),
        'peaks': peaks, 'valleys': valleys,
        'log_mel': dsp.power_to_db(_MEL @ spectrum ** 2)}


def window_features(values, speech=None):
    """Features of one window from the frame_values of all its frames."""
    level_db, f0 = values['level_db'], values['f0']
    frames = len(level_db)
    active = level_db > level_db.max() - SPEECH_DB_RANGE
    if speech is not None:
        active &= np.resize(np.asarray(speech, bool), frames)

    # yin always answers; estimates at the edges of its range are unvoiced frames.
    voiced = active & (f0 > PITCH_RANGE[0] * 1.05) & (f0 < PITCH_RANGE[1] * 0.95)
    pitch = f0[voiced]
    centroid, rolloff, bandwidth, flatness, slope, crossings = (values[k] for k in (
        'centroid', 'rolloff', 'bandwidth', 'flatness', 'slope', 'crossings'))
    contrast = dsp.spectral_contrast(values['peaks'], values['valleys'])

    # Model input is gain-normalised: microphone gain must not read as emotion.
    gain_db = float(np.median(level_db[active])) if active.any() else float(level_db.max())
    log_mel = values['log_mel'] - gain_db
    mfcc = _DCT @ log_mel
    delta = dsp.delta(mfcc)
    use = active if active.sum() >= 3 else np.ones(frames, bool)
    semitones = 12 * np.log2(pitch / 100.0) if pitch.size else np.zeros(0)
    pitch_steps = np.abs(np.diff(semitones)) if pitch.size > 1 else np.zeros(1)
    prosody = np.array([
        voiced.sum() / max(1, active.sum()),
        semitones.mean() if pitch.size else 0.0,
        semitones.std() if pitch.size else 0.0,
        np.percentile(semitones, 90) - np.percentile(semitones, 10) if pitch.size else 0.0,
        pitch_steps.mean(),  # how fast the melody moves (jitter and intonation)
        level_db[use].std(),
        level_db[use].max() - gain_db,
        np.abs(np.diff(level_db[use])).mean() if use.sum() > 1 else 0.0,
        use.mean(),
    ], np.float32)
    model_input = np.concatenate([
        _stats(mfcc[:, use]), np.percentile(mfcc[:, use], [10, 90], axis=1).ravel(),
        _stats(delta[:, use]), _stats(log_mel[:, use]), _stats(contrast[:, use]),
        _stats(centroid[use]), _stats(rolloff[use]), _stats(bandwidth[use]),
        _stats(flatness[use]), _stats(slope[use]),
        _stats(crossings[use]), prosody,
    ]).astype(np.float32)

    nan = float('nan')
    return Features(
        pitch_hz=float(np.median(pitch)) if pitch.size else nan,
        pitch_std_hz=float(pitch.std()) if pitch.size else nan,
        voiced_fraction=float(voiced.mean()),
        intensity_db=float(level_db[use].mean()),
        intensity_std_db=float(level_db[use].std()),
        spectral_centroid_hz=float(1000.0 * centroid[use].mean()),
        spectral_slope_db_per_khz=float(slope[use].mean()),
        spectral_flatness=float(flatness[use].mean()),
        mfcc=mfcc[:, use].mean(axis=1).astype(np.float32),
        model_input=model_input)
