"""Test double of message_filters (ros2/message_filters, Python API).

Used only where the real package cannot be imported (it ships with ROS, not on PyPI).
Written from the package's public documentation: filters pass messages to the callbacks
registered on them; Subscriber wraps one rclpy subscription; ApproximateTimeSynchronizer
emits one message per input whose header stamps lie within `slop` seconds of each other,
keeping at most `queue_size` messages per input and using each message at most once.
Messages without a header stamp are refused unless allow_headerless is set.
"""
import threading
from itertools import product

from rclpy.time import Time


class SimpleFilter:
    def __init__(self):
        self.callbacks = {}

    def registerCallback(self, cb, *args):  # noqa: N802 - the documented name
        key = len(self.callbacks)
        self.callbacks[key] = (cb, args)
        return key

    def signalMessage(self, *msg):  # noqa: N802
        for cb, args in list(self.callbacks.values()):
            cb(*(msg + args))


class Subscriber(SimpleFilter):
    def __init__(self, node, msg_type, topic, qos_profile=10, **kwargs):
        super().__init__()
        self.node, self.topic = node, topic
        self.sub = node.create_subscription(msg_type, topic, self.callback, qos_profile,
                                            **kwargs)

    def callback(self, msg):
        self.signalMessage(msg)

    def getTopic(self):  # noqa: N802
        return self.topic


class ApproximateTimeSynchronizer(SimpleFilter):
    def __init__(self, fs, queue_size, slop, allow_headerless=False):
        super().__init__()
        self.queue_size = queue_size
        self.slop_ns = int(slop * 1e9)
        self.allow_headerless = allow_headerless
        self.lock = threading.Lock()
        self.queues = [{} for _ in fs]
        for index, f in enumerate(fs):
            f.registerCallback(self.add, index)

    def add(self, msg, index):
        stamp = getattr(getattr(msg, 'header', None), 'stamp', None)
        if stamp is None:
            if not self.allow_headerless:
                return
            from rclpy.clock import ROSClock
            ns = ROSClock().now().nanoseconds
        else:
            ns = Time.from_msg(stamp).nanoseconds
        with self.lock:
            queue = self.queues[index]
            queue[ns] = msg
            while len(queue) > self.queue_size:
                del queue[min(queue)]
            others = [[s for s in q if abs(s - ns) <= self.slop_ns] if i != index else [ns]
                      for i, q in enumerate(self.queues)]
            sets = [c for c in product(*others) if max(c) - min(c) <= self.slop_ns]
            if not sets:
                return
            best = min(sets, key=lambda c: max(c) - min(c))
            msgs = [q.pop(s) for q, s in zip(self.queues, best)]
        self.signalMessage(*msgs)
