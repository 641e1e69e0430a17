from glob import glob

from setuptools import setup

package = 'av_emotion'

setup(
    name=package,
    version='0.1.0',
    packages=[package],
    package_data={package: ['config/*.yaml', 'config/*.xml']},
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{package}']),
        (f'share/{package}', ['package.xml']),
        (f'share/{package}/config', glob(f'{package}/config/*.yaml') +
         glob(f'{package}/config/*.xml')),
    ],
    install_requires=['numpy', 'pyyaml', 'onnxruntime', 'scikit-learn', 'matplotlib'],
    zip_safe=True,
    maintainer='av_emotion developers',
    maintainer_email='av-emotion@example.org',
    description='Shared core of av_emotion: taxonomy, configuration defaults, ONNX Runtime, metrics',
    license='Apache-2.0',
)
