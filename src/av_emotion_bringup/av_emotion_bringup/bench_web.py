"""The live web view in av-emotion-bench: how soon an open page shows a new fused estimate,
and web_node's CPU while it serves one page fused estimates at 15 Hz and camera images.

web_node and vision_node (whose image_annotated it shows, as on a robot) run in processes of
their own; a headless Chromium (av_emotion_bringup.browser) opens the page. Each
FusedEmotion is stamped with the wall clock when it is published, and the page notes the
wall clock (Date.now) when its DOM shows that stamp: the same machine's clock on both sides.
"""
import socket
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from av_emotion.ros import emotion_msg, to_time
from av_emotion.taxonomy import LABELS
from av_emotion_bringup.bench import VISION, VISION_BENCH, cpu_seconds, node_processes
from av_emotion_bringup.browser import chromium
from av_emotion_bringup.graph import wait_for
from av_emotion_msgs.msg import FusedEmotion
from av_emotion_vision.image import bgr_fields

WEB = 'av_emotion_feedback.web_node'
# Kept by the page: [stamp (s), Date.now() (ms)] each time a fused label's stamp changes.
OBSERVE = """window.seen = [];
new MutationObserver((records) => {
  const now = Date.now();
  for (const r of records) window.seen.push([Number(r.target.dataset.stamp), now]);
}).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['data-stamp']});"""


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def fused(label, stamp):
    probabilities = np.full(len(LABELS), 0.05)
    probabilities[LABELS.index(label)] = 0.7
    header = Header(stamp=to_time(stamp))
    return FusedEmotion(header=header, face_id=1, modalities=['vision', 'audio'],
                        weights=[0.5, 0.5], strategy='product',
                        emotion=emotion_msg(header, probabilities / probabilities.sum()))


def web_run(frames, seconds=30.0, rate=15.0, image_fps=5.0):
    """web_node with one page open, fed fused estimates at `rate` Hz, and vision_node fed
    `frames` (BGR) at `image_fps`, each of which it annotates for web_node: publish -> page
    DOM latency, and web_node's CPU (% of one core) over `seconds`."""
    port = free_port()
    vision = {**VISION_BENCH, 'publish_annotated': 'true'}
    with node_processes('web', (WEB, {'port': port}), (VISION, vision)) as ((node, _), graph):
        player = graph.node('web_bench')
        estimates = player.create_publisher(FusedEmotion, '/web/emotion', 10)
        # Reliable, as VISION_BENCH's image_reliability.
        images = player.create_publisher(Image, '/web/image', 10)
        diagnostics = []
        player.create_subscription(DiagnosticArray, '/diagnostics', lambda m: diagnostics.extend(
            s for s in m.status if s.name.startswith('/web/web_node')), 10)
        if not wait_for(lambda: estimates.get_subscription_count() and
                        images.get_subscription_count(), timeout=60):
            raise RuntimeError('web_node or vision_node did not start')
        driver = chromium()
        try:
            driver.get(f'http://127.0.0.1:{port}/')
            driver.execute_script(OBSERVE)
            # The node takes camera images once a page is open.
            if not wait_for(lambda: player.count_subscribers('/web/image_annotated'),
                            timeout=30):
                raise RuntimeError('web_node did not subscribe to image_annotated')
            messages = [Image(**bgr_fields(frame)) for frame in frames]
            sent, start = [], time.time()
            cpu = cpu_seconds(node.pid)
            for i in range(int(seconds * rate)):
                now = time.time()
                estimates.publish(fused(LABELS[i // 15 % len(LABELS)], now))
                sent.append(now)
                if i % round(rate / image_fps) == 0:
                    image = messages[i % len(messages)]
                    image.header.stamp = to_time(now)
                    images.publish(image)
                time.sleep(max(0.0, start + (i + 1) / rate - time.time()))
            cpu = (cpu_seconds(node.pid) - cpu) / (time.time() - start)
            wait_for(lambda: False, timeout=1.5)  # the last ones shown, a diagnostics report
            seen = driver.execute_script('return window.seen')
        finally:
            driver.quit()
    latencies = [shown - 1e3 * stamp for stamp, shown in seen]
    values = {v.key: v.value for v in diagnostics[-1].values} if diagnostics else {}
    return {'latency_ms_p50': float(np.percentile(latencies, 50)),
            'latency_ms_p95': float(np.percentile(latencies, 95)),
            'latency_ms_max': float(np.max(latencies)),
            'estimates_shown': f'{len(seen)}/{len(sent)}', 'cpu_percent': 100 * cpu,
            'input_hz': rate, 'image_fps': image_fps, 'image_size': list(frames[0].shape[:2]),
            'seconds': seconds, 'images_sent': int(values.get('sent_images', 0))}
