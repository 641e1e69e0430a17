"""Online fusion of a face stream and a voice stream into one estimate per tick (no ROS).

The estimate is about the speaker: the face a voice window was attributed to (the largest
face of the frame at the end of that window) while it stays in view, else the largest face
now. The voice's reliability is its speech probability times the trust its agreement with
the speaker's face earned over the previous pairs (fusion.Agreement). A modality with no
fresh evidence (no face, silence, a stalled input) is left out, and the estimate falls back
to the other one; with neither, the estimate is empty.
"""
from dataclasses import dataclass

import numpy as np

from av_emotion.config import merged
from av_emotion_fusion.fusion import (Agreement, Combiner, Evidence, Smoother, face_reliability,
                                      fresh, fuse, speaker_face, temperature, voice_reliability)


@dataclass
class Face:
    id: int
    probabilities: np.ndarray  # REP-155 order
    score: float
    width: float
    height: float
    known: np.ndarray = None  # bool per label: the model can tell it; None: all


@dataclass
class Estimate:
    face_id: int  # 0: no face used
    probabilities: np.ndarray  # None when no modality had fresh evidence
    weights: dict  # modality -> weight, summing to 1
    evidence: dict  # modality -> the Evidence used
    # Top probability x the largest reliability used (0 when empty), that probability no
    # higher than the fresh evidence gives the label: smoothing lags, and would otherwise
    # report a lone face more surely than its own node does (a sharper past held on).
    confidence: float


class FusionStream:
    """Feed it with faces() and voice(); call step(now) at the output rate.

    >>> stream = FusionStream(strategy='product')
    >>> stream.faces(10.00, [Face(1, probabilities, 0.9, 120, 150)])
    >>> stream.voice(10.02, probabilities, speech_probability=0.8)
    >>> estimate = stream.step(10.05)
    """

    def __init__(self, **overrides):
        self.params = merged('fusion', overrides)
        p = self.params
        self.combiner = Combiner(p['learned.model']) if p['strategy'] == 'learned' else None
        fuse({}, {}, p['strategy'], self.combiner)  # an unknown strategy fails here, at start
        self.smoother = Smoother(p['smoothing.time_constant'])
        self.frame = None  # (stamp, [Face])
        self.seen = {}  # face id -> stamp of the newest frame it was in
        self.voice_evidence = None
        self.voice_face = 0  # face the newest voice was attributed to
        self.agreement = Agreement(p['agreement.window'], p['agreement.expected'],
                                   p['agreement.prior_pairs'])

    def faces(self, stamp, faces):
        """A processed camera frame; False (and ignored) when older than the last one."""
        if self.frame is not None and stamp < self.frame[0]:
            return False
        self.frame = (stamp, list(faces))
        self.seen.update((f.id, stamp) for f in self.frame[1])
        self.smoother.forget({f.id for f in faces} | {0})
        return True

    def voice(self, stamp, probabilities, speech_probability, known=None):
        """A voice window ending at stamp; probabilities None when it was not voiced.

        Unvoiced windows leave the last voiced one to age out. False when out of order.
        """
        if self.voice_evidence is not None and stamp < self.voice_evidence.stamp:
            return False
        if probabilities is not None:
            self.voice_evidence = Evidence(np.asarray(probabilities, float),
                                           voice_reliability(speech_probability)
                                           * self.voice_trust(), stamp, known)
        return True

    def voice_trust(self):
        return self.agreement.trust() if self.params['agreement.enabled'] else 1.0

    def attribute(self, faces, voice_probabilities=None):
        """The faces of the frame at the end of a voice window (synchronised), and that
        window's probabilities (None: unvoiced), which the speaker's face is compared with."""
        faces = list(faces)
        self.voice_face = speaker_face((f.id, f.width, f.height) for f in faces)
        speaker = next((f for f in faces if f.id == self.voice_face), None)
        if speaker is not None and voice_probabilities is not None:
            self.agreement.add(speaker.probabilities, voice_probabilities)

    def current(self, now):
        """The faces of the newest frame, or none when it is older than max_age."""
        fresh_frame = self.frame and now - self.frame[0] <= self.params['max_age']
        return self.frame[1] if fresh_frame else []

    def present(self, now):
        """Ids of the faces seen within max_age: one missed in a frame or two stays."""
        self.seen = {i: s for i, s in self.seen.items() if now - s <= self.params['max_age']}
        return set(self.seen)

    def step(self, now):
        p = self.params
        faces = self.current(now)
        ids = {f.id: f for f in faces}
        face = ids.get(self.voice_face) or ids.get(
            speaker_face((f.id, f.width, f.height) for f in faces))
        evidence = {'audio': self.voice_evidence}
        if face is not None:
            evidence['vision'] = Evidence(
                face.probabilities, face_reliability(face.score, face.height,
                                                     p['face_full_height']), self.frame[0],
                face.known)
        evidence = fresh(evidence, now, p['max_age'])
        prior = {'vision': p['weights.vision'], 'audio': p['weights.audio']}
        probabilities, weights = fuse(evidence, prior, p['strategy'], self.combiner,
                                      temperature(p, p['strategy']))
        face_id = face.id if face is not None else 0
        used = {m: evidence[m] for m in weights}
        stamp = max((e.stamp for e in used.values()), default=now)
        confidence = 0.0
        if probabilities is not None:
            self.smoother.time_constant = p['smoothing.time_constant']
            smoothed = self.smoother.update(face_id, probabilities, stamp)
            top = int(np.argmax(smoothed))
            confidence = float(min(smoothed[top], probabilities[top]) *
                               max(e.reliability for e in used.values()))
            probabilities = smoothed
        return Estimate(face_id, probabilities, weights, used, confidence)
