"""Audio-visual recordings as frames and samples: read from media files, written to video.

A recording is what av-emotion-bag turns into a bag and av-emotion-eval av evaluates:
a video file with its audio track (mp4, flv, mkv, ...), or an audio file (wav, flac, ...)
with a still image, a folder of frames or a video beside it (the file's sound then
replaces the video's own track).
"""
import os
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import soundfile as sf

IMAGE_SUFFIXES = {'.jpg', '.jpeg', '.png', '.bmp', '.webp'}
SOUND_SUFFIXES = {'.wav', '.flac', '.ogg'}


class MediaError(ValueError):
    """Media that cannot be used, in one sentence that names the file: the command-line
    tools print it as their one line on stderr."""


def unreadable(path, what, error=None):
    """MediaError for a file that cannot be read as `what`; error: the decoder's (PyAV or
    soundfile), whose text replaces its error number (PyAV's 1094995529 is invalid data)."""
    path = Path(path)
    if not path.exists():
        reason = 'no such file or folder'
    elif path.is_file() and path.stat().st_size == 0:
        reason = 'the file is empty (0 bytes)'
    elif not os.access(path, os.R_OK):
        reason = 'permission denied'
    else:
        detail = getattr(error, 'strerror', None) or getattr(error, 'error_string', None)
        reason = f'not {what}' + (f' ({detail.rstrip(".").lower()})' if detail else '')
    return MediaError(f'cannot read {path}: {reason}')


@dataclass
class Recording:
    frames: list  # (seconds from start, BGR image)
    samples: np.ndarray  # mono float32; None without audio
    rate: int  # samples per second; 0 without audio

    @property
    def duration(self):
        ends = [self.frames[-1][0] if self.frames else 0.0]
        if self.samples is not None:
            ends.append(len(self.samples) / self.rate)
        return max(ends)


def read_container(path):
    """(frames, samples, rate) of a video file; its first audio track mixed to mono."""
    frames, chunks, rate = [], [], 0
    try:
        with av.open(str(path)) as container:
            streams = [s for s in container.streams if s.type in ('video', 'audio')]
            audio = next((s for s in streams if s.type == 'audio'), None)
            video = next((s for s in streams if s.type == 'video'), None)
            chosen = [s for s in (video, audio) if s is not None]
            start = min((float(s.start_time * s.time_base) for s in chosen
                         if s.start_time is not None), default=0.0)
            for frame in container.decode(*chosen):
                if isinstance(frame, av.VideoFrame):
                    frames.append((float(frame.time) - start, frame.to_ndarray(format='bgr24')))
                else:
                    rate = frame.sample_rate
                    data = frame.to_ndarray()
                    if np.issubdtype(data.dtype, np.integer):
                        data = data / float(np.iinfo(data.dtype).max + 1)
                    data = data.astype(np.float32)
                    # Planar formats are (channels, n); packed ones (1, n * channels).
                    if frame.format.is_planar:
                        chunks.append(data.mean(axis=0))
                    else:
                        chunks.append(data.reshape(-1, len(frame.layout.channels)).mean(axis=1))
    except av.FFmpegError as error:
        raise unreadable(path, 'a video or sound file that FFmpeg decodes', error) from None
    return frames, np.concatenate(chunks) if chunks else None, rate


def read_recording(paths, fps=15.0):
    """One Recording from media files (see the module docstring)."""
    frames, stills, sounds, tracks = [], [], [], []
    for path in map(Path, paths):
        suffix = path.suffix.lower()
        if path.is_dir():
            images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            frames += [(i / fps, read_image(p)) for i, p in enumerate(images)]
        elif suffix in IMAGE_SUFFIXES:
            stills.append((path, read_image(path)))
        elif suffix in SOUND_SUFFIXES:
            sounds.append(read_sound(path))
        else:
            video_frames, audio, audio_rate = read_container(path)
            frames += video_frames
            if audio is not None:
                tracks.append((audio, audio_rate))
    if len(sounds) > 1 or len(tracks) > 1 or len(stills) > 1:
        raise MediaError('a recording has one sound file or video track and at most one '
                         'still image')
    samples, rate = (sounds or tracks or [(None, 0)])[0]
    if stills:
        if samples is None and not frames:
            raise MediaError(f'{stills[0][0]} is a still image, which has no sound: give a sound '
                             f'file (wav, flac) with it, which also sets how long it is shown')
        seconds = len(samples) / rate if samples is not None else frames[-1][0]
        frames += [(i / fps, stills[0][1]) for i in range(int(seconds * fps) + 1)]
    if not frames and samples is None:
        raise MediaError(f'no frames and no sound in {", ".join(map(str, paths))}')
    return Recording(sorted(frames, key=lambda f: f[0]), samples, rate)


def read_image(path):
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise unreadable(path, 'an image that OpenCV decodes')
    return image


def read_sound(path):
    """(mono float32 samples, rate) of a sound file with at least one sample."""
    try:
        data, rate = sf.read(str(path), dtype='float32', always_2d=True)
    except sf.LibsndfileError as error:
        raise unreadable(path, 'a sound file that libsndfile decodes', error) from None
    if not len(data):
        raise MediaError(f'{path} holds no sound (0 samples)')
    return data.mean(axis=1), rate


def write_video(path, recording, fps=None):
    """The recording as H.264 frames (at fps, by default its own) and AAC sound, in the
    container the path's suffix names (.mp4, .flv, .mkv, ...)."""
    height, width = recording.frames[0][1].shape[:2]
    span = recording.frames[-1][0]
    if fps is None:
        fps = (len(recording.frames) - 1) / span if span else 15.0
    with av.open(str(path), 'w') as container:
        video = container.add_stream('libx264', rate=int(round(fps)))
        # H.264 in yuv420p needs even sides.
        video.width, video.height, video.pix_fmt = width - width % 2, height - height % 2, 'yuv420p'
        audio = None
        if recording.samples is not None:
            audio = container.add_stream('aac', rate=recording.rate, layout='mono')
        for index in range(int(recording.duration * fps) + 1):
            t = index / fps
            image = next((f for s, f in reversed(recording.frames) if s <= t + 1e-6),
                         recording.frames[0][1])
            frame = av.VideoFrame.from_ndarray(image[:video.height, :video.width], format='bgr24')
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if audio is not None:
            chunk = 1024
            for start in range(0, len(recording.samples), chunk):
                frame = av.AudioFrame.from_ndarray(
                    recording.samples[None, start:start + chunk].astype(np.float32),
                    format='flt', layout='mono')
                frame.sample_rate, frame.pts = recording.rate, start
                container.mux(audio.encode(frame))
            container.mux(audio.encode())
