"""Build ROS 2 interface packages with plain cmake into this virtual environment.

For machines without a ROS installation: the ROS 2 PyPI wheels (see requirements-ros.txt)
provide rclpy, the message generators and their cmake files, but those files name the
prefix the wheels were built in. This rewrites that prefix to the running interpreter's,
then configures, builds and installs each package directory given into sys.prefix.
Run with the environment's own interpreter:  .venv/bin/python tools/build_msgs.py PKG_DIR...
"""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy

# Where the manylinux images that built the wheels keep this Python version.
TAG = f'{sys.version_info.major}{sys.version_info.minor}'
PY = f'python{sys.version_info.major}.{sys.version_info.minor}'
WHEEL_PREFIX = f'/opt/python/cp{TAG}-cp{TAG}'
PREFIX = Path(sys.prefix)
SITE = Path(sysconfig.get_paths()['purelib'])


def fix_wheel_paths():
    real = {
        f'{WHEEL_PREFIX}/include/{PY}': sysconfig.get_paths()['include'],
        f'{WHEEL_PREFIX}/lib/{PY}/site-packages/numpy/_core/include': numpy.get_include(),
        WHEEL_PREFIX: str(PREFIX),
    }
    for root in (PREFIX / 'share', SITE):
        for path in root.rglob('*'):
            if path.suffix not in ('.cmake', '') or not path.is_file() or path.is_symlink():
                continue
            try:
                text = path.read_text()
            except UnicodeDecodeError:
                continue
            if WHEEL_PREFIX not in text:
                continue
            for old, new in real.items():
                text = text.replace(old, new)
            path.write_text(text)


def build(package_dir, build_root):
    package_dir = Path(package_dir).resolve()
    build_dir = Path(build_root) / package_dir.name
    cache = build_dir / 'CMakeCache.txt'
    if cache.exists() and f'CMAKE_HOME_DIRECTORY:INTERNAL={package_dir}\n' not in cache.read_text():
        shutil.rmtree(build_dir)  # configured from another copy of the package
    env = dict(os.environ, AMENT_PREFIX_PATH=str(PREFIX), CMAKE_PREFIX_PATH=str(PREFIX))
    python = str(PREFIX / 'bin' / 'python')
    subprocess.run(['cmake', '-S', str(package_dir), '-B', str(build_dir),
                    f'-DCMAKE_INSTALL_PREFIX={PREFIX}', f'-DPython3_EXECUTABLE={python}',
                    '-DBUILD_TESTING=OFF',
                    f'-DPYTHON_INSTALL_DIR={SITE.relative_to(PREFIX)}'],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(['cmake', '--build', str(build_dir), '-j', str(os.cpu_count() or 1)],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(['cmake', '--install', str(build_dir)], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    print(f'built {package_dir.name} into {PREFIX}')


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    fix_wheel_paths()
    for package_dir in sys.argv[1:]:
        build(package_dir, PREFIX.parent / 'build')


if __name__ == '__main__':
    main()
