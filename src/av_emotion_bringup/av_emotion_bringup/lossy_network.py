"""Robots and a room view on a real, lossy network (test_network and av-emotion-bench).

Each device is a Linux network namespace plugged into a switch (a bridge in a namespace of
its own); DDS runs between them over UDP, found by multicast discovery
(ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET). The switch drops a random share of the frames it
forwards (nftables `numgen random`), each device's uplink is capped (tc tbf) and delayed
(tc netem, where the kernel has it). Every interface lives in those namespaces, so nothing
touches the host's network, and removing them removes it all. Needs root, ip, nft and tc.

Each robot runs `ros2 launch av_emotion_bringup av_emotion.launch.py namespace:=robotN` and
a feeder (`python -m av_emotion_bringup.lossy_network feed`) that publishes face estimates
into its fusion node and records the results on the robot itself; the room device runs
`room.launch.py` and a recorder (`... record`) of /room/emotion and of every robot's results
as they arrive there. They report to `run` in JSON lines on stdout.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from statistics import median

from av_emotion.config import defaults
from av_emotion.dds import USER_VARIABLES

PREFIX = 'avroom'  # namespace names: avroom<pid>-<device>
SUBNET = '10.77.0'
FEED_RATE = 10.0  # face arrays a second into each fusion node
LABELS = ('happy', 'sad', 'surprised', 'angry')  # what each robot's person shows


class Unavailable(Exception):
    """This machine cannot build the network (not root, a command missing)."""


def unavailable():
    """Why the network cannot be built here, or '' when it can."""
    if os.geteuid() != 0:
        return 'network namespaces need root'
    missing = [tool for tool in ('ip', 'nft', 'tc') if not shutil.which(tool)]
    if missing:
        return f"{' and '.join(missing)} not installed (make setup installs nftables)"
    return ''


def sh(*command, check=True):
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()}")
    return done


class Network:
    """Devices (namespaces) on one switch: `loss_percent` of the forwarded frames dropped at
    random, each device's uplink capped at `bandwidth` and delayed by `delay_ms` (0 where
    the kernel lacks netem: `delay_ms` then says 0)."""

    def __init__(self, devices, loss_percent, delay_ms, bandwidth):
        remove_stale_namespaces()
        self.prefix = f'{PREFIX}{os.getpid()}'
        self.switch = f'{self.prefix}-switch'
        self.namespaces = {}  # device -> namespace
        self.loss_percent, self.bandwidth = loss_percent, bandwidth
        try:
            self.build(devices, loss_percent)
            self.delay_ms = self.shape(delay_ms, bandwidth)
        except BaseException:
            self.close()
            raise

    def build(self, devices, loss_percent):
        switch = self.switch
        sh('ip', 'netns', 'add', switch)
        sh('ip', '-n', switch, 'link', 'add', 'br0', 'type', 'bridge')
        sh('ip', '-n', switch, 'link', 'set', 'br0', 'up')
        for i, device in enumerate(devices, 1):
            ns = self.namespaces[device] = f'{self.prefix}-{device}'
            sh('ip', 'netns', 'add', ns)
            # Made inside the namespaces: no interface ever appears on the host.
            sh('ip', 'link', 'add', 'eth0', 'netns', ns, 'type', 'veth',
               'peer', 'name', f'port{i}', 'netns', switch)
            sh('ip', '-n', switch, 'link', 'set', f'port{i}', 'master', 'br0', 'up')
            sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
            sh('ip', '-n', ns, 'addr', 'add', f'{SUBNET}.{i}/24', 'dev', 'eth0')
            sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up')
            # DDS discovery is multicast: its group must be routed to the network.
            sh('ip', '-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0')
        # Each forwarded frame (also each copy of a flooded multicast one) is dropped with
        # probability loss_percent / 100; the counters give the share actually dropped.
        rules = f"""table bridge lossy {{
            counter forwarded {{}}
            counter dropped {{}}
            chain forward {{
                type filter hook forward priority 0; policy accept;
                counter name "forwarded"
                numgen random mod 100 < {int(loss_percent)} counter name "dropped" drop
            }}
        }}"""
        subprocess.run(['ip', 'netns', 'exec', switch, 'nft', '-f', '-'], input=rules,
                       text=True, check=True, capture_output=True, timeout=30)

    def shape(self, delay_ms, bandwidth):
        """Each device's uplink: netem delay (if the kernel has it) with tbf under it.
        Returns the delay applied."""
        for ns in self.namespaces.values():
            parent = ['root']
            if delay_ms:
                if sh('tc', '-n', ns, 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '1:',
                      'netem', 'delay', f'{delay_ms}ms', check=False).returncode == 0:
                    parent = ['parent', '1:']
                else:
                    delay_ms = 0  # "Specified qdisc kind is unknown": no netem in this kernel
            sh('tc', '-n', ns, 'qdisc', 'add', 'dev', 'eth0', *parent, 'handle', '2:', 'tbf',
               'rate', bandwidth, 'burst', '32kb', 'latency', '200ms')
        return delay_ms

    def cable(self, device, connected):
        """Pull the device's cable out of the switch, or put it back."""
        port = f'port{list(self.namespaces).index(device) + 1}'
        sh('ip', '-n', self.switch, 'link', 'set', port, 'up' if connected else 'down')

    def dropped_percent(self):
        """The share of forwarded frames the switch dropped so far."""
        out = sh('ip', 'netns', 'exec', self.switch, 'nft', '-j', 'list', 'counters').stdout
        counts = {c['counter']['name']: c['counter']['packets']
                  for c in json.loads(out)['nftables'] if 'counter' in c}
        return 100.0 * counts['dropped'] / max(1, counts['forwarded']), counts['forwarded']

    def exec_prefix(self, device):
        return ['ip', 'netns', 'exec', self.namespaces[device]]

    def close(self):
        # Deleting a namespace deletes its interfaces, qdiscs and nft tables with it.
        for ns in [*self.namespaces.values(), self.switch]:
            sh('ip', 'netns', 'del', ns, check=False)


