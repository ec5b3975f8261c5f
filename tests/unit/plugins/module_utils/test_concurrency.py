# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrency (module_utils/_concurrency.py): for_each keeps order and bounds its threads; the ActionPool's slots."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _concurrency as concurrency


def test_action_pool_starts_no_thread_until_used_and_closes_twice():
    pool = concurrency.ActionPool(workers=2)
    assert pool._pool is None
    pool.close()
    assert pool.submit(lambda x: x * 2, 21).result() == 42
    pool.close()
    pool.close()
    assert pool._pool is None


@pytest.mark.parametrize('parallel', [1, 0, 2, 5, 50])
def test_for_each_keeps_the_order_and_bounds_the_threads(parallel):
    lock = threading.Lock()
    state = {'now': 0, 'max': 0, 'threads': set()}

    def work(item):
        with lock:
            state['now'] += 1
            state['max'] = max(state['max'], state['now'])
            state['threads'].add(threading.get_ident())
        time.sleep(0.005)
        with lock:
            state['now'] -= 1
        return item * item

    assert concurrency.for_each(work, range(10), parallel) == [i * i for i in range(10)]
    assert state['max'] <= max(1, min(parallel, 10))
    if parallel <= 1:
        assert state['threads'] == set([threading.get_ident()])
    assert concurrency.for_each(work, [], parallel) == []


def test_idle_outside_a_slot_is_a_no_op_and_slots_are_given_back():
    pool = concurrency.ActionPool(workers=1)
    with pool.idle():
        assert pool._slots.acquire(blocking=False), 'nothing was released: the only slot is free'
        pool._slots.release()
    with pool.slot():
        assert not pool._slots.acquire(blocking=False), 'the only slot is held'
        with pool.idle():
            assert pool._slots.acquire(timeout=1), 'free for another action during the wait'
            pool._slots.release()
        assert not pool._slots.acquire(blocking=False), 'held again after the wait'
    assert pool._slots.acquire(blocking=False)
    pool._slots.release()
