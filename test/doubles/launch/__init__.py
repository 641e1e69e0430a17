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
        """Declared arguments, also those of included descriptions found without a context."""
        from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
        found = []
        for entity in self._entities:
            if isinstance(entity, DeclareLaunchArgument):
                found.append(entity)
            elif isinstance(entity, IncludeLaunchDescription):
                included = (entity.launch_description_source
                            .try_get_launch_description_without_context())
                if included is not None:
                    found += included.get_launch_arguments(conditional_inclusion)
        return found
