"""Image message decoding on a real photo, in every layout cameras commonly send."""
import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from av_emotion_vision.image import ImageError, bgr_fields, compressed_to_bgr, image_to_bgr


@pytest.fixture(scope='module')
def photo(data):
    return cv2.imread(str(data / 'faces' / 'photos' / 'single_face.jpg'))


def message(pixels, encoding, pad=0, bigendian=False):
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    row = pixels.shape[1] * channels * pixels.itemsize
    raw = pixels.astype(pixels.dtype.newbyteorder('>' if bigendian else '<')).tobytes()
    rows = np.frombuffer(raw, np.uint8).reshape(pixels.shape[0], row)
    padded = np.hstack([rows, np.zeros((pixels.shape[0], pad), np.uint8)])
    return Image(height=pixels.shape[0], width=pixels.shape[1], encoding=encoding,
                 is_bigendian=int(bigendian), step=row + pad, data=padded.tobytes())


@pytest.mark.parametrize('encoding, conversion', [
    ('bgr8', None), ('rgb8', cv2.COLOR_BGR2RGB), ('bgra8', cv2.COLOR_BGR2BGRA),
    ('rgba8', cv2.COLOR_BGR2RGBA)])
def test_colour_encodings_round_trip(photo, encoding, conversion):
    pixels = photo if conversion is None else cv2.cvtColor(photo, conversion)
    assert np.array_equal(image_to_bgr(message(pixels, encoding, pad=7)), photo)


def test_mono_and_16_bit(photo):
    grey = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    assert np.array_equal(image_to_bgr(message(grey, 'mono8'))[..., 1], grey)
    wide = grey.astype(np.uint16) * 257
    for bigendian in (False, True):
        out = image_to_bgr(message(wide, 'mono16', bigendian=bigendian))
        assert np.array_equal(out[..., 0], grey)


def test_yuv422_camera_layout(photo):
    yuyv = cv2.cvtColor(photo, cv2.COLOR_BGR2YUV_YUY2)
    out = image_to_bgr(message(yuyv, 'yuv422_yuy2'))
    assert out.shape == photo.shape
    assert np.abs(out.astype(int) - photo).mean() < 8


def test_bgr_fields_round_trip(photo):
    assert np.array_equal(image_to_bgr(Image(**bgr_fields(photo))), photo)


@pytest.mark.parametrize('change, reason', [
    ({'encoding': '32FC7'}, 'unsupported encoding'),
    ({'height': 0, 'width': 0}, 'empty image'),
    ({'step': 10}, 'step'),
    ({'data': b'\x00' * 100}, 'bytes of data')])
def test_bad_messages_say_why(photo, change, reason):
    msg = message(photo, 'bgr8')
    for field, value in change.items():
        setattr(msg, field, value)
    with pytest.raises(ImageError, match=reason):
        image_to_bgr(msg)


def test_compressed(photo):
    jpeg = CompressedImage(format='jpeg', data=cv2.imencode('.jpg', photo)[1].tobytes())
    assert compressed_to_bgr(jpeg).shape == photo.shape
    with pytest.raises(ImageError, match='cannot decode'):
        compressed_to_bgr(CompressedImage(format='jpeg', data=b'not a jpeg'))
