"""The live web view (web_node) in a real headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium): a recording replayed through the whole graph with the
view on, crafted estimates, room views and alerts followed by the page, phone and desktop
layouts, and the token that guards it beyond 127.0.0.1."""
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from rclpy.parameter import Parameter
from rosbags.rosbag2 import Reader
from std_msgs.msg import Header

from av_emotion.ros import emotion_msg
from av_emotion.taxonomy import LABELS
from av_emotion_bringup import bag
from av_emotion_bringup.browser import DESKTOP, PHONE, chromium, console_errors, missing, viewport
from av_emotion_bringup.graph import wait_for
from av_emotion_bringup.replay import Replay, input_connections
from av_emotion_feedback.view import LiveView, Outbox, Throttle, estimate
from av_emotion_feedback.web_node import WebNode
from av_emotion_msgs.msg import Alert, FusedEmotion, RoomEmotion, RoomMember
from av_emotion_monitor.node import ALERT_QOS
from av_emotion_network.room_node import ROOM_QOS

ROS2 = str(Path(sys.executable).parent / 'ros2')
TOKEN = 'a' * 8 + 'b' * 8
# The page's state as the test reads it: the fused label of one person (device, face).
LABEL_OF = ("const e = document.querySelector(`.person[data-device='${arguments[0]}']"
            "[data-face='${arguments[1]}'] [data-testid=fused-label]`);"
            "return e ? e.textContent : null;")
# Every label the page shows (MutationObserver), to compare with what was published.
WATCH_LABELS = """window.shown = [];
new MutationObserver(() => {
  const e = document.querySelector('[data-testid=fused-label]');
  if (e && e.textContent !== window.shown.at(-1)) window.shown.push(e.textContent);
}).observe(document.body, {subtree: true, childList: true, characterData: true});"""


@pytest.fixture(scope='module')
def browser():
    reason = missing()
    if reason:
        if os.environ.get('CI') == 'true':
            pytest.fail(f'{reason} missing: CI must run the browser tests (tools/setup.sh)')
        pytest.skip(f'{reason} missing')
    driver = chromium()
    yield driver
    driver.quit()


def web_node(graph, namespace, **params):
    return graph.add(WebNode(context=graph.context, namespace=namespace, parameter_overrides=[
        Parameter('port', value=0), *(Parameter(k, value=v) for k, v in params.items())]))


def open_page(browser, node, query=''):
    browser.get(f'http://127.0.0.1:{node.server.port}/{query}')
    assert wait_for(lambda: browser.execute_script(
        "return document.getElementById('connection').textContent") == 'live', timeout=20)


def shown(browser, device, face):
    return browser.execute_script(LABEL_OF, device, face)


def fused_msg(node, label, face=1, modalities=('vision', 'audio')):
    probabilities = np.full(len(LABELS), 0.05)
    probabilities[LABELS.index(label)] = 0.7
    header = Header(stamp=node.get_clock().now().to_msg())
    return FusedEmotion(header=header, face_id=face, modalities=list(modalities),
                        weights=[1.0 / len(modalities)] * len(modalities),
                        emotion=emotion_msg(header, probabilities / probabilities.sum()))


