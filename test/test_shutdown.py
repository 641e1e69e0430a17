"""Ctrl-C once or twice (ros2 launch sends it to the whole process group, users press it
again) and SIGTERM (systemd, docker) end each node cleanly: exit 0, no traceback, no crash."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LIB = Path(sys.prefix) / 'lib'
NODES = [LIB / 'av_emotion_vision' / 'vision_node', LIB / 'av_emotion_audio' / 'audio_node',
         LIB / 'av_emotion_fusion' / 'fusion_node', LIB / 'av_emotion_bringup' / 'device_node']
STOPS = {'SIGINT twice': (signal.SIGINT, signal.SIGINT), 'SIGTERM': (signal.SIGTERM,),
         'SIGTERM then SIGINT': (signal.SIGTERM, signal.SIGINT)}


@pytest.mark.parametrize('stops', STOPS.values(), ids=STOPS.keys())
@pytest.mark.parametrize('executable', NODES, ids=[n.name for n in NODES])
def test_a_node_stops_cleanly(executable, stops):
    node = subprocess.Popen([str(executable)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED='1'))
    seen, up = [], 3 if executable.name == 'device_node' else 1  # vision, audio, fusion
    for line in node.stdout:  # up once each node says what it listens to
        seen.append(line)
        up -= 'listening on' in line or 'fusing' in line
        if not up:
            break
    for stop in stops:
        node.send_signal(stop)
        time.sleep(0.01)
    rest, _ = node.communicate(timeout=60)
    output = ''.join(seen) + rest
    assert node.returncode == 0, output
    assert 'Traceback' not in output, output
