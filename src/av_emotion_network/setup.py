from setuptools import setup

package = 'av_emotion_network'

setup(
    name=package,
    version='0.1.0',
    packages=[package],
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{package}']),
        (f'share/{package}', ['package.xml']),
    ],
    install_requires=['av_emotion', 'av_emotion_vision', 'av_emotion_audio', 'numpy'],
    zip_safe=True,
    maintainer='av_emotion developers',
    maintainer_email='av-emotion@example.org',
    description='Several devices on one network: central recogniser, room view.',
    license='Apache-2.0',
    entry_points={'console_scripts': [
        f'room_node = {package}.room_node:main',
        f'central_node = {package}.central_node:main',
    ]},
)
