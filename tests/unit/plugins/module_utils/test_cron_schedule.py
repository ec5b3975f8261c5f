# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cron schedules as Debian's cron accepts them, and when they fire (module_utils/_cron_schedule.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _cron_schedule as cron
from tests.unit.helpers import refused


def at(year, month, day, hour=0, minute=0, second=0):
    return datetime.datetime(year, month, day, hour, minute, second)


# -- validate: what is accepted, and how it is normalised ----------------------------------------------------------

@pytest.mark.parametrize('value, normalised', [
    ('* * * * *', '* * * * *'),
    ('*/5 * * * *', '*/5 * * * *'),
    ('0 3 * * mon-fri', '0 3 * * mon-fri'),
    ('15 2,14 1-15/2 jan,jul 0', '15 2,14 1-15/2 jan,jul 0'),
    ('@daily', '@daily'),
    (' 0  1 * * * ', '0 1 * * *'),
    ('0\t1 *  *\t\t*\t', '0 1 * * *'),
    ('59 23 31 12 7', '59 23 31 12 7'),
    ('0 0 1 JAN SUN', '0 0 1 JAN SUN'),
    ('0 0 * Jan-Mar Sun-Sat', '0 0 * Jan-Mar Sun-Sat'),
    ('0-59/15 */2 1,15 * 1-5', '0-59/15 */2 1,15 * 1-5'),
    ('05 04 * * *', '05 04 * * *'),
    ('0 0 * * 5-7', '0 0 * * 5-7'),
    ('*/100 * * * *', '*/100 * * * *'),
    ('1,*/7,30-40 * * * *', '1,*/7,30-40 * * * *'),
    ('  @HOURLY ', '@hourly'),
    ('@Annually', '@annually'),
])
def test_accepted_schedules_come_back_normalised(value, normalised):
    assert cron.validate(value, 'schedule') == normalised


@pytest.mark.parametrize('descriptor', cron.DESCRIPTORS)
def test_every_descriptor_is_accepted_and_has_its_five_fields(descriptor):
    assert cron.validate(descriptor, 'schedule') == descriptor
    equivalent = cron.DESCRIPTOR_EQUIVALENTS[descriptor]
    assert cron.validate(equivalent, 'schedule') == equivalent


def test_the_descriptors():
    assert cron.DESCRIPTORS == ('@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly')
    assert sorted(cron.DESCRIPTOR_EQUIVALENTS) == sorted(cron.DESCRIPTORS)
    assert '@reboot' not in cron.DESCRIPTORS and '@every' not in cron.DESCRIPTORS


# -- validate: what is refused, and the words -----------------------------------------------------------------------

