"""Each ament_python package builds a wheel with what colcon would install from it."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from catkin_pkg.package import parse_package

SRC = Path(__file__).parent.parent / 'src'
PYTHON_PACKAGES = ['av_emotion', 'av_emotion_vision', 'av_emotion_audio', 'av_emotion_fusion',
                   'av_emotion_network', 'av_emotion_feedback', 'av_emotion_monitor',
                   'av_emotion_bringup']
# Files each wheel must hold besides its code, as (path inside the wheel) suffixes.
EXPECTED = {
    'av_emotion': [f'{where}/{name}' for name in ('vision.yaml', 'audio.yaml', 'capture.yaml',
                                                  'fusion.yaml', 'room.yaml', 'central.yaml',
                                                  'cues.yaml', 'monitor.yaml',
                                                  'monitor_rules.yaml', 'web.yaml',
                                                  'fastdds_vision.xml')
                   for where in ('av_emotion/config', 'data/share/av_emotion/config')],
    'av_emotion_vision': ['av_emotion_vision/models/expression_cnn.onnx',
                          'av_emotion_vision/models/expression_mini_xception.onnx'],
    'av_emotion_audio': ['av_emotion_audio/models/speech_emotion.onnx',
                         'av_emotion_audio/models/voice_encoder.onnx',
                         'av_emotion_audio/models/speech_emotion.md'],
    'av_emotion_fusion': ['av_emotion_fusion/models/fusion_combiner.onnx',
                          'av_emotion_fusion/models/fusion_combiner.md'],
    'av_emotion_bringup': ['data/share/av_emotion_bringup/systemd/av_emotion.service'] + [
        f'data/share/av_emotion_bringup/launch/{name}.launch.py'
        for name in ('vision', 'audio', 'fusion', 'av_emotion', 'room', 'central', 'cues',
                     'monitor', 'web')],
    'av_emotion_feedback': [f'av_emotion_feedback/static/{name}' for name in (
        'index.html', 'app.js', 'style.css', 'icon.svg')],
}


@pytest.fixture(scope='module')
def wheels(tmp_path_factory):
    out = tmp_path_factory.mktemp('wheels')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
                    '--no-build-isolation', '-w', str(out)] +
                   [str(SRC / name) for name in PYTHON_PACKAGES], check=True)
    return {name: zipfile.ZipFile(next(out.glob(f'{name}-*.whl'))).namelist()
            for name in PYTHON_PACKAGES}


@pytest.mark.parametrize('name', PYTHON_PACKAGES)
def test_wheel_has_ament_files(wheels, name):
    files = wheels[name]
    assert any(f.endswith(f'data/share/ament_index/resource_index/packages/{name}') for f in files)
    assert any(f.endswith(f'data/share/{name}/package.xml') for f in files)
    for expected in EXPECTED.get(name, []):
        assert any(f.endswith(expected) for f in files), f'{expected} missing from {name} wheel'


@pytest.mark.parametrize('name', PYTHON_PACKAGES + ['av_emotion_msgs'])
def test_package_xml_is_valid(name):
    package = parse_package(str(SRC / name / 'package.xml'))
    package.validate()
    assert package.name == name
    build_type = package.get_build_type()
    assert build_type == ('ament_cmake' if name == 'av_emotion_msgs' else 'ament_python')
