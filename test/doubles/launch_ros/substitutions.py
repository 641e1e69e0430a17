"""Test double of launch_ros.substitutions (see the package docstring)."""
import sys
from pathlib import Path


class FindPackageShare:
    def __init__(self, package):
        self.package = package

    def perform(self, context):
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
        try:
            return get_package_share_directory(self.package)
        except PackageNotFoundError:
            # Editable installs register no ament index; the share folder a wheel would fill.
            return str(Path(sys.prefix) / 'share' / self.package)
