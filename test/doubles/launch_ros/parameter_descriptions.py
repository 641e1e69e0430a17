"""Test double of launch_ros.parameter_descriptions (see the package docstring)."""


class ParameterValue:
    def __init__(self, value, *, value_type=None):
        self.value = value
        self.value_type = value_type
