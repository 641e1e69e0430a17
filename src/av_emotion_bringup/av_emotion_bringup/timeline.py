"""Emotion over time, per stream (a face, the voice, the fused estimate): plot and text."""
import numpy as np

from av_emotion.taxonomy import LABELS, valence_arousal
from av_emotion_vision.draw import COLOURS


# Estimates further apart than this (s) are drawn with a gap between them (silence, no face).
GAP = 1.0


def track(times, probabilities):
    """(times, probabilities (n, 7), valence, arousal) of one stream."""
    probabilities = np.array(probabilities, float).reshape(-1, len(LABELS))
    valence, arousal = valence_arousal(probabilities)
    return np.array(times, float), probabilities, valence, arousal


def with_gaps(times, *rows):
    """NaN rows inserted where estimates are more than GAP apart, so plots break there."""
    breaks = np.flatnonzero(np.diff(times) > GAP) + 1
    return (np.insert(times, breaks, times[breaks - 1] + 1e-3),
            *(np.insert(r, breaks, np.nan, axis=0) for r in rows))


def plot_timeline(tracks, path, title):
    """tracks: {name: track()}; one panel per stream, stacked probabilities."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    tracks = {name: t for name, t in tracks.items() if len(t[0])}
    fig, axes = plt.subplots(max(1, len(tracks)), 1, figsize=(10, 2.6 * max(1, len(tracks))),
                             squeeze=False, sharex=True)
    rgb = [tuple(c / 255 for c in reversed(colour)) for colour in COLOURS]
    for ax, (name, stream) in zip(axes[:, 0], tracks.items()):
        times, probs, valence, arousal = with_gaps(*stream)
        ax.stackplot(times, probs.T, labels=LABELS, colors=rgb, alpha=0.85)
        ax.plot(times, (valence + 1) / 2, 'k-', lw=1.2, label='valence (right axis)')
        ax.plot(times, (arousal + 1) / 2, 'k--', lw=1.2, label='arousal (right axis)')
        ax.set_ylim(0, 1)
        ax.set_ylabel(f'{name}\nprobability')
        right = ax.twinx()
        right.set_ylim(-1, 1)
        right.set_ylabel('valence / arousal')
    axes[0, 0].legend(loc='upper left', bbox_to_anchor=(1.12, 1), fontsize=8)
    axes[-1, 0].set_xlabel('time (s)')
    axes[0, 0].set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def print_timeline(tracks, step=1.0):
    """One line per stream and `step` seconds: the top label, its probability, valence, arousal."""
    print(f"{'time':>6}  {'stream':<14} {'emotion':<10} {'p':>5}  {'valence':>7} {'arousal':>7}")
    end = max((t[0].max() for t in tracks.values() if len(t[0])), default=0.0)
    for start in np.arange(0, end + 1e-9, step):
        for name, (times, probs, valence, arousal) in tracks.items():
            window = (times >= start) & (times < start + step)
            if not window.any():
                continue
            mean = probs[window].mean(axis=0)
            top = int(np.argmax(mean))
            bar = '█' * int(round(mean[top] * 20))
            print(f'{start:6.1f}  {name:<14} {LABELS[top]:<10} {mean[top]:5.2f}  '
                  f'{valence[window].mean():7.2f} {arousal[window].mean():7.2f}  {bar}')
