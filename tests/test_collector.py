"""Once a trace is long, the cyclic garbage collector runs less often but still runs, and
the user's own settings come back afterwards."""

from __future__ import annotations

import gc
import weakref

import pytest

import tracegraph as tg
from tracegraph.bulk import collections_spaced

LONG = 5_000  # operations: past the 4,096 after which a trace spaces collections out


@pytest.fixture(autouse=True)
def default_thresholds():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def long_chain(x, then=lambda: None):
    for _ in range(LONG):
        x = x * 1.0
    then()
    return x


def spaced_now() -> bool:
    young, older, _ = gc.get_threshold()
    return young >= collections_spaced.YOUNG and older >= collections_spaced.OLDER


def test_a_long_trace_spaces_collections_out_and_restores_them():
    seen = []
    tg.trace(lambda x: long_chain(x, lambda: seen.append(spaced_now())), x=0.3)
    assert seen == [True]
    assert gc.get_threshold() == (700, 10, 10)


def test_a_short_trace_leaves_the_collector_alone():
    seen = []
    tg.trace(lambda x: seen.append(gc.get_threshold()) or x * 2.0, x=0.3)
    assert seen == [(700, 10, 10)]


def test_thresholds_come_back_after_a_trace_that_raises():
    def fail():
        raise ValueError("in the user's code")

    with pytest.raises(ValueError):
        tg.trace(lambda x: long_chain(x, fail), x=1.0)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_nested_trace_ending_does_not_restore_the_outer_one_s_setting():
    seen = []

    def f(x):
        x = long_chain(x)
        g = tg.grad(lambda y: long_chain(y) * y, "y")(y=x)
        seen.append(spaced_now())
        return g * x

    t = tg.trace(f, x=3.0)
    assert t.value == 18.0 and seen == [True]
    assert gc.get_threshold() == (700, 10, 10)


def test_a_threshold_the_traced_code_sets_is_kept():
    tg.trace(lambda x: long_chain(x, lambda: gc.set_threshold(1234, 5, 6)), x=1.0)
    assert gc.get_threshold() == (1234, 5, 6)


def test_automatic_collection_switched_off_by_the_user_stays_off():
    gc.set_threshold(0)
    seen = []
    tg.trace(lambda x: long_chain(x, lambda: seen.append(gc.get_threshold()[0])), x=1.0)
    assert seen == [0]
    assert gc.get_threshold()[0] == 0


def test_cyclic_garbage_of_the_traced_code_is_still_collected_while_it_runs():
    class Node:
        pass

    collected = []

    def make_garbage():
        assert spaced_now()
        for _ in range(5 * collections_spaced.YOUNG):
            node = Node()
            node.self = node  # a cycle: only the collector frees it
            weakref.finalize(node, collected.append, 1)
        assert collected, "no cycle was freed while the trace ran"

    tg.trace(lambda x: long_chain(x, make_garbage), x=1.0)
