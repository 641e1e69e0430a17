from setuptools import setup

package = 'av_emotion_audio'

setup(
    name=package,
    version='0.1.0',
    packages=[package],
    package_data={package: ['models/*.onnx', 'models/*.json', 'models/*.png', 'models/*.md']},
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{package}']),
        (f'share/{package}', ['package.xml']),
    ],
    install_requires=['av_emotion', 'numpy', 'onnxruntime', 'librosa', 'soxr', 'sounddevice',
                      'silero-vad'],
    zip_safe=False,
    maintainer='av_emotion developers',
    maintainer_email='av-emotion@example.org',
    description='Voice activity, prosodic features and speech-emotion probabilities (REP-155) '
                'from audio',
    license='Apache-2.0',
    entry_points={'console_scripts': [f'audio_node = {package}.node:main',
                                      f'capture_node = {package}.capture:main']},
)