def remove_stale_namespaces():
    """Namespaces of an earlier run that was killed before it could remove them."""
    names = sh('ip', 'netns', 'list').stdout.split()
    for name in names:
        match = re.fullmatch(f'{PREFIX}(\\d+)-.*', name)
        if match and not Path(f'/proc/{match[1]}').exists():
            sh('ip', 'netns', 'del', name, check=False)


class Process:
    """A command in a device's namespace, in a process group of its own. Its JSON lines on
    stdout are kept as events, its other output in `log`."""

    def __init__(self, command, env, log, stdin=False):
        self.events, self.log, self.changed = [], log, threading.Condition()
        self.process = subprocess.Popen(
            command, env=env, cwd=log.parent, start_new_session=True, text=True,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        with open(self.log, 'a') as log:
            for line in self.process.stdout:
                try:
                    event = json.loads(line) if line.startswith('{') else None
                except ValueError:
                    event = None
                if event is None:
                    log.write(line)
                    log.flush()
                    event = {'event': 'log', 'line': line, 'time': time.time()}
                with self.changed:
                    self.events.append(event)
                    self.changed.notify_all()

    def send(self, *words):
        self.process.stdin.write(' '.join(map(str, words)) + '\n')
        self.process.stdin.flush()

    def wait(self, condition, timeout, what, since=0.0):
        """The first event (of those stamped after `since`) that satisfies condition;
        RuntimeError after timeout."""
        def found():
            return next((e for e in self.events if e['time'] > since and condition(e)), None)
        with self.changed:
            event = self.changed.wait_for(found, timeout)
        if not event:
            raise RuntimeError(f'{what}: not within {timeout} s')
        return event

    def stop(self):
        """End it: a feeder or recorder at the end of its input (it closes its node), a
        launch and its nodes by SIGINT to the whole group, as Ctrl-C; SIGKILL after 20 s."""
        if self.process.stdin:
            self.process.stdin.close()
        elif self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def device_env():
    """The nodes' environment: unsourced (as test_launch), DDS on the namespace's network.

    Fast DDS sees every namespace as one host and would pass data through shared memory,
    around the network under test: UDP only. A user's Fast DDS profile could undo that."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('AMENT_PREFIX_PATH', 'ROS_LOCALHOST_ONLY', 'ROS_STATIC_PEERS',
                        *USER_VARIABLES)}
    env.update(ROS_AUTOMATIC_DISCOVERY_RANGE='SUBNET', FASTDDS_BUILTIN_TRANSPORTS='UDPv4',
               ROS_DOMAIN_ID=os.environ.get('ROS_DOMAIN_ID', '0'), PYTHONUNBUFFERED='1')
    return env


def run(robots=2, loss_percent=5, delay_ms=20, bandwidth='10mbit', feed_seconds=6.0):
    """Robots and a room view (config/room.yaml as it is) on a lossy network; returns the
    figures (README, Several devices). Unavailable when this machine cannot build the
    network; RuntimeError, with the end of each device's log, when a step does not happen
    in time."""
    reason = unavailable()
    if reason:
        raise Unavailable(reason)
    with tempfile.TemporaryDirectory(prefix='lossy_network') as workdir:
        try:
            return scenario(Path(workdir), robots, loss_percent, delay_ms, bandwidth,
                            feed_seconds)
        except RuntimeError as error:
            logs = '\n'.join(f'--- {log.name}:\n' + ''.join(log.read_text().splitlines(True)[-15:])
                             for log in sorted(Path(workdir).glob('*.log')))
            raise RuntimeError(f'{error}\n{logs}') from None


def scenario(workdir, robots, loss_percent, delay_ms, bandwidth, feed_seconds):
    names = [f'robot{i}' for i in range(1, robots + 1)]
    devices = [f'/{n}' for n in names]
    ros2 = str(Path(sys.executable).parent / 'ros2')
    module = [sys.executable, '-m', 'av_emotion_bringup.lossy_network']
    timeout = defaults('room')['timeout']
    started = time.time()
    env = device_env()
    with ExitStack() as stack:
        net = Network([*names, 'room'], loss_percent, delay_ms, bandwidth)
        stack.callback(net.close)
        processes = []

        @stack.callback  # before the namespaces go (last in, first out)
        def stop():
            for process in reversed(processes):
                process.stop()

        def start(device, command, stdin=False):
            processes.append(Process([*net.exec_prefix(device), *command], env,
                                     workdir / f'{device}.log', stdin))
            return processes[-1]

        start('room', [ros2, 'launch', 'av_emotion_bringup', 'room.launch.py'])
        recorder = start('room', [*module, 'record', *devices], stdin=True)
        recorder.wait(lambda e: e['event'] == 'room', 120, 'the room view starting')
        feeders, launches = {}, {}
        for name, label in zip(names, LABELS * robots):
            launches[name] = start(name, [ros2, 'launch', 'av_emotion_bringup',
                                          'av_emotion.launch.py', f'namespace:={name}'])
            feeders[name] = start(name, [*module, 'feed', name, label], stdin=True)
        # From the last robot's fusion_node becoming active (its log line's stamp: it then
        # publishes at once) to the room view listing every robot.
        active = max(fusion_active(launch.wait(
            lambda e: fusion_active(e.get('line', '')), 180, f'{name} starting')['line'])
            for name, launch in launches.items())
        complete = recorder.wait(lambda e: e['event'] == 'room' and e['devices'] == devices,
                                 60, 'the room view listing every robot')['time']
        for name, feeder in feeders.items():
            feeder.wait(lambda e: e['event'] == 'ready', 60, f'{name} feeder')
        # Results count from the moment each robot's are heard in the room.
        for device in devices:
            recorder.wait(lambda e, d=device: e['event'] == 'heard' and e['device'] == d, 60,
                          f'{device} heard in the room')
        go = time.time()
        for feeder in feeders.values():
            feeder.send('go', feed_seconds)
        sent = Counter()
        for name, feeder in feeders.items():
            feeder.wait(lambda e: e['event'] == 'fed', feed_seconds + 60, f'{name} feeding')
            feeder.send('dump')
            sent.update(map(tuple, feeder.wait(lambda e: e['event'] == 'results', 30,
                                               f'{name} results')['results']))
        mood = recorder.wait(lambda e: e['event'] == 'room' and e['people'] == robots, 10,
                             "the room view showing every robot's person", since=go)
        lost, delays = lost_results(recorder, sent, deadline=time.monotonic() + 20)
        dropped, forwarded = net.dropped_percent()

        # The last robot's cable pulled out of the switch, then plugged back in.
        leaving = devices[-1]
        unplugged = time.time()
        net.cable(names[-1], connected=False)
        left = recorder.wait(lambda e: e['event'] == 'room' and leaving not in e['devices'],
                             timeout + 30, f'{leaving} leaving', since=unplugged)['time']
        plugged = time.time()
        net.cable(names[-1], connected=True)
        back = recorder.wait(lambda e: e['event'] == 'room' and leaving in e['devices'], 60,
                             f'{leaving} coming back', since=plugged)['time']
    return {'devices': robots, 'loss_percent': loss_percent, 'delay_ms': net.delay_ms,
            'bandwidth': bandwidth, 'dropped_percent': round(dropped, 2),
            'frames_forwarded': forwarded, 'results_sent': sum(sent.values()),
            'results_lost': lost, 'result_delay_ms_p50': round(1e3 * median(delays), 1),
            'result_delay_ms_max': round(1e3 * max(delays), 1),
            'room_complete_s': round(complete - active, 3),
            'room_mood': {'people': mood['people'], 'members': mood['members']},
            'timeout_s': timeout, 'leave_detection_s': round(left - unplugged, 3),
            'back_after_s': round(back - plugged, 3), 'run_s': round(time.time() - started, 1)}


def fusion_active(line):
    """The time in fusion_node's log line saying it is active ('fusing ...'), or None."""
    match = re.search(r'\[(\d+\.\d+)\] \[\S*fusion_node\]: fusing', line)
    return float(match[1]) if match else None


def lost_results(recorder, sent, deadline):
    """How many of `sent` ((device, stamp ns, face id): count) the room has not received,
    and the delays (s from stamp to arrival) of those it has. Asked again until none is
    missing or the deadline: a lost sample may still be repaired."""
    while True:
        asked = time.time()
        recorder.send('dump')
        results = recorder.wait(lambda e: e['event'] == 'received', 30, 'the recorder',
                                since=asked)['results']
        lost = sum((sent - Counter(tuple(r[:3]) for r in results)).values())
        if not lost or time.monotonic() > deadline:
            return lost, [arrived - stamp * 1e-9 for *key, stamp, _, arrived in results
                          if (*key, stamp, _) in sent]
        time.sleep(0.5)


# The processes in the namespaces.

def say(event, lock=threading.Lock()):
    """One JSON line to `run`, with the wall-clock time (one clock: one machine)."""
    with lock:
        print(json.dumps({**event, 'time': time.time()}), flush=True)


def commands():
    """The lines `run` sends on stdin, split into words; ends at end of file."""
    for line in sys.stdin:
        yield line.split()


def feed(namespace, label):
    """Publish one face showing `label` into the robot's fusion node at FEED_RATE when
    told (`go SECONDS`), recording every result there (`dump` answers with them)."""
    import numpy as np
    from av_emotion.ros import emotion_msg, to_time
    from av_emotion.taxonomy import LABELS as REP155
    from av_emotion_bringup.graph import Graph, wait_for
    from av_emotion_msgs.msg import Face, FaceArray, FusedEmotion
    from sensor_msgs.msg import RegionOfInterest

    probabilities = np.full(len(REP155), 0.02)
    probabilities[REP155.index(label)] = 1 - 0.02 * (len(REP155) - 1)
    graph = Graph()
    node = graph.node('feeder', namespace=namespace)
    faces = node.create_publisher(FaceArray, 'faces', 10)
    results = []
    node.create_subscription(FusedEmotion, 'emotion', results.append, 100)
    try:
        wait_for(lambda: faces.get_subscription_count() and results, 300)
        say({'event': 'ready'})
        for words in commands():
            if words[0] == 'go':
                start = time.monotonic()
                for i in range(int(float(words[1]) * FEED_RATE)):
                    now = node.get_clock().now().nanoseconds
                    msg = FaceArray(image_width=640, image_height=480)
                    msg.header.stamp = to_time(now * 1e-9)
                    msg.faces = [Face(id=1, detection_score=0.95,
                                      roi=RegionOfInterest(width=120, height=120),
                                      emotion=emotion_msg(msg.header, probabilities))]
                    faces.publish(msg)
                    time.sleep(max(0.0, start + (i + 1) / FEED_RATE - time.monotonic()))
                say({'event': 'fed'})
            elif words[0] == 'dump':
                # The results about the face fed: those with an estimate.
                say({'event': 'results', 'results': [
                    (f'/{namespace}', *result_key(m)) for m in list(results) if m.emotion.label]})
    finally:
        graph.close()


def result_key(msg):
    """A FusedEmotion as counted: its stamp (that of the face it used) and face id."""
    return msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec, msg.face_id


def record(*devices):
    """Record the devices' results as they arrive here (a reliable reader, as `ros2 bag
    record` would be) and the room view: a 'heard' event
    at each device's first result, a 'room' event whenever the room's devices or people
    change; `dump` answers with every result received, and when."""
    from av_emotion.ros import result_qos
    from av_emotion_bringup.graph import Graph
    from av_emotion_msgs.msg import FusedEmotion, RoomEmotion
    from av_emotion_network.room_node import ROOM_QOS

    graph = Graph()
    node = graph.node('recorder')
    received = {device: [] for device in devices}
    last_room = [None]

    def on_result(device, msg):
        if not received[device]:
            say({'event': 'heard', 'device': device})
        received[device].append((msg, time.time()))

    def on_room(msg):
        room = {'devices': list(msg.devices), 'people': msg.people,
                'members': [f'{m.device} {m.face_id} {m.emotion.label}' for m in msg.members]}
        if room != last_room[0]:
            last_room[0] = room
            say({'event': 'room', **room})

    for device in devices:
        node.create_subscription(FusedEmotion, f'{device}/emotion',
                                 lambda m, d=device: on_result(d, m),
                                 result_qos(defaults('fusion')['rate']))
    node.create_subscription(RoomEmotion, '/room/emotion', on_room, ROOM_QOS)
    try:
        for words in commands():
            if words[0] == 'dump':
                say({'event': 'received', 'results': [
                    (device, *result_key(m), arrived) for device, msgs in received.items()
                    for m, arrived in list(msgs)]})
    finally:
        graph.close()


if __name__ == '__main__':
    role, *arguments = sys.argv[1:]
    {'feed': feed, 'record': record}[role](*arguments)
