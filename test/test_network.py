"""Two robots and a room view on a real network that loses packets: three network namespaces
on a switch, DDS over UDP, 5 % of the frames dropped at random, each uplink capped at 2 Mbit/s
(and delayed 20 ms where the kernel has netem). Each robot is the whole graph
(`ros2 launch ... av_emotion.launch.py namespace:=robotN`) fed face estimates; the room
device runs room.launch.py. Needs root (CI has it); av_emotion_bringup.lossy_network builds
the network and removes it, also on failure."""
import pytest

from av_emotion_bringup import lossy_network

pytestmark = pytest.mark.skipif(bool(lossy_network.unavailable()),
                                reason=lossy_network.unavailable() or 'available')


def test_room_view_over_a_lossy_network():
    figures = lossy_network.run(robots=2, loss_percent=5, feed_seconds=6.0)
    print(figures)  # pytest -s shows them; make bench records them
    # The switch did drop its share: thousands of frames, about 5 % of them.
    assert figures['frames_forwarded'] > 1000 and figures['dropped_percent'] > 3.0, figures
    # Both robots found and heard, each person's label from its robot (robot1's person is
    # happy, robot2's sad), within the target of 5 s from the last robot's first result.
    assert figures['room_complete_s'] < 5.0, figures
    assert sorted(m.split()[::2] for m in figures['room_mood']['members']) == [
        ['/robot1', 'happy'], ['/robot2', 'sad']], figures
    # 15 results a second from each robot for 6 s, none of them lost on the reliable topic.
    assert figures['results_sent'] >= 2 * 15 * 5, figures
    assert figures['results_lost'] == 0, figures
    # The robot whose cable was pulled out is reported gone within timeout + 1 s, and seen
    # again once plugged back in.
    assert figures['leave_detection_s'] <= figures['timeout_s'] + 1.0, figures
    assert figures['back_after_s'] < 10.0, figures
