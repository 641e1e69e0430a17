"""Classification metrics and the confusion-matrix plot used by every evaluation."""
import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from av_emotion.runtime import tempered
from av_emotion.taxonomy import LABELS


def report(truth, predicted, labels=LABELS):
    """accuracy, macro-F1 over the labels present in `truth`, per-class recall, confusion.

    `confusion[i][j]` counts samples of labels[i] predicted as labels[j].
    """
    present = [label for label in labels if label in set(truth)]
    confusion = confusion_matrix(truth, predicted, labels=list(labels))
    support = confusion.sum(axis=1)
    recall = {label: float(confusion[i, i] / support[i])
              for i, label in enumerate(labels) if support[i]}
    return {
        'n': len(truth),
        'accuracy': float(accuracy_score(truth, predicted)),
        'macro_f1': float(f1_score(truth, predicted, labels=present, average='macro',
                                   zero_division=0)),
        'balanced_accuracy': float(np.mean(list(recall.values()))) if recall else 0.0,
        'recall': recall,
        'labels': list(labels),
        'confusion': confusion.tolist(),
    }


def plot_confusion(result, path, title):
    """Write the row-normalised confusion matrix of a report() as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    counts = np.array(result['confusion'], dtype=float)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    labels = result['labels']
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    image = ax.imshow(rates, cmap='Blues', vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if counts[i, j]:
                ax.text(j, i, f'{rates[i, j]:.2f}\n({int(counts[i, j])})', ha='center',
                        va='center', fontsize=7, color='white' if rates[i, j] > 0.5 else 'black')
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha='right')
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
    ax.set_title(f"{title}\naccuracy {result['accuracy']:.3f}, macro-F1 {result['macro_f1']:.3f}, "
                 f"n={result['n']}", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def expected_calibration_error(probabilities, truth, bins=15):
    """ECE: |accuracy - confidence| of the top label, averaged over `bins` equal-width
    confidence bins weighted by their share of samples. truth: class indices."""
    probabilities = np.asarray(probabilities, float)
    if not len(probabilities):
        return 0.0
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(truth)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    return float(sum(abs(correct[which == b].mean() - confidence[which == b].mean()) *
                     (which == b).mean() for b in range(bins) if (which == b).any()))


def fit_temperature(probabilities, truth, groups=None):
    """The temperature (0.2..5) minimising the negative log-likelihood of `truth` (class
    indices) under tempered(probabilities, T).

    groups: a key per row (e.g. the clip of each window); the likelihood is then that of
    each group's mean tempered probabilities, which is what a clip's estimate is.
    """
    probabilities, truth = np.asarray(probabilities, float), np.asarray(truth)
    if groups is not None:
        _, first, index = np.unique(np.asarray(groups), return_index=True, return_inverse=True)
        counts = np.bincount(index)[:, None]
        truth = truth[first]

    def nll(t):
        p = tempered(probabilities, t)
        if groups is not None:
            sums = np.zeros((len(first), p.shape[1]))
            np.add.at(sums, index, p)
            p = sums / counts
        return -np.log(np.maximum(p[np.arange(len(p)), truth], 1e-12)).mean()
    return float(minimize_scalar(nll, bounds=(0.2, 5.0), method='bounded').x)
