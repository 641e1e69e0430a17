"""In-process ROS graph: nodes spun by one executor in a background thread."""
import threading
import time

import rclpy
from rclpy.executors import SingleThreadedExecutor

from av_emotion.ros import ManagedNode, start


class Graph:
    """rclpy context with an executor thread; nodes are added with `add`."""

    def __init__(self):
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.nodes = []
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.thread.start()

    def _spin(self):
        while self.context.ok():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:  # noqa: BLE001 - shutdown races end the loop
                if self.context.ok():
                    raise
                return

    def add(self, node, activate=True):
        """Spin `node`; an av_emotion node is configured and activated first, as its
        `autostart` does, unless activate is False (RuntimeError if it cannot be)."""
        if activate and isinstance(node, ManagedNode):
            start(node)
        self.nodes.append(node)
        self.executor.add_node(node)
        return node

    def node(self, name, **kwargs):
        return self.add(rclpy.create_node(name, context=self.context, **kwargs))

    def close(self):
        # Spinning stops before nodes are destroyed: a callback running meanwhile would
        # publish on a destroyed publisher (InvalidHandle).
        rclpy.shutdown(context=self.context)
        self.thread.join(timeout=5)
        for node in self.nodes:
            self.executor.remove_node(node)
            node.destroy_node()


def wait_for(condition, timeout=10.0, period=0.02):
    """True once condition() is true, False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(period)
    return bool(condition())
