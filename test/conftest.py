"""Test session set-up: loopback-only DDS, ROS modules this machine lacks, sample data.

DDS traffic never leaves this machine (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) and each
run gets its own ROS_DOMAIN_ID, so parallel runs and other robots never see our topics.
"""
import importlib
import os
import sys
from pathlib import Path

import pytest

os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.setdefault('ROS_DOMAIN_ID', str(os.getpid() % 100 + 1))
# The environment is an ament prefix (messages are registered there), as a sourced workspace.
os.environ.setdefault('AMENT_PREFIX_PATH', sys.prefix)

HERE = Path(__file__).parent
# Modules that every ROS machine has and PyPI does not: replaced by test/doubles only
# when the real one cannot be imported.
DOUBLED = ('launch', 'launch_ros', 'message_filters')
DOUBLES_USED = []
for name in DOUBLED:
    try:
        module = importlib.import_module(name)
        # From the repository root, our launch/ folder would pass for a namespace package.
        if module.__file__ is None:
            raise ImportError(name)
        # tools/setup.sh links the message_filters double into .venv on machines without ROS.
        if Path(module.__file__).resolve().is_relative_to(HERE / 'doubles'):
            DOUBLES_USED.append(name)
    except ImportError:
        sys.modules.pop(name, None)
        DOUBLES_USED.append(name)
if DOUBLES_USED:
    sys.path.insert(0, str(HERE / 'doubles'))

# Labelled real samples (../shared/data next to the repository, or AV_EMOTION_DATA).
DATA = Path(os.environ.get('AV_EMOTION_DATA', HERE.parent.parent / 'shared' / 'data'))


def pytest_report_header(config):
    used = ', '.join(DOUBLES_USED) or 'none (all real)'
    return [f'test doubles used for: {used}',
            f"ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']}, discovery LOCALHOST; data: {DATA}"]


def pytest_terminal_summary(terminalreporter):
    if DOUBLES_USED:
        terminalreporter.write_line(
            f"test doubles used (real modules not importable): {', '.join(DOUBLES_USED)}")


@pytest.fixture(scope='session')
def data():
    if not DATA.is_dir():
        pytest.fail(f'sample data not found at {DATA}; set AV_EMOTION_DATA')
    return DATA


@pytest.fixture(scope='module')
def graph():
    """An in-process ROS graph on real rclpy, one per test module."""
    from av_emotion_bringup.graph import Graph
    graph = Graph()
    yield graph
    graph.close()
