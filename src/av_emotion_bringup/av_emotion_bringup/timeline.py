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
    """tracks: {name: track()}; one panel per stream, titled with its name, stacked
    probabilities; a stream without estimates keeps its panel, saying so."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(tracks), 1, figsize=(10, 0.4 + 2.6 * len(tracks)),
                             squeeze=False, sharex=True)
    rgb = [tuple(c / 255 for c in reversed(colour)) for colour in COLOURS]
    for ax, (name, stream) in zip(axes[:, 0], tracks.items()):
        ax.set_title(name, loc='left', fontsize=10)
        ax.set_ylim(0, 1)
        ax.set_ylabel('probability')
        right = ax.twinx()
        right.set_ylim(-1, 1)
        right.set_ylabel('valence / arousal')
        if not len(stream[0]):
            ax.text(0.5, 0.5, 'no estimate', transform=ax.transAxes, ha='center', va='center')
            continue
        times, probs, valence, arousal = with_gaps(*stream)
        ax.stackplot(times, probs.T, labels=LABELS, colors=rgb, alpha=0.85)
        ax.plot(times, (valence + 1) / 2, 'k-', lw=1.2, label='valence (right axis)')
        ax.plot(times, (arousal + 1) / 2, 'k--', lw=1.2, label='arousal (right axis)')
    # The legend of a panel with estimates: the first one may have none.
    handles = max((ax.get_legend_handles_labels() for ax in axes[:, 0]), key=lambda h: len(h[0]))
    axes[0, 0].legend(*handles, loc='upper left', bbox_to_anchor=(1.12, 1), fontsize=8)
    axes[-1, 0].set_xlabel('time (s)')
    fig.suptitle(title)
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
