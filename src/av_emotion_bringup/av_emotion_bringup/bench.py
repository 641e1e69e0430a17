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
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import soundfile as sf
from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo
from sensor_msgs.msg import Image

from av_emotion.dds import USER_VARIABLES, profile_path
from av_emotion_audio.pipeline import AudioPipeline, clip_windows
from av_emotion_bringup.graph import Graph, wait_for
from av_emotion_bringup.media import sample_media
from av_emotion_msgs.msg import FaceArray, FusedEmotion, Voice
from av_emotion_vision.image import bgr_fields
from av_emotion_vision.pipeline import VisionPipeline

WIDTH, HEIGHT = 640, 480
VISION = 'av_emotion_vision.node'
AUDIO = 'av_emotion_audio.node'
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
        frames.append(cv2.copyMakeBorder(cv2.resize(frame, (WIDTH, frame.shape[0] * WIDTH //
                                                             frame.shape[1])),
                                         pad, HEIGHT - frame.shape[0] - pad, 0, 0,
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


def time_core(pipeline, frames, rounds):
    for frame in frames[:5]:
        pipeline(frame, 0.0)
    latencies, faces, stages = [], [], {}
    for r in range(rounds):
        for i, frame in enumerate(frames):
            start = time.perf_counter()
            result = pipeline(frame, r * len(frames) + i / 30)
            latencies.append(time.perf_counter() - start)
            faces.append(len(result.faces))
            for stage, ms in result.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
    return {'fps': len(latencies) / sum(latencies),
            'latency_ms_p50': 1e3 * float(np.percentile(latencies, 50)),
            'latency_ms_p95': 1e3 * float(np.percentile(latencies, 95)),
            'faces_mean': float(np.mean(faces)),
            'stages_ms': {s: float(np.mean(v)) for s, v in stages.items()}}


def time_audio(path, rounds):
    """Real-time factor of the audio core: seconds of work per second of audio, per stage."""
    samples, rate = sf.read(str(path), dtype='float32')
    pipeline = AudioPipeline()
    hop = pipeline.params['hop']
    windows = [w for _, w in clip_windows(samples, rate, pipeline.params['window'], hop)]
    pipeline.analyse(windows[0], rate)  # the first call compiles librosa's numba kernels
    stages = {}
    for _ in range(rounds):
        for window in windows:
            # The encoder and classifier run on voiced windows only; time them on every one.
            voice = pipeline.analyse(window, rate, unvoiced_too=True)
            for stage, ms in voice.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
    # One window is analysed per hop of new audio.
    rtf = {stage: float(np.mean(ms)) / 1e3 / hop for stage, ms in stages.items()}
    return {'rtf': sum(rtf.values()), 'rtf_stages': rtf, 'hop_s': hop,
            'window_ms': sum(float(np.mean(ms)) for ms in stages.values()),
            'sample_rate': rate, 'windows': len(windows) * rounds}


def spawn(namespace, module, params):
    """A node (`module`.main) in a process of its own, on this machine's loopback only."""
    os.environ.update(ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST',
                      ROS_DOMAIN_ID=os.environ.get('ROS_DOMAIN_ID', str(os.getpid() % 100 + 1)))
    return subprocess.Popen(
        [sys.executable, '-c', f'from {module} import main; main()', '--ros-args',
         '-r', f'__ns:=/{namespace}',
         *[a for name, value in params.items() for a in ('-p', f'{name}:={value}')]])


@contextmanager
def node_processes(namespace, *nodes):
    """Nodes ((module, {parameter: value}) each) in processes of their own, with a graph here
    to talk to them. More may be appended to the yielded list; all are stopped at the end."""
    processes = [spawn(namespace, module, params) for module, params in nodes]
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


def vision_node_run(frames, rate):
    """vision_node at `rate` fps input: peak RSS and camera stamp to faces latency."""
    with node_processes('bench', (VISION, VISION_BENCH)) as ((node,), graph):
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


def e2e_run(frames, speech, rate=30, audio_down=(4.0, 8.0)):
    """The whole graph, one process per node, fed camera frames at `rate` fps and speech in
    real time: camera stamp -> fused message latency, the nodes' peak RSS, and what the
    output does while the audio node is stopped from audio_down[0] to audio_down[1] s."""
    samples, sample_rate = sf.read(str(speech), dtype='int16')
    samples = np.tile(samples, 4)
    nodes = [(VISION, VISION_BENCH), (AUDIO, {}), ('av_emotion_fusion.node', {})]
    stopped = restarted = None
    with node_processes('e2e', *nodes) as (processes, graph):
        player = graph.node('e2e_player')
        images = player.create_publisher(Image, '/e2e/image', 10)
        audio = player.create_publisher(AudioDataStamped, '/e2e/audio_stamped', 100)
        info = player.create_publisher(AudioInfo, '/e2e/audio_info', 10)
        fused = []
        player.create_subscription(FusedEmotion, '/e2e/emotion',
                                   lambda m: fused.append((time.time(), m)), 100)
        if not wait_for(lambda: images.get_subscription_count() and audio.get_subscription_count()
                        and player.count_publishers('/e2e/emotion'), timeout=60):
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
            # Stopped while its voice is in use, the hardest case for dropping it in time.
            if (stopped is None and now - start >= audio_down[0] and fused and
                    len(fused[-1][1].modalities) == 2):
                rss_audio = peak_rss_mb(processes[1].pid)
                processes[1].terminate()
                processes[1].wait(timeout=10)
                stopped = time.time()
            elif restarted is None and now - start >= audio_down[1]:
                processes.append(spawn('e2e', AUDIO, {}))
                restarted = time.time()
            time.sleep(max(0.0, start + (i + 1) / rate - time.time()))
        wait_for(lambda: False, timeout=1.0)
        rss = {'av_emotion_vision': peak_rss_mb(processes[0].pid),
               'av_emotion_audio': max(rss_audio, peak_rss_mb(processes[-1].pid)),
               'av_emotion_fusion': peak_rss_mb(processes[2].pid)}
    # Per camera frame: from its stamp to the first fused message that used it (later ones
    # reuse it while it is the newest frame, which says nothing about latency).
    first = {}
    for t, m in fused:
        if 'vision' in m.modalities:
            stamp = m.vision.header.stamp.sec + m.vision.header.stamp.nanosec * 1e-9
            first.setdefault(stamp, t - stamp)
    latencies = list(first.values())
    return {'latency_ms_p95': 1e3 * float(np.percentile(latencies, 95)),
            'latency_ms_p50': 1e3 * float(np.percentile(latencies, 50)),
            'rss_mb': sum(rss.values()), 'rss_mb_nodes': rss, 'input_fps': rate,
            'fused_messages': len(fused), 'frames_fused': len(first),
            'with_both': sum(len(m.modalities) == 2 for _, m in fused),
            'audio_stopped': {
                'vision_alone_after_s': next(t for t, m in fused if t > stopped and
                                             list(m.modalities) == ['vision']) - stopped,
                'fusing_again_after_restart_s': next(
                    (t for t, m in fused if t > restarted and len(m.modalities) == 2),
                    float('nan')) - restarted,
                'largest_output_gap_s': float(np.diff([t for t, _ in fused]).max())}}


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


def peer(python, frames):
    """The `fer` library's two detectors on the same frames, each in a fresh process."""
    script = Path(__file__).with_name('peer_fer.py')
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'frames.npz'
        np.savez(path, **frames)
        results = {}
        for config in ('default', 'mtcnn'):
            out = subprocess.run([python, str(script), str(path), config], check=True,
                                 capture_output=True, text=True)
            results[config] = json.loads(out.stdout.strip().splitlines()[-1])
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--json', type=Path, default=Path('build/bench/results.json'))
    parser.add_argument('--frames', type=int, default=60)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--peer-python', default='.venv-peer/bin/python',
                        help='Python with `fer` installed (make bench sets it up)')
    args = parser.parse_args(argv)

    media = sample_media()
    frames = {'1face': one_face_frames(media['video'], args.frames),
              '3faces': three_face_frames(media['multi_face'], args.frames)}
    cpus = os.cpu_count()
    results = {'machine': {'cpus': cpus, 'processor': platform.processor(),
                           'python': platform.python_version(), 'load_before': load_average()}}
    warning = busy_warning(results['machine']['load_before'], cpus)
    if warning:
        print(warning, file=sys.stderr)
    pipeline = VisionPipeline()
    core = {name: time_core(pipeline, batch, args.rounds) for name, batch in frames.items()}
    node = vision_node_run(frames['1face'], rate=30)
    results['vision'] = {'fps_1face': core['1face']['fps'], 'fps_3faces': core['3faces']['fps'],
                         'latency_ms_p95': core['1face']['latency_ms_p95'],
                         'latency_ms_p95_3faces': core['3faces']['latency_ms_p95'],
                         'rss_mb': node['rss_mb'], 'core': core, 'node': node,
                         'threads': pipeline.params['threads']}
    audio = time_audio(media['speech'], args.rounds)
    audio['node'] = audio_node_run(media['speech'])
    results['audio'] = {**audio, 'rss_mb': audio['node']['rss_mb']}
    results['e2e'] = e2e_run(frames['1face'], media['speech'])
    results['camera_feed'] = camera_feed_run(frames['1face'])
    if Path(args.peer_python).exists():
        fer = peer(args.peer_python, frames)
        best = max(fer, key=lambda c: fer[c]['1face']['fps'])
        results['peer_fer'] = {'fps_1face': fer[best]['1face']['fps'],
                               'fps_3faces': fer[best]['3faces']['fps'],
                               'config': best, 'runs': fer}
        results['speedup_vs_fer'] = results['vision']['fps_1face'] / fer[best]['1face']['fps']
    else:
        print(f'{args.peer_python} not found: fer comparison skipped (make bench sets it up)')

    results['machine']['load_after'] = load_average()
    print_table(results)
    if warning:
        print(warning, file=sys.stderr)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    print(f'wrote {args.json}')


def print_table(results):
    v = results['vision']
    rows = [('av_emotion 1 face', v['core']['1face']), ('av_emotion 3 faces', v['core']['3faces'])]
    for config, run in results.get('peer_fer', {}).get('runs', {}).items():
        rows += [(f'fer {config} 1 face', run['1face']), (f'fer {config} 3 faces', run['3faces'])]
    print(f"{'640x480':<24}{'fps':>8}{'p95 ms':>9}{'faces':>7}  stages (ms)")
    for name, r in rows:
        stages = ' '.join(f'{k} {ms:.1f}' for k, ms in r.get('stages_ms', {}).items())
        print(f"{name:<24}{r['fps']:8.1f}{r['latency_ms_p95']:9.1f}{r['faces_mean']:7.2f}  {stages}")
    node = v['node']
    print(f"vision_node: RSS {v['rss_mb']:.0f} MB, stamp->faces p95 {node['latency_ms_p95']:.1f} ms "
          f"at {node['input_fps']} fps input, answered {node['frames_answered']}")
    a = results['audio']
    print(f"audio core: RTF {a['rtf']:.4f} ({a['window_ms']:.1f} ms per {a['hop_s']} s hop; "
          + ', '.join(f'{k} {v:.4f}' for k, v in a['rtf_stages'].items()) + ')')
    print(f"audio_node: RSS {a['rss_mb']:.0f} MB, {a['node']['windows']} windows "
          f"({a['node']['voiced']} voiced) from {a['node']['audio_s']:.0f} s of audio")
    e = results['e2e']
    print(f"whole graph: camera stamp->fused p95 {e['latency_ms_p95']:.1f} ms (p50 "
          f"{e['latency_ms_p50']:.1f}) at {e['input_fps']} fps, RSS {e['rss_mb']:.0f} MB "
          f"({', '.join(f'{k} {v:.0f}' for k, v in e['rss_mb_nodes'].items())}), "
          f"{e['with_both']}/{e['fused_messages']} fused from both")
    if 'camera_feed' in results:
        print('camera in another process at 30 fps (sensor-data QoS), frames reaching '
              'vision_node: ' + '; '.join(
                  f"{transport} {runs['fastdds_defaults']['fraction']:.0%} with Fast DDS "
                  f"defaults, {runs['profile']['fraction']:.0%} with config/fastdds_vision.xml"
                  for transport, runs in results['camera_feed'].items()))
    down = e['audio_stopped']
    print(f"audio_node stopped: vision alone after {down['vision_alone_after_s']:.2f} s, fusing "
          f"again {down['fusing_again_after_restart_s']:.2f} s after its restart, largest "
          f"output gap {down['largest_output_gap_s']:.3f} s")
    if 'speedup_vs_fer' in results:
        print(f"speed-up vs fer ({results['peer_fer']['config']}): "
              f"{results['speedup_vs_fer']:.1f}x")
    m = results['machine']
    print(f"1-minute load average: {m['load_before']['1min']:.2f} before, "
          f"{m['load_after']['1min']:.2f} after, on {m['cpus']} CPUs")


if __name__ == '__main__':
    main()
