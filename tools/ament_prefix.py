"""Make this virtual environment an ament prefix for the av_emotion packages, as colcon would.

pip's editable installs leave out what ROS tools look for: the ament index entry, the
package's share/ files (package.xml, launch files, configuration) and its executables in
lib/<package>/. This links each package's data_files (read from its setup.py) into
sys.prefix, writes lib/<package>/<executable> for its console scripts, and adds a .pth
file that puts sys.prefix on AMENT_PREFIX_PATH, so `ros2 launch`, `ros2 run` and
FindPackageShare work with nothing sourced. Links keep editable sources live.

    .venv/bin/python tools/ament_prefix.py src/av_emotion src/av_emotion_vision ...
"""
import os
import runpy
import sys
import sysconfig
from pathlib import Path
from unittest import mock

import setuptools

PREFIX = Path(sys.prefix)
PTH = 'av_emotion_ament_prefix.pth'
# Run by the interpreter at start-up; a sourced ROS workspace's entries stay in front.
PTH_LINE = ("import os, sys; p = os.environ.get('AMENT_PREFIX_PATH', ''); "
            "os.environ['AMENT_PREFIX_PATH'] = p if sys.prefix in p.split(os.pathsep) "
            "else os.pathsep.join(filter(None, [p, sys.prefix]))\n")
LAUNCHER = '''#!{python}
import sys
from {module} import {function}
sys.exit({function}())
'''


def setup_arguments(package_dir):
    """The keyword arguments package_dir/setup.py passes to setuptools.setup."""
    with mock.patch.object(setuptools, 'setup') as setup:
        cwd = os.getcwd()
        os.chdir(package_dir)
        try:
            runpy.run_path('setup.py')
        finally:
            os.chdir(cwd)
    return setup.call_args.kwargs


def register(package_dir):
    package_dir = Path(package_dir).resolve()
    arguments = setup_arguments(package_dir)
    for destination, files in arguments.get('data_files', []):
        target = PREFIX / destination
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            link, source = target / Path(name).name, package_dir / name
            if link.resolve() == source.resolve():
                continue  # linked already (or the source itself: never unlink it)
            link.unlink(missing_ok=True)
            link.symlink_to(source)
    scripts = arguments.get('entry_points', {}).get('console_scripts', [])
    if scripts:
        lib = PREFIX / 'lib' / arguments['name']
        lib.mkdir(parents=True, exist_ok=True)
        for script in scripts:
            name, target = (part.strip() for part in script.split('='))
            module, function = target.split(':')
            path = lib / name
            path.write_text(LAUNCHER.format(python=PREFIX / 'bin' / 'python', module=module,
                                            function=function))
            path.chmod(0o755)
    print(f"ament prefix {PREFIX}: {arguments['name']}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for package_dir in sys.argv[1:]:
        if not (Path(package_dir) / 'setup.py').is_file():
            sys.exit(f'{package_dir}: no setup.py (an ament_python package folder is needed)')
        register(package_dir)
    (Path(sysconfig.get_paths()['purelib']) / PTH).write_text(PTH_LINE)


if __name__ == '__main__':
    main()
