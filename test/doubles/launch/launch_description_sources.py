"""Test double of launch.launch_description_sources (see the package docstring)."""
import importlib.util


class PythonLaunchDescriptionSource:
    def __init__(self, launch_file_path):
        self._location = launch_file_path

    location = property(lambda self: self._location)

    def try_get_launch_description_without_context(self):
        """The description, when the location is a plain path (no substitution to perform)."""
        if not isinstance(self._location, str):
            return None
        spec = importlib.util.spec_from_file_location('included_launch_file', self._location)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.generate_launch_description()
