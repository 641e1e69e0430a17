from glob import glob

from setuptools import setup

package = 'av_emotion_bringup'

setup(
    name=package,
    version='0.1.0',
    packages=[package],
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{package}']),
        (f'share/{package}', ['package.xml']),
        (f'share/{package}/launch', glob('launch/*.launch.py')),
        (f'share/{package}/systemd', ['systemd/av_emotion.service']),
    ],
    install_requires=['av_emotion', 'av_emotion_vision', 'av_emotion_audio', 'av_emotion_fusion',
                      'av_emotion_network', 'av_emotion_monitor', 'tqdm', 'av', 'rosbags'],
    zip_safe=True,
    maintainer='av_emotion developers',
    maintainer_email='av-emotion@example.org',
    description='Launch files of av_emotion and its tools: evaluation, benchmark, demo',
    license='Apache-2.0',
    entry_points={'console_scripts': [
        f'av-emotion-eval = {package}.evaluate:main',
        f'av-emotion-bench = {package}.bench:main',
        f'av-emotion-demo = {package}.demo:main',
        f'av-emotion-bag = {package}.bag:main',
        f'av-emotion-replay = {package}.replay:main',
        f'device_node = {package}.device:main',
    ]},
)
