"""Fast DDS settings that let raw camera frames from another process reach vision_node.

With Fast DDS defaults, a camera driver in another process sends each ~0.9 MB 640x480 frame
through its 512 KiB shared-memory segment, whose last fragments overwrite the first ones
before the receiver has read them: about half the best-effort frames are lost, at any frame
rate. config/fastdds_vision.xml makes our process receive by UDP into a large socket buffer
instead (its comments say how); use_camera_profile() applies it, before rclpy.init.
"""
import os
from importlib.resources import files
from pathlib import Path

PROFILE_VARIABLE = 'FASTDDS_DEFAULT_PROFILES_FILE'
# Any of these set (even empty) means the user configures Fast DDS: we leave it alone.
# FASTDDS_BUILTIN_TRANSPORTS=DEFAULT gives plain Fast DDS defaults, our profile unused.
USER_VARIABLES = (PROFILE_VARIABLE, 'FASTRTPS_DEFAULT_PROFILES_FILE', 'FASTDDS_BUILTIN_TRANSPORTS')
# Files Fast DDS loads from the working directory by itself.
USER_FILES = ('DEFAULT_FASTDDS_PROFILES.xml', 'DEFAULT_FASTRTPS_PROFILES.xml')
# net.core.rmem_max below this caps the receive buffer under two raw frames: frames are lost
# again (measured: 1 MiB delivers every frame at 30 fps, 208 KiB, Linux's default, ~60 %).
MIN_RMEM_MAX = 1 << 20
RMEM_MAX = Path('/proc/sys/net/core/rmem_max')


def profile_path():
    """config/fastdds_vision.xml as installed with this package."""
    return Path(str(files('av_emotion') / 'config' / 'fastdds_vision.xml'))


def use_camera_profile(environ=None):
    """Point Fast DDS at config/fastdds_vision.xml unless the user configured Fast DDS.

    Must run before rclpy.init() in the node's process (the participant reads its profile
    when created). Does nothing under another RMW. Returns the profile's path, or None when
    it left the environment as it was.
    """
    environ = os.environ if environ is None else environ
    if not environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp').startswith('rmw_fastrtps'):
        return None
    if any(name in environ for name in USER_VARIABLES) or any(
            Path(name).is_file() for name in USER_FILES):
        return None
    path = profile_path()
    environ[PROFILE_VARIABLE] = str(path)
    return path


def profile_in_use(environ=None):
    """True when this process's Fast DDS profile is config/fastdds_vision.xml."""
    environ = os.environ if environ is None else environ
    return environ.get(PROFILE_VARIABLE) == str(profile_path())


def receive_buffer_warning(rmem_max_file=RMEM_MAX):
    """A warning line when the kernel caps socket receive buffers too low for raw frames
    sent best-effort by UDP, else ''."""
    try:
        rmem_max = int(Path(rmem_max_file).read_text())
    except (OSError, ValueError):
        return ''
    if rmem_max >= MIN_RMEM_MAX:
        return ''
    return (f'net.core.rmem_max is {rmem_max} bytes: raw camera frames sent best-effort from '
            f'another process will be lost; raise it to {MIN_RMEM_MAX} or more (sudo sysctl '
            f'-w net.core.rmem_max={MIN_RMEM_MAX}), or use image_transport compressed')
