"""sensor_msgs/Image and CompressedImage <-> BGR numpy arrays, without cv_bridge.

cv_bridge is not installable outside a ROS distribution, and these functions must also
decode messages read from bags by `rosbags`, whose classes are not rclpy's: they only use
the messages' fields (height, width, encoding, is_bigendian, step, data / format, data).
"""
import cv2
import numpy as np

# encoding -> (channels, dtype, conversion to BGR or None)
ENCODINGS = {
    'bgr8': (3, np.uint8, None),
    '8UC3': (3, np.uint8, None),
    'rgb8': (3, np.uint8, cv2.COLOR_RGB2BGR),
    'bgra8': (4, np.uint8, cv2.COLOR_BGRA2BGR),
    '8UC4': (4, np.uint8, cv2.COLOR_BGRA2BGR),
    'rgba8': (4, np.uint8, cv2.COLOR_RGBA2BGR),
    'mono8': (1, np.uint8, cv2.COLOR_GRAY2BGR),
    '8UC1': (1, np.uint8, cv2.COLOR_GRAY2BGR),
    'mono16': (1, np.uint16, cv2.COLOR_GRAY2BGR),
    '16UC1': (1, np.uint16, cv2.COLOR_GRAY2BGR),
    'bgr16': (3, np.uint16, None),
    'rgb16': (3, np.uint16, cv2.COLOR_RGB2BGR),
    'yuv422': (2, np.uint8, cv2.COLOR_YUV2BGR_UYVY),
    'uyvy': (2, np.uint8, cv2.COLOR_YUV2BGR_UYVY),
    'yuv422_yuy2': (2, np.uint8, cv2.COLOR_YUV2BGR_YUY2),
    'yuyv': (2, np.uint8, cv2.COLOR_YUV2BGR_YUY2),
    'bayer_rggb8': (1, np.uint8, cv2.COLOR_BayerBG2BGR),
    'bayer_bggr8': (1, np.uint8, cv2.COLOR_BayerRG2BGR),
    'bayer_gbrg8': (1, np.uint8, cv2.COLOR_BayerGR2BGR),
    'bayer_grbg8': (1, np.uint8, cv2.COLOR_BayerGB2BGR),
}


class ImageError(ValueError):
    """An image message that cannot be decoded; the text says why."""


def image_to_bgr(msg):
    """BGR uint8 array of a sensor_msgs/Image."""
    if msg.encoding not in ENCODINGS:
        raise ImageError(f'unsupported encoding {msg.encoding!r}; supported: '
                         f'{", ".join(ENCODINGS)}')
    channels, dtype, conversion = ENCODINGS[msg.encoding]
    if msg.height == 0 or msg.width == 0:
        raise ImageError(f'empty image ({msg.width}x{msg.height})')
    pixel = channels * np.dtype(dtype).itemsize
    if msg.step < msg.width * pixel:
        raise ImageError(f'step {msg.step} shorter than a row ({msg.width} x {pixel} bytes)')
    data = np.frombuffer(bytes(msg.data) if isinstance(msg.data, list) else msg.data, np.uint8)
    if data.size < msg.height * msg.step:
        raise ImageError(f'{data.size} bytes of data, expected {msg.height} x {msg.step}')
    rows = data[:msg.height * msg.step].reshape(msg.height, msg.step)[:, :msg.width * pixel]
    pixels = rows.copy().view(np.dtype(dtype).newbyteorder('>' if msg.is_bigendian else '<'))
    pixels = pixels.astype(dtype, copy=False).reshape(msg.height, msg.width, channels)
    if dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    if channels == 1 and conversion is not None:
        pixels = pixels[..., 0]
    return pixels if conversion is None else cv2.cvtColor(pixels, conversion)


def compressed_to_bgr(msg):
    """BGR uint8 array of a sensor_msgs/CompressedImage (jpeg, png, ...)."""
    data = np.frombuffer(bytes(msg.data), np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise ImageError(f'cannot decode {len(data)} bytes of {msg.format!r} image data')
    return bgr


def bgr_fields(bgr):
    """Image message fields (height, width, encoding, is_bigendian, step, data) of a BGR array."""
    bgr = np.ascontiguousarray(bgr, dtype=np.uint8)
    return {'height': bgr.shape[0], 'width': bgr.shape[1], 'encoding': 'bgr8',
            'is_bigendian': 0, 'step': bgr.shape[1] * 3, 'data': bgr.tobytes()}