def test_a_replay_through_the_graph_shows_live_on_phone_and_desktop(data, browser, tmp_path):
    photo = next((data / 'faces' / 'photos').glob('happy_*.jpg'))
    speech = sorted((data / 'speech' / 'ravdess' / 'happy').glob('*.flac'))[3]
    bag.main([str(photo), str(speech), '--out', str(tmp_path / 'in'), '--storage', 'sqlite3'])
    session = Replay(namespace='robot1')
    try:
        web = web_node(session.graph, 'robot1', use_sim_time=True, image_width=256)
        published = []
        session.player.create_subscription(FusedEmotion, 'emotion', published.append, 1000)
        open_page(browser, web)
        browser.execute_script(WATCH_LABELS)
        # A page is open: the node takes the annotated camera images (only now).
        assert wait_for(lambda: session.vision.annotated_pub.get_subscription_count())
        with Reader(tmp_path / 'in') as reader:
            for connection, ns, raw in reader.messages(
                    connections=input_connections(reader.connections, set())):
                session.advance(ns)
                session.feed(connection.msgtype, bytes(raw))
        last = [m for m in published if m.emotion.label][-1]
        assert wait_for(lambda: shown(browser, '/robot1', last.face_id) == last.emotion.label)
        # What the page showed follows the fused topic, in order (a page that is behind
        # skips to the newest estimate), and it showed the recording's happy.
        labels = [m.emotion.label for m in published if m.face_id == last.face_id]
        page = browser.execute_script('return window.shown')
        assert 'happy' in page and page[-1] == last.emotion.label
        remaining = iter(labels)
        assert all(label in remaining for label in page), (page, labels)
        badges = browser.execute_script(
            "return [...document.querySelectorAll('.device .modality.on')]"
            ".map(b => b.dataset.modality)")
        assert sorted(badges) == sorted(last.modalities)
        # The annotated camera image (512 pixels wide) shrunk to image_width; the timeline
        # over the recording.
        assert wait_for(lambda: browser.execute_script(
            "const i = document.querySelector('.camera'); return !i.hidden && i.naturalWidth")
            == 256)
        assert web.counts['images'] >= 1 and web.counts.get('bad_images', 0) == 0
        stamps = [m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in published
                  if m.emotion.label and m.face_id == last.face_id]
        held = stamps[-1] - stamps[0]  # the page's points are 0.5 s (timeline_step) apart
        # The legend ("last 4 s") is drawn once a second: empty until the first drawing.
        legend = "return document.querySelector('.legend .span').textContent"
        assert held > 3.0 and wait_for(lambda: (lambda words: len(words) == 3 and (
            held - 1 <= int(words[1]) <= held + 0.5))(browser.execute_script(legend).split()))
        # No audio topic is heard, so none can reach a page.
        assert not [s for s in web.subscriptions if 'audio' in s.msg_type.__module__ or
                    s.msg_type.__name__ == 'Voice']
        for name, metrics in (('phone', PHONE), ('desktop', DESKTOP)):
            viewport(browser, metrics)
            width = browser.execute_script(
                'return [innerWidth, document.documentElement.scrollWidth]')
            assert width == [metrics['width']] * 2  # nothing wider than the screen
            box = browser.execute_script(
                "const r = document.querySelector('[data-testid=fused-label]')"
                ".getBoundingClientRect(); return [r.left, r.right, r.top, r.height];")
            assert 0 <= box[0] < box[1] <= metrics['width'] and 0 < box[2] < metrics['height']
            assert box[3] >= 30  # readable from arm's length
            browser.save_screenshot(str(tmp_path / f'web_{name}.png'))
            assert (tmp_path / f'web_{name}.png').stat().st_size > 20_000
        assert console_errors(browser) == []
    finally:
        session.close()


@pytest.fixture(scope='module')
def live(graph):
    web = web_node(graph, 'robot2')
    player = graph.node('web_player', namespace='robot2')
    publishers = {'emotion': player.create_publisher(FusedEmotion, 'emotion', 10),
                  'alerts': player.create_publisher(Alert, 'alerts', ALERT_QOS),
                  'room': player.create_publisher(RoomEmotion, '/room/emotion', ROOM_QOS)}
    assert wait_for(lambda: all(p.get_subscription_count() for p in publishers.values()))
    return web, publishers


def test_the_page_follows_estimates_room_views_and_alerts(browser, live):
    web, publish = live
    open_page(browser, web)
    for label in LABELS:
        publish['emotion'].publish(fused_msg(web, label))
        assert wait_for(lambda: shown(browser, '/robot2', 1) == label), label
    publish['emotion'].publish(fused_msg(web, 'sad', modalities=['vision']))
    assert wait_for(lambda: browser.execute_script(
        "return [...document.querySelectorAll('.modality.on')].map(b => b.dataset.modality)")
        == ['vision'])
    bad = fused_msg(web, 'happy')
    bad.emotion.label = 'bored'
    publish['emotion'].publish(bad)
    assert wait_for(lambda: web.counts.get('bad_estimates') == 1)
    assert shown(browser, '/robot2', 1) == 'sad'

    # Another robot seen through the room view; this robot's own member is not shown twice.
    room = RoomEmotion(devices=['/robot2', '/robot3'])
    for device, face, label in (('/robot3', 4, 'angry'), ('/robot3', 5, 'surprised'),
                                ('/robot2', 1, 'happy')):
        room.members.append(RoomMember(device=device, face_id=face,
                                       emotion=fused_msg(web, label, face).emotion))
    publish['room'].publish(room)
    assert wait_for(lambda: shown(browser, '/robot3', 4) == 'angry' and
                    shown(browser, '/robot3', 5) == 'surprised')
    assert shown(browser, '/robot2', 1) == 'sad'
    publish['room'].publish(RoomEmotion(devices=['/robot2']))  # robot3 left the room
    assert wait_for(lambda: shown(browser, '/robot3', 4) is None)

    alert = Alert(device='/robot2', face_id=1, rule='sad_for_long',
                  description='sad for 5 minutes', active=True, keys=['seconds'],
                  values=[300.0])
    publish['alerts'].publish(alert)
    banners = ("return [...document.querySelectorAll('[data-testid=alert] .text')]"
               ".map(a => a.textContent)")
    assert wait_for(lambda: browser.execute_script(banners) ==
                    ['/robot2 face 1: sad for 5 minutes'])
    alert.active = False
    publish['alerts'].publish(alert)
    assert wait_for(lambda: browser.execute_script(banners) == [])
    assert console_errors(browser) == []


