"""Timestamped audio chunks -> overlapping analysis windows.

Time runs on the sample count from the first chunk's stamp, so stamp jitter does not move
windows; a stamp that disagrees with it by more than `tolerance` is a gap (filled with
silence when short, else the buffer restarts) or an old, reordered chunk (dropped).
"""
import numpy as np


class AudioBuffer:
    def __init__(self, rate, window, hop, tolerance=0.1, max_fill=1.0):
        self.rate = rate
        self.window = int(round(window * rate))
        self.hop = int(round(hop * rate))
        self.tolerance = tolerance
        self.max_fill = max_fill
        self.reset()

    def reset(self):
        self.samples = np.zeros(0, np.float32)
        self.start = None  # time of samples[0]
        self.next_window = 0  # index in samples where the next window starts

    @property
    def end(self):
        return None if self.start is None else self.start + len(self.samples) / self.rate

    def push(self, samples, stamp):
        """Add a chunk whose first sample was taken at `stamp` (s); returns (windows, event).

        windows: list of (start time, samples) ready for analysis; event: None, 'gap',
        'restart' or 'late' (chunk dropped) for the caller to report.
        """
        event = None
        if self.start is None:
            self.start = stamp
        else:
            offset = stamp - self.end
            if offset < -self.tolerance:
                return [], 'late'
            if offset > self.tolerance:
                if offset > self.max_fill:
                    self.reset()
                    self.start = stamp
                    event = 'restart'
                else:
                    fill = np.zeros(int(round(offset * self.rate)), np.float32)
                    self.samples = np.concatenate([self.samples, fill])
                    event = 'gap'
        self.samples = np.concatenate([self.samples, np.asarray(samples, np.float32)])
        windows = []
        while self.next_window + self.window <= len(self.samples):
            begin = self.next_window
            windows.append((self.start + begin / self.rate,
                            self.samples[begin:begin + self.window]))
            self.next_window += self.hop
        if self.next_window > 0:  # drop what no later window needs
            self.start += self.next_window / self.rate
            self.samples = self.samples[self.next_window:]
            self.next_window = 0
        return windows, event
