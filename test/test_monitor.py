"""av_emotion_monitor: alert rules checked on load, firing and clearing in stamp time (crafted
sequences for exact timing, the fused output of the demo recording for real ones),
monitor_node on real rclpy (Alert, /diagnostics WARN, the emotion and room sources), the
mood log and av-emotion-report."""
import importlib.util
import sqlite3
import subprocess
import sys
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from launch import LaunchContext
from launch.actions import IncludeLaunchDescription
from launch.utilities import perform_substitutions
from launch_ros.actions import Node
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.serialization import deserialize_message
from rosbags.rosbag2 import Reader

from av_emotion.ros import emotion_msg
from av_emotion.taxonomy import LABELS, valence_arousal
from av_emotion_bringup.bag import BagWriter, recording_messages
from av_emotion_bringup.demo import START, sample_recording
from av_emotion_bringup.graph import wait_for
from av_emotion_bringup.replay import replay
from av_emotion_monitor.monitor import NS, Estimate, Monitor
from av_emotion_monitor.moodlog import LogError, MoodLog, connect
from av_emotion_monitor.node import ALERT_QOS, MonitorNode, estimate
from av_emotion_monitor.rules import RulesError, load_rules
from av_emotion_msgs.msg import Alert, FusedEmotion, RoomEmotion, RoomMember
from av_emotion_network.room_node import FUSED_QOS, ROOM_QOS

LAUNCH = Path(__file__).parent.parent / 'launch'
# Rules that the 20 s demo recording (sad, then scared, then happy) makes fire.
RULES = """
rules:
  sad_spell:
    description: sad for a second
    when: [sad >= 0.5]
    for: 1
  happy_spell:
    description: very happy for 3 s
    when: [happy >= 0.8, valence > 0.5]
    for: 3
  arousal_rise:
    description: arousal up by 0.35 within 2 s
    jump: {field: arousal, by: 0.35, within: 2}
"""
T0 = 1_700_000_040 * NS  # a minute's start
TICK = NS // 15


def rules_file(tmp_path, text, name='rules.yaml'):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """The fused emotion of the demo recording (the whole graph, replayed), as published."""
    folder = tmp_path_factory.mktemp('demo')
    with BagWriter(folder / 'in') as writer:
        for ns, kind, msg in recording_messages(sample_recording(), START):
            writer.write({'image': '/camera/image_raw', 'audio': '/audio_stamped',
                          'audio_info': '/audio_info'}[kind], msg, ns)
    replay(folder / 'in', folder / 'out', namespace='demo')
    with Reader(folder / 'out') as reader:
        connections = [c for c in reader.connections if c.topic == '/demo/emotion']
        return [deserialize_message(raw, FusedEmotion)
                for _, _, raw in reader.messages(connections=connections)]


def stream_estimates(messages, device='/demo'):
    """(stamp ns, [Estimate]) per FusedEmotion message, as monitor_node passes them on."""
    out = []
    for m in messages:
        e = estimate(device, m.face_id, m.emotion, tuple(m.modalities))
        out.append((m.header.stamp.sec * NS + m.header.stamp.nanosec, [e] if e else []))
    return out


def run(monitor, stream):
    events = [e for now, estimates in stream for e in monitor.observe(now, estimates)]
    return events + monitor.stop()


def sad(p):
    """Probabilities with `sad` at p, the rest neutral."""
    probabilities = np.zeros(len(LABELS))
    probabilities[LABELS.index('sad')], probabilities[0] = p, 1 - p
    return probabilities


def crafted(device, face, stamp, probabilities, modalities=('vision',)):
    valence, arousal = valence_arousal(probabilities)
    return Estimate(device, face, stamp, np.asarray(probabilities, float), float(valence),
                    float(arousal), float(max(probabilities)), modalities)


# --- rules -----------------------------------------------------------------------------

def test_the_default_rules_load():
    rules = {r.name: r for r in load_rules('monitor_rules.yaml')}
    assert set(rules) == {'distress', 'sadness', 'arousal_jump'}
    assert [str(c) for c in rules['distress'].conditions] == ['valence < -0.5', 'arousal > 0.5']
    assert rules['distress'].duration == 10 and rules['sadness'].duration == 60
    assert rules['arousal_jump'].jump.by == 0.8 and rules['arousal_jump'].jump.within == 2


