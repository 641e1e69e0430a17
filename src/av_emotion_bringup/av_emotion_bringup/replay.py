"""av-emotion-replay: feed a rosbag2 to the three nodes on real rclpy, record their output.

    av-emotion-replay IN_BAG --out OUT_BAG [--namespace robot1]

Starts vision_node, audio_node and fusion_node in this process on simulated time and
plays IN_BAG (sqlite3 or mcap) into them: /clock follows the bag, and each message is
handed over only when the previous one has been processed and every output it caused has
been recorded, so a replay is deterministic, runs as fast as the nodes allow and drops
nothing. Images (sensor_msgs Image or CompressedImage), audio_common_msgs
AudioDataStamped and AudioInfo are taken by type, whatever their topic names (--topics
chooses where there are several cameras or microphones); other topics are skipped. Every output
topic (faces, voice, emotion, /diagnostics) is written to OUT_BAG (mcap), stamped with the
simulated time it was received at; `ros2 bag info OUT_BAG` opens it.
"""
import argparse
import sys
from pathlib import Path

from audio_common_msgs.msg import AudioDataStamped, AudioInfo
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.parameter import Parameter
from rclpy.serialization import deserialize_message
from rosbags.rosbag2 import Reader
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CompressedImage, Image

from av_emotion_audio.node import AudioNode
from av_emotion_bringup.bag import BagWriter, check_bag, ros_time, type_name
from av_emotion_bringup.graph import Graph, wait_for
from av_emotion_fusion.node import FusionNode
from av_emotion_msgs.msg import FaceArray, FusedEmotion, Voice
from av_emotion_vision.node import VisionNode

# Input message type -> (its class, the nodes' topic for it, relative to the namespace).
INPUTS = {'sensor_msgs/msg/Image': (Image, 'image'),
          'sensor_msgs/msg/CompressedImage': (CompressedImage, 'image/compressed'),
          'audio_common_msgs/msg/AudioDataStamped': (AudioDataStamped, 'audio_stamped'),
          'audio_common_msgs/msg/AudioInfo': (AudioInfo, 'audio_info')}
OUTPUTS = {'faces': FaceArray, 'voice': Voice, 'emotion': FusedEmotion}
# A node that takes longer than this over one message is reported as stuck.
TIMEOUT = 60.0


class Replay:
    """The three nodes on simulated time, a player and a recorder, in one process."""

    def __init__(self, namespace='', compressed=False):
        self.graph = Graph()
        context = self.graph.context
        sim = [Parameter('use_sim_time', value=True)]
        self.vision = self.graph.add(VisionNode(
            context=context, namespace=namespace, parameter_overrides=sim + [
                Parameter('image_reliability', value='reliable'),
                Parameter('image_transport', value='compressed' if compressed else 'raw')]))
        self.audio = self.graph.add(AudioNode(context=context, namespace=namespace,
                                              parameter_overrides=sim))
        self.fusion = self.graph.add(FusionNode(context=context, namespace=namespace,
                                                parameter_overrides=sim))
        self.player = self.graph.node('av_emotion_replay', namespace=namespace)
        self.clock = self.player.create_publisher(Clock, '/clock', 10)
        self.publishers = {}
        self.now = 0  # simulated time, ns
        self.recorded = []  # (topic, msgtype, time ns, CDR bytes)
        self.counts = {}
        topics = {self.vision.resolve_topic_name(name): msg for name, msg in OUTPUTS.items()}
        topics['/diagnostics'] = DiagnosticArray
        for topic, msg_type in topics.items():
            self.player.create_subscription(
                msg_type, topic,
                lambda data, t=topic, n=type_name(msg_type): self.record(t, n, data),
                1000, raw=True)
        ready = wait_for(lambda: all(p.get_subscription_count() >= 2 for p in (
            self.vision.faces_pub, self.audio.voice_pub)) and
            self.fusion.publisher.get_subscription_count() and
            self.clock.get_subscription_count() >= 3, timeout=TIMEOUT)
        if not ready:
            raise RuntimeError('the nodes did not connect to each other')

    def record(self, topic, msgtype, data):
        self.recorded.append((topic, msgtype, self.now, data))
        self.counts[topic] = self.counts.get(topic, 0) + 1

    def recorded_count(self, name):
        return self.counts.get(self.vision.resolve_topic_name(name), 0)

    def settled(self):
        """Every output so far has reached the fusion node and the recorder."""
        faces, voices = self.vision.published, self.audio.published
        return (self.fusion.counts['faces'] == faces == self.recorded_count('faces') and
                self.fusion.counts['voices'] == voices == self.recorded_count('voice') and
                self.fusion.counts['published'] == self.recorded_count('emotion'))

    def advance(self, ns):
        """Move simulated time to ns; wait for the nodes' clocks and the fusion output due."""
        if ns <= self.now:
            return
        # A jump past the output timer's next call fires it once (rcl skips missed periods);
        # it publishes unless a frame took this period's estimate already (sent_early).
        until = self.fusion.output_timer.time_until_next_call()
        ticks = self.fusion.counts['published'] + (
            until is not None and ns - self.now >= until and not self.fusion.sent_early)
        self.now = ns
        self.clock.publish(Clock(clock=ros_time(ns)))
        nodes = (self.vision, self.audio, self.fusion)
        self.wait(lambda: all(n.get_clock().now().nanoseconds == ns for n in nodes) and
                  self.fusion.counts['published'] == ticks and self.settled(), 'the clock')

    def feed(self, msgtype, data):
        cls, topic = INPUTS[msgtype]
        if topic not in self.publishers:
            publisher = self.player.create_publisher(cls, topic, 100)
            self.wait(lambda: publisher.get_subscription_count(), f'a subscriber of {topic}')
            self.publishers[topic] = publisher
        publisher = self.publishers[topic]
        if cls is AudioInfo:
            info = deserialize_message(data, cls)
            publisher.publish(data)
            self.wait(lambda: self.audio.info == info, 'audio_node to take the AudioInfo')
            return
        node = self.audio if cls is AudioDataStamped else self.vision
        handled = node.handled
        publisher.publish(data)
        self.wait(lambda: node.handled > handled and self.settled(), f'{topic} to be processed')

    def wait(self, condition, what):
        if not wait_for(condition, timeout=TIMEOUT, period=0.001):
            raise RuntimeError(f'gave up waiting for {what} after {TIMEOUT:.0f} s')

    def close(self):
        self.graph.close()


