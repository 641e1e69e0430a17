"""av-emotion-report: a day or a week of the mood log as an HTML page with plots.

    av-emotion-report ~/.local/share/av_emotion/mood.sqlite --out report.html
    av-emotion-report DB --day 2025-03-14 --out day.html
    av-emotion-report DB --week 2025-03-10 --out week.html    # the 7 days from that date

Writes OUT (NAME.html) and next to it NAME-timeline.png (per person, minute by minute: the
labels' shares, valence and arousal, alerts marked) and NAME-labels.png (each person's share
of each label). A person is a device and a face id (a face that leaves and comes back gets a new
id). Days are this machine's local days (TZ); by default the day of the newest entry.
"""
import argparse
import html
import json
import sqlite3
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from av_emotion.hri import face_id
from av_emotion.taxonomy import COLOURS, LABELS
from av_emotion_monitor.moodlog import MEANS, LogError, connect

COLUMNS = ('device', 'face_id', 'minute', 'estimates', 'seconds', 'voice_seconds',
           'face_seconds') + MEANS


class Person:
    """One person's minutes in the period, as arrays."""

    def __init__(self, device, face, rows):
        self.name = f'{device} {face_id(face)}'
        self.device, self.face_id = device, face
        columns = dict(zip(COLUMNS[2:], zip(*(row[2:] for row in rows))))
        self.minutes = np.array(columns['minute'])
        self.estimates = np.array(columns['estimates'], float)
        self.seconds = sum(columns['seconds'])
        # None: the source (the room view) does not say which modalities it had.
        self.voice, self.face = (None if None in columns[k] else sum(columns[k])
                                 for k in ('voice_seconds', 'face_seconds'))
        self.valence, self.arousal = np.array(columns['valence']), np.array(columns['arousal'])
        self.probabilities = np.array([columns[label] for label in LABELS]).T
        # Over the period: means over all of its estimates.
        self.shares = self.estimates @ self.probabilities / self.estimates.sum()
        self.mean_valence, self.mean_arousal = (
            float(self.estimates @ v / self.estimates.sum()) for v in (self.valence, self.arousal))


def local(seconds, fmt='%Y-%m-%d %H:%M:%S'):
    return datetime.fromtimestamp(seconds).strftime(fmt)


def duration(seconds):
    if seconds is None:
        return 'n/a'
    minutes = int(round(seconds / 60))
    return (f'{seconds:.0f} s' if seconds < 60 else f'{minutes} min' if minutes < 60 else
            f'{minutes // 60} h {minutes % 60:02d} min')


def period(db, day, week):
    """(start, end, title): seconds since 1970 of the local days asked for."""
    first = week or day
    if first is None:
        newest = db.execute('SELECT max(t) FROM (SELECT max(minute) AS t FROM minutes UNION '
                            'SELECT max(raised) FROM alerts)').fetchone()[0]
        first = datetime.fromtimestamp(newest).date() if newest is not None else date.today()
    days = 7 if week else 1
    start, end = (datetime.combine(first + timedelta(d), time()).timestamp() for d in (0, days))
    last = first + timedelta(days - 1)
    return start, end, f'{first}' + (f' to {last}' if week else '')


def read(db, start, end):
    rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM minutes WHERE minute >= ? AND "
                      'minute < ? ORDER BY device, face_id, minute', (start, end)).fetchall()
    people = {}
    for row in rows:
        people.setdefault(row[:2], []).append(row)
    alerts = db.execute('SELECT device, face_id, rule, description, since, raised, cleared, '
                        'evidence FROM alerts WHERE raised < ? AND (cleared IS NULL OR '
                        'cleared >= ?) ORDER BY raised', (end, start)).fetchall()
    # Longest seen first.
    return (sorted((Person(*key, rows) for key, rows in people.items()),
                   key=lambda p: -p.seconds), alerts)