@pytest.mark.parametrize('rule, problem', [
    ('when: [fear > 0.5]', "unknown label 'fear' (REP-155 calls it 'scared')"),
    ('when: [joy > 0.5]', "unknown label or field 'joy'"),
    ('when: [sad > 0.5]\n    durration: 10', "unknown field 'durration'"),
    ('when: [sad => 0.6]', "bad comparator '=>' in 'sad => 0.6' (one of <, <=, >, >=)"),
    ('when: [sad > 0.6]\n    for: -5', "negative duration: 'for' is -5 s"),
    ('jump: {field: arousal, by: 0.8, within: -2}', "negative duration: jump's 'within'"),
    ('when: [sad > 1.5]', "threshold 1.5 of 'sad > 1.5' is outside sad's range [0, 1]"),
    ('when: [sad > high]', "the threshold of 'sad > high' 'high' is no number"),
    ('when: [sad 0.6]', "condition 'sad 0.6' is not '<field> <comparator> <number>'"),
    ('for: 10', "has no condition ('when' or 'jump')"),
])
def test_rules_errors_are_one_clear_line(tmp_path, rule, problem):
    path = rules_file(tmp_path, f'rules:\n  calm:\n    when: [neutral > 0.5]\n  bad:\n    {rule}\n')
    with pytest.raises(RulesError) as error:
        load_rules(str(path))
    assert str(error.value).startswith(f"{path}: rule 'bad': {problem}")
    assert '\n' not in str(error.value)


def test_unusable_rules_files(tmp_path):
    missing, broken, empty = (tmp_path / name for name in ('missing.yaml', 'broken.yaml',
                                                           'empty.yaml'))
    broken.write_text('rules:\n  a: [sad > 0.5\n')
    empty.write_text('# nothing\n')
    for path, problem in ((missing, 'no such rules file'), (broken, 'not YAML at line 3'),
                          (empty, 'no rules')):
        with pytest.raises(RulesError, match=f'^{path}: {problem}'):
            load_rules(str(path))


# --- alerts on crafted sequences: exact timing --------------------------------------------