def status(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
            return r.status, r.headers.get('Set-Cookie', '')
    except urllib.error.HTTPError as error:
        return error.code, ''
    except urllib.error.URLError:  # nobody listening (yet)
        return None, ''


def test_beyond_loopback_only_with_the_token(graph, browser):
    with pytest.raises(RuntimeError, match="host '0.0.0.0' opens the web view beyond"):
        web_node(graph, 'open', host='0.0.0.0')
    web = web_node(graph, 'lan', host='0.0.0.0', token=TOKEN)
    url = f'http://127.0.0.1:{web.server.port}'
    assert status(f'{url}/')[0] == 401
    assert status(f'{url}/ws')[0] == 401
    assert status(f'{url}/static/app.js?token=wrong-token-0123')[0] == 403
    code, cookie = status(f'{url}/?token={TOKEN}')
    assert code == 200 and 'HttpOnly' in cookie and 'SameSite=Strict' in cookie
    assert status(f'{url}/static/app.js', {'Authorization': f'Bearer {TOKEN}'})[0] == 200
    # The page opened with its token: its files and WebSocket carry it (the cookie).
    open_page(browser, web, f'?token={TOKEN}')
    # A page of another site cannot talk to the view, token or not.
    assert status(f'{url}/?token={TOKEN}', {'Origin': 'http://example.org'})[0] == 403
    # Without a token (on 127.0.0.1), only requests naming this machine are served.
    local = web_node(graph, 'local')
    assert status(f'http://127.0.0.1:{local.server.port}/')[0] == 200
    assert status(f'http://127.0.0.1:{local.server.port}/',
                  {'Host': f'rebound.example.org:{local.server.port}'})[0] == 403
    with pytest.raises(RuntimeError, match=f'cannot listen on 127.0.0.1:{local.server.port}'):
        web_node(graph, 'second', port=local.server.port)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_whole_graph_launch_starts_the_web_view_on_request():
    port = free_port()
    launch = subprocess.Popen(
        [ROS2, 'launch', 'av_emotion_bringup', 'av_emotion.launch.py', 'web:=true',
         f'web_port:={port}', 'namespace:=web_launch'], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(launch.stdout), daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: status(f'http://127.0.0.1:{port}/static/style.css')[0] == 200,
                        timeout=120)
        # Stopped once active: the server answers from configure on, and a Ctrl-C during
        # activation is another case (web_node then died with SIGSEGV once on CI).
        assert wait_for(lambda: any('web view of' in line for line in lines), timeout=60)
    finally:
        launch.send_signal(signal.SIGINT)
        launch.wait(timeout=60)
        reader.join(10)
        out = ''.join(lines)
    assert f'web view of /web_launch/emotion on http://127.0.0.1:{port}/' in out, out
    assert 'web_node-' in out and 'has died' not in out, out


def test_view_core_coalesces_throttles_and_refuses():
    view = LiveView('/r', history=2.0, timeline_step=0.5, stale_after=2.0, forget_after=5.0,
                    clock=lambda: now)
    now = 0.0
    values = estimate(LABELS, np.eye(7)[1], 'happy', 0.8, 0.5, 0.9)
    messages = [m['type'] for t in np.arange(0, 4, 0.25) for m in
                view.fused(1, ['vision'], values, float(t))]
    # A point per 0.5 s of stamps, a timeline of the last 2 s; modalities sent on change.
    assert messages.count('estimate') == 16 and messages.count('point') == 8
    assert messages.count('device') == 1 and len(view.timelines['/r 1']) == 5
    now = 6.0
    assert view.expire() == [{'type': 'forget', 'key': '/r 1'}]
    for bad in ((LABELS, np.eye(7)[1], 'bored', 0, 0, 1), (LABELS[:3], np.eye(7)[1], 'happy',
                                                            0, 0, 1),
                (LABELS, np.eye(7)[1], 'happy', float('nan'), 0, 1)):
        with pytest.raises(ValueError):
            estimate(*bad)
    outbox = Outbox(limit=3)
    assert outbox.put('a', 'image') and outbox.put('p1') and outbox.put('b', 'image')
    assert outbox.take() == ['p1', 'b']  # the newer image replaced the older one
    assert outbox.put('1') and outbox.put('2') and outbox.put('3') and not outbox.put('4')
    throttle = Throttle(5.0)
    assert sum(throttle.ready(t) for t in np.arange(0, 10, 1 / 30)) == 50
    assert not any(Throttle(0).ready(t) for t in range(10))
