"""Late fusion of per-modality REP-155 estimates into one per person (no ROS).

Each modality brings probabilities over the REP-155 labels it knows, a reliability in
[0, 1] (face: detection score and size; voice: speech probability) and a stamp. Its weight
is prior x reliability; a modality that is absent or older than max_age takes no part.
A label one modality lacks is decided by the modalities that have it (label alignment).
The learned strategy is a combiner (ONNX) fit on training-split pairs by
tools/train_fusion.py; its inputs are each modality's log-probabilities times its
reliability, so a missing modality is a row of zeros.
"""
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from av_emotion.runtime import ProbabilityModel, tempered
from av_emotion.taxonomy import LABELS

STRATEGIES = ('weighted', 'product', 'learned')
# Input order of the learned combiner.
MODALITIES = ('vision', 'audio')
# Floor on probabilities in the product of experts: one modality's zero must not veto.
FLOOR = 1e-3


@dataclass
class Evidence:
    probabilities: np.ndarray  # REP-155 order
    reliability: float  # 0..1
    stamp: float  # seconds
    known: np.ndarray = None  # bool per label: the modality's model has it; None: all


def face_reliability(detection_score, height, full_height):
    """Detection score, scaled down for faces smaller than full_height pixels."""
    return float(detection_score * min(1.0, height / full_height))


def voice_reliability(speech_probability):
    return float(speech_probability)


def log_probabilities(e):
    """Log-probabilities of an Evidence, floored; labels it lacks get its mean (no pull)."""
    known = np.ones(len(LABELS), bool) if e.known is None else e.known
    log_p = np.log(np.maximum(e.probabilities, FLOOR))
    return np.where(known, log_p, log_p[known].mean())


def combiner_input(evidence):
    """Learned-combiner input row: per modality in MODALITIES, reliability x log-probabilities."""
    row = [e.reliability * log_probabilities(e) if (e := evidence.get(m)) is not None
           else np.zeros(len(LABELS)) for m in MODALITIES]
    return np.concatenate(row).astype(np.float32)


class Combiner(ProbabilityModel):
    """The learned strategy: an ONNX classifier over combiner_input() rows."""

    def __init__(self, model, threads=1):
        super().__init__('av_emotion_fusion', model, threads)


