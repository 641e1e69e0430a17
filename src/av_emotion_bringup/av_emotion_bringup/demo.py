"""av-emotion-demo: the vision node on a real recording, with the result shown.

Frames of the video are published as sensor_msgs/Image to a vision node running on real
rclpy; every frame is answered before the next is sent. Writes the annotated video and a
per-face timeline plot to --out and prints a timeline in the terminal.
"""
import argparse
from pathlib import Path

import cv2
import numpy as np
from sensor_msgs.msg import Image

from av_emotion.taxonomy import LABELS
from av_emotion_bringup.graph import Graph, wait_for
from av_emotion_bringup.media import sample_media
from av_emotion_msgs.msg import FaceArray
from av_emotion_vision.draw import COLOURS
from av_emotion_vision.image import bgr_fields, image_to_bgr
from av_emotion_vision.node import VisionNode


def read_video(path):
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise SystemExit(f'cannot open video {path}')
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames, fps
        frames.append(frame)


def run_vision(frames, fps):
    """FaceArray and annotated Image for every frame, from a vision node on real rclpy."""
    graph = Graph()
    try:
        graph.add(VisionNode(context=graph.context, namespace='demo'))
        player = graph.node('demo_player')
        publisher = player.create_publisher(Image, '/demo/image', 10)
        faces, annotated = {}, {}
        player.create_subscription(FaceArray, '/demo/faces',
                                   lambda m: faces.__setitem__(stamp_key(m), m), 10)
        player.create_subscription(Image, '/demo/image_annotated',
                                   lambda m: annotated.__setitem__(stamp_key(m), m), 10)
        if not wait_for(lambda: publisher.get_subscription_count() and
                        player.count_publishers('/demo/image_annotated')):
            raise SystemExit('the vision node did not come up')
        results = []
        for index, frame in enumerate(frames):
            msg = Image(**bgr_fields(frame))
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(
                int(round(index / fps * 1e9)), 10**9)
            msg.header.frame_id = 'camera'
            key = stamp_key(msg)
            for _ in range(3):  # best-effort camera QoS may drop one
                publisher.publish(msg)
                if wait_for(lambda: key in faces and key in annotated, timeout=3.0):
                    break
            results.append((index / fps, faces.get(key), annotated.get(key)))
            if index % 50 == 0:
                print(f'\rframe {index + 1}/{len(frames)}', end='', flush=True)
        print(f'\rprocessed {len(frames)} frames')
        return results
    finally:
        graph.close()


def stamp_key(msg):
    return msg.header.stamp.sec, msg.header.stamp.nanosec


def write_video(results, fps, path):
    images = [image_to_bgr(a) for _, _, a in results if a is not None]
    if not images:
        return False
    height, width = images[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    for image in images:
        writer.write(image)
    writer.release()
    return True


def tracks(results):
    """{face id: (times, probabilities (n, 7), valence, arousal)}."""
    rows = {}
    for t, faces, _ in results:
        for face in faces.faces if faces else []:
            e = face.emotion
            rows.setdefault(face.id, []).append((t, list(e.probabilities), e.valence, e.arousal))
    return {i: (np.array([r[0] for r in rs]), np.array([r[1] for r in rs]),
                np.array([r[2] for r in rs]), np.array([r[3] for r in rs]))
            for i, rs in rows.items()}


def plot_timeline(per_face, path, title):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(per_face), 1, figsize=(10, 3.2 * len(per_face)), squeeze=False)
    rgb = [tuple(c / 255 for c in reversed(colour)) for colour in COLOURS]
    for ax, (face_id, (times, probs, valence, arousal)) in zip(axes[:, 0], per_face.items()):
        ax.stackplot(times, probs.T, labels=LABELS, colors=rgb, alpha=0.85)
        ax.plot(times, (valence + 1) / 2, 'k-', lw=1.2, label='valence (right axis)')
        ax.plot(times, (arousal + 1) / 2, 'k--', lw=1.2, label='arousal (right axis)')
        ax.set_ylim(0, 1)
        ax.set_ylabel(f'face #{face_id}\nprobability')
        right = ax.twinx()
        right.set_ylim(-1, 1)
        right.set_ylabel('valence / arousal')
        ax.legend(loc='upper left', bbox_to_anchor=(1.12, 1), fontsize=8)
    axes[-1, 0].set_xlabel('time (s)')
    axes[0, 0].set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def print_timeline(per_face, step=1.0):
    print(f"{'time':>6}  {'face':>4}  {'emotion':<10} {'p':>5}  {'valence':>7} {'arousal':>7}")
    for face_id, (times, probs, valence, arousal) in per_face.items():
        for start in np.arange(0, times.max() + 1e-9, step):
            window = (times >= start) & (times < start + step)
            if not window.any():
                continue
            mean = probs[window].mean(axis=0)
            top = int(np.argmax(mean))
            bar = '█' * int(round(mean[top] * 20))
            print(f'{start:6.1f}  #{face_id:<3}  {LABELS[top]:<10} {mean[top]:5.2f}  '
                  f'{valence[window].mean():7.2f} {arousal[window].mean():7.2f}  {bar}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--video', type=Path, help='default: the bundled sample recording')
    parser.add_argument('--out', type=Path, default=Path('demo-output'))
    args = parser.parse_args(argv)
    video = args.video or sample_media()['video']
    frames, fps = read_video(video)
    print(f'{video.name}: {len(frames)} frames at {fps:.1f} fps')
    results = run_vision(frames, fps)
    args.out.mkdir(parents=True, exist_ok=True)
    per_face = tracks(results)
    answered = sum(1 for _, faces, _ in results if faces is not None)
    print(f'{answered}/{len(results)} frames answered, faces seen: {sorted(per_face)}')
    print_timeline(per_face)
    written = [args.out / 'annotated.mp4'] if write_video(
        results, fps, args.out / 'annotated.mp4') else []
    if per_face:
        plot_timeline(per_face, args.out / 'timeline.png', f'{video.name}: facial expression')
        written.append(args.out / 'timeline.png')
    print('wrote ' + ', '.join(str(p) for p in written))


if __name__ == '__main__':
    main()