@pytest.mark.parametrize('value, words', [
    # the shape of the value
    (None, ['must be a string']),
    (5, ['must be a string']),
    (['* * * * *'], ['must be a string']),
    ('', ['must not be empty']),
    ('   ', ['must not be empty']),
    ('\t', ['must not be empty']),
    ('* * * *', [cron.FIELDS_RULE, '(found 4)']),
    ('0 * * * * *', ["'0 * * * * *'", 'must have 5 fields (minute hour day-of-month month day-of-week)',
                     '@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly', '(found 6)']),
    ('0 0 * * * root /bin/true', ['(found 7)']),
    # line breaks and control characters
    ('* * * * *\n', ['one line without control characters', "'\\n'"]),
    ('* * * * *\r* * * * *', ['control characters', "'\\r'"]),
    ('* * *\x00 * *', ['control characters', "'\\x00'"]),
    ('* * * * *\x7f', ['control characters']),
    ('* * * * *\x85', ['control characters']),
    ('* * * * *\u2028', ['control characters']),
    ('\x0b* * * * *', ['control characters', 'position 0']),
    # descriptors
    ('@reboot', ["'@reboot'", 'one-off at boot, not a schedule']),
    ('@REBOOT', ['one-off at boot, not a schedule']),
    ('@every 1h', ["'@every 1h'", "@every is known to Dokku's Go cron parser, not to Debian's cron", "'*/10 * * * *'"]),
    ('@EVERY 30m', ["not to Debian's cron"]),
    ('@weekdays', ["'@weekdays'", 'is not one of @yearly, @annually']),
    ('@', ['is not one of @yearly']),
    ('@daily 5', ['@daily stands alone']),
    # ranges of each field
    ('61 * * * *', ["'61 * * * *': minute 61 is out of range 0-59"]),
    ('60 * * * *', ['minute 60 is out of range 0-59']),
    ('0 24 * * *', ['hour 24 is out of range 0-23']),
    ('0 0 0 * *', ['day-of-month 0 is out of range 1-31']),
    ('0 0 32 * *', ['day-of-month 32 is out of range 1-31']),
    ('0 0 * 0 *', ['month 0 is out of range 1-12']),
    ('0 0 * 13 *', ['month 13 is out of range 1-12']),
    ('0 0 * * 8', ['day-of-week 8 is out of range 0-7']),
    ('0 0 * * 1-8', ['day-of-week 8 is out of range 0-7']),
    ('0 0 * * 99999999999999999999', ['day-of-week 99999999999999999999 is out of range 0-7']),
    # names
    ('0 0 * january *', ["month 'january' is neither a number 1-12 nor one of jan..dec"]),
    ('0 0 * * monday', ["day-of-week 'monday' is neither a number 0-7 nor one of sun..sat"]),
    ('0 0 * * 1mon', ["day-of-week '1mon' is neither a number"]),
    ('0 0 mon * *', ["day-of-month 'mon' is not a number 1-31"]),
    ('0 jan * * *', ["hour 'jan' is not a number 0-23"]),
    ('x * * * *', ["minute 'x' is not a number 0-59"]),
    # lists, ranges and steps
    ('1,,2 * * * *', ["minute has an empty item in '1,,2'"]),
    ('1, * * * *', ['minute has an empty item']),
    (',1 * * * *', ['minute has an empty item']),
    ('0 5-1 * * *', ["hour range '5-1' goes backwards"]),
    ('0 0 * * fri-mon', ["day-of-week range 'fri-mon' goes backwards"]),
    ('0 -5 * * *', ["hour range '-5' needs a start and an end"]),
    ('0 5- * * *', ["hour range '5-' needs a start and an end"]),
    ('0 1-2-3 * * *', ["hour '2-3' is not a number"]),
    ('5/10 * * * *', ["minute '5/10': a step needs '*' or a range before it (as in 5-59/10)"]),
    ('0 0 * jan/2 *', ["month 'jan/2': a step needs '*' or a range"]),
    ('*/0 * * * *', ["minute step '0' must be a whole number of at least 1"]),
    ('*/ * * * *', ["minute step '' must be a whole number"]),
    ('*/-1 * * * *', ["minute step '-1' must be a whole number"]),
    ('*/1.5 * * * *', ["minute has '.'"]),
    ('0 0 * jan-dec/feb *', ["month step 'feb' must be a whole number of at least 1 (not a name)"]),
    ('*/2/3 * * * *', ["minute step '2/3' must be a whole number"]),
    ('/5 * * * *', ["minute item '/5' has nothing before its step"]),
    ('** * * * *', ["minute '**' is not a number"]),
    # characters cron does not know, Quartz's among them
    ('0 0 ? * mon', ["'?' is Quartz cron syntax, which Debian's cron does not know"]),
    ('0 0 * * ?', ["'?' is Quartz cron syntax"]),
    ('0 0 L * *', ["'L' is Quartz cron syntax"]),
    ('0 0 LW * *', ["'LW' is Quartz cron syntax"]),
    ('0 0 15W * *', ["'15W' is Quartz cron syntax"]),
    ('0 0 L-3 * *', ["'L' is Quartz cron syntax"]),
    ('0 0 * * 5L', ["'5L' is Quartz cron syntax"]),
    ('0 0 * * friL', ["'friL' is Quartz cron syntax"]),
    ('0 0 * * mon#2', ["'#' is Quartz cron syntax"]),
    ('0 0 * * 6#3', ["'#' is Quartz cron syntax"]),
    ('0 0 * * 1;2', ["day-of-week has ';', which is not a digit, a letter of a name, '*', ',', '-' or '/'"]),
    ('0 0 * * \u00a0', ["day-of-week has '\\xa0'"]),
    ('% * * * *', ["minute has '%'"]),
    ('\uff11 * * * *', ['minute has']),
])
def test_refused_schedules_say_the_field_and_the_rule(value, words):
    message = refused(cron.validate, value, 'jobs.nightly.schedule')
    assert message.startswith('jobs.nightly.schedule: ')
    for word in words:
        assert word in message