def input_connections(connections, chosen):
    """The bag connections to play: one camera topic, one audio and one audio info topic.

    chosen: topic names asked for; where a kind has several topics, one must be chosen.
    """
    kinds = {'camera': ('Image', 'CompressedImage'), 'audio': ('AudioDataStamped',),
             'audio info': ('AudioInfo',)}
    picked = []
    for kind, names in kinds.items():
        found = [c for c in connections if c.msgtype in INPUTS and
                 c.msgtype.rsplit('/', 1)[1] in names]
        asked = [c for c in found if c.topic in chosen]
        if asked:
            found = asked
        if len({c.topic for c in found}) > 1:
            raise ValueError(f'several {kind} topics ({", ".join(sorted({c.topic for c in found}))}'
                             f'); choose one with --topics')
        picked += found
    if not picked:
        raise ValueError(f'no {", ".join(INPUTS)} topic')
    return picked


def replay(in_bag, out_bag, namespace='', topics=()):
    """Play in_bag into the nodes and write what they publish to out_bag; returns counts.

    topics: input topics to play where the bag has several of a kind.
    """
    with Reader(in_bag) as reader:
        connections = input_connections(reader.connections, set(topics))
        compressed = any(c.msgtype.endswith('CompressedImage') for c in connections)
        session = Replay(namespace, compressed)
        try:
            for connection, ns, data in reader.messages(connections=connections):
                session.advance(ns)
                session.feed(connection.msgtype, bytes(data))
            counts = {'images': session.vision.handled, 'chunks': session.audio.handled,
                      'bad_images': sum(session.vision.bad.values()), **session.counts}
        finally:
            session.close()
    with BagWriter(out_bag, 'mcap') as bag:
        for topic, msgtype, ns, data in session.recorded:
            bag.write(topic, data, ns, msgtype)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('in_bag', type=Path)
    parser.add_argument('--out', type=Path, required=True, help='bag folder to create (mcap)')
    parser.add_argument('--namespace', default='', help='namespace of the nodes')
    parser.add_argument('--topics', nargs='+', default=(),
                        help='input topics to play, where the bag has several cameras or audio')
    args = parser.parse_args(argv)
    if not args.in_bag.exists():
        parser.error(f'{args.in_bag} does not exist')
    if args.out.exists():
        parser.error(f'{args.out} exists; rosbag2 writes a new folder')
    try:
        check_bag(args.in_bag)
        counts = replay(args.in_bag, args.out, args.namespace, args.topics)
    except (ValueError, RuntimeError) as error:
        sys.exit(f'av-emotion-replay: {error}')
    print(f'{args.out}: ' + ', '.join(f'{k} {v}' for k, v in counts.items()))


if __name__ == '__main__':
    main()
