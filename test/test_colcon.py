"""The README's ROS-machine path, checked: `colcon build` in a workspace holding a clone of
this repository, then `source install/setup.bash && ros2 launch av_emotion_bringup
av_emotion.launch.py` from the install/ tree it made.

.venv stands in for /opt/ros/<distro>: its bin/ on PATH gives python, ros2, colcon and, by
CMake's PATH prefix search, the cmake packages of the ROS wheels (make setup fixed their
prefix). As `source /opt/ros/<distro>/setup.bash` exports the ROS libraries' LD_LIBRARY_PATH,
the build and the launch inherit this interpreter's, which ros-wheels-bootstrapper set;
install/setup.bash then puts the workspace's libraries in front, as an overlay's. (A shell
without it leaves the order to the bootstrapper, which re-executes Python with the paths in
set order: install/'s message libraries then lose to the copies make setup put in .venv/lib
about half the time.)
"""
import importlib.util
import os
import shlex
import signal
import shutil
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from av_emotion_bringup.graph import wait_for
from av_emotion_msgs.msg import FusedEmotion

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PACKAGES = {'av_emotion', 'av_emotion_msgs', 'av_emotion_vision', 'av_emotion_audio',
            'av_emotion_fusion', 'av_emotion_network', 'av_emotion_feedback',
            'av_emotion_monitor', 'av_emotion_bringup'}
NODES = {'vision_node': 'av_emotion_vision', 'audio_node': 'av_emotion_audio',
         'fusion_node': 'av_emotion_fusion'}
MODULES = [f'{p}.{m}' for p, m in (('av_emotion', 'config'), ('av_emotion_vision', 'node'),
                                   ('av_emotion_audio', 'node'), ('av_emotion_fusion', 'node'),
                                   ('av_emotion_bringup', 'graph'), ('av_emotion_msgs', 'msg'))]

if importlib.util.find_spec('colcon_core') is None:
    if os.environ.get('CI', '').lower() in ('1', 'true', 'yes'):
        pytest.fail('colcon is not installed (requirements-nodeps.txt; make setup)',
                    pytrace=False)
    pytest.skip('colcon is not installed in this environment: make setup installs it '
                '(requirements-nodeps.txt)', allow_module_level=True)


def underlay():
    """A shell that sourced the ROS underlay (here .venv) and nothing else."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('AMENT_PREFIX_PATH', 'CMAKE_PREFIX_PATH', 'PYTHONPATH', 'VIRTUAL_ENV')
           and not k.startswith('COLCON')}
    env['PATH'] = os.pathsep.join([str(BIN), env.get('PATH', '/usr/bin:/bin')])
    return env


def clone(workspace):
    """The repository as `git clone` gives it (tracked and new files of the working tree,
    symlinks kept), in workspace/src/av_emotion."""
    files = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others',
                            '--exclude-standard'], cwd=REPO, capture_output=True,
                           check=True).stdout.split(b'\0')
    root = workspace / 'src' / 'av_emotion'
    for name in filter(None, map(os.fsdecode, files)):
        source = REPO / name
        if not source.is_symlink() and not source.exists():
            continue  # deleted in the working tree
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, root / name, follow_symlinks=False)


def session_processes(leader):
    found = subprocess.run(['pgrep', '-s', str(leader)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split() if int(p) != leader]


def cmdline(pid):
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().decode().split('\0')
    except FileNotFoundError:
        return []


def test_colcon_build_then_launch_from_install(graph, tmp_path):
    workspace = tmp_path / 'ws'
    clone(workspace)
    started = time.monotonic()
    build = subprocess.run(['colcon', 'build'], cwd=workspace, env=underlay(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    built_in = time.monotonic() - started
    assert build.returncode == 0, build.stdout[-6000:]
    install = workspace / 'install'
    assert {p.name for p in install.iterdir() if p.is_dir()} == PACKAGES
    print(f'colcon build: {built_in:.0f} s')

    modules = tmp_path / 'modules.txt'
    probe_modules = ('import importlib.util, sys; sys.stdout.write("\\n".join('
                     f'importlib.util.find_spec(m).origin for m in {MODULES!r}))')
    script = (f'source {shlex.quote(str(install / "setup.bash"))} && '
              f'python -c {shlex.quote(probe_modules)} > {shlex.quote(str(modules))} && '
              'exec ros2 launch av_emotion_bringup av_emotion.launch.py namespace:=colcon')
    output = tmp_path / 'launch.log'
    with output.open('w') as log:
        launch = subprocess.Popen(['bash', '-c', script], cwd=tmp_path, env=underlay(),
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        probe = graph.node('colcon_probe')
        stamps = []
        probe.create_subscription(FusedEmotion, '/colcon/emotion',
                                  lambda m: stamps.append(time.monotonic()), 10)
        expected = {f'/colcon/{n}' for n in NODES}

        def up():
            assert launch.poll() is None, output.read_text()[-6000:]
            names = {f'{ns.rstrip("/")}/{n}' for n, ns in probe.get_node_names_and_namespaces()}
            return expected <= names

        assert wait_for(up, 90), 'nodes did not come up'
        assert wait_for(lambda: len(stamps) >= 10, 60), f'{len(stamps)} /colcon/emotion'

        # The Python modules the overlay's environment imports: from install/, not from the
        # editable sources .venv also holds.
        origins = modules.read_text().split('\n')
        assert all(Path(o).is_relative_to(install) for o in origins), origins
        # The node processes: install/'s executables, and install/'s message libraries.
        nodes = {}
        for pid in session_processes(launch.pid):
            args = cmdline(pid)
            if len(args) > 1 and Path(args[1]).name in NODES:
                nodes[Path(args[1]).name] = (pid, args)
        assert set(nodes) == set(NODES), nodes
        for name, (pid, args) in nodes.items():
            assert Path(args[1]) == install / NODES[name] / 'lib' / NODES[name] / name, args
            assert Path(args[0]).parent == BIN, args  # the underlay's interpreter
            libraries = {line.split()[-1] for line in
                         Path(f'/proc/{pid}/maps').read_text().splitlines()
                         if 'av_emotion_msgs' in line}
            assert libraries and all(Path(p).is_relative_to(install) for p in libraries), \
                libraries
    finally:
        with suppress(ProcessLookupError):  # gone already when the launch failed
            os.killpg(launch.pid, signal.SIGINT)
        try:
            launch.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(launch.pid, signal.SIGKILL)
            launch.wait()
