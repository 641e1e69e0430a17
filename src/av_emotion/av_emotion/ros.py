"""What every av_emotion node does alike: lifecycle, parameters from config/, start-up and
shutdown.

The only module of this package that imports ROS; the cores never import it.
"""
import math
import signal
import sys

import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.timer import Timer
from std_msgs.msg import Header

from av_emotion.config import defaults
from av_emotion.hri import normalized_roi
from av_emotion.taxonomy import LABELS, to_rep155, valence_arousal
from av_emotion_msgs.msg import Emotion


def declare_parameters(node, config, ranges, live=()):
    """Declare every parameter of config/<config>.yaml on `node`; returns their values.

    ranges: name -> (low, high), enforced by rclpy at start and on every change.
    live: names that may change while running; the others are read-only.
    """
    names = defaults(config)
    for name, value in names.items():
        descriptor = ParameterDescriptor(read_only=name not in live)
        if name in ranges:
            low, high = ranges[name]
            if isinstance(value, float):
                descriptor.floating_point_range = [FloatingPointRange(from_value=low,
                                                                      to_value=high)]
            else:
                descriptor.integer_range = [IntegerRange(from_value=low, to_value=high, step=1)]
        node.declare_parameter(name, value, descriptor)
    return {name: node.get_parameter(name).value for name in names}


# Ranges of the parameters every node has.
RANGES = {'diagnostics_period': (0.1, 60.0), 'future_tolerance': (0.0, 86400.0)}
# What a bad parameter, a missing or broken model file or a missing device raise.
START_ERRORS = (ParameterException, ValueError, RuntimeError, OSError)


class StampError(ValueError):
    """A header stamp that cannot be right: negative, or too far ahead of the clock."""


def stamp_seconds(stamp, now, future_tolerance, offset=0.0):
    """Seconds of a header stamp, checked against `now` (rclpy Time of the node's clock).

    A stamp ahead of the clock by more than future_tolerance seconds (a device whose clock
    runs ahead) raises StampError: taken, it would make every later real input look old.
    offset: seconds added first, a correction of the sender's clock to the node's (the check
    is on the corrected stamp, which is returned).
    """
    if stamp.sec < 0:
        raise StampError(f'negative stamp ({stamp.sec} s)')
    seconds = stamp.sec + stamp.nanosec * 1e-9 + offset
    ahead = seconds - now.nanoseconds * 1e-9
    if ahead > future_tolerance:
        raise StampError(f'stamp {ahead:.1f} s ahead of the clock (future_tolerance '
                         f'{future_tolerance} s)')
    return seconds


