"""Test double of launch_ros.actions (see the package docstring)."""


class Node:
    def __init__(self, *, executable, package=None, name=None, condition=None, **kwargs):
        self.__package = package
        self.__executable = executable
        self.__name = name
        self.__condition = condition

    node_package = property(lambda self: self.__package)
    node_executable = property(lambda self: self.__executable)
    node_name = property(lambda self: self.__name)
    condition = property(lambda self: self.__condition)
