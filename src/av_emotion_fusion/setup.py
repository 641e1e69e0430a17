from setuptools import setup

package = 'av_emotion_fusion'

setup(
    name=package,
    version='0.1.0',
    packages=[package],
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{package}']),
        (f'share/{package}', ['package.xml']),
    ],
    package_data={package: ['models/*.onnx', 'models/*.json', 'models/*.md']},
    install_requires=['av_emotion', 'numpy', 'onnxruntime'],
    zip_safe=True,
    maintainer='av_emotion developers',
    maintainer_email='av-emotion@example.org',
    description='Fusion of face and voice emotion estimates into one per person (REP-155).',
    license='Apache-2.0',
    entry_points={'console_scripts': [f'fusion_node = {package}.node:main']},
)