class ManagedNode(LifecycleNode):
    """An av_emotion node with the managed (REP-2002) life cycle, for `ros2 lifecycle`.

    configure: parameters read and checked, models loaded (`setup`), publishers made with
    `output`; a failure returns FAILURE and keeps its reason in `failure`. activate: the
    subscriptions and timers of `start`, made with `connect` (it returns what it listens
    to, logged once the node is active); deactivate destroys them, so
    an inactive node receives nothing and runs no timer but its diagnostics. cleanup: the
    publishers and models freed (`release`). /diagnostics reports the state throughout.
    """

    def __init__(self, name, config, ranges, live=(), **kwargs):
        super().__init__(name, **kwargs)
        self.config = config
        declare_parameters(self, config, {**RANGES, **ranges}, live)
        self.failure = ''
        self.counts = {}  # events and refused inputs since start, for /diagnostics
        self.outputs, self.connections = [], []
        self.face_topics, self.hri_warned = [], False  # hri_output's
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 1)
        self.create_timer(self.get_parameter('diagnostics_period').value,
                          self.publish_diagnostics)

    @property
    def state(self):
        """'unconfigured', 'inactive', 'active' or 'finalized'."""
        # rclpy (Humble to Kilted) has no public reader of the current state.
        return self._state_machine.current_state[1]

    def output(self, msg_type, topic, qos):
        """A publisher that publishes only while active; cleanup destroys it."""
        publisher = self.create_lifecycle_publisher(msg_type, topic, qos)
        self.outputs.append(publisher)
        return publisher

    def connect(self, entity):
        """A subscription (or message_filters Subscriber), timer or publisher of the active
        state (a publisher made while active, for a topic found then)."""
        self.connections.append(entity)
        return entity

    def hri_output(self, subtopics, tracked=False):
        """ROS4HRI face topics (FaceTopics; at configure, with `hri: true`), or None with one
        warning per node where hri_msgs is missing: it is an optional dependency."""
        try:
            import hri_msgs.msg as msgs
        except ImportError as error:
            if not self.hri_warned:
                self.hri_warned = True
                self.get_logger().warning(
                    f'ROS4HRI output (hri: true) is off: hri_msgs is not installed ({error}); '
                    'install ros-$ROS_DISTRO-hri-msgs for it')
            return None
        topics = FaceTopics(self, msgs, subtopics, tracked)
        self.face_topics.append(topics)
        return topics

    def on_configure(self, state):
        self.params = {name: self.get_parameter(name).value for name in defaults(self.config)}
        try:
            self.setup(self.params)
        except START_ERRORS as error:
            self.failure = str(error)
            self.get_logger().error(f'cannot configure: {error}')
            return TransitionCallbackReturn.FAILURE
        self.failure = ''
        return TransitionCallbackReturn.SUCCESS

    def count(self, key, message=None):
        """Count an event; its first time, log `message` (a refused input, say) once."""
        if key not in self.counts and message:
            self.get_logger().warning(f'{message}; further ones are counted in /diagnostics')
        self.counts[key] = self.counts.get(key, 0) + 1

    def stamp(self, header, offset=0.0):
        """Seconds of a message's header stamp (plus `offset`, see stamp_seconds);
        StampError if it cannot be right."""
        return stamp_seconds(header.stamp, self.get_clock().now(),
                             self.params['future_tolerance'], offset)

    def on_activate(self, state):
        started = self.start()
        result = super().on_activate(state)
        self.get_logger().info(started)
        return result

    def on_deactivate(self, state):
        for entity in self.connections:
            if isinstance(entity, Timer):
                self.destroy_timer(entity)
            elif isinstance(entity, Publisher):
                self.destroy_publisher(entity)
            else:
                self.destroy_subscription(getattr(entity, 'sub', entity))
        self.connections = []
        now = self.get_clock().now().to_msg()
        for topics in self.face_topics:  # while their tracked publisher is still active
            topics.close(now)
        return super().on_deactivate(state)

    def on_cleanup(self, state):
        for publisher in self.outputs:
            self.destroy_lifecycle_publisher(publisher)
        self.outputs, self.face_topics = [], []
        self.release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state):
        if state.label == 'active':
            self.on_deactivate(state)
        if state.label in ('active', 'inactive'):
            self.on_cleanup(state)
        return TransitionCallbackReturn.SUCCESS

    def publish_diagnostics(self):
        """One DiagnosticStatus: the node's own (`status`) while active, else its state."""
        if self.state == 'active':
            level, message, values = self.status()
        elif self.failure:
            level, message, values = DiagnosticStatus.ERROR, self.failure, {}
        else:
            level, message, values = DiagnosticStatus.OK, self.state, {}
        status = DiagnosticStatus(
            level=level, message=message, name=f'{self.get_fully_qualified_name()}: '
            f'{self.config}', hardware_id=self.config,
            values=[KeyValue(key=k, value=f'{v:.2f}' if isinstance(v, float) else str(v))
                    for k, v in {'state': self.state, **values}.items()])
        diagnostics = DiagnosticArray(status=[status])
        diagnostics.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics_pub.publish(diagnostics)


def start(node):
    """Configure and activate a ManagedNode, as `autostart` does; RuntimeError if it fails."""
    for transition in (node.trigger_configure, node.trigger_activate):
        if transition() != TransitionCallbackReturn.SUCCESS:
            raise RuntimeError(node.failure or f'{transition.__name__[8:]} failed')
    return node


