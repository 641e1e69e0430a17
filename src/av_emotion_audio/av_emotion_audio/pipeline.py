"""Audio chunks -> per-hop voice analysis: activity, prosody, tone, emotion (no ROS).

In edge mode it stops before the emotion model: each voiced window's (adapted) model input
goes to a central recogniser (av_emotion_network) instead, no samples.
"""
import time
from dataclasses import dataclass, field

import numpy as np
import soxr

from av_emotion.config import MODES, merged
from av_emotion_audio import features as feats
from av_emotion_audio import voice_encoder
from av_emotion_audio.adaptation import SpeakerAdaptation
from av_emotion_audio.buffer import AudioBuffer
from av_emotion_audio.model import SpeechEmotionClassifier
from av_emotion_audio.stream import WindowStream, conclude
from av_emotion_audio.vad import RATE, VoiceActivity


@dataclass
class Voice:
    start: float  # window bounds, seconds
    end: float
    speech_probability: float  # mean frame speech probability
    voiced: bool
    features: feats.Features
    probabilities: np.ndarray = None  # REP-155 order; None when not voiced, and in edge mode
    model_input: np.ndarray = None  # what the emotion model takes (adapted); None unvoiced
    timings_ms: dict = field(default_factory=dict)


def describe(vad, samples, rate, params, encoder=None, unvoiced_too=False):
    """(VAD frame speech probabilities, Features, voiced, timings in ms) of one window
    alone, the VAD from a cold start (a stream's windows: WindowStream.describe).

    With an encoder, a voiced window's model input (any window's, with unvoiced_too) ends
    with the encoder's statistics.
    """
    t0 = time.perf_counter()
    audio = samples if rate == RATE else soxr.resample(samples, rate, RATE)
    frame_speech = vad.frame_probabilities(audio)
    t1 = time.perf_counter()
    values = feats.frame_values(audio)
    timings = {'vad': 1e3 * (t1 - t0), 'features': 1e3 * (time.perf_counter() - t1)}
    if encoder is not None:
        t2 = time.perf_counter()
        values['encoder'] = voice_encoder.frame_values(audio)
        timings['encoder'] = 1e3 * (time.perf_counter() - t2)
    return conclude(frame_speech, 0, values, params, encoder, unvoiced_too, timings)


def clip_windows(samples, rate, window, hop):
    """(start, samples) analysis windows of a whole clip; a short clip is padded."""
    length = int(round(window * rate))
    if len(samples) < length:
        samples = np.concatenate([samples, np.zeros(length - len(samples), np.float32)])
    return AudioBuffer(rate, window, hop).push(samples, 0.0)[0]


class AudioPipeline:
    """Windows, voice activity, features and speech emotion; parameters as config/audio.yaml.

    >>> pipeline = AudioPipeline()
    >>> voices, event = pipeline.push(samples, rate=48000, stamp=12.5)
    """

    def __init__(self, **overrides):
        p = merged('audio', overrides)
        if p['mode'] not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {p['mode']!r}")
        self.params = p
        self.vad = VoiceActivity(p['threads'])
        self.classifier = SpeechEmotionClassifier(p['emotion.model'], p['threads'])
        front_end = self.classifier.meta.get('encoder')
        self.encoder = voice_encoder.VoiceEncoder(front_end, p['threads']) if front_end else None
        self.buffer = None
        population = self.classifier.population()
        # Also in edge mode the adaptation runs here, not on the central recogniser: it is
        # cheap (running sums of one vector per hop), it sees every window of the stream
        # even when the network loses some, and it leaves the central stateless, so that a
        # restarted or second central loses no speaker's session. The price: its inputs
        # fit only a model of the same population, which feature_set names.
        self.adaptation = SpeakerAdaptation(
            *population, p['adaptation.prior_weight'], p['adaptation.reset_after'],
            p['adaptation.change_semitones'], p['adaptation.change_windows']) \
            if population and p['adaptation.enabled'] else None
        self.feature_set = self.classifier.feature_set(adapted=self.adaptation is not None)
        self.stream = WindowStream(self.vad, self.encoder, p)

    def new_session(self):
        """Forget the current speaker (a new conversation)."""
        if self.adaptation:
            self.adaptation.reset()

    def push(self, samples, rate, stamp):
        """Add mono samples taken from `stamp` (s) at `rate` Hz; returns (voices, event).

        event is None, 'gap', 'restart' or 'late' (see AudioBuffer.push).
        """
        if self.buffer is None or self.buffer.rate != rate:
            p = self.params
            self.buffer = AudioBuffer(rate, p['window'], p['hop'], p['tolerance'], p['max_fill'])
        windows, event = self.buffer.push(samples, stamp)
        return [self.voice(self.stream, w, rate, start) for start, w in windows], event

    def analyse(self, samples, rate, start=0.0, unvoiced_too=False):
        """Voice of one window alone (not of a stream: see push and clip) of mono samples at
        `rate` Hz beginning at `start` (s).

        unvoiced_too: give probabilities for an unvoiced window as well (an offline guess
        for a clip without speech); the session does not adapt to it.
        """
        return self.voice(None, samples, rate, start, unvoiced_too)

    def clip(self, samples, rate):
        """Voices of every window of a whole recording, in the current session, as push
        gives them."""
        stream = WindowStream(self.vad, self.encoder, self.params)
        return [self.voice(stream, w, rate, start) for start, w in
                clip_windows(samples, rate, self.params['window'], self.params['hop'])]

    def voice(self, stream, samples, rate, start, unvoiced_too=False):
        """Voice of a window of `stream` (None: of the window alone)."""
        frame_speech, features, voiced, timings = describe(
            self.vad, samples, rate, self.params, self.encoder, unvoiced_too) \
            if stream is None else stream.describe(samples, rate, start, unvoiced_too)
        t0 = time.perf_counter()
        x = probabilities = None
        if voiced or unvoiced_too:
            x = features.model_input
            if self.adaptation and voiced:
                x = self.adaptation(x, start + len(samples) / rate, features.pitch_hz)
            if self.params['mode'] == 'full':
                probabilities = self.classifier(x[None])[0]
        timings['emotion'] = 1e3 * (time.perf_counter() - t0)
        return Voice(start, start + len(samples) / rate, float(frame_speech.mean()), voiced,
                     features, probabilities, x, timings)