def fuse(evidence, weights, strategy='weighted', combiner=None, temperature=1.0):
    """Fused REP-155 probabilities and the weight each modality got.

    evidence: {modality: Evidence}; weights: {modality: prior weight}; combiner: a
    Combiner, for strategy 'learned' (which learned its own weighting, so priors only
    shape the reported weights there). temperature calibrates a fusion of two modalities;
    one alone is passed on as it is, whatever the strategy: never more confident than its
    only input. Returns (probabilities, {modality: weight}) with the weights summing
    to 1, or (None, {}) when no modality has any weight.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f'unknown fusion strategy {strategy!r}; one of {STRATEGIES}')
    if strategy == 'learned' and combiner is None:
        raise ValueError('the learned strategy needs a Combiner')
    raw = {m: weights.get(m, 1.0) * e.reliability for m, e in evidence.items()}
    total = sum(raw.values())
    if total <= 0:
        return None, {}
    share = {m: w / total for m, w in raw.items() if w > 0}
    n = len(LABELS)
    known = {m: np.ones(n, bool) if evidence[m].known is None else evidence[m].known
             for m in share}
    if strategy == 'learned' and len(share) > 1:
        return combiner([combiner_input({m: evidence[m] for m in share})])[0], share
    # A lone modality passes through the weighted form unchanged, learned included: the
    # combiner would re-rank a face alone (0.61 against the face's 0.63 on the samples).
    if strategy != 'product':
        mass = sum(share[m] * known[m] * evidence[m].probabilities for m in share)
        cover = sum(share[m] * known[m] for m in share)
        fused = np.where(cover > 0, mass / np.maximum(cover, 1e-12), 0.0)
    else:
        logs = np.zeros(n)
        for m in share:
            logs += share[m] * log_probabilities(evidence[m])
        fused = np.exp(logs - logs.max())
    fused = fused / fused.sum()
    if len(share) > 1:
        fused = tempered(fused[None], temperature)[0]
    return fused, share


def temperature(params, strategy):
    """The calibration temperature of `strategy` in fusion parameters (learned needs none)."""
    return params.get(f'calibration.{strategy}', 1.0)


def fresh(evidence, now, max_age):
    """The evidence no older than max_age seconds at `now` (future stamps count as fresh)."""
    return {m: e for m, e in evidence.items()
            if e is not None and now - e.stamp <= max_age}


class Smoother:
    """Exponential smoothing of probabilities per face id, in stamp time.

    The weight of a new estimate is 1 - exp(-dt / time_constant); an estimate older than
    the last one of its face is ignored.
    """

    def __init__(self, time_constant):
        self.time_constant = time_constant
        self.state = {}  # face id -> (probabilities, stamp)

    def update(self, face_id, probabilities, stamp):
        previous = self.state.get(face_id)
        if previous is not None and stamp < previous[1]:
            return previous[0]
        if previous is None or self.time_constant <= 0:
            smoothed = np.asarray(probabilities, float)
        else:
            alpha = 1 - math.exp(-(stamp - previous[1]) / self.time_constant)
            smoothed = (1 - alpha) * previous[0] + alpha * np.asarray(probabilities, float)
        self.state[face_id] = (smoothed, stamp)
        return smoothed

    def forget(self, keep):
        """Drop the state of faces not in `keep` (ids that left the view)."""
        self.state = {i: s for i, s in self.state.items() if i in keep}


def speaker_face(faces):
    """The face a voice is attributed to: the largest one (the closest person).

    faces: iterable of (face id, width, height). Returns the id, or 0 when there is no face.
    """
    faces = list(faces)
    return max(faces, key=lambda f: f[1] * f[2])[0] if faces else 0


class Agreement:
    """Trust in [0, 1] for the voice, from how far its top label agrees with the face's
    beyond chance over the last `window` pairs (Cohen's kappa).

    Out of its domain (another language, microphone or speaker) a voice model keeps its
    confidence but loses agreement with the face; at chance, kappa is 0 and so is the
    trust. Kappa is shrunk toward `expected` (its value on in-domain training pairs) by
    `prior_pairs` pseudo-pairs, so a new stream starts out trusting the voice. Trust is 0
    while kappa is within two null standard errors of 0, and 1 from `expected` on.
    """

    def __init__(self, window=120, expected=0.28, prior_pairs=10):
        self.expected, self.prior_pairs = expected, prior_pairs
        self.pairs = deque(maxlen=window)

    def add(self, face_probabilities, voice_probabilities):
        self.pairs.append((int(np.argmax(face_probabilities)),
                           int(np.argmax(voice_probabilities))))

    def kappa(self):
        """(kappa, chance agreement) of the pairs held; (None, None) without pairs."""
        if not self.pairs:
            return None, None
        face, voice = np.array(self.pairs).T
        observed = float(np.mean(face == voice))
        chance = float(np.bincount(face, minlength=len(LABELS))
                       @ np.bincount(voice, minlength=len(LABELS))) / len(face) ** 2
        if chance >= 1.0:  # both always said the same one label: no evidence either way
            return self.expected, chance
        return (observed - chance) / (1.0 - chance), chance

    def trust(self):
        kappa, chance = self.kappa()
        if kappa is None or chance >= 1.0:
            return 1.0
        n = len(self.pairs) + self.prior_pairs
        shrunk = (len(self.pairs) * kappa + self.prior_pairs * self.expected) / n
        floor = 2.0 * math.sqrt(chance / (n * (1.0 - chance)))
        if self.expected <= floor:  # too few pairs to tell chance from skill
            return 1.0
        return float(np.clip((shrunk - floor) / (self.expected - floor), 0.0, 1.0))
