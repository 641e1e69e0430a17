"""Test double of ROS 2 `launch`, used only where the real package cannot be imported.

Written from launch's public API documentation; it covers what our launch files and their
tests use: building a description and performing its substitutions, not running it.
"""


class LaunchContext:
    def __init__(self):
        self.launch_configurations = {}


class LaunchDescription:
    def __init__(self, initial_entities=None):
        self._entities = list(initial_entities or [])

    @property
    def entities(self):
        return self._entities

    def get_launch_arguments(self, conditional_inclusion=False):
        from launch.actions import DeclareLaunchArgument
        return [e for e in self._entities if isinstance(e, DeclareLaunchArgument)]
