"""What every av_emotion node does alike: parameters from config/, start-up and shutdown.

The only module of this package that imports ROS; the cores never import it.
"""
import signal
import sys

import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

from av_emotion.config import defaults
from av_emotion.taxonomy import LABELS, valence_arousal
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


def run(node_class, args=None):
    """Console-script body: spin one node until Ctrl-C or shutdown.

    A node that cannot start (bad parameter, missing model file, no device) exits with
    status 1 and one log line saying why.
    """
    rclpy.init(args=args)
    # Made before the node says it is up: a signal that shuts the context down while an
    # executor is being made leaves a broken one behind (a warning at exit).
    executor = SingleThreadedExecutor()
    node = None
    try:
        try:
            node = node_class()
        except (ParameterException, ValueError, RuntimeError, OSError) as error:
            rclpy.logging.get_logger(node_class.__name__).fatal(f'cannot start: {error}')
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
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
        ignore_stop_signals()


def ignore_stop_signals():
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
