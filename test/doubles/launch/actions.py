"""Test double of launch.actions (see the package docstring)."""
from launch.utilities import normalize_to_list_of_substitutions


class DeclareLaunchArgument:
    def __init__(self, name, *, default_value=None, description=None, choices=None):
        self._name = name
        self._default_value = (None if default_value is None
                               else normalize_to_list_of_substitutions(default_value))
        self._description = description
        self._choices = choices

    name = property(lambda self: self._name)
    default_value = property(lambda self: self._default_value)
    description = property(lambda self: self._description)
    choices = property(lambda self: self._choices)


class IncludeLaunchDescription:
    def __init__(self, launch_description_source, *, launch_arguments=None, **kwargs):
        self._source = launch_description_source
        self._arguments = [(normalize_to_list_of_substitutions(k),
                            normalize_to_list_of_substitutions(v))
                           for k, v in (launch_arguments or [])]

    launch_description_source = property(lambda self: self._source)
    launch_arguments = property(lambda self: self._arguments)
