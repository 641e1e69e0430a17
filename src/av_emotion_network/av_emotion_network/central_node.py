"""central_node: the face crops and voice windows of edge devices in, their `faces` and
`voice` out into each device's own namespace, so that fusion_node and everything
downstream work as with a full vision_node and audio_node."""
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.time import Time

from av_emotion.ros import (FACE_CROPS_QOS, VOICE_WINDOWS_QOS, ManagedNode, StampError,
                            emotion_msg, run)
from av_emotion_msgs.msg import Face, FaceArray, FaceCropArray, Voice, VoiceWindow
from av_emotion_network.central import CentralRecogniser, FeatureSetError
from av_emotion_vision.image import image_to_bgr

RANGES = {'threads': (1, 16), 'discovery_period': (0.1, 60.0)}
TYPES = {'face_crops': 'av_emotion_msgs/msg/FaceCropArray',
         'voice_windows': 'av_emotion_msgs/msg/VoiceWindow'}


@dataclass
class Device:
    """One edge device's outputs and what came from it since the last diagnostics."""
    faces: object  # publishers
    voice: object
    frames: int = 0
    faces_seen: int = 0
    windows: int = 0
    ages_ms: list = field(default_factory=list)  # camera stamp to faces published


def grey(image):
    """Grey pixels of a crop (mono8 from our edges; any encoding vision_node reads)."""
    return cv2.cvtColor(image_to_bgr(image), cv2.COLOR_BGR2GRAY)


class CentralNode(ManagedNode):
    def __init__(self, **kwargs):
        super().__init__('central_node', 'central', RANGES, **kwargs)
        self.core, self.devices = None, {}
        self.window_start = time.monotonic()

    def setup(self, params):
        self.core = CentralRecogniser(**params)

    def start(self):
        self.devices = {}
        for namespace in self.core.listed:
            self.serve(namespace)
        if self.core.patterns:
            self.connect(self.create_timer(self.params['discovery_period'], self.discover))
            self.discover()
        p = self.params
        return (f"central recogniser for edge devices {' '.join(p['devices'])}: "
                f"{p['expression.model']}, {p['emotion.model']}")

    def release(self):
        self.core = None

    def discover(self):
        """Serve each wanted device whose edge topics the graph has and we do not serve.
        A device stays served when its topics leave: one that comes back is heard again."""
        topics = [name for name, types in self.get_topic_names_and_types()
                  if TYPES.get(name.rpartition('/')[2]) in types]
        for namespace in self.core.devices_in(topics):
            if namespace not in self.devices:
                self.serve(namespace)

    def serve(self, namespace):
        base = namespace.rstrip('/')
        self.devices[namespace] = Device(
            self.connect(self.create_publisher(FaceArray, f'{base}/faces', 10)),
            self.connect(self.create_publisher(Voice, f'{base}/voice', 10)))
        self.connect(self.create_subscription(
            FaceCropArray, f'{base}/face_crops', lambda m: self.on_crops(namespace, m),
            FACE_CROPS_QOS))
        self.connect(self.create_subscription(
            VoiceWindow, f'{base}/voice_windows', lambda m: self.on_window(namespace, m),
            VOICE_WINDOWS_QOS))
        self.get_logger().info(f'serving edge device {namespace}')

    def on_crops(self, namespace, msg):
        try:
            self.stamp(msg.header)
            crops = [grey(face.crop) for face in msg.faces]
        except StampError as error:
            self.count(f'{namespace} bad_stamps', f'{namespace}: ignoring face crops: {error}')
            return
        except ValueError as error:
            self.count(f'{namespace} bad_crops', f'{namespace}: ignoring face crops: {error}')
            return
        size = self.core.expression.size
        if any(crop.shape != (size, size) for crop in crops):
            self.count(f'{namespace} resized_crops',
                       f'{namespace}: face crops of {crops[0].shape[1]}x{crops[0].shape[0]} '
                       f"resized to the model's {size}x{size}, at a cost in accuracy: give "
                       "the edge's vision_node an expression.model of this input size")
        known = self.core.expression.known
        faces = FaceArray(header=msg.header, image_width=msg.image_width,
                          image_height=msg.image_height)
        faces.faces = [Face(id=face.id, roi=face.roi, detection_score=face.detection_score,
                            emotion=emotion_msg(msg.header, p, face.detection_score, known))
                       for face, p in zip(msg.faces, self.core.faces(crops))]
        device = self.devices[namespace]
        device.faces.publish(faces)
        device.frames += 1
        device.faces_seen = len(faces.faces)
        now = self.get_clock().now()
        device.ages_ms.append(
            (now - Time.from_msg(msg.header.stamp, clock_type=now.clock_type)).nanoseconds * 1e-6)

    def on_window(self, namespace, msg):
        try:
            self.stamp(msg.header)
            probabilities = self.core.voice(msg.feature_set, msg.model_input, msg.voiced)
        except StampError as error:
            self.count(f'{namespace} bad_stamps', f'{namespace}: ignoring a voice window: {error}')
            return
        except FeatureSetError as error:
            self.count(f'{namespace} refused_windows',
                       f'{namespace}: refusing voice windows: {error}')
            return
        except ValueError as error:
            self.count(f'{namespace} bad_windows', f'{namespace}: ignoring a voice window: {error}')
            return
        voice = Voice(header=msg.header, window_start=msg.window_start,
                      window_end=msg.window_end, speech_probability=msg.speech_probability,
                      voiced=msg.voiced, features=msg.features,
                      emotion=emotion_msg(msg.header, probabilities, msg.speech_probability,
                                          self.core.speech.known))
        device = self.devices[namespace]
        device.voice.publish(voice)
        device.windows += 1

    def status(self):
        elapsed = max(time.monotonic() - self.window_start, 1e-9)
        values = {'devices': ' '.join(sorted(self.devices)) or 'none'}
        for namespace, device in sorted(self.devices.items()):
            values.update({f'{namespace} fps': device.frames / elapsed,
                           f'{namespace} faces': device.faces_seen,
                           f'{namespace} voice_windows': device.windows})
            if device.ages_ms:
                values[f'{namespace} stamp_age_ms_p95'] = float(np.percentile(device.ages_ms, 95))
            device.frames, device.windows, device.ages_ms = 0, 0, []
        values.update(self.counts)
        self.window_start = time.monotonic()
        refused = sorted(k for k in self.counts if not k.endswith('resized_crops'))
        if refused:
            return DiagnosticStatus.WARN, f"refused input: {', '.join(refused)}", values
        if not self.devices:
            return DiagnosticStatus.WARN, 'no edge device found', values
        return DiagnosticStatus.OK, f'{len(self.devices)} edge devices', values


def main(args=None):
    run(CentralNode, args)
