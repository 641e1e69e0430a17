from setuptools import setup

package = 'av_emotion_feedback'

setup(
    name=package,
    version='0.1.0',
    packages=[package],
    # The web view's page: served from the installed package, nothing fetched from elsewhere.
    package_data={package: ['static/*']},
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{package}']),
        (f'share/{package}', ['package.xml']),
    ],
    install_requires=['av_emotion', 'av_emotion_vision', 'av_emotion_network',
                      'av_emotion_monitor', 'numpy', 'aiohttp'],
    zip_safe=True,
    maintainer='av_emotion developers',
    maintainer_email='av-emotion@example.org',
    description='Results that reach people: a live web view and feedback cues (colour, sound).',
    license='Apache-2.0',
    entry_points={'console_scripts': [
        f'cue_node = {package}.cue_node:main',
        f'web_node = {package}.web_node:main',
    ]},
)