def test_a_long_value_is_shown_shortened_to_40_characters():
    value = '0 0 * * ' + ','.join(['1'] * 30) + ',9'
    message = refused(cron.validate, value, 'schedule')
    shown = "'" + value[:37] + "...'"
    assert message == 'schedule: %s: day-of-week 9 is out of range 0-7' % shown
    assert len(shown) == 42


def test_the_value_is_shown_normalised_and_control_characters_never_shown_raw():
    message = refused(cron.validate, '  61   * * * *', 'schedule')
    assert message == "schedule: '61 * * * *': minute 61 is out of range 0-59"
    message = refused(cron.validate, '* * * * *\n0 0 * * * root rm -rf /', 'schedule')
    assert '\n' not in message and 'rm -rf' not in message


def test_the_first_bad_field_is_the_one_named():
    assert 'minute 60' in refused(cron.validate, '60 24 * * *', 'schedule')
    assert 'hour 24' in refused(cron.validate, '0 24 32 * *', 'schedule')


# -- matches ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('schedule, when, expected', [
    ('* * * * *', at(2026, 3, 4, 5, 6, 59), True),
    ('*/5 * * * *', at(2026, 3, 4, 5, 10), True),
    ('*/5 * * * *', at(2026, 3, 4, 5, 11), False),
    ('0 3 * * mon-fri', at(2026, 3, 6, 3, 0), True),         # a Friday
    ('0 3 * * mon-fri', at(2026, 3, 7, 3, 0), False),        # a Saturday
    ('0 3 * * mon-fri', at(2026, 3, 6, 4, 0), False),
    ('15 2,14 1-15/2 jan,jul 0', at(2026, 7, 3, 14, 15), True),   # the 3rd: an odd day in 1-15
    ('15 2,14 1-15/2 jan,jul 0', at(2026, 7, 4, 14, 15), False),  # the 4th, a Saturday
    ('15 2,14 1-15/2 jan,jul 0', at(2026, 7, 5, 14, 15), True),   # the 5th again, a Sunday: either rule
    ('15 2,14 1-15/2 jan,jul 0', at(2026, 7, 26, 2, 15), True),   # a Sunday far out of 1-15
    ('15 2,14 1-15/2 jan,jul 0', at(2026, 8, 2, 2, 15), False),   # a Sunday, but August
    ('0 0 * * 7', at(2026, 3, 1), True),                     # 7 is Sunday too
    ('0 0 * * 0', at(2026, 3, 1), True),
    ('0 0 * * sun', at(2026, 3, 2), False),
    ('@daily', at(2026, 3, 2, 0, 0), True),
    ('@daily', at(2026, 3, 2, 0, 1), False),
    ('@midnight', at(2026, 3, 2), True),
    ('@hourly', at(2026, 3, 2, 17, 0), True),
    ('@hourly', at(2026, 3, 2, 17, 30), False),
    ('@weekly', at(2026, 3, 1), True),                       # a Sunday
    ('@weekly', at(2026, 3, 2), False),
    ('@monthly', at(2026, 3, 1), True),
    ('@monthly', at(2026, 3, 2), False),
    ('@yearly', at(2027, 1, 1), True),
    ('@annually', at(2027, 2, 1), False),
])
def test_matches(schedule, when, expected):
    assert cron.matches(schedule, when) is expected


