"""Clock offsets of inputs from other devices (av_emotion_fusion.clock), without ROS. Delays
are drawn as transport and processing delays are: a floor plus a long tail."""
import numpy as np
import pytest

from av_emotion_fusion.clock import MIN_SAMPLES, ClockOffset, Clocks


def delays(n, seed=0):
    """n message delays (s): at least 5 ms, 20 ms more on average, now and then 0.3 s more."""
    rng = np.random.default_rng(seed)
    return 0.005 + rng.exponential(0.02, n) + 0.3 * (rng.random(n) < 0.05)


def test_offset_is_estimated_from_few_messages_and_wild_stamps_do_not_move_it():
    clock = ClockOffset(window=20)
    behind = 2.0  # the device's clock is 2 s behind ours
    arrivals = 1000.0 + 0.033 * np.arange(60)
    for i, (arrival, delay) in enumerate(zip(arrivals, delays(60))):
        if i == 2:  # a stamp a minute ahead (broken or hostile): one of the first five
            clock.add(arrival + 60.0, arrival)
        clock.add(arrival - delay - behind, arrival)
        if len(clock.offsets) < MIN_SAMPLES:
            assert clock.estimate() is None
        else:
            # Never below the offset (delays only add), and near the smallest delays.
            assert behind < clock.estimate() < behind + 0.05
    # The device's clock is set 3 s forward (now 1 s ahead): followed within half the
    # window (the estimate is the fifth lowest of 20: five new offsets, less slow ones).
    for arrival, delay in zip(arrivals + 2.0, delays(10, seed=1)):
        clock.add(arrival - delay + 1.0, arrival)
    assert -1.0 < clock.estimate() < -1.0 + 0.05


def feed(clocks, offsets, n=20, start=1000.0, seed=0):
    """n messages of each input, whose clocks are offsets[name] s behind ours."""
    for name, offset in offsets.items():
        for arrival, delay in zip(start + 0.1 * np.arange(n), delays(n, seed)):
            clocks.add(name, arrival - delay - offset, arrival)


def test_inputs_are_corrected_together_beyond_the_tolerance_and_warned_once_per_episode():
    clocks = Clocks(['faces', 'voice'], **{'sync.slop': 0.05, 'clock.tolerance': 0.5})
    assert clocks.spread() is None and clocks.drifted_apart() is None
    # Both on time: offsets are delays, nothing is corrected.
    feed(clocks, {'faces': 0.0, 'voice': 0.0})
    assert not clocks.corrected() and clocks.correction('faces') == 0.0
    assert clocks.drifted_apart() is None
    # Faces from a device 2 s behind: both inputs put on our clock, so that the stamps of a
    # face and a voice of the same moment meet within sync.slop.
    feed(clocks, {'faces': 2.0}, seed=1)
    assert clocks.corrected()
    assert clocks.correction('faces') == pytest.approx(2.0, abs=0.05)
    assert 0 < clocks.correction('voice') < 0.05
    same_moment = {'faces': 5.0 - 2.0, 'voice': 5.0}
    corrected = [stamp + clocks.correction(name) for name, stamp in same_moment.items()]
    assert abs(corrected[0] - corrected[1]) < 0.05
    # One warning per episode of clocks further apart than sync.slop.
    assert clocks.drifted_apart() == pytest.approx(2.0, abs=0.05)
    assert clocks.drifted_apart() is None
    feed(clocks, {'faces': 0.0}, seed=2)  # its clock set right
    assert clocks.drifted_apart() is None and not clocks.corrected()
    feed(clocks, {'faces': 0.2}, seed=3)  # 0.2 s off: within the tolerance, warned anew
    assert not clocks.corrected() and clocks.correction('faces') == 0.0
    assert clocks.drifted_apart() == pytest.approx(0.2, abs=0.05)


def test_correction_can_be_turned_off():
    clocks = Clocks(['faces', 'voice'], **{'clock.correct': False})
    feed(clocks, {'faces': -3.0, 'voice': 0.0})
    assert clocks.estimates()['faces'] == pytest.approx(-3.0, abs=0.05)
    assert not clocks.corrected() and clocks.correction('faces') == 0.0
