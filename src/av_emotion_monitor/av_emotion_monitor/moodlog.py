"""The mood log: per person and minute, a summary of the estimates, and the alerts, in an
SQLite file (no images, no audio, no single estimates). Times are stamp times in seconds
since 1970 (UTC); rows older than `retention_days` before the newest are deleted.

Plain rollback journal, not WAL: one file to copy or delete (no -wal, -shm beside it), on
any file system; the node writes one short transaction a minute (and one per alert), which
a report reading meanwhile waits for.
"""
import json
import sqlite3
from pathlib import Path

import numpy as np

from av_emotion.taxonomy import LABELS

NAME, VERSION = 'av_emotion_mood', 1
NS = 10**9
# Summed over a minute's estimates (then divided by their number) or added up.
MEANS = ('valence', 'arousal') + LABELS
SUMS = ('seconds', 'voice_seconds', 'face_seconds')
SCHEMA = f"""
CREATE TABLE schema_version (name TEXT NOT NULL, version INTEGER NOT NULL);
INSERT INTO schema_version VALUES ('{NAME}', {VERSION});
-- One row per person (device namespace, face id) and minute (its start).
-- seconds: time between consecutive estimates (each at most the monitor's max_gap), the
-- share with a voice, with a face (NULL: the source, the room view, does not say);
-- valence, arousal and the labels' probabilities: means over the minute's estimates.
CREATE TABLE minutes (
  device TEXT NOT NULL, face_id INTEGER NOT NULL, minute INTEGER NOT NULL,
  estimates INTEGER NOT NULL, seconds REAL NOT NULL, voice_seconds REAL, face_seconds REAL,
  {', '.join(f'{name} REAL NOT NULL' for name in MEANS)},
  PRIMARY KEY (device, face_id, minute)) WITHOUT ROWID;
CREATE INDEX minutes_by_time ON minutes (minute);
-- One row per alert: since (its rule began to hold), raised, cleared (NULL while active),
-- evidence (JSON: the values that raised it).
CREATE TABLE alerts (
  device TEXT NOT NULL, face_id INTEGER NOT NULL, rule TEXT NOT NULL,
  description TEXT NOT NULL, since REAL NOT NULL, raised REAL NOT NULL, cleared REAL,
  evidence TEXT NOT NULL, PRIMARY KEY (device, face_id, rule, since));
CREATE INDEX alerts_by_time ON alerts (raised);
"""
# A minute written again (the node restarted within it, an estimate came late) merges.
UPSERT = (f"INSERT INTO minutes VALUES ({', '.join('?' * (4 + len(SUMS) + len(MEANS)))}) "
          'ON CONFLICT (device, face_id, minute) DO UPDATE SET estimates = estimates + '
          'excluded.estimates, ' + ', '.join(f'{s} = {s} + excluded.{s}' for s in SUMS) + ', ' +
          ', '.join(f'{m} = ({m} * estimates + excluded.{m} * excluded.estimates) / '
                    '(estimates + excluded.estimates)' for m in MEANS))


class LogError(ValueError):
    """A file that is no mood log, or cannot be opened; the message is one line."""


def connect(path, create=False):
    """sqlite3 connection to the mood log at `path` (~ expanded), made with its schema when
    `create` and the file is new or empty, else read-only. LogError when the file is
    missing, not SQLite, or SQLite without our schema (or with another version of it)."""
    path = Path(path).expanduser()
    if not create and not path.is_file():
        raise LogError(f'{path}: no such file')
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        # Made at configure, used by the executor's callbacks: another thread, one at a time.
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode={'rwc' if create else 'ro'}",
                             uri=True, check_same_thread=False)
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if create and not tables:
            db.executescript(SCHEMA)
    except (sqlite3.OperationalError, OSError) as error:  # a folder, no permission, ...
        raise LogError(f'{path}: cannot be opened ({error})') from None
    except sqlite3.DatabaseError as error:  # "file is not a database"
        raise LogError(f'{path}: not an SQLite database ({error})') from None
    try:
        versions = db.execute('SELECT version FROM schema_version WHERE name = ?',
                              (NAME,)).fetchall()
    except sqlite3.Error:  # no such table, or another one of that name
        versions = []
    if not versions:
        db.close()
        raise LogError(f'{path}: an SQLite database, but not an av_emotion mood log (no '
                       f'{NAME} schema_version)')
    if versions[0][0] != VERSION:
        db.close()
        raise LogError(f'{path}: mood log schema version {versions[0][0]}, this av_emotion '
                       f'reads version {VERSION}')
    return db


class Bucket:
    """A person's estimates in one minute, summed."""

    def __init__(self, voice_known):
        self.estimates, self.seconds = 0, 0.0
        self.voice = self.face = 0.0 if voice_known else None
        self.means = np.zeros(len(MEANS))

    def add(self, estimate, seconds):
        self.estimates += 1
        self.seconds += seconds
        if self.voice is not None:
            self.voice += seconds * ('audio' in estimate.modalities)
            self.face += seconds * ('vision' in estimate.modalities)
        self.means += [estimate.valence, estimate.arousal, *estimate.probabilities]

    def row(self):
        return (self.estimates, self.seconds, self.voice, self.face,
                *(self.means / self.estimates).tolist())


class MoodLog:
    """Writes a monitor's estimates (as minutes) and alerts to the log at `path`."""

    def __init__(self, path, retention_days):
        self.path = Path(path).expanduser()
        self.db = connect(self.path, create=True)
        self.retention = retention_days * 86400
        self.buckets = {}  # (device, face id, minute) -> Bucket
        self.rows = 0  # minutes written

    def add(self, estimate, seconds):
        """An estimate; seconds: since the person's previous one (0 after a gap)."""
        minute = estimate.stamp // (60 * NS) * 60
        key = estimate.device, estimate.face_id, minute
        if key not in self.buckets:
            self.buckets[key] = Bucket(estimate.modalities is not None)
        self.buckets[key].add(estimate, seconds)

    def alert(self, event):
        """An alert raised (a row) or cleared (its row gets the time)."""
        key = event.device, event.face_id, event.rule.name, event.since / NS
        with self.db:
            if event.active:
                self.db.execute('INSERT OR REPLACE INTO alerts VALUES (?, ?, ?, ?, ?, ?, NULL, ?)',
                                (*key[:3], event.rule.description, key[3], event.stamp / NS,
                                 json.dumps(event.evidence)))
            else:
                self.db.execute('UPDATE alerts SET cleared = ? WHERE device = ? AND face_id = ? '
                                'AND rule = ? AND since = ?', (event.stamp / NS, *key))

    def flush(self, before=None):
        """Write the minutes that ended by stamp `before` (ns; None: all, the current ones
        too) and delete what is older than the retention before the newest minute written."""
        done = [key for key in self.buckets
                if before is None or (key[2] + 60) * NS <= before]
        if not done:
            return
        with self.db:
            self.db.executemany(UPSERT, [(*key, *self.buckets.pop(key).row()) for key in done])
            cutoff = max(key[2] for key in done) + 60 - self.retention
            self.db.execute('DELETE FROM minutes WHERE minute < ?', (cutoff,))
            self.db.execute('DELETE FROM alerts WHERE raised < ?', (cutoff,))
        self.rows += len(done)

    def close(self):
        self.flush()
        self.db.close()
