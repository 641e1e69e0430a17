"""Test session set-up: loopback-only DDS, the real ROS tools, sample data.

DDS traffic never leaves this machine (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) and each
run gets its own ROS_DOMAIN_ID, so parallel runs and other robots never see our topics.
"""
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.setdefault('ROS_DOMAIN_ID', str(os.getpid() % 100 + 1))

HERE = Path(__file__).parent
# ROS modules every ROS machine has and PyPI does not (make setup installs them from
# ../shared/ros): the tests use the real ones, and say where they come from.
ROS_TOOLS = ('launch', 'launch_ros', 'message_filters', 'audio_common_msgs', 'hri_msgs')


def where(name):
    try:
        module = importlib.import_module(name)
    except ImportError:
        return 'missing'
    return str(Path(module.__file__).parent) if module.__file__ else 'missing'


# Labelled real samples (../shared/data next to the repository, or AV_EMOTION_DATA).
DATA = Path(os.environ.get('AV_EMOTION_DATA', HERE.parent.parent / 'shared' / 'data'))


def pytest_report_header(config):
    return ['ROS tools: ' + ', '.join(f'{n} {where(n)}' for n in ROS_TOOLS),
            f"ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']}, discovery LOCALHOST; data: {DATA}"]


@pytest.fixture(scope='session')
def data():
    if not DATA.is_dir():
        pytest.fail(f'sample data not found at {DATA}; set AV_EMOTION_DATA')
    return DATA


@pytest.fixture(scope='session')
def refused():
    """Run an av-emotion-* console script that must refuse its input: a non-zero exit and
    one line on stderr, no traceback. Returns that line."""
    def run(command, *args):
        done = subprocess.run([str(Path(sys.executable).parent / command), *map(str, args)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode != 0 and 'Traceback' not in done.stderr, done.stderr
        assert len(done.stderr.splitlines()) == 1, done.stderr
        return done.stderr.strip()
    return run


@pytest.fixture(scope='module')
def graph():
    """An in-process ROS graph on real rclpy, one per test module."""
    from av_emotion_bringup.graph import Graph
    graph = Graph()
    yield graph
    graph.close()