# Fused results cross lossy links (Wi-Fi from robots to a room view; README, Several
# devices). Fast DDS sends a lost sample again only after its writer's next heartbeat (every
# 3 s by default); one that has left the writer's keep-last history by then, or that a
# reliable reader's history had no room to hold back for it, is lost for good. So they are
# kept RESULT_SECONDS at both ends: with depth 10 at 15 Hz, 1 or 2 of 180 results were lost
# at 5 % packet loss; with 4 s, none (test_network).
RESULT_SECONDS = 4.0


def result_qos(rate):
    """QoS of results published `rate` times a second: for their publisher, and for
    reliable readers across a lossy link."""
    return QoSProfile(depth=max(10, math.ceil(RESULT_SECONDS * rate)),
                      reliability=ReliabilityPolicy.RELIABLE)


# ROS4HRI QoS, as hri_face_detect publishes and libhri subscribes: reliable, depth 1. The
# tracked list is also transient-local (latched): a late subscriber gets the faces of now,
# and volatile subscribers match it all the same.
HRI_TRACKED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
HRI_FACE_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)

# Edge device -> central recogniser (mode: edge), often over WiFi. Face crops: best effort,
# newest only, as camera frames are: the next frame's crops follow 33 ms later, so repairing
# a lost one (reliable) would only deliver it after newer ones, and a slow link or central
# would queue stale frames. Voice windows: reliable, each is half a second of the stream
# and they are few (2 a second, 3 kB).
FACE_CROPS_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
VOICE_WINDOWS_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


class FaceTopics:
    """A node's ROS4HRI (REP-155) face output, under the node's namespace (relative names).

    `humans/faces/tracked` (hri_msgs/IdsList, when `tracked`) and, per face id
    (av_emotion.hri.face_id), `humans/faces/<id>/<name>` for each of `subtopics` (name ->
    hri_msgs message type name). The tracked publisher is a lifecycle output of configure;
    a face's publishers are made when its id first appears (only while active, as faces
    only arrive then) and destroyed when it vanishes, or at deactivate (`close`).
    """

    def __init__(self, node, msgs, subtopics, tracked):
        self.node, self.msgs = node, msgs
        self.subtopics = {name: getattr(msgs, kind) for name, kind in subtopics.items()}
        self.tracked = (node.output(msgs.IdsList, 'humans/faces/tracked', HRI_TRACKED_QOS)
                        if tracked else None)
        self.faces = {}  # id -> {subtopic: publisher}

    def publish(self, header, ids, messages):
        """ids: the faces there are now; messages: {id: {subtopic: message}} of those with
        something new. Vanished faces' topics go, new ones come, then the tracked list."""
        ids = set(ids) | set(messages)
        for face in set(self.faces) - ids:
            self.drop(face)
        for face in sorted(ids - set(self.faces)):
            self.faces[face] = {
                name: self.node.create_publisher(kind, f'humans/faces/{face}/{name}',
                                                 HRI_FACE_QOS)
                for name, kind in self.subtopics.items()}
        for face, topics in messages.items():
            for name, msg in topics.items():
                self.faces[face][name].publish(msg)
        if self.tracked is not None:
            self.tracked.publish(self.msgs.IdsList(header=header, ids=sorted(ids)))

    def drop(self, face):
        for publisher in self.faces.pop(face).values():
            self.node.destroy_publisher(publisher)

    def close(self, stamp):
        """No face any more (deactivate): every face's topics go, the tracked list empties."""
        for face in list(self.faces):
            self.drop(face)
        if self.tracked is not None:
            self.tracked.publish(self.msgs.IdsList(header=Header(stamp=stamp)))

    def roi(self, header, roi, image_width, image_height, score):
        """NormalizedRegionOfInterest2D of a sensor_msgs/RegionOfInterest in pixels."""
        xmin, ymin, xmax, ymax = normalized_roi(roi.x_offset, roi.y_offset, roi.width,
                                                roi.height, image_width, image_height)
        return self.msgs.NormalizedRegionOfInterest2D(header=header, xmin=xmin, ymin=ymin,
                                                      xmax=xmax, ymax=ymax, c=float(score))

    def expression(self, emotion):
        """hri_msgs/Expression of an av_emotion_msgs/Emotion (its label is REP-155's)."""
        return self.msgs.Expression(header=emotion.header, expression=emotion.label,
                                    valence=emotion.valence, arousal=emotion.arousal,
                                    confidence=emotion.confidence)