def test_day_of_month_or_day_of_week_when_both_are_restricted():
    schedule = '0 12 13 * fri'
    assert cron.matches(schedule, at(2026, 2, 13, 12))        # Friday the 13th
    assert cron.matches(schedule, at(2026, 3, 13, 12))        # the 13th, a Friday too
    assert cron.matches(schedule, at(2026, 4, 13, 12))        # the 13th, a Monday
    assert cron.matches(schedule, at(2026, 4, 17, 12))        # a Friday, the 17th
    assert not cron.matches(schedule, at(2026, 4, 14, 12))    # neither


def test_day_of_month_and_day_of_week_when_one_starts_with_a_star():
    # vixie cron: a field starting with '*' (even '*/2') leaves the other one alone to decide, and both must match
    assert cron.matches('0 0 * * fri', at(2026, 4, 17))
    assert not cron.matches('0 0 * * fri', at(2026, 4, 13))
    assert cron.matches('0 0 13 * *', at(2026, 4, 13))
    assert not cron.matches('0 0 13 * *', at(2026, 4, 17))
    assert cron.matches('0 0 */2 * fri', at(2026, 4, 17))      # the 17th: odd, a Friday
    assert not cron.matches('0 0 */2 * fri', at(2026, 4, 15))  # odd, but a Wednesday
    assert not cron.matches('0 0 */2 * fri', at(2026, 4, 24))  # a Friday, but even
    assert cron.matches('0 0 1-31/2 * fri', at(2026, 4, 15))   # a range: the either-rule again


def test_matches_refuses_an_invalid_schedule():
    assert 'schedule: ' in refused(cron.matches, '61 * * * *', at(2026, 1, 1))


# -- next_run --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('schedule, after, expected', [
    ('* * * * *', at(2026, 3, 4, 5, 6), at(2026, 3, 4, 5, 7)),
    ('* * * * *', at(2026, 3, 4, 5, 6, 59), at(2026, 3, 4, 5, 7)),
    ('*/15 * * * *', at(2026, 12, 31, 23, 50), at(2027, 1, 1, 0, 0)),
    ('0 3 * * mon-fri', at(2026, 3, 6, 3, 0), at(2026, 3, 9, 3, 0)),     # Friday 03:00 -> Monday
    ('0 3 * * mon-fri', at(2026, 3, 6, 2, 59, 30), at(2026, 3, 6, 3, 0)),
    ('30 14 * * *', at(2026, 3, 6, 14, 30), at(2026, 3, 7, 14, 30)),
    ('0 0 29 2 *', at(2026, 3, 1), at(2028, 2, 29)),
    ('0 0 29 2 *', at(2028, 2, 28, 23, 59), at(2028, 2, 29)),
    ('0 0 29 2 1', at(2026, 3, 1), at(2027, 2, 1)),                       # or any Monday in February
    ('0 12 13 * fri', at(2026, 4, 13, 12), at(2026, 4, 17, 12)),
    ('@yearly', at(2026, 1, 1), at(2027, 1, 1)),
    ('@weekly', at(2026, 3, 4, 12), at(2026, 3, 8)),
    ('@monthly', at(2026, 1, 31, 0, 1), at(2026, 2, 1)),
    ('59 23 31 12 *', at(2026, 1, 1), at(2026, 12, 31, 23, 59)),
])
def test_next_run(schedule, after, expected):
    assert cron.next_run(schedule, after) == expected


@pytest.mark.parametrize('schedule', ['0 0 31 2 *', '0 0 30 2 *', '0 0 31 apr,jun,sep,nov *'])
def test_next_run_of_a_date_that_never_comes_is_none(schedule):
    assert cron.validate(schedule, 'schedule') == schedule
    assert cron.next_run(schedule, at(2026, 1, 1)) is None


def test_next_run_looks_about_five_years_ahead():
    # 2100 is no leap year: after 29 February 2096, the next is in 2104, beyond the horizon
    assert cron.next_run('0 0 29 2 *', at(2096, 3, 1)) is None
    assert cron.next_run('0 0 29 2 *', at(2092, 3, 1)) == at(2096, 2, 29)


def test_next_run_keeps_the_time_zone_of_after():
    after = datetime.datetime(2026, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)
    assert cron.next_run('0 6 * * *', after) == datetime.datetime(2026, 3, 4, 6, 0, tzinfo=datetime.timezone.utc)
