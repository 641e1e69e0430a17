"""The few spectral and pitch operations the voice features need, in numpy.

They follow librosa's definitions (centred frames, periodic Hann window, Slaney mel scale,
orthonormal DCT-II, YIN) and are checked against librosa in test_audio_core. librosa itself
is not imported at run time: its imports (numba, scipy.signal, pooch) alone cost about
200 MB, which would double the audio node's memory on a Raspberry Pi.
"""
import numpy as np


def frames(y, length, hop, pad_mode='constant'):
    """Centred frames (n_frames, length) of a signal, as librosa's center=True."""
    y = np.pad(y, length // 2, mode=pad_mode)
    return np.lib.stride_tricks.sliding_window_view(y, length)[::hop]


def magnitude(x):
    """|STFT| of frames x (n_frames, n_fft), shape (1 + n_fft // 2, n_frames), periodic Hann
    window: magnitude(frames(y, n_fft, hop)) is librosa's |stft(y)|."""
    n_fft = x.shape[1]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    return np.abs(np.fft.rfft(x * window, axis=1)).T.astype(np.float32)


def fft_frequencies(rate, n_fft):
    return np.linspace(0, rate / 2, 1 + n_fft // 2)


def _hz_to_mel(hz):
    # Slaney: linear below 1 kHz, logarithmic above.
    hz = np.asarray(hz, dtype=np.float64)
    log = hz >= 1000.0
    mel = hz * 3.0 / 200.0
    return np.where(log, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0),
                    mel)


def _mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)),
                    200.0 * mel / 3.0)


def mel_filters(rate, n_fft, n_mels, fmax, fmin=0.0):
    """Triangular mel filter bank (n_mels, 1 + n_fft // 2), Slaney area normalisation."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    freqs = fft_frequencies(rate, n_fft)
    widths = np.diff(edges)
    ramps = edges[:, None] - freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def dct_matrix(n_out, n_in):
    """Orthonormal DCT-II basis: dct_matrix(k, n) @ x are x's first k coefficients."""
    k = np.arange(n_out)[:, None]
    basis = np.cos(np.pi * k * (2 * np.arange(n_in)[None, :] + 1) / (2 * n_in))
    basis *= np.sqrt(2.0 / n_in)
    basis[0] /= np.sqrt(2.0)
    return basis.astype(np.float32)


def power_to_db(power, amin=1e-10, top_db=None):
    """10 log10(power); with top_db, nothing lower than top_db below the array's maximum."""
    db = 10.0 * np.log10(np.maximum(power, amin))
    return db if top_db is None else np.maximum(db, db.max() - top_db)


def rms(magnitude, n_fft):
    """Frame RMS from an STFT magnitude, as librosa.feature.rms(S=...)."""
    power = magnitude.astype(np.float64) ** 2
    power[0] *= 0.5
    power[-1] *= 0.5  # n_fft is even: the Nyquist bin is counted once
    return np.sqrt(2 * power.sum(axis=0) / n_fft ** 2)


def delta(x, width=9):
    """First derivative along time by local linear regression (Savitzky-Golay order 1),
    the edges from the regression line of the first and last `width` frames."""
    half = width // 2
    if x.shape[-1] < width:
        return np.zeros_like(x)
    k = np.arange(-half, half + 1, dtype=np.float64)
    slope = np.apply_along_axis(lambda row: np.convolve(row, k[::-1] / (k @ k), 'valid'),
                                -1, x)
    return np.concatenate([np.repeat(slope[..., :1], half, -1), slope,
                           np.repeat(slope[..., -1:], half, -1)], axis=-1)


def yin(x, fmin, fmax, rate, threshold=0.1):
    """Fundamental frequency of each frame of x (n_frames, frame_length) with YIN (de
    Cheveigné and Kawahara 2002), with librosa.yin's difference function, trough choice and
    parabolic refinement; yin(frames(y, frame_length, hop), ...) is librosa.yin(y, ...)."""
    frame_length = x.shape[1]
    low = int(np.floor(rate / fmax))
    high = min(int(np.ceil(rate / fmin)), frame_length - 1)
    # The autocorrelation up to lag `high` only: zero padding to frame_length + high (up to
    # a multiple of 256, a fast FFT size) keeps it free of wrap-around, at about half the
    # cost of librosa's 2 x frame_length.
    size = -(-(frame_length + high) // 256) * 256
    spectrum = np.fft.rfft(x, size, axis=1)
    acf = np.fft.irfft(np.abs(spectrum) ** 2, size, axis=1)[:, :high + 1]
    energy = np.cumsum(x ** 2, axis=1)
    # d(k) = 2 (r(0) - r(k)) - sum_{m<k} y(m)^2, for lags 1..high
    diff = 2 * (acf[:, :1] - acf[:, 1:]) - energy[:, :high]
    cmnd = diff * np.arange(1, high + 1) / (np.cumsum(diff, axis=1) + 1e-300)
    search = cmnd[:, low - 1:high]
    troughs = np.zeros_like(search, dtype=bool)
    troughs[:, 1:-1] = (search[:, 1:-1] < search[:, :-2]) & (search[:, 1:-1] <= search[:, 2:])
    troughs[:, 0] = search[:, 0] < search[:, 1]
    below = troughs & (search < threshold)
    index = np.where(below.any(axis=1), below.argmax(axis=1), search.argmin(axis=1))
    # Parabola through the trough and its neighbours; none at the ends of the range.
    rows = np.arange(len(search))
    inner = np.clip(index, 1, search.shape[1] - 2)
    left, centre, right = (search[rows, inner - 1], search[rows, inner],
                           search[rows, inner + 1])
    a, b = left + right - 2 * centre, (right - left) / 2
    shift = np.where((np.abs(b) < np.abs(a)) & (index == inner), -b / np.where(a == 0, 1, a), 0)
    return (rate / (low + index + shift)).astype(np.float32)


def contrast_levels(magnitude, freqs, n_bands=5, fmin=150.0, quantile=0.02):
    """(peaks, valleys), each (n_bands + 1, n_frames): the mean of the highest and of the
    lowest `quantile` of each frame's magnitudes in octave bands from fmin up, and one band
    below fmin, as librosa.feature.spectral_contrast: each band reaches one bin below its
    edge and the top band takes every bin above."""
    edges = np.concatenate([[0.0], fmin * 2.0 ** np.arange(n_bands + 1)])
    peaks, valleys = [], []
    for k, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        band = (freqs >= low) & (freqs <= high)
        inside = np.flatnonzero(band)
        if k > 0:
            band[inside[0] - 1] = True
        if k == n_bands:
            band[inside[-1] + 1:] = True
        rows = magnitude[band]
        if k < n_bands:
            rows = rows[:-1]
        count = max(1, int(np.rint(quantile * band.sum())))
        ordered = np.sort(rows, axis=0)
        valleys.append(ordered[:count].mean(axis=0))
        peaks.append(ordered[-count:].mean(axis=0))
    return np.array(peaks), np.array(valleys)


def spectral_contrast(peaks, valleys):
    """Peak-to-valley level (dB) of contrast_levels over a stretch of frames; as librosa,
    neither level lies more than 80 dB below its loudest in the stretch."""
    return power_to_db(peaks, top_db=80.0) - power_to_db(valleys, top_db=80.0)


def zero_crossing_rate(x):
    """Zero-crossing rate of each frame of x (n_frames, frame_length); librosa's frames are
    frames(y, frame_length, hop, pad_mode='edge')."""
    frame_length = x.shape[1]
    return (np.abs(np.diff(np.signbit(x), axis=1)).sum(axis=1) / frame_length).astype(
        np.float32)
