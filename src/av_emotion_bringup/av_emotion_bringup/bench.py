"""av-emotion-bench: speed and memory of av_emotion, and of the `fer` library on the same frames.

Vision frames are 640x480: the sample video (one face) letterboxed, and a crop of the sample
group photo holding three faces. Audio is a real 4 s utterance, analysed hop by hop as the
node does. The whole graph (e2e) runs one process per node, fed both at once in real time;
its audio node is stopped and started again midway.
Prints a table and writes JSON (--json; by default under build/, so that a run leaves the
recorded bench/results.json alone: `make bench-record` writes that one), with the machine's
load averages before and after; a busy machine is warned about, as it slows every timing.
"""
import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path

import cv2
import numpy as np
import soundfile as sf
from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from av_emotion.config import defaults
from av_emotion.dds import USER_VARIABLES, profile_path
from av_emotion.ros import emotion_msg
from av_emotion.taxonomy import LABELS, valence_arousal
from av_emotion_audio.node import voice_msg, voice_window_msg
from av_emotion_audio.pipeline import AudioPipeline
from av_emotion_bringup import browser, lossy_network
from av_emotion_bringup.bench_speed import median_run, speed_runs
from av_emotion_bringup.graph import Graph, wait_for
from av_emotion_bringup.media import sample_media
from av_emotion_monitor.monitor import NS, Estimate, Monitor
from av_emotion_monitor.moodlog import MoodLog
from av_emotion_monitor.rules import load_rules
from av_emotion_msgs.msg import FaceArray, FusedEmotion, Voice
from av_emotion_vision.image import bgr_fields
from av_emotion_vision.node import face_array_msg, face_crops_msg
from av_emotion_vision.pipeline import VisionPipeline

WIDTH, HEIGHT = 640, 480
VISION = 'av_emotion_vision.node'
AUDIO = 'av_emotion_audio.node'
CENTRAL = 'av_emotion_network.central_node'
# Our publisher is reliable; see image_reliability in config/vision.yaml.
VISION_BENCH = {'publish_annotated': 'false', 'image_reliability': 'reliable'}
# Region of the sample group photo (x, y, width, height) holding exactly three faces.
THREE_FACES = (420, 200, 410, 308)
# A 1-minute load average above this per CPU at the start: other work skews the timings.
BUSY = 0.5


def load_average():
    """The machine's 1-, 5- and 15-minute load averages."""
    return dict(zip(('1min', '5min', '15min'), os.getloadavg()))


def busy_warning(load, cpus):
    """A warning line when the 1-minute load is above BUSY x cpus, else ''."""
    if load['1min'] <= BUSY * cpus:
        return ''
    return (f"warning: the machine is busy (1-minute load {load['1min']:.2f} on {cpus} CPUs): "
            f'other work slows these timings; rerun on an idle machine to record them')


