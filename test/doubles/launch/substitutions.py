"""Test double of launch.substitutions (see the package docstring)."""
import os

from launch.utilities import normalize_to_list_of_substitutions, perform_substitutions


class TextSubstitution:
    def __init__(self, *, text):
        self.text = text

    def perform(self, context):
        return self.text


class LaunchConfiguration:
    def __init__(self, variable_name, *, default=None):
        self.variable_name = variable_name
        self.default = default

    def perform(self, context):
        if self.variable_name in context.launch_configurations:
            return context.launch_configurations[self.variable_name]
        if self.default is None:
            raise KeyError(f'launch configuration {self.variable_name!r} is not set')
        return perform_substitutions(context, normalize_to_list_of_substitutions(self.default))


class PathJoinSubstitution:
    def __init__(self, substitutions):
        self.substitutions = [normalize_to_list_of_substitutions(s) for s in substitutions]

    def perform(self, context):
        return os.path.join(*(perform_substitutions(context, s) for s in self.substitutions))
