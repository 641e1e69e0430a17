"""audio_common_msgs chunks (AudioInfo + AudioData bytes) -> mono float32 samples."""
import numpy as np

# AudioInfo.sample_format -> numpy dtype of one sample; integers are scaled to [-1, 1).
FORMATS = {
    'U8': np.dtype('u1'), 'S8': np.dtype('i1'),
    'S16LE': np.dtype('<i2'), 'S16BE': np.dtype('>i2'),
    'S32LE': np.dtype('<i4'), 'S32BE': np.dtype('>i4'),
    'F32LE': np.dtype('<f4'), 'F32BE': np.dtype('>f4'),
    'F64LE': np.dtype('<f8'), 'F64BE': np.dtype('>f8'),
}
WAVE_CODINGS = {'wave', 'wav', 'pcm', 'raw', ''}
# Streams a microphone can give: sample rates (Hz) and channel counts, lowest and highest.
RATES = (8000, 384000)
CHANNELS = (1, 64)
# Float samples are full scale at +-1; far beyond, the stream is broken, not loud.
FLOAT_LIMIT = 10.0


class AudioFormatError(ValueError):
    """Audio that cannot be decoded; the text says why and what to do."""


def check_info(sample_format, channels, sample_rate, coding_format):
    if coding_format.lower() not in WAVE_CODINGS:
        raise AudioFormatError(
            f'{coding_format!r} audio cannot be analysed: start audio_capture with '
            "format:=wave (ros2 launch audio_capture capture.launch.xml format:=wave)")
    if sample_format not in FORMATS:
        raise AudioFormatError(f'unsupported sample_format {sample_format!r}; '
                               f'supported: {", ".join(FORMATS)}')
    if not (CHANNELS[0] <= channels <= CHANNELS[1] and RATES[0] <= sample_rate <= RATES[1]):
        raise AudioFormatError(f'unusable stream: {channels} channels at {sample_rate} Hz '
                               f'(need {CHANNELS[0]} to {CHANNELS[1]} channels and '
                               f'{RATES[0]} to {RATES[1]} Hz)')


def decode(data, sample_format, channels):
    """Mono float32 samples of interleaved PCM bytes (channels averaged)."""
    dtype = FORMATS[sample_format]
    frame = dtype.itemsize * channels
    if len(data) % frame:
        raise AudioFormatError(f'{len(data)} bytes is not a whole number of {channels}-channel '
                               f'{sample_format} frames ({frame} bytes each)')
    raw = np.frombuffer(bytes(data), dtype)
    if dtype.kind == 'f':
        samples = raw.astype(np.float32)
        if not np.isfinite(samples).all():
            raise AudioFormatError('chunk holds NaN or infinite samples')
        if len(samples) and np.abs(samples).max() > FLOAT_LIMIT:
            raise AudioFormatError(f'float samples up to {np.abs(samples).max():.3g}, beyond '
                                   f'+-{FLOAT_LIMIT:g} (full scale is +-1)')
    elif dtype.kind == 'u':
        samples = (raw.astype(np.float32) - 128) / 128
    else:
        samples = raw.astype(np.float32) / float(2 ** (8 * dtype.itemsize - 1))
    return samples.reshape(-1, channels).mean(axis=1)