def test_a_rule_fires_at_its_duration_of_stamp_time_and_clears_when_it_ends(tmp_path):
    rules = load_rules(str(rules_file(tmp_path, 'rules:\n  sad10:\n    when: [sad >= 0.6]\n'
                                                '    for: 10\n')))
    monitor = Monitor(rules, max_gap=3.0)
    # 15 estimates a second; sad (exactly at the threshold: it holds) from 1 s to 20 s.
    stream = [(T0 + i * NS // 15, [crafted('/r', 1, T0 + i * NS // 15,
                                           sad(0.6 if 15 <= i < 300 else 0.3))])
              for i in range(450)]
    events = {i: monitor.observe(*stream[i]) for i in range(450)}
    fired = {i: e for i, e in events.items() if e}
    assert list(fired) == [165, 300]  # 11 s: 10 s after the hold began; 20 s: it ended
    (raised,), (cleared,) = fired.values()
    assert raised.active and raised.stamp == T0 + 11 * NS and raised.since == T0 + NS
    assert raised.evidence == {'sad': pytest.approx(0.6), 'held_s': 10.0}
    assert not cleared.active and cleared.stamp == T0 + 20 * NS and cleared.since == T0 + NS
    assert monitor.active() == []

    # A single estimate below the threshold breaks the hold: 10 s count again from after it.
    monitor = Monitor(rules, max_gap=3.0)
    breaks = [(t, [crafted('/r', 1, t, sad(0.59 if t == T0 + 5 * NS else 0.9))])
              for t in (T0 + i * NS // 15 for i in range(15 * 20))]
    raised, = [e for now, es in breaks for e in monitor.observe(now, es)]
    assert raised.since == T0 + 76 * NS // 15 and raised.stamp == T0 + 226 * NS // 15


def test_someone_gone_for_max_gap_clears_and_starts_again(tmp_path):
    rules = load_rules(str(rules_file(tmp_path, 'rules:\n  sad2:\n    when: [sad > 0.5]\n'
                                                '    for: 2\n')))
    monitor = Monitor(rules, max_gap=1.0)
    for i in range(45):  # 3 s of sadness: raised at 2 s
        monitor.observe(T0 + i * TICK, [crafted('/r', 1, T0 + i * TICK, sad(0.9))])
    assert monitor.active() == [('/r', 1, 'sad2')]
    # The stream goes on with another face only: after max_gap, face 1 has left.
    last = T0 + 44 * TICK
    events = []
    for i in range(45, 75):
        events += monitor.observe(T0 + i * TICK, [crafted('/r', 2, T0 + i * TICK, sad(0.1))])
    gone, = events
    assert not gone.active and gone.stamp == last and gone.since == T0
    assert gone.evidence['held_s'] == 44 * TICK / NS and gone.evidence['unseen_s'] > 1.0
    # Back after the gap: the hold starts again.
    back = T0 + 80 * TICK
    assert monitor.observe(back, [crafted('/r', 1, back, sad(0.9))]) == []
    assert monitor.people['/r', 1].since == {'sad2': back}


def test_a_jump_fires_on_a_quick_rise_only(tmp_path):
    rules = load_rules(str(rules_file(tmp_path, 'rules:\n  jump:\n    jump: {field: arousal, '
                                                'by: 0.8, within: 2}\n')))
    calm, agitated = sad(0.9), np.eye(len(LABELS))[LABELS.index('surprised')]
    ramp = lambda s: (1 - s) * calm + s * agitated  # noqa: E731 - arousal -0.36 .. 0.8

    def rise(seconds):
        monitor = Monitor(rules, max_gap=3.0)
        steps = int(seconds * 15)
        events = []
        for i in range(15 * 10):
            stamp = T0 + i * TICK
            level = min(1.0, max(0.0, (i - 30) / steps))
            events += monitor.observe(stamp, [crafted('/r', 1, stamp, ramp(level))])
        return events
    raised, cleared = rise(1.0)
    assert raised.active and raised.evidence['arousal_change'] >= 0.8
    assert (raised.stamp - T0) / NS == pytest.approx(2 + 0.8 / 1.16, abs=0.07)
    assert not cleared.active and (cleared.stamp - raised.stamp) / NS <= 2.0
    assert rise(3.0) == []  # the same rise, slower: no alert


# --- alerts on the demo recording's fused output --------------------------------------------

def test_rules_on_the_fused_output_of_the_demo_recording(demo, tmp_path):
    stream = stream_estimates(demo)
    rules = {r.name: r for r in load_rules(str(rules_file(tmp_path, RULES)))}
    events = run(Monitor(list(rules.values()), max_gap=3.0), stream)
    assert run(Monitor(list(rules.values()), max_gap=3.0), stream) == events  # deterministic
    seconds = {}
    for e in events:
        seconds.setdefault(e.rule.name, []).append((e.active, (e.stamp - START) / NS))
    # Sad from about 2.6 s until the face turns scared at 6.5 s (its probability dips below
    # 0.5 for a moment: one spell or two); happy from 10.8 s to the end (cleared when the
    # monitor stops); arousal rising as the face turns scared, around its threshold a while.
    sad = seconds['sad_spell']
    assert [active for active, _ in sad] == [True, False] * (len(sad) // 2) and sad
    assert all(3 < t < 6.5 for _, t in sad)
    (_, raised), (_, cleared) = seconds['happy_spell']
    assert 13 < raised < cleared == (stream[-1][0] - START) / NS
    rises = seconds['arousal_rise']
    assert [active for active, _ in rises] == [True, False] * (len(rises) // 2) and rises
    assert all(6 < t < 8.5 for _, t in rises)

    # Each alert of a duration rule against the stream: raised at the first estimate where
    # its conditions have held for `for` s, since the first estimate of that hold; cleared
    # at the first estimate where they do not hold.
    kept, last = [], 0
    for _, estimates in stream:
        for e in estimates:
            if e.stamp > last:
                kept.append(e)
                last = e.stamp
    for event in events:
        rule = event.rule
        if rule.jump or event.stamp == kept[-1].stamp:
            continue
        held = [e for e in kept if event.since <= e.stamp < event.stamp]
        at = next(e for e in kept if e.stamp == event.stamp)
        assert all(all(c.holds(e.values()) for c in rule.conditions) for e in held)
        before = [e for e in kept if e.stamp < event.since]
        assert not all(c.holds(before[-1].values()) for c in rule.conditions)
        if event.active:
            assert event.stamp - event.since >= rule.duration * NS > held[-1].stamp - event.since
        else:
            assert not all(c.holds(at.values()) for c in rule.conditions)

    # The defaults (distress for 10 s, sad for a minute, a jump of 0.8) stay quiet here.
    assert run(Monitor(load_rules('monitor_rules.yaml'), 3.0), stream) == []


# --- monitor_node -------------------------------------------------------------------------

def reports(diagnostics, name):
    return [s for d in diagnostics for s in d.status if s.name.startswith(name)]


def test_node_publishes_alerts_warns_and_logs(graph, demo, tmp_path):
    db = tmp_path / 'mood.sqlite'
    rules = rules_file(tmp_path, RULES)
    node = graph.add(MonitorNode(context=graph.context, namespace='demo', parameter_overrides=[
        Parameter('rules', value=str(rules)), Parameter('monitor_db', value=str(db)),
        Parameter('diagnostics_period', value=0.2)]))
    probe = graph.node('monitor_probe')
    alerts, diagnostics = [], []
    publisher = probe.create_publisher(FusedEmotion, '/demo/emotion', FUSED_QOS)
    probe.create_subscription(Alert, '/demo/alerts', alerts.append, ALERT_QOS)
    probe.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append, 50)
    assert wait_for(lambda: publisher.get_subscription_count() and
                    node.publisher.get_subscription_count())
    for count, msg in enumerate(demo, 1):
        publisher.publish(msg)
        assert wait_for(lambda: node.counts.get('inputs') == count)
    expected = run(Monitor(load_rules(str(rules)), 3.0), stream_estimates(demo))
    assert wait_for(lambda: len(alerts) == len(expected) - 1)  # all but the stop's
    assert wait_for(lambda: any(s.level == DiagnosticStatus.WARN and 'happy_spell' in s.message
                                for s in reports(diagnostics, '/demo/monitor_node')))
    assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    assert wait_for(lambda: len(alerts) == len(expected))
    assert [(a.device, a.face_id, a.rule, a.active, a.header.stamp.sec * NS +
             a.header.stamp.nanosec, a.since.sec * NS + a.since.nanosec) for a in alerts] == [
        ('/demo', e.face_id, e.rule.name, e.active, e.stamp, e.since) for e in expected]
    assert [a.description for a in alerts] == [e.rule.description for e in expected]
    assert all(dict(zip(a.keys, a.values))['held_s'] >= 0 for a in alerts)
    assert node.trigger_cleanup() == TransitionCallbackReturn.SUCCESS

    log = sqlite3.connect(db)
    row = log.execute('SELECT device, face_id, estimates, seconds, face_seconds, valence '
                      'FROM minutes').fetchall()
    kept = [e for _, es in stream_estimates(demo) for e in es]
    kept = [e for i, e in enumerate(kept) if all(e.stamp > k.stamp for k in kept[:i])]
    assert row == [('/demo', 1, len(kept), pytest.approx((kept[-1].stamp - kept[0].stamp) / NS),
                    pytest.approx((kept[-1].stamp - kept[0].stamp) / NS),
                    pytest.approx(np.mean([e.valence for e in kept]))), ]
    rows = log.execute('SELECT rule, cleared IS NOT NULL FROM alerts ORDER BY raised').fetchall()
    assert rows == [(e.rule.name, 1) for e in expected if e.active]


def test_node_takes_the_room_view_of_a_fleet(graph, tmp_path):
    db = tmp_path / 'fleet.sqlite'
    node = graph.add(MonitorNode(context=graph.context, namespace='fleet', parameter_overrides=[
        Parameter('source', value='room'), Parameter('monitor_db', value=str(db)),
        Parameter('rules', value=str(rules_file(tmp_path, RULES)))]))
    probe = graph.node('fleet_probe')
    alerts = []
    publisher = probe.create_publisher(RoomEmotion, '/room/emotion', ROOM_QOS)
    probe.create_subscription(Alert, '/fleet/alerts', alerts.append, ALERT_QOS)
    assert wait_for(lambda: publisher.get_subscription_count())
    for count, i in enumerate(range(0, 15 * 4, 3), 1):  # 5 views a second for 4 s
        stamp = T0 + i * TICK
        msg = RoomEmotion()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, NS)
        for device, face, probabilities in (('/robot1', 3, sad(0.9)), ('/robot2', 1, sad(0.1))):
            member = RoomMember(device=device, face_id=face, emotion=emotion_msg(
                msg.header, probabilities))
            msg.members.append(member)
        publisher.publish(msg)
        assert wait_for(lambda: node.counts.get('inputs') == count)
    assert wait_for(lambda: len(alerts) == 1)
    assert (alerts[0].device, alerts[0].face_id, alerts[0].rule) == ('/robot1', 3, 'sad_spell')
    assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    assert node.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
    rows = sqlite3.connect(db).execute('SELECT device, face_id, estimates, voice_seconds, '
                                       'face_seconds FROM minutes ORDER BY device').fetchall()
    # The room view does not say which modalities an estimate had.
    assert rows == [('/robot1', 3, 20, None, None), ('/robot2', 1, 20, None, None)]


def test_configure_fails_with_the_rules_files_reason(graph, tmp_path):
    path = rules_file(tmp_path, 'rules:\n  bad:\n    when: [sad =< 0.5]\n')
    node = graph.add(MonitorNode(context=graph.context, namespace='bad_rules',
                                 parameter_overrides=[Parameter('rules', value=str(path)),
                                                      Parameter('monitor_db', value='')]),
                     activate=False)
    assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
    assert node.failure == f"{path}: rule 'bad': bad comparator '=<' in 'sad =< 0.5' (one of " \
                           '<, <=, >, >=)'
    # As its own process (autostart): exit 1, that line, no traceback.
    done = subprocess.run(
        [sys.executable, '-c', 'from av_emotion_monitor.node import main; main()', '--ros-args',
         '-p', f'rules:={path}', '-p', "monitor_db:=''"], capture_output=True, text=True,
        timeout=60)
    assert done.returncode == 1 and 'Traceback' not in done.stderr
    line, = done.stderr.splitlines()
    assert line.endswith(f'cannot configure: {node.failure}')
    foreign = tmp_path / 'foreign.sqlite'
    sqlite3.connect(foreign).execute('CREATE TABLE x (a)')
    node = graph.add(MonitorNode(context=graph.context, namespace='bad_db', parameter_overrides=[
        Parameter('monitor_db', value=str(foreign))]), activate=False)
    assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
    assert 'not an av_emotion mood log' in node.failure


# --- the mood log -------------------------------------------------------------------------

def test_minutes_are_summed_up_and_a_restart_merges(tmp_path):
    p1, p2 = sad(0.8), np.eye(len(LABELS))[1] * 0.7 + np.eye(len(LABELS))[0] * 0.3
    # 2.5 minutes at 15 Hz: minute 1 sad (with a voice in its second half), minute 2 happy,
    # half of minute 3 sad again.

    def sequence(i):
        stamp = T0 + i * NS // 15
        minute = i // 900
        return stamp, crafted('/r1', 7, stamp, p2 if minute == 1 else p1,
                              ('vision', 'audio') if 450 <= i < 900 else ('vision',))
    path = tmp_path / 'mood.sqlite'
    log = MoodLog(path, retention_days=30)
    monitor = Monitor([], max_gap=3.0, log=log)
    for i in range(2250):
        stamp, e = sequence(i)
        monitor.observe(stamp, [e])
        if i == 900 + 2 * 15:  # 2 s into minute 2: minute 1 waits for max_gap (3 s)
            assert log.rows == 0
    assert log.rows == 2  # the third is written at the end
    log.close()
    rows = connect(path).execute('SELECT * FROM minutes ORDER BY minute').fetchall()
    assert [r[:3] for r in rows] == [('/r1', 7, T0 // NS + 60 * k) for k in range(3)]
    estimates, seconds, voice, face = zip(*(r[3:7] for r in rows))
    assert estimates == (900, 900, 450)
    assert seconds == pytest.approx((899 / 15, 60, 30), abs=1e-6)  # the first one adds none
    assert voice == pytest.approx((30, 0, 0), abs=1e-6) and face == pytest.approx(seconds)
    for row, p in zip(rows, (p1, p2, p1)):
        valence, arousal = valence_arousal(p)
        assert row[7:9] == pytest.approx((float(valence), float(arousal)), abs=1e-6)
        assert row[9:] == pytest.approx(p)

    # Stopped within the third minute and started again: its rows merge into one.
    again = tmp_path / 'again.sqlite'
    for part in (range(0, 2000), range(2000, 2250)):
        log = MoodLog(again, retention_days=30)
        monitor = Monitor([], max_gap=3.0, log=log)
        for i in part:
            stamp, e = sequence(i)
            monitor.observe(stamp, [e])
        monitor.stop()
        log.close()
    merged = connect(again).execute('SELECT * FROM minutes ORDER BY minute').fetchall()
    assert [r[:4] for r in merged] == [r[:4] for r in rows]
    assert merged[2][4] == pytest.approx(rows[2][4] - 1 / 15)  # the restart's first adds none
    assert merged[2][7:] == pytest.approx(rows[2][7:])


def test_retention_deletes_old_rows(tmp_path):
    rules = load_rules(str(rules_file(tmp_path, 'rules:\n  sad:\n    when: [sad > 0.5]\n')))
    path = tmp_path / 'mood.sqlite'
    log = MoodLog(path, retention_days=2)
    monitor = Monitor(rules, max_gap=3.0, log=log)
    day = 86400 * NS
    for start in (T0, T0 + 2 * day, T0 + 3 * day):
        for i in range(15 * 90):
            stamp = start + i * TICK
            monitor.observe(stamp, [crafted('/r1', 1, stamp, sad(0.9 if i < 30 else 0.2))])
    monitor.stop()
    log.close()
    db = connect(path)
    minutes = [m for m, in db.execute('SELECT DISTINCT minute FROM minutes ORDER BY minute')]
    raised = [r for r, in db.execute('SELECT raised FROM alerts ORDER BY raised')]
    # The first day's rows are over 2 days older than the newest minute: gone.
    assert minutes == [(T0 + 2 * day) // NS, (T0 + 2 * day) // NS + 60, (T0 + 3 * day) // NS,
                       (T0 + 3 * day) // NS + 60]
    assert raised == [(T0 + 2 * day) / NS, (T0 + 3 * day) / NS]


def test_a_foreign_file_is_no_log(tmp_path):
    text = tmp_path / 'notes.sqlite'
    text.write_text('some notes, not a database\n')
    with pytest.raises(LogError, match='not an SQLite database'):
        MoodLog(text, 30)
    assert text.read_text() == 'some notes, not a database\n'
    with pytest.raises(LogError, match='no such file'):
        connect(tmp_path / 'missing.sqlite')
    newer = tmp_path / 'newer.sqlite'
    MoodLog(newer, 30).close()
    sqlite3.connect(newer).execute('UPDATE schema_version SET version = 9').connection.commit()
    with pytest.raises(LogError, match='schema version 9, this av_emotion reads version 1'):
        connect(newer)


# --- the report ---------------------------------------------------------------------------

def test_report_of_a_day(demo, tmp_path, refused):
    path = tmp_path / 'mood.sqlite'
    rules = load_rules(str(rules_file(tmp_path, RULES)))
    monitor = Monitor(rules, 3.0, MoodLog(path, 30))
    # The demo's person, and someone sad for 3 minutes on another robot at the same time.
    events = [e for now, estimates in stream_estimates(demo)
              for e in monitor.observe(now, estimates)]
    for i in range(15 * 180):
        stamp = START + i * TICK
        events += monitor.observe(stamp, [crafted('/robot2', 4, stamp,
                                                  sad(0.9 if i < 15 * 60 else 0.2))])
    events += monitor.stop()
    monitor.log.close()
    day = datetime.fromtimestamp(START / NS).date()
    out = tmp_path / 'report' / 'day.html'
    done = subprocess.run([str(Path(sys.executable).parent / 'av-emotion-report'), str(path),
                           '--day', str(day), '--out', str(out)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    for text in ('/demo f00001', '/robot2 f00004', 'sad_spell', 'sad for a second',
                 'happy_spell', 'very happy for 3 s', str(day)):
        assert text in page
    raised = sum(e.active for e in events)
    assert page.count('<tr>') == 1 + 2 + 1 + raised  # header, people; header, alerts
    assert page.count('<td>/robot2 f00004</td><td>sad_spell</td>') == 1
    for name in ('day-timeline.png', 'day-labels.png'):
        assert (out.parent / name).stat().st_size > 5000
        assert f'src="{name}"' in page
    # Another day: nobody, no alert, no plot.
    other = tmp_path / 'other.html'
    subprocess.run([str(Path(sys.executable).parent / 'av-emotion-report'), str(path),
                    '--week', '2020-01-01', '--out', str(other)], check=True, timeout=120)
    assert 'Nobody was logged' in other.read_text() and 'No alert' in other.read_text()
    assert not (tmp_path / 'other-timeline.png').exists()

    foreign = tmp_path / 'foreign.sqlite'
    sqlite3.connect(foreign).execute('CREATE TABLE notes (text)')
    text = tmp_path / 'notes.txt'
    text.write_text('not a database\n')
    for bad, problem in ((tmp_path / 'missing.sqlite', 'no such file'),
                         (text, 'not an SQLite database'),
                         (foreign, 'an SQLite database, but not an av_emotion mood log')):
        line = refused('av-emotion-report', bad, '--out', tmp_path / 'refused.html')
        assert line.startswith(f'av-emotion-report: {bad}: {problem}')
    assert not (tmp_path / 'refused.html').exists()


# --- launch ------------------------------------------------------------------------------

def load(name):
    spec = importlib.util.spec_from_file_location(name.split('.')[0], LAUNCH / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_launch_description()


def test_monitor_launch_and_the_whole_graph_with_monitor():
    description = load('monitor.launch.py')
    arguments = {a.name: a for a in description.get_launch_arguments()}
    assert set(arguments) == {'namespace', 'source', 'monitor_db', 'config', 'use_sim_time',
                              'autostart'}
    context = LaunchContext()
    for name, argument in arguments.items():
        context.launch_configurations[name] = perform_substitutions(
            context, argument.default_value)
    assert context.launch_configurations['monitor_db'] == '~/.local/share/av_emotion/mood.sqlite'
    assert context.launch_configurations['config'].endswith('av_emotion/config/monitor.yaml')
    node, = [e for e in description.entities if isinstance(e, Node)]
    scripts = {e.name: e.value for e in entry_points(group='console_scripts')}
    assert (node.node_package, scripts[node.node_executable]) == (
        'av_emotion_monitor', 'av_emotion_monitor.node:main')
    assert scripts['av-emotion-report'] == 'av_emotion_monitor.report:main'

    includes = [e for e in load('av_emotion.launch.py').entities
                if isinstance(e, IncludeLaunchDescription)]
    for include in includes:  # expands the file names
        include.launch_description_source.get_launch_description(LaunchContext())
    monitor, = [e for e in includes
                if e.launch_description_source.location.endswith('/monitor.launch.py')]
    context = LaunchContext()
    context.launch_configurations['monitor'] = 'false'
    assert not monitor.condition.evaluate(context)
    context.launch_configurations['monitor'] = 'true'
    assert monitor.condition.evaluate(context)
