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
        self.voice_evidence = None
        self.voice_face = 0  # face the newest voice was attributed to
        self.agreement = Agreement(p['agreement.window'], p['agreement.expected'],
                                   p['agreement.prior_pairs'])

    def faces(self, stamp, faces):
        """A processed camera frame; False (and ignored) when older than the last one."""
        if self.frame is not None and stamp < self.frame[0]:
            return False
        self.frame = (stamp, list(faces))
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

    def step(self, now):
        p = self.params
        faces = self.frame[1] if self.frame and now - self.frame[0] <= p['max_age'] else []
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
        if probabilities is not None:
            self.smoother.time_constant = p['smoothing.time_constant']
            probabilities = self.smoother.update(face_id, probabilities, stamp)
        return Estimate(face_id, probabilities, weights, used)