def one_face_frames(video, count):
    capture = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        pad = (HEIGHT - frame.shape[0]) // 2
        resized = cv2.resize(frame, (WIDTH, frame.shape[0] * WIDTH // frame.shape[1]))
        frames.append(cv2.copyMakeBorder(resized, pad, HEIGHT - frame.shape[0] - pad, 0, 0,
                                         cv2.BORDER_CONSTANT))
    return np.stack(frames)


def three_face_frames(photo, count):
    image = cv2.imread(str(photo))
    x, y, w, h = THREE_FACES
    frames = []
    for i in range(count):  # a few pixels of camera shake, so no two frames are equal
        dx, dy = int(6 * np.sin(i)), int(4 * np.cos(i))
        frames.append(cv2.resize(image[y + dy:y + dy + h, x + dx:x + dx + w], (WIDTH, HEIGHT)))
    return np.stack(frames)


def time_audio(path, rounds):
    """Real-time factor of the audio core as the node runs it: seconds of work per second of
    new audio, in all and per stage, the clip pushed a hop at a time, `rounds` times over as
    one stream after one untimed pass (the encoder's network and the emotion model run on
    voiced windows only, as in the node)."""
    samples, rate = sf.read(str(path), dtype='float32')
    pipeline = AudioPipeline()
    hop = pipeline.params['hop']
    step = int(round(hop * rate))
    chunks = [samples[i:i + step] for i in range(0, len(samples) - step + 1, step)]
    stages, voices, pushed, spent = {}, [], 0, 0.0
    for turn in range(1 + rounds):
        for chunk in chunks:
            t0 = time.perf_counter()
            out, _ = pipeline.push(chunk, rate, pushed * hop)
            pushed += 1
            if turn:
                spent += time.perf_counter() - t0
                voices += out
    for voice in voices:
        for stage, ms in voice.timings_ms.items():
            stages[stage] = stages.get(stage, 0.0) + ms
    seconds = rounds * len(chunks) * hop
    return {'rtf': spent / seconds, 'hop_s': hop, 'sample_rate': rate,
            'rtf_stages': {stage: ms / 1e3 / seconds for stage, ms in stages.items()},
            'window_ms': 1e3 * spent / len(voices), 'windows': len(voices),
            'voiced_windows': sum(v.voiced for v in voices)}


def spawn(namespace, module, params, cpu=None):
    """A node (`module`.main) in a process of its own, on this machine's loopback only;
    with `cpu`, pinned to that core, as on a one-core device."""
    os.environ.update(ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST',
                      ROS_DOMAIN_ID=os.environ.get('ROS_DOMAIN_ID', str(os.getpid() % 100 + 1)))
    pin = [] if cpu is None else ['taskset', '-c', str(cpu)]
    return subprocess.Popen(
        [*pin, sys.executable, '-c', f'from {module} import main; main()', '--ros-args',
         '-r', f'__ns:=/{namespace}',
         *[a for name, value in params.items() for a in ('-p', f'{name}:={value}')]])


@contextmanager
def node_processes(namespace, *nodes):
    """Nodes ((module, {parameter: value}[, cpu]) each) in processes of their own, with a
    graph here to talk to them. More may be appended to the yielded list; all are stopped
    at the end."""
    processes = [spawn(namespace, *node) for node in nodes]
    graph = Graph()
    try:
        yield processes, graph
    finally:
        graph.close()
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def peak_rss_mb(pid):
    with open(f'/proc/{pid}/status') as status:
        return next(int(line.split()[1]) for line in status if line.startswith('VmHWM')) / 1024


def vision_node_run(frames, rate, cpu=None, **params):
    """vision_node at `rate` fps input (pinned to core `cpu` if given): peak RSS and camera
    stamp to faces latency."""
    with node_processes('bench', (VISION, {**VISION_BENCH, **params}, cpu)) as ((node,), graph):
        player = graph.node('bench_player')
        publisher = player.create_publisher(Image, '/bench/image', 10)
        received = {}
        player.create_subscription(
            FaceArray, '/bench/faces',
            lambda m: received.setdefault((m.header.stamp.sec, m.header.stamp.nanosec),
                                          time.time()), 10)
        if not wait_for(lambda: publisher.get_subscription_count(), timeout=60):
            raise RuntimeError('vision_node did not start')
        sent = {}
        start = time.time()
        for i, frame in enumerate(np.concatenate([frames] * 3)):
            msg = Image(**bgr_fields(frame))
            now = time.time()
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(int(now * 1e9), 10**9)
            sent[(msg.header.stamp.sec, msg.header.stamp.nanosec)] = now
            publisher.publish(msg)
            time.sleep(max(0.0, start + (i + 1) / rate - time.time()))
        wait_for(lambda: False, timeout=1.0)
        latencies = [received[k] - sent[k] for k in received if k in sent]
        return {'rss_mb': peak_rss_mb(node.pid), 'input_fps': rate,
                'frames_answered': f'{len(latencies)}/{len(sent)}',
                'latency_ms_p50': 1e3 * float(np.percentile(latencies, 50)),
                'latency_ms_p95': 1e3 * float(np.percentile(latencies, 95))}


def audio_node_run(path, repeats=3):
    """audio_node fed a real recording as S16LE chunks in real time: peak RSS, windows."""
    samples, rate = sf.read(str(path), dtype='int16')
    samples = np.tile(samples, repeats)
    with node_processes('bench', (AUDIO, {})) as ((node,), graph):
        player = graph.node('bench_microphone')
        audio = player.create_publisher(AudioDataStamped, '/bench/audio_stamped', 100)
        info = player.create_publisher(AudioInfo, '/bench/audio_info', 10)
        voices = []
        player.create_subscription(Voice, '/bench/voice', voices.append, 100)
        if not wait_for(lambda: audio.get_subscription_count() and info.get_subscription_count(),
                        timeout=60):
            raise RuntimeError('audio_node did not start')
        info.publish(AudioInfo(channels=1, sample_rate=rate, sample_format='S16LE',
                               coding_format='wave'))
        wait_for(lambda: False, timeout=0.5)
        chunk, start = rate // 10, time.time()
        for i in range(0, len(samples), chunk):
            msg = AudioDataStamped(audio=AudioData(data=samples[i:i + chunk].tobytes()))
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(
                int((start + i / rate) * 1e9), 10**9)
            audio.publish(msg)
            time.sleep(max(0.0, start + (i + chunk) / rate - time.time()))
        wait_for(lambda: False, timeout=1.0)
        return {'rss_mb': peak_rss_mb(node.pid), 'audio_s': len(samples) / rate,
                'windows': len(voices), 'voiced': sum(v.voiced for v in voices)}


def feed_graph(graph, namespace, frames, speech, rate, midway=None):
    """Camera frames at `rate` fps and speech (4 times over) in real time into the graph in
    `namespace`; returns the fused messages with their arrival times. midway(seconds since
    the start, fused so far), if given, is called at each frame."""
    samples, sample_rate = sf.read(str(speech), dtype='int16')
    samples = np.tile(samples, 4)
    player = graph.node(f'{namespace}_player')
    images = player.create_publisher(Image, f'/{namespace}/image', 10)
    audio = player.create_publisher(AudioDataStamped, f'/{namespace}/audio_stamped', 100)
    info = player.create_publisher(AudioInfo, f'/{namespace}/audio_info', 10)
    fused = []
    player.create_subscription(FusedEmotion, f'/{namespace}/emotion',
                               lambda m: fused.append((time.time(), m)), 100)
    if not wait_for(lambda: images.get_subscription_count() and audio.get_subscription_count()
                    and player.count_publishers(f'/{namespace}/emotion'), timeout=60):
        raise RuntimeError('the nodes did not start')
    info.publish(AudioInfo(channels=1, sample_rate=sample_rate, sample_format='S16LE',
                           coding_format='wave'))
    wait_for(lambda: False, timeout=0.5)
    chunk, start, sent = sample_rate // 10, time.time(), 0
    for i in range(int(len(samples) / sample_rate * rate)):
        now = time.time()
        msg = Image(**bgr_fields(frames[i % len(frames)]))
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(int(now * 1e9), 10**9)
        images.publish(msg)
        while sent + chunk <= min(len(samples), (now - start) * sample_rate):
            msg = AudioDataStamped(audio=AudioData(data=samples[sent:sent + chunk].tobytes()))
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(
                int((start + sent / sample_rate) * 1e9), 10**9)
            audio.publish(msg)
            sent += chunk
        if midway:
            midway(now - start, fused)
        time.sleep(max(0.0, start + (i + 1) / rate - time.time()))
    wait_for(lambda: False, timeout=1.0)
    return fused


def fused_latencies(fused, rate):
    """Per camera frame: from its stamp to the first fused message that used it (later ones
    reuse it while it is the newest frame, which says nothing about latency)."""
    first = {}
    for t, m in fused:
        if 'vision' in m.modalities:
            stamp = m.vision.header.stamp.sec + m.vision.header.stamp.nanosec * 1e-9
            first.setdefault(stamp, t - stamp)
    latencies = list(first.values())
    return {'latency_ms_p95': 1e3 * float(np.percentile(latencies, 95)),
            'latency_ms_p50': 1e3 * float(np.percentile(latencies, 50)), 'input_fps': rate,
            'fused_messages': len(fused), 'frames_fused': len(first),
            'with_both': sum(len(m.modalities) == 2 for _, m in fused)}


def e2e_run(frames, speech, rate=30, audio_down=(4.0, 8.0), cpu=None):
    """The whole graph, one process per node, fed camera frames at `rate` fps and speech in
    real time: camera stamp -> fused message latency, the nodes' peak RSS, and what the
    output does while the audio node is stopped from audio_down[0] to audio_down[1] s.
    With `cpu`, every node is pinned to that core (vision with one thread), as on a device
    with one core to spare."""
    vision = VISION_BENCH if cpu is None else {**VISION_BENCH, 'threads': 1}
    nodes = [(VISION, vision, cpu), (AUDIO, {}, cpu), ('av_emotion_fusion.node', {}, cpu)]
    down = {}  # rss_audio, stopped, restarted

    def stop_and_restart(elapsed, fused):
        # Stopped while its voice is in use, the hardest case for dropping it in time.
        if ('stopped' not in down and elapsed >= audio_down[0] and fused and
                len(fused[-1][1].modalities) == 2):
            down['rss_audio'] = peak_rss_mb(processes[1].pid)
            processes[1].terminate()
            processes[1].wait(timeout=10)
            down['stopped'] = time.time()
        elif 'restarted' not in down and elapsed >= audio_down[1]:
            processes.append(spawn('e2e', AUDIO, {}, cpu))
            down['restarted'] = time.time()

    with node_processes('e2e', *nodes) as (processes, graph):
        fused = feed_graph(graph, 'e2e', frames, speech, rate, stop_and_restart)
        rss = {'av_emotion_vision': peak_rss_mb(processes[0].pid),
               'av_emotion_audio': max(down['rss_audio'], peak_rss_mb(processes[-1].pid)),
               'av_emotion_fusion': peak_rss_mb(processes[2].pid)}
    stopped, restarted = down['stopped'], down['restarted']
    return {**fused_latencies(fused, rate), 'rss_mb': sum(rss.values()), 'rss_mb_nodes': rss,
            'audio_stopped': {
                'vision_alone_after_s': next(t for t, m in fused if t > stopped and
                                             list(m.modalities) == ['vision']) - stopped,
                'fusing_again_after_restart_s': next(
                    (t for t, m in fused if t > restarted and len(m.modalities) == 2),
                    float('nan')) - restarted,
                'largest_output_gap_s': float(np.diff([t for t, _ in fused]).max())}}


def one_process_run(frames, speech, rate=30):
    """The whole graph in one process (device_node, as one_process:=true starts it), fed as
    e2e_run feeds its three processes (its audio node is not stopped): peak RSS and camera
    stamp -> fused message latency."""
    with node_processes('one', ('av_emotion_bringup.device', VISION_BENCH)) as ((process,),
                                                                                graph):
        fused = feed_graph(graph, 'one', frames, speech, rate)
        rss = peak_rss_mb(process.pid)
    return {**fused_latencies(fused, rate), 'rss_mb': rss}


def camera_feed_run(frames, rate=30, seconds=10):
    """Fraction of camera frames that reach vision_node from a camera driver stand-in in
    another process (av_emotion_bringup.camera_feed: sensor-data QoS, Fast DDS defaults) at
    `rate` fps, raw and compressed, the node with Fast DDS defaults and with
    config/fastdds_vision.xml (what av_emotion.dds.use_camera_profile gives it)."""
    # The camera's environment, and the node's without the profile: FASTDDS_BUILTIN_TRANSPORTS
    # =DEFAULT is Fast DDS's own default, and keeps the node from applying the profile itself.
    camera_env = {k: v for k, v in os.environ.items() if k not in USER_VARIABLES}
    camera_env.update(ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST',
                      ROS_DOMAIN_ID=os.environ.get('ROS_DOMAIN_ID', str(os.getpid() % 100 + 1)))
    node_envs = {'fastdds_defaults': {'FASTDDS_BUILTIN_TRANSPORTS': 'DEFAULT'},
                 'profile': {'FASTDDS_DEFAULT_PROFILES_FILE': str(profile_path())}}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'frames.npy'
        np.save(path, frames)
        for transport in ('raw', 'compressed'):
            for name, env in node_envs.items():
                node = subprocess.Popen(
                    [sys.executable, '-c', f'from {VISION} import main; main()', '--ros-args',
                     '-r', '__ns:=/camera_feed', '-p', f'image_transport:={transport}',
                     '-p', 'publish_annotated:=false'], env={**camera_env, **env})
                try:
                    out = subprocess.run(
                        [sys.executable, '-m', 'av_emotion_bringup.camera_feed', str(path),
                         '--namespace', 'camera_feed', '--transport', transport,
                         '--rate', str(rate), '--seconds', str(seconds)],
                        env=camera_env, capture_output=True, text=True, timeout=seconds + 120)
                finally:
                    node.terminate()
                    node.wait(timeout=10)
                if out.returncode:
                    raise RuntimeError(f'camera_feed ({transport}, {name}): {out.stderr[-500:]}')
                results.setdefault(transport, {})[name] = json.loads(out.stdout.splitlines()[-1])
    return results


def network_bytes(frames, speech, rate=30):
    """Bytes per second a device sends at `rate` fps, per mode: serialised messages of the
    bench's frames and speech. JPEG at quality 95, the default of ROS 2's
    compressed_image_transport (what a camera driver's image_raw/compressed carries), and 80
    (ROS 1's default) for comparison. edge = face_crops + voice_windows (mode: edge);
    results = faces + voice + emotion (what a full device shares, and what comes back to
    an edge device that runs its fusion)."""
    samples, sample_rate = sf.read(str(speech), dtype='float32')
    full_audio, edge_audio = AudioPipeline(), AudioPipeline(mode='edge')
    hop = full_audio.params['hop']
    voices = full_audio.clip(samples, sample_rate)
    voice = np.mean([len(serialize_message(voice_msg(v, 'mic', full_audio.classifier.known)))
                     for v in voices]) / hop
    windows = np.mean([len(serialize_message(voice_window_msg(v, 'mic', edge_audio.feature_set)))
                       for v in edge_audio.clip(samples, sample_rate)]) / hop
    heard = next(v.probabilities for v in voices if v.voiced)
    full, edge = VisionPipeline(), VisionPipeline(mode='edge')
    header = Header(frame_id='camera')
    results = {'voice_windows': windows}
    for name, batch in frames.items():
        sizes = {}
        for i, frame in enumerate(batch):
            seen = full(frame, i / rate).faces
            found = edge(frame, i / rate).faces
            jpeg = {q: cv2.imencode('.jpg', frame, [cv2.IMWRITE_JPEG_QUALITY, q])[1].tobytes()
                    for q in (80, 95)}
            fused = FusedEmotion(face_id=1, strategy='product', modalities=['vision', 'audio'],
                                 weights=[0.5, 0.5], emotion=emotion_msg(header, heard),
                                 vision=emotion_msg(header, seen[0].probabilities),
                                 audio=emotion_msg(header, heard))
            for kind, msg in {
                    'raw_image': Image(header=header, **bgr_fields(frame)),
                    'compressed_image_q80': CompressedImage(format='jpeg', data=jpeg[80]),
                    'compressed_image_q95': CompressedImage(format='jpeg', data=jpeg[95]),
                    'face_crops': face_crops_msg(header, frame.shape, found),
                    'faces': face_array_msg(header, frame.shape, seen, full.classifier.known),
                    'emotion': fused}.items():
                sizes.setdefault(kind, []).append(len(serialize_message(msg)))
        per_second = {kind: float(np.mean(s)) * rate for kind, s in sizes.items()}
        per_second['emotion'] *= defaults('fusion')['rate'] / rate
        results[name] = {**per_second, 'edge': per_second['face_crops'] + windows,
                         'results': per_second['faces'] + voice + per_second['emotion']}
    return results


def cpu_seconds(pid):
    """User and system CPU time of a process so far."""
    with open(f'/proc/{pid}/stat') as stat:
        fields = stat.read().rpartition(')')[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def edge_device_run(frames, rate=30, seconds=10.0):
    """vision_node pinned to one core (taskset -c 0) as on a small device, camera frames at
    `rate` fps, full and edge mode: its CPU seconds per second, and camera stamp to `faces`
    latency: from the node itself (full), or from a central_node in another process (edge;
    not pinned, as on a bigger machine)."""
    out = {}
    for mode in ('full', 'edge'):
        nodes = [(VISION, {**VISION_BENCH, 'mode': mode}, 0)]
        if mode == 'edge':
            nodes.append((CENTRAL, {'devices': "['/edge_bench']"}))
        with node_processes('edge_bench', *nodes) as (processes, graph):
            player = graph.node('edge_bench_camera')
            publisher = player.create_publisher(Image, '/edge_bench/image', 10)
            received = {}
            player.create_subscription(
                FaceArray, '/edge_bench/faces',
                lambda m: received.setdefault(m.header.stamp.sec * 10**9 + m.header.stamp.nanosec,
                                              time.time()), 10)
            if not wait_for(lambda: publisher.get_subscription_count() and
                            player.count_publishers('/edge_bench/faces'), timeout=60):
                raise RuntimeError(f'vision_node ({mode}) or central_node did not start')
            sent, start, busy = {}, time.time(), None
            for i in range(int((seconds + 1) * rate)):
                if busy is None and i == rate:  # the first second warms up
                    busy, busy_start = cpu_seconds(processes[0].pid), time.time()
                now = time.time()
                msg = Image(**bgr_fields(frames[i % len(frames)]))
                msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(int(now * 1e9), 10**9)
                sent[msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec] = now
                publisher.publish(msg)
                time.sleep(max(0.0, start + (i + 1) / rate - time.time()))
            cpu = (cpu_seconds(processes[0].pid) - busy) / (time.time() - busy_start)
            wait_for(lambda: False, timeout=1.0)
        latencies = [received[k] - sent[k] for k in received if k in sent]
        out[mode] = {'cpu_s_per_s': cpu, 'frames_answered': f'{len(latencies)}/{len(sent)}',
                     'latency_ms_p50': 1e3 * float(np.percentile(latencies, 50)),
                     'latency_ms_p95': 1e3 * float(np.percentile(latencies, 95))}
    return out


def expression_accuracy():
    """FER-2013 PrivateTest scores of the central's and a device's expression model, from
    the evaluations shipped next to them (av-emotion-eval vision)."""
    models = files('av_emotion_vision') / 'models'
    scores = {}
    for where, model in (('central', defaults('central')['expression.model']),
                         ('edge', defaults('vision')['expression.model'])):
        result = json.loads((models / f'{Path(model).stem}.private_test.json').read_text())
        scores[where] = {'model': model, 'accuracy': result['accuracy'],
                         'macro_f1': result['macro_f1'], 'faces': result['n']}
    return scores


def network_run(frames, speech):
    """Edge mode against full mode: bytes on the network, the device's CPU, latency to the
    central's result, and the accuracy of the central's model."""
    sizes = network_bytes(frames, speech)
    return {'edge_bytes_ratio': sizes['1face']['edge'] / sizes['1face']['compressed_image_q95'],
            'edge_bytes_ratio_q80': sizes['1face']['edge'] /
            sizes['1face']['compressed_image_q80'],
            'bytes_per_s': sizes, 'device': edge_device_run(frames['1face']),
            'accuracy': expression_accuracy()}


def netem_run():
    """Two robots and the room view on a lossy network (av_emotion_bringup.lossy_network:
    5 % of the packets dropped, 10 Mbit/s uplinks, 20 ms delay where the kernel has netem);
    where this machine cannot build it (not root, no nft), why."""
    try:
        return lossy_network.run(feed_seconds=10.0)
    except lossy_network.Unavailable as reason:
        print(f'lossy network skipped: {reason}', file=sys.stderr)
        return {'skipped': str(reason)}


def monitor_run(folder, people=5, day='2025-03-14'):
    """The mood log of `people` people seen for a whole day (synthetic: estimates at 1 Hz
    whose labels drift, with episodes of sadness, anger and a sudden start: alerts)
    written by the monitor core with the default rules into folder/mood.sqlite: its size,
    and the time `av-emotion-report --day` takes to render that day (the console script,
    start-up included) into folder/report.html."""
    params = defaults('monitor')
    start = int(datetime.combine(date.fromisoformat(day), datetime.min.time()).timestamp())
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / 'mood.sqlite'
    path.unlink(missing_ok=True)
    days = []
    for person in range(people):
        # Mean-reverting drift per minute, noise per second; neutral is the usual state.
        drift = np.zeros((1440, len(LABELS)))
        for minute in range(1, 1440):
            drift[minute] = 0.97 * drift[minute - 1] + rng.normal(0, 0.15, len(LABELS))
        logits = np.repeat(drift, 60, axis=0) + rng.normal(0, 0.3, (86400, len(LABELS)))
        logits[:, 0] += 2.0
        # Episodes (start, seconds, label), each person's 10 minutes after the previous
        # one's: sadness for 3 min, anger for 30 s, sadness turning at once into surprise.
        for begin, length, label in ((36000, 180, 'sad'), (50400, 30, 'angry'),
                                     (57600, 20, 'sad'), (57620, 10, 'surprised')):
            begin += 600 * person
            logits[begin:begin + length, LABELS.index(label)] += 6
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        voiced = rng.random(86400) < 0.3
        days.append((probabilities, *valence_arousal(probabilities), voiced))
    log = MoodLog(path, params['retention_days'])
    monitor = Monitor(load_rules(params['rules']), params['max_gap'], log)
    alerts = 0
    for t in range(86400):
        stamp = (start + t) * NS
        alerts += len(monitor.observe(stamp, [
            Estimate(f'/robot{k + 1}', 1, stamp, p[t], float(v[t]), float(a[t]),
                     float(p[t].max()), ('vision', 'audio') if heard[t] else ('vision',))
            for k, (p, v, a, heard) in enumerate(days)]))
    alerts += len(monitor.stop())
    log.close()
    db = sqlite3.connect(path)
    rows = db.execute('SELECT count(*) FROM minutes').fetchone()[0]
    db.close()
    began = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / 'av-emotion-report'), str(path), '--day',
                    day, '--out', str(folder / 'report.html')], check=True, capture_output=True)
    return {'people': people, 'minutes_logged': rows, 'alert_events': alerts,
            'log_mb_24h': path.stat().st_size / 1e6,
            'report_s_day': time.perf_counter() - began}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--json', type=Path, default=Path('build/bench/results.json'))
    parser.add_argument('--frames', type=int, default=60)
    parser.add_argument('--rounds', type=int, default=3,
                        help='passes over the frames (or the speech) in each timing')
    parser.add_argument('--runs', type=int, default=3,
                        help='repetitions of each speed figure: the median is reported, '
                        'with every run and the spread')
    parser.add_argument('--peer-python', default='.venv-peer/bin/python',
                        help='Python with `fer` installed (make bench sets it up)')
    parser.add_argument('--refuse-busy', action='store_true',
                        help='exit 1 on a busy machine instead of measuring (bench-record)')
    args = parser.parse_args(argv)

    media = sample_media()
    frames = {'1face': one_face_frames(media['video'], args.frames),
              '3faces': three_face_frames(media['multi_face'], args.frames)}
    cpus = os.cpu_count()
    results = {'machine': {'cpus': cpus, 'processor': platform.processor(),
                           'python': platform.python_version(), 'load_before': load_average()}}
    warning = busy_warning(results['machine']['load_before'], cpus)
    results['machine']['busy'] = bool(warning)
    if warning and args.refuse_busy:
        sys.exit(f'{warning} (--refuse-busy: nothing measured)')
    if warning:
        print(warning, file=sys.stderr)
    peer_python = args.peer_python if Path(args.peer_python).exists() else None
    if not peer_python:
        print(f'{args.peer_python} not found: fer comparison skipped (make bench sets it up)')
    speed = speed_runs(frames, args.runs, args.rounds, peer_python)
    core, one = speed['core'], speed['one_core']
    node = vision_node_run(frames['1face'], rate=30)
    results['vision'] = {
        'fps_1face': core['1face']['fps'], 'fps_3faces': core['3faces']['fps'],
        'latency_ms_p95': core['1face']['latency_ms_p95'],
        'latency_ms_p95_3faces': core['3faces']['latency_ms_p95'],
        'rss_mb': node['rss_mb'], 'core': core, 'node': node, 'threads': speed['threads'],
        # A Pi-class device: one core, one thread; the node fed 30 fps on it, and the
        # whole graph on it.
        'one_core': {'fps_1face': one['1face']['fps'], 'fps_3faces': one['3faces']['fps'],
                     'latency_ms_p95': one['1face']['latency_ms_p95'], 'core': one,
                     'node': vision_node_run(frames['1face'], rate=30, cpu=0, threads=1),
                     'e2e': e2e_run(frames['1face'], media['speech'], cpu=0)}}
    if 'peer_fer' in speed:
        fer, ratio = speed['peer_fer'], speed['speedup_vs_fer']
        results['peer_fer'] = {key: fer[key] for key in ('fps_1face', 'fps_3faces', 'config',
                                                         'configs', 'runs', 'spread')}
        results['speedup_vs_fer'] = ratio['1face']['ratio']
        results['speedup_vs_fer_3faces'] = ratio['3faces']['ratio']
        results['speedup_vs_fer_runs'] = {name: r['runs'] for name, r in ratio.items()}
    audio = median_run([time_audio(media['speech'], args.rounds) for _ in range(args.runs)],
                       'rtf')
    audio['node'] = audio_node_run(media['speech'])
    results['audio'] = {**audio, 'rss_mb': audio['node']['rss_mb']}
    results['e2e'] = median_run([e2e_run(frames['1face'], media['speech'])
                                 for _ in range(args.runs)], 'latency_ms_p95')
    results['camera_feed'] = camera_feed_run(frames['1face'])
    results['network'] = network_run(frames, media['speech'])
    results['network']['netem'] = netem_run()
    one = one_process_run(frames['1face'], media['speech'])
    results['network'].update(one_process=one,
                              one_process_rss_ratio=one['rss_mb'] / results['e2e']['rss_mb'])
    # Under build/ also for bench-record: the log and report are for a look, not to keep.
    results['monitor'] = monitor_run(Path('build/bench/monitor'))
    if browser.missing():
        print(f'{browser.missing()} not found: web view skipped (tools/setup.sh installs it)')
    else:
        from av_emotion_bringup.bench_web import web_run  # it uses this module's helpers
        results['web'] = web_run(frames['1face'])
    results['machine']['load_after'] = load_average()
    print_table(results)
    if warning:
        print(warning, file=sys.stderr)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    print(f'wrote {args.json}')


