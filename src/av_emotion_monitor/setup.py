from setuptools import setup

package = 'av_emotion_monitor'

setup(
    name=package,
    version='0.1.0',
    packages=[package],
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{package}']),
        (f'share/{package}', ['package.xml']),
    ],
    install_requires=['av_emotion', 'av_emotion_network', 'numpy', 'pyyaml', 'matplotlib'],
    zip_safe=True,
    maintainer='av_emotion developers',
    maintainer_email='av-emotion@example.org',
    description='Alerts on sustained or abnormal emotional states, and a mood log with reports.',
    license='Apache-2.0',
    entry_points={'console_scripts': [
        f'monitor_node = {package}.node:main',
        f'av-emotion-report = {package}.report:main',
    ]},
)
