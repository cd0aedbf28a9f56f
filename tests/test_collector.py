"""While a trace records, the cyclic garbage collector runs less often but still runs,
and the user's own settings come back afterwards."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import tracegraph as tg
from tracegraph.bulk import collections_spaced


@pytest.fixture(autouse=True)
def default_thresholds():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_collections_are_spaced_out_during_a_trace_and_restored_after():
    seen = []

    def f(x):
        seen.append(gc.get_threshold())
        return np.tanh(x * 2.0)

    tg.trace(f, x=0.3)
    assert seen[0][0] >= collections_spaced.YOUNG
    assert seen[0][1] >= collections_spaced.OLDER
    assert gc.get_threshold() == (700, 10, 10)


def test_thresholds_come_back_after_a_trace_that_raises():
    def f(x):
        raise ValueError("in the user's code")

    with pytest.raises(ValueError):
        tg.trace(f, x=1.0)
    assert gc.get_threshold() == (700, 10, 10)


def test_nested_traces_restore_only_at_the_outermost():
    inner = []

    def f(x):
        g = tg.grad(lambda y: y * y, "y")(y=x)
        inner.append(gc.get_threshold()[0])
        return g * x

    t = tg.trace(f, x=3.0)
    assert t.value == 18.0
    assert inner[0] >= collections_spaced.YOUNG  # the inner trace's end did not restore
    assert gc.get_threshold() == (700, 10, 10)


def test_a_threshold_the_traced_code_sets_is_kept():
    def f(x):
        gc.set_threshold(1234, 5, 6)
        return x * 2.0

    tg.trace(f, x=1.0)
    assert gc.get_threshold() == (1234, 5, 6)


def test_automatic_collection_switched_off_by_the_user_stays_off():
    gc.set_threshold(0)
    seen = []
    tg.trace(lambda x: seen.append(gc.get_threshold()[0]) or x * 2.0, x=1.0)
    assert seen == [0]
    assert gc.get_threshold()[0] == 0


def test_cyclic_garbage_of_the_traced_code_is_still_collected_while_it_runs():
    class Node:
        pass

    collected = []

    def f(x):
        for _ in range(5 * collections_spaced.YOUNG):
            node = Node()
            node.self = node  # a cycle: only the collector frees it
            weakref.finalize(node, collected.append, 1)
        freed_inside = len(collected)
        return x * float(freed_inside > 0)

    t = tg.trace(f, x=1.0)
    assert t.value == 1.0, "no cycle was freed while the trace ran"
