"""A camera driver stand-in, in a process of its own: how many of its frames reach vision_node.

    python -m av_emotion_bringup.camera_feed FRAMES.npy --namespace NS [--transport compressed]
        [--rate 30] [--seconds 10]

Publishes the BGR frames of FRAMES.npy (uint8, N x H x W x 3) in a loop, as camera drivers
do: sensor_msgs/Image bgr8 on /NS/image (or JPEG CompressedImage on /NS/image/compressed)
with rclpy.qos.qos_profile_sensor_data (best effort, keep last 5). It starts once
/NS/vision_node is active (it reports 'images' on /diagnostics) and subscribed, and prints
one JSON line: frames sent, frames the node received meanwhile (its 'images' count) and face
arrays it answered with (/NS/faces). Give it a camera driver's environment: Fast DDS defaults.
"""
import argparse
import json
import sys
import time

import cv2
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage, Image

from av_emotion_msgs.msg import FaceArray


def messages(frames, transport):
    """One message per frame, made before publishing starts (a driver's cost is not ours)."""
    msgs = []
    for frame in frames:
        if transport == 'compressed':
            msg = CompressedImage(format='jpeg')
            msg.data = cv2.imencode('.jpg', frame, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
        else:
            msg = Image(height=frame.shape[0], width=frame.shape[1], encoding='bgr8',
                        step=frame.shape[1] * 3)
            msg.data = np.ascontiguousarray(frame).tobytes()
        msg.header.frame_id = 'camera'
        msgs.append(msg)
    return msgs


def feed(frames, namespace, transport='raw', rate=30.0, seconds=10.0, ready_timeout=60.0):
    """Publish for `seconds` at `rate` fps; {'sent', 'received', 'answered', 'fraction', ...}."""
    msgs = messages(frames, transport)
    node = rclpy.create_node('camera_feed', namespace=namespace)
    topic, msg_type = (('image/compressed', CompressedImage) if transport == 'compressed'
                       else ('image', Image))
    publisher = node.create_publisher(msg_type, topic, qos_profile_sensor_data)
    vision = f'/{namespace}/vision_node:'
    images, answered = [None], [0]

    def on_diagnostics(msg):
        for status in msg.status:
            if status.name.startswith(vision):
                values = {kv.key: kv.value for kv in status.values}
                if 'images' in values:
                    images[0] = int(values['images'])

    def on_faces(_):
        answered[0] += 1

    node.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics, 10)
    node.create_subscription(FaceArray, 'faces', on_faces, 100)

    def spin_until(deadline):
        while time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=max(0.0, min(0.02, deadline - time.monotonic())))

    give_up = time.monotonic() + ready_timeout
    while images[0] is None or not publisher.get_subscription_count():
        if time.monotonic() > give_up:
            raise RuntimeError(f'{vision[:-1]} did not become active and subscribe to {topic}')
        spin_until(time.monotonic() + 0.1)
    spin_until(time.monotonic() + 1.0)  # discovery settles on both sides
    received_before, answered[0] = images[0], 0
    count = int(round(seconds * rate))
    start = time.monotonic()
    for i in range(count):
        msg = msgs[i % len(msgs)]
        msg.header.stamp = node.get_clock().now().to_msg()
        publisher.publish(msg)
        spin_until(start + (i + 1) / rate)
    elapsed = time.monotonic() - start
    spin_until(time.monotonic() + 2.5)  # the last frames handled, two diagnostics periods
    node.destroy_node()
    received = images[0] - received_before
    return {'sent': count, 'received': received, 'answered': answered[0],
            'fraction': received / count, 'rate': count / elapsed, 'transport': transport,
            'bytes': len(msgs[0].data)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('frames', help='.npy file of BGR frames, N x H x W x 3 uint8')
    parser.add_argument('--namespace', required=True)
    parser.add_argument('--transport', choices=('raw', 'compressed'), default='raw')
    parser.add_argument('--rate', type=float, default=30.0)
    parser.add_argument('--seconds', type=float, default=10.0)
    args = parser.parse_args(argv)
    rclpy.init()
    try:
        result = feed(np.load(args.frames), args.namespace, args.transport, args.rate,
                      args.seconds)
    except RuntimeError as error:
        print(f'camera_feed: {error}', file=sys.stderr)
        sys.exit(1)
    finally:
        rclpy.try_shutdown()
    print(json.dumps(result))


if __name__ == '__main__':
    main()
