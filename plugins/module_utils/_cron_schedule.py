# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cron schedules: the ones Debian's cron (vixie cron 3.0pl1, reading /etc/cron.d) accepts, and when they fire.

A schedule is five fields (minute hour day-of-month month day-of-week) or one of the @-descriptors below. What
other dialects know beyond that (``@every <duration>`` of Dokku's Go parser; Quartz's ``?``, ``L``, ``W`` and ``#``)
is refused with words that say so, because the schedule ends up in a crontab line that Debian's cron reads.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
import unicodedata

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError

# The @-names accepted, in the order the rules list them. @reboot (Debian's cron knows it) is not a schedule.
DESCRIPTORS = ('@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly')
# What each descriptor means, as five fields.
DESCRIPTOR_EQUIVALENTS = {
    '@yearly': '0 0 1 1 *',
    '@annually': '0 0 1 1 *',
    '@monthly': '0 0 1 * *',
    '@weekly': '0 0 * * 0',
    '@daily': '0 0 * * *',
    '@midnight': '0 0 * * *',
    '@hourly': '0 * * * *',
}

MONTH_NAMES = ('jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec')
DAY_NAMES = ('sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat')

# (name, lowest, highest, names and the number of the first one)
FIELDS = (
    ('minute', 0, 59, None),
    ('hour', 0, 23, None),
    ('day-of-month', 1, 31, None),
    ('month', 1, 12, (MONTH_NAMES, 1)),
    ('day-of-week', 0, 7, (DAY_NAMES, 0)),
)

FIELDS_RULE = ('must have 5 fields (minute hour day-of-month month day-of-week) or be one of %s'
               % ', '.join(DESCRIPTORS))

# How far next_run looks ahead.
HORIZON = datetime.timedelta(days=5 * 366)

SHOWN_LENGTH = 40
_ALLOWED_CHARACTERS = re.compile(r'[0-9A-Za-z*,/-]*')
_NUMBER = re.compile(r'[0-9]+')
_NAME = re.compile(r'[A-Za-z]+')
# Quartz's last-day, weekday and nth-weekday marks: L, LW, 15W, 5L, friL.
_QUARTZ_ITEM = re.compile(r'([0-9]{0,2}|[a-z]{3})l|[0-9]{0,2}w|lw', re.I)
_WHITESPACE = re.compile(r'[ \t]+')


def _shown(value):
    """``value`` quoted for a message, shortened to SHOWN_LENGTH characters."""
    if len(value) > SHOWN_LENGTH:
        value = value[:SHOWN_LENGTH - 3] + '...'
    return "'%s'" % value


def _control_character(value):
    """The first line break or control character of ``value`` (a tab is whitespace), with its position."""
    for position, character in enumerate(value):
        if character != '\t' and unicodedata.category(character) in ('Cc', 'Zl', 'Zp'):
            return character, position
    return None, None


def _quartz(character):
    return ("%s is Quartz cron syntax, which Debian's cron does not know (it has no ?, L, W or #)" % character)


def _value(text, field, shown):
    """The number ``text`` stands for in ``field`` (a number or, where the field has them, a name)."""
    name, low, high, names = field
    if _NUMBER.fullmatch(text):
        number = int(text)
        if not low <= number <= high:
            raise ValueError('%s: %s %s is out of range %d-%d' % (shown, name, text, low, high))
        return number
    if names is not None and _NAME.fullmatch(text) and text.lower() in names[0]:
        return names[0].index(text.lower()) + names[1]
    if name in ('day-of-month', 'day-of-week') and _QUARTZ_ITEM.fullmatch(text):
        raise ValueError('%s: %s' % (shown, _quartz("'%s'" % text)))
    if names is not None:
        raise ValueError("%s: %s '%s' is neither a number %d-%d nor one of %s..%s"
                         % (shown, name, text, low, high, names[0][0], names[0][-1]))
    raise ValueError("%s: %s '%s' is not a number %d-%d" % (shown, name, text, low, high))


def _item(item, field, shown):
    """The numbers the list item ``item`` of ``field`` stands for."""
    name, low, high, _names = field
    base, slash, step_text = item.partition('/')
    step = 1
    if slash:
        if not _NUMBER.fullmatch(step_text) or int(step_text) < 1:
            raise ValueError("%s: %s step '%s' must be a whole number of at least 1%s"
                             % (shown, name, step_text, ' (not a name)' if _NAME.fullmatch(step_text) else ''))
        step = int(step_text)
    if base == '*':
        first, last = low, high
    elif '-' in base:
        first_text, _dash, last_text = base.partition('-')
        if not first_text or not last_text:
            raise ValueError("%s: %s range '%s' needs a start and an end" % (shown, name, base))
        first, last = _value(first_text, field, shown), _value(last_text, field, shown)
        if first > last:
            raise ValueError("%s: %s range '%s' goes backwards" % (shown, name, base))
    elif not base:
        raise ValueError("%s: %s item '%s' has nothing before its step" % (shown, name, item))
    else:
        number = _value(base, field, shown)
        if slash:
            raise ValueError("%s: %s '%s': a step needs '*' or a range before it (as in %s-%d/%s)"
                             % (shown, name, item, base, high, step_text))
        return {number}
    return set(range(first, last + 1, step))


def _field(text, field, shown):
    """The set of numbers the field ``text`` stands for."""
    name = field[0]
    for character in text:
        if character in '?#':
            raise ValueError('%s: %s' % (shown, _quartz("'%s'" % character)))
    if not _ALLOWED_CHARACTERS.fullmatch(text):
        bad = [character for character in text if not _ALLOWED_CHARACTERS.fullmatch(character)][0]
        raise ValueError("%s: %s has %r, which is not a digit, a letter of a name, '*', ',', '-' or '/'"
                         % (shown, name, bad))
    numbers = set()
    for item in text.split(','):
        if not item:
            raise ValueError("%s: %s has an empty item in '%s'" % (shown, name, text))
        numbers |= _item(item, field, shown)
    return numbers


def _parse(fields, shown):
    """The sets of minutes, hours, days of the month, months and days of the week (0-6) ``fields`` stand for."""
    sets = [_field(text, field, shown) for text, field in zip(fields, FIELDS)]
    if 7 in sets[4]:
        sets[4] = (sets[4] - {7}) | {0}
    return sets


def validate(value, field):
    """``value`` normalised (whitespace stripped and collapsed, descriptors lowercased) when Debian's cron accepts
    it as a schedule, else a ValidationError naming ``field`` and the rule."""
    if not isinstance(value, str):
        raise ValidationError(field, 'must be a string (a cron schedule such as "0 3 * * *" or @daily)')
    character, position = _control_character(value)
    if character is not None:
        raise ValidationError(field, 'must be one line without control characters (found %r at position %d)'
                              % (character, position))
    words = _WHITESPACE.split(value.strip(' \t'))
    if words == ['']:
        raise ValidationError(field, 'must not be empty (a cron schedule such as "0 3 * * *" or @daily)')
    normalised = ' '.join(words)
    shown = _shown(normalised)
    if words[0].startswith('@'):
        descriptor = words[0].lower()
        if descriptor == '@reboot':
            raise ValidationError(field, '%s: @reboot is a one-off at boot, not a schedule' % shown)
        if descriptor == '@every':
            raise ValidationError(field, "%s: @every is known to Dokku's Go cron parser, not to Debian's cron; "
                                         "use five fields such as '*/10 * * * *'" % shown)
        if descriptor not in DESCRIPTORS:
            raise ValidationError(field, '%s: %s is not one of %s' % (shown, words[0], ', '.join(DESCRIPTORS)))
        if len(words) > 1:
            raise ValidationError(field, '%s: %s stands alone, with nothing after it' % (shown, descriptor))
        return descriptor
    if len(words) != len(FIELDS):
        raise ValidationError(field, '%s: %s (found %d)' % (shown, FIELDS_RULE, len(words)))
    try:
        _parse(words, shown)
    except ValueError as error:
        raise ValidationError(field, str(error))
    return normalised


def _compiled(schedule):
    """The parsed sets of ``schedule`` and whether day-of-month and day-of-week are both restricted."""
    normalised = validate(schedule, 'schedule')
    fields = DESCRIPTOR_EQUIVALENTS.get(normalised, normalised).split(' ')
    sets = _parse(fields, _shown(normalised))
    # vixie cron: a day field that starts with '*' (even '*/2') is unrestricted for the either-rule.
    either = not fields[2].startswith('*') and not fields[4].startswith('*')
    return sets, either


def _day_matches(compiled, when):
    (_minutes, _hours, days, months, weekdays), either = compiled
    if when.month not in months:
        return False
    day, weekday = when.day in days, (when.weekday() + 1) % 7 in weekdays
    return (day or weekday) if either else (day and weekday)


def matches(schedule, when):
    """Whether cron fires ``schedule`` (a valid schedule) in the minute of the datetime ``when``.

    As vixie cron: when day-of-month and day-of-week are both restricted (neither starts with '*'), a day matches
    when either does; otherwise both must."""
    compiled = _compiled(schedule)
    minutes, hours = compiled[0][0], compiled[0][1]
    return _day_matches(compiled, when) and when.hour in hours and when.minute in minutes


def next_run(schedule, after):
    """The first minute strictly after the datetime ``after`` (its seconds dropped) at which cron fires
    ``schedule``, or None when there is none within HORIZON (about 5 years), as for '0 0 31 2 *'."""
    compiled = _compiled(schedule)
    minutes, hours = compiled[0][0], compiled[0][1]
    when = after.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    limit = after + HORIZON
    while when <= limit:
        if not _day_matches(compiled, when):
            when = when.replace(hour=0, minute=0) + datetime.timedelta(days=1)
        elif when.hour not in hours:
            when = when.replace(minute=0) + datetime.timedelta(hours=1)
        elif when.minute not in minutes:
            when += datetime.timedelta(minutes=1)
        else:
            return when
    return None