def print_table(results):
    v = results['vision']
    rows = [('av_emotion 1 face', v['core']['1face']), ('av_emotion 3 faces', v['core']['3faces']),
            ('one core 1 face', v['one_core']['core']['1face']),
            ('one core 3 faces', v['one_core']['core']['3faces'])]
    for config, run in results.get('peer_fer', {}).get('configs', {}).items():
        rows += [(f'fer {config} 1 face', run['1face']), (f'fer {config} 3 faces', run['3faces'])]
    print(f"{'640x480 (median run)':<24}{'fps':>8}{'spread':>14}{'p95 ms':>8}{'faces':>7}  "
          'stages (ms per frame)')
    for name, r in rows:
        spread = '{:.0f}-{:.0f}'.format(*r['spread']) if 'spread' in r else ''
        stages = ' '.join(f'{k} {ms:.2f}' for k, ms in r.get('stages_ms', {}).items())
        print(f"{name:<24}{r['fps']:8.1f}{spread:>14}{r['latency_ms_p95']:8.1f}"
              f"{r['faces_mean']:7.2f}  {stages}")
    for name, node in (('vision_node', v['node']),
                       ('vision_node on one core', v['one_core']['node'])):
        print(f"{name}: RSS {node['rss_mb']:.0f} MB, stamp->faces p95 {node['latency_ms_p95']:.1f} "
              f"ms at {node['input_fps']} fps input, answered {node['frames_answered']}")
    a = results['audio']
    print(f"audio core: RTF {a['rtf']:.4f} (runs {', '.join(f'{r:.4f}' for r in a['runs'])}; "
          f"{a['window_ms']:.1f} ms per {a['hop_s']} s hop; "
          + ', '.join(f'{k} {v:.4f}' for k, v in a['rtf_stages'].items()) + ')')
    print(f"audio_node: RSS {a['rss_mb']:.0f} MB, {a['node']['windows']} windows "
          f"({a['node']['voiced']} voiced) from {a['node']['audio_s']:.0f} s of audio")
    e = results['e2e']
    print(f"whole graph: camera stamp->fused p95 {e['latency_ms_p95']:.1f} ms (runs "
          f"{', '.join(f'{r:.1f}' for r in e['runs'])}; p50 {e['latency_ms_p50']:.1f}) at "
          f"{e['input_fps']} fps, RSS {e['rss_mb']:.0f} MB "
          f"({', '.join(f'{k} {v:.0f}' for k, v in e['rss_mb_nodes'].items())}), "
          f"{e['with_both']}/{e['fused_messages']} fused from both")
    e = v['one_core']['e2e']
    print(f"whole graph on one core: camera stamp->fused p95 {e['latency_ms_p95']:.1f} ms (p50 "
          f"{e['latency_ms_p50']:.1f}), {e['frames_fused']} of the frames fused, "
          f"{e['with_both']}/{e['fused_messages']} fused from both")
    if 'one_process' in results.get('network', {}):
        one = results['network']['one_process']
        print(f"whole graph in one process (device_node): camera stamp->fused p95 "
              f"{one['latency_ms_p95']:.1f} ms (p50 {one['latency_ms_p50']:.1f}), RSS "
              f"{one['rss_mb']:.0f} MB, {results['network']['one_process_rss_ratio']:.2f} of "
              f"the three processes', {one['with_both']}/{one['fused_messages']} fused from both")
    if 'camera_feed' in results:
        print('camera in another process at 30 fps (sensor-data QoS), frames reaching '
              'vision_node: ' + '; '.join(
                  f"{transport} {runs['fastdds_defaults']['fraction']:.0%} with Fast DDS "
                  f"defaults, {runs['profile']['fraction']:.0%} with config/fastdds_vision.xml"
                  for transport, runs in results['camera_feed'].items()))
    n = results.get('network')
    if n:
        rates = n['bytes_per_s']
        print('bytes/s at 30 fps (1 face / 3 faces): ' + ', '.join(
            f"{kind} {rates['1face'][kind] / 1e3:.0f} / {rates['3faces'][kind] / 1e3:.0f} kB"
            for kind in ('raw_image', 'compressed_image_q95', 'compressed_image_q80', 'edge',
                         'results')) + f"; edge = crops + voice windows "
              f"({rates['voice_windows'] / 1e3:.1f} kB)")
        d, a = n['device'], n['accuracy']
        print(f"edge mode: {n['edge_bytes_ratio']:.1%} of JPEG q95 bytes "
              f"({n['edge_bytes_ratio_q80']:.1%} of q80); vision_node on one core: "
              f"{d['full']['cpu_s_per_s']:.2f} CPU s/s full, {d['edge']['cpu_s_per_s']:.2f} "
              f"edge; camera->central faces p95 {d['edge']['latency_ms_p95']:.1f} ms; "
              f"FER-2013 PrivateTest accuracy central {a['central']['accuracy']:.3f} "
              f"({a['central']['model']}), edge {a['edge']['accuracy']:.3f} "
              f"({a['edge']['model']})")
    netem = results.get('network', {}).get('netem', {})
    if 'results_sent' in netem:
        print(f"room view over a lossy network ({netem['devices']} robots, "
              f"{netem['dropped_percent']:.1f} % of packets dropped, {netem['bandwidth']} "
              f"uplinks, {netem['delay_ms']} ms delay): all robots listed "
              f"{netem['room_complete_s']:.2f} s after the last one started, "
              f"{netem['results_lost']}/{netem['results_sent']} results lost (reliable, delay "
              f"p50 {netem['result_delay_ms_p50']:.0f} ms, max {netem['result_delay_ms_max']:.0f}"
              f" ms), a robot unplugged reported gone after {netem['leave_detection_s']:.2f} s "
              f"(timeout {netem['timeout_s']} s), back {netem['back_after_s']:.2f} s after")
    w = results.get('web')
    if w:
        print(f"web view: a fused estimate on the page (DOM) p95 {w['latency_ms_p95']:.0f} ms "
              f"after its publication (p50 {w['latency_ms_p50']:.0f}, max "
              f"{w['latency_ms_max']:.0f}; {w['estimates_shown']} shown); web_node "
              f"{w['cpu_percent']:.1f} % of a core at {w['input_hz']:.0f} Hz fused and "
              f"{w['image_fps']:.0f} fps {w['image_size'][1]}x{w['image_size'][0]} images "
              f"({w['images_sent']} sent)")
    down = e['audio_stopped']
    print(f"audio_node stopped: vision alone after {down['vision_alone_after_s']:.2f} s, fusing "
          f"again {down['fusing_again_after_restart_s']:.2f} s after its restart, largest "
          f"output gap {down['largest_output_gap_s']:.3f} s")
    mon = results['monitor']
    print(f"mood log: {mon['log_mb_24h']:.2f} MB for 24 h of {mon['people']} people "
          f"({mon['minutes_logged']} minutes), a day's report in {mon['report_s_day']:.1f} s")
    if 'speedup_vs_fer' in results:
        runs = results['speedup_vs_fer_runs']
        print(f"speed-up vs fer ({results['peer_fer']['config']}), median of runs: "
              f"{results['speedup_vs_fer']:.1f}x with 1 face (runs "
              f"{', '.join(f'{r:.1f}' for r in runs['1face'])}), "
              f"{results['speedup_vs_fer_3faces']:.1f}x with 3 faces")
    m = results['machine']
    print(f"1-minute load average: {m['load_before']['1min']:.2f} before, "
          f"{m['load_after']['1min']:.2f} after, on {m['cpus']} CPUs")


if __name__ == '__main__':
    main()
