# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Process types (module_utils/_formation.py): initial formation, and the formation fitted to new processes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils import _formation as formations


def test_initial_formation():
    assert formations.initial_formation(None) == {'web': 1}
    assert formations.initial_formation({'web': 'a', 'worker': 'b'}) == {'web': 1, 'worker': 0}
    assert formations.initial_formation({'worker': 'b', 'clock': 'c'}) == {'worker': 0, 'clock': 0}


def test_reconcile_formation_drops_missing_types_and_reports_scaled_ones():
    formation = {'web': 2, 'worker': 3, 'idle': 0, 'old': 1}
    processes = {'web': 'a', 'worker': 'b', 'new': 'c'}
    result, dropped = formations.reconcile_formation(formation, processes)
    assert result == {'web': 2, 'worker': 3, 'new': 0}
    assert dropped == ['old']
    assert formation == {'web': 2, 'worker': 3, 'idle': 0, 'old': 1}, 'input left alone'


def test_reconcile_formation_zero_types_are_not_reported():
    result, dropped = formations.reconcile_formation({'web': 1, 'gone': 0}, {'web': 'x'})
    assert result == {'web': 1}
    assert dropped == []


def test_reconcile_formation_several_dropped_sorted():
    _result, dropped = formations.reconcile_formation({'zz': 1, 'aa': 2, 'web': 1}, {'web': 'x'})
    assert dropped == ['aa', 'zz']


def test_reconcile_formation_without_processes_keeps_everything():
    assert formations.reconcile_formation({'web': 1, 'any': 4}, None) == ({'web': 1, 'any': 4}, [])
    assert formations.reconcile_formation(None, None) == ({}, [])


def test_reconcile_formation_dokku_scale_sets_counts():
    result, dropped = formations.reconcile_formation({'web': 1, 'worker': 0}, {'web': 'a', 'worker': 'b'},
                                                     {'worker': 4, 'web': 2})
    assert result == {'web': 2, 'worker': 4}
    assert dropped == []