def probabilities_of(emotion):
    """REP-155 probabilities of an Emotion message, None when it is empty; ValueError if
    malformed (as many labels as probabilities, and those probabilities: to_rep155)."""
    if not len(emotion.probabilities):
        return None
    if len(emotion.labels) != len(emotion.probabilities):
        raise ValueError(f'{len(emotion.probabilities)} probabilities for '
                         f'{len(emotion.labels)} labels')
    return to_rep155(emotion.probabilities, emotion.labels)


def emotion_msg(header, probabilities=None, reliability=1.0, known=None):
    """Emotion message of REP-155 probabilities; no probabilities: an empty estimate.

    known: bool per label, the labels the model can tell (None: all); only those are listed,
    so that a fusion can tell "cannot say" from "probability 0".
    """
    known = np.ones(len(LABELS), bool) if known is None else np.asarray(known, bool)
    msg = Emotion(header=header, labels=[label for label, k in zip(LABELS, known) if k])
    if probabilities is not None:
        valence, arousal = valence_arousal(probabilities)
        top = int(np.argmax(probabilities))
        msg.probabilities = [float(p) for p, k in zip(probabilities, known) if k]
        msg.label = LABELS[top]
        msg.valence, msg.arousal = float(valence), float(arousal)
        msg.confidence = float(probabilities[top] * reliability)
    return msg


def to_time(seconds):
    nanoseconds = int(round(seconds * 1e9))
    return Time(sec=nanoseconds // 10**9, nanosec=nanoseconds % 10**9)


def run(node_class, args=None, executor_class=SingleThreadedExecutor):
    """Console-script body: spin a node until Ctrl-C or shutdown.

    node_class: a node class, or a list of (node class, keyword arguments) for nodes spun
    together (av_emotion_bringup's device_node). With the parameter `autostart` (default)
    each node configures and activates itself; if one cannot (bad parameter, missing model
    file, no device), the process exits with status 1 and one log line saying why.
    """
    rclpy.init(args=args)
    # Made before the node says it is up: a signal that shuts the context down while an
    # executor is being made leaves a broken one behind (a warning at exit).
    executor = executor_class()
    nodes = []
    try:
        for cls, kwargs in node_class if isinstance(node_class, list) else [(node_class, {})]:
            node = None
            try:
                node = cls(**kwargs)
                nodes.append(node)
                if isinstance(node, ManagedNode) and node.get_parameter('autostart').value:
                    start(node)
            except START_ERRORS as error:
                if not rclpy.ok():  # a stop signal came during start-up: that is no failure
                    return
                if not getattr(node, 'failure', ''):  # else on_configure has said why
                    rclpy.logging.get_logger(cls.__name__).fatal(f'cannot start: {error}')
                sys.exit(1)
            executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:  # noqa: BLE001
        # Ctrl-C or SIGTERM shut the context down under a running callback (it was
        # publishing, say): that is the stop asked for, not an error.
        if rclpy.ok():
            raise
    finally:
        # Stopping now: a second Ctrl-C or a SIGTERM (ros2 launch sends both to the whole
        # process group) must not interrupt the cleanup with a traceback. try_shutdown also
        # uninstalls rclpy's signal handlers, whose thread would touch freed handles, and
        # puts back the handlers from before init: hence ignoring again after it.
        ignore_stop_signals()
        executor.shutdown()  # waits for callbacks still running in other threads
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown()
        ignore_stop_signals()


def ignore_stop_signals():
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