def plot_timeline(people, alerts, start, end, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    # Minute edges, as matplotlib dates: each minute's values are drawn over the minute,
    # minutes without a row are left empty.
    count = int((end - start) // 60)
    edges = mdates.date2num([datetime.fromtimestamp(start + 60 * i) for i in range(count + 1)])
    colours = [tuple(c / 255 for c in COLOURS[label]) for label in LABELS]
    fig, axes = plt.subplots(len(people), 1, figsize=(11, 0.5 + 1.9 * len(people)),
                             sharex=True, squeeze=False)
    for person, ax in zip(people, axes[:, 0]):
        index = ((person.minutes - start) // 60).astype(int)
        shares, scales = np.zeros((count + 1, len(LABELS))), np.full((count, 2), np.nan)
        shares[index], scales[index] = person.probabilities, np.c_[person.valence, person.arousal]
        ax.stackplot(edges, shares.T, colors=colours, labels=LABELS, step='post', alpha=0.85)
        ax.set_ylim(0, 1)
        ax.set_ylabel('share')
        ax.set_title(person.name, loc='left', fontsize=10)
        right = ax.twinx()
        right.stairs(scales[:, 0], edges, color='black', lw=1, label='valence (right)')
        right.stairs(scales[:, 1], edges, color='black', lw=1, ls='--', label='arousal (right)')
        right.set_ylim(-1, 1)
        for device, face, _, _, _, raised, cleared, _ in alerts:
            if (device, face) == (person.device, person.face_id):
                held = mdates.date2num([datetime.fromtimestamp(t) for t in (
                    max(raised, start), min(cleared or end, end))])
                # A short alert is too thin a span on a day's axis: a mark above it too.
                right.axvspan(*held, color='red', alpha=0.3, lw=0)
                right.plot(held[0], 1, 'v', color='red', clip_on=False, label='alert')
    # One legend for all: labels, the scales, alerts (once).
    handles = {}
    for ax in fig.axes:
        handles.update(zip(*ax.get_legend_handles_labels()[::-1]))
    fig.legend(handles.values(), handles.keys(), loc='upper center', ncol=len(handles),
               fontsize=8)
    axes[-1, 0].set_xlim(edges[0], edges[-1])
    axes[-1, 0].xaxis_date()
    axes[-1, 0].xaxis.set_major_formatter(mdates.DateFormatter(
        '%H:%M' if end - start <= 86400 * 1.1 else '%a %d'))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_labels(people, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.4 * len(people)))
    left = np.zeros(len(people))
    for k, label in enumerate(LABELS):
        share = np.array([p.shares[k] for p in people])
        ax.barh([p.name for p in people], share, left=left, label=label,
                color=tuple(c / 255 for c in COLOURS[label]))
        left += share
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel('share of the estimates (mean probability)')
    ax.legend(loc='upper left', bbox_to_anchor=(1.01, 1), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def person_row(p):
    return (f'<tr><td>{html.escape(p.name)}</td><td>{duration(p.seconds)}</td>'
            f'<td>{duration(p.face)}</td><td>{duration(p.voice)}</td>'
            f'<td>{int(p.estimates.sum())}</td><td>{p.mean_valence:+.2f}</td>'
            f'<td>{p.mean_arousal:+.2f}</td>'
            f'<td>{LABELS[int(np.argmax(p.shares))]} ({p.shares.max():.0%})</td></tr>')


def alert_row(device, face, rule, description, since, raised, cleared, evidence):
    evidence = ', '.join(f'{k} {v:.2f}' for k, v in json.loads(evidence).items())
    cleared = 'active' if cleared is None else local(cleared)
    cells = (f'{device} {face_id(face)}', rule, description, local(since), local(raised),
             cleared, evidence)
    return '<tr>' + ''.join(f'<td>{html.escape(cell)}</td>' for cell in cells) + '</tr>'


def page(db_path, title, people, shown, alerts, images):
    e = html.escape
    table = ('<table><tr><th>person</th><th>seen</th><th>with a face</th><th>with a voice</th>'
             '<th>estimates</th><th>valence</th><th>arousal</th><th>most often</th></tr>' +
             ''.join(map(person_row, people)) + '</table>'
             if people else '<p>Nobody was logged in this period.</p>')
    if len(people) > shown:
        table += f'<p>Plotted: the {shown} people seen longest of {len(people)}.</p>'
    plots = ''.join(f'<p><img src="{e(image.name)}" alt="{e(image.stem)}"></p>'
                    for image in images)
    alert_table = ('<table><tr><th>person</th><th>rule</th><th>description</th>'
                   '<th>held since</th><th>raised</th><th>cleared</th><th>evidence</th></tr>' +
                   ''.join(alert_row(*alert) for alert in alerts) + '</table>'
                   if alerts else '<p>No alert in this period.</p>')
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Mood report {e(title)}</title>
<style>body {{font-family: sans-serif; margin: 2em}} table {{border-collapse: collapse}}
td, th {{border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left}}</style></head>
<body><h1>Mood report {e(title)}</h1>
<p>From {e(str(db_path))}, made {local(datetime.now().timestamp())}; local time.</p>
<h2>People</h2>
{table}
{plots}
<h2>Alerts</h2>
{alert_table}
</body></html>
"""


def report(db_path, out, day=None, week=None, shown=6):
    """Write the report of `day` or the 7 days from `week` (datetime.date; neither: the day
    of the newest entry) to `out` and its PNGs; LogError if db_path is no mood log."""
    db = connect(db_path)
    try:
        start, end, title = period(db, day, week)
        people, alerts = read(db, start, end)
    finally:
        db.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    images = []
    if people:
        images = [out.with_name(f'{out.stem}-{name}.png') for name in ('timeline', 'labels')]
        plot_timeline(people[:shown], alerts, start, end, images[0])
        plot_labels(people, images[1])
    out.write_text(page(db_path, title, people, shown, alerts, images))
    return images


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('db', type=Path, help='the mood log (monitor_node\'s monitor_db)')
    parser.add_argument('--out', type=Path, default=Path('report.html'))
    when = parser.add_mutually_exclusive_group()
    when.add_argument('--day', type=date.fromisoformat, help='YYYY-MM-DD')
    when.add_argument('--week', type=date.fromisoformat, metavar='YYYY-MM-DD',
                      help='the first of 7 days')
    parser.add_argument('--people', type=int, default=6,
                        help='plot the N people seen longest (default 6); the table has all')
    args = parser.parse_args(argv)
    if args.people < 1:
        parser.error('--people must be 1 or more')
    try:
        images = report(args.db, args.out, args.day, args.week, args.people)
    except (LogError, OSError) as error:
        sys.exit(f'av-emotion-report: {error}')
    except sqlite3.Error as error:  # a damaged file
        sys.exit(f'av-emotion-report: {args.db}: cannot be read ({error})')
    print(f"wrote {', '.join(map(str, [args.out, *images]))}")


if __name__ == '__main__':
    main()
