"""Alert rules: read from a YAML file (config/monitor_rules.yaml) and checked on load.

A rule holds while all of its conditions hold: thresholds (`when`, "<field> <comparator>
<number>", a field being a REP-155 label's probability, valence, arousal or confidence) and
at most one change (`jump`: a field rose by `by` or more within `within` seconds; fell, for
a negative `by`). It raises an alert once it has held for `for` seconds. Anything wrong in
the file is a RulesError of one line naming the file, the rule and what is wrong.
"""
import math
import operator
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from av_emotion.config import config_path
from av_emotion.taxonomy import LABELS, canonical

SCALES = ('valence', 'arousal', 'confidence')
FIELDS = LABELS + SCALES
COMPARATORS = {'<': operator.lt, '<=': operator.le, '>': operator.gt, '>=': operator.ge}
KEYS = ('description', 'when', 'jump', 'for')
JUMP_KEYS = ('field', 'by', 'within')
# "<field> <comparator> <number>", spaces optional around the comparator.
CONDITION = re.compile(r'\s*([A-Za-z_]\w*)\s*([^\w\s.+-]+)\s*(\S+)\s*')


class RulesError(ValueError):
    """A rules file that cannot be used; the message is one line."""


@dataclass(frozen=True)
class Condition:
    field: str
    comparator: str
    threshold: float

    def holds(self, values):
        return COMPARATORS[self.comparator](values[self.field], self.threshold)

    def __str__(self):
        return f'{self.field} {self.comparator} {self.threshold:g}'


@dataclass(frozen=True)
class Jump:
    field: str
    by: float
    within: float  # seconds

    def change(self, value, window):
        """How far the field moved to `value` from its lowest (rise) or highest (fall) value
        in `window` (its values of the last `within` seconds, `value` included)."""
        return value - (min(window) if self.by > 0 else max(window))

    def holds(self, change):
        return change >= self.by if self.by > 0 else change <= self.by


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    conditions: tuple  # of Condition
    jump: object  # Jump or None
    duration: float  # seconds it must hold before it raises an alert

    @property
    def fields(self):
        """The fields the rule looks at, in order, once each."""
        names = [c.field for c in self.conditions] + ([self.jump.field] if self.jump else [])
        return list(dict.fromkeys(names))


def rules_path(name):
    """A rules file: a file name in av_emotion's config/, or an absolute path (~ too)."""
    path = Path(name).expanduser()
    return path if path.is_absolute() else Path(str(config_path('monitor_rules').parent / name))


def load_rules(name):
    """The rules of a rules file (see rules_path); RulesError of one line if unusable."""
    path = rules_path(name)
    try:
        tree = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise RulesError(f'{path}: no such rules file') from None
    except (OSError, UnicodeDecodeError) as error:
        raise RulesError(f'{path}: cannot be read ({error})') from None
    except yaml.YAMLError as error:
        where = getattr(error, 'problem_mark', None)
        line = f' at line {where.line + 1}' if where else ''
        raise RulesError(f'{path}: not YAML{line}: {getattr(error, "problem", error)}') from None
    if not isinstance(tree, dict) or not isinstance(tree.get('rules'), dict) or not tree['rules']:
        raise RulesError(f'{path}: no rules (a mapping `rules:` of rule names to rules)')
    return [parse_rule(path, str(name), spec) for name, spec in tree['rules'].items()]


def parse_rule(path, name, spec):
    def error(problem):
        return RulesError(f"{path}: rule '{name}': {problem}")

    if not isinstance(spec, dict):
        raise error('is not a mapping of ' + ', '.join(KEYS))
    for key in spec:
        if key not in KEYS:
            raise error(f"unknown field '{key}' (a rule has {', '.join(KEYS)})")
    when = spec.get('when', [])
    if isinstance(when, str):
        when = [when]
    if not isinstance(when, list):
        raise error("'when' is not a list of conditions")
    conditions = tuple(parse_condition(error, str(text)) for text in when)
    jump = parse_jump(error, spec['jump']) if 'jump' in spec else None
    if not conditions and jump is None:
        raise error("has no condition ('when' or 'jump')")
    duration = number(error, "'for'", spec.get('for', 0))
    if duration < 0:
        raise error(f"negative duration: 'for' is {duration:g} s")
    return Rule(name, str(spec.get('description', name)), conditions, jump, duration)


def parse_condition(error, text):
    match = CONDITION.fullmatch(text)
    if not match:
        raise error(f"condition '{text}' is not '<field> <comparator> <number>'")
    field, comparator, threshold = match.groups()
    field = checked_field(error, field)
    if comparator not in COMPARATORS:
        raise error(f"bad comparator '{comparator}' in '{text}' (one of "
                    f"{', '.join(COMPARATORS)})")
    threshold = number(error, f"the threshold of '{text}'", threshold)
    low = 0.0 if field in LABELS or field == 'confidence' else -1.0
    if not low <= threshold <= 1.0:
        raise error(f"threshold {threshold:g} of '{text}' is outside {field}'s range "
                    f'[{low:g}, 1]')
    return Condition(field, comparator, threshold)


def parse_jump(error, spec):
    if not isinstance(spec, dict) or set(spec) != set(JUMP_KEYS):
        raise error(f"'jump' is not a mapping of {', '.join(JUMP_KEYS)}")
    field = checked_field(error, str(spec['field']))
    by, within = (number(error, f"jump's '{key}'", spec[key]) for key in ('by', 'within'))
    if by == 0:
        raise error("jump's 'by' is 0 (a rise > 0, a fall < 0)")
    if within <= 0:
        raise error(f"negative duration: jump's 'within' is {within:g} s (> 0)")
    return Jump(field, by, within)


def checked_field(error, field):
    if field in FIELDS:
        return field
    if canonical(field):
        raise error(f"unknown label '{field}' (REP-155 calls it '{canonical(field)}')")
    raise error(f"unknown label or field '{field}' (labels {', '.join(LABELS)}; fields "
                f"{', '.join(SCALES)})")


def number(error, what, value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or isinstance(value, bool):
        raise error(f'{what} {value!r} is no number')
    return number
