"""Large graphs: the node budget, collapsing, focus and path, and scale."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import numpy as np
import pytest

import tracegraph as tg
from tracegraph.diagram import build_diagram, to_dot
from tracegraph.diagram.options import DiagramOptions
from tracegraph.diagram.view import select


def chain(x):
    for _ in range(60):
        x = np.tanh(x * 0.9 + 0.1)
    return x


@pytest.fixture(scope="module")
def chain_trace():
    return tg.trace(chain, x=0.5)


def drawn_edges_are_complete(view) -> None:
    """Every graph edge between drawn parts is inside one box or on exactly one drawn edge."""
    kept = set(view.nodes) | set(view.owner)
    counted: dict[tuple, int] = {}
    for edge in view.edges:
        for member in edge.members:
            counted[member] = counted.get(member, 0) + 1
            tail, head, _ = member
            assert view.owner.get(tail, tail) == edge.tail
            assert view.owner.get(head, head) == edge.head
    for tail, head, key in view.graph.edges(keys=True):
        if tail not in kept or head not in kept:
            continue
        inside = view.owner.get(tail, tail) == view.owner.get(head, head)
        assert counted.get((tail, head, key), 0) == (0 if inside else 1)


# --------------------------------------------------------------------------- repeated structure


def test_a_long_chain_becomes_first_step_box_and_tail(chain_trace):
    view = select(chain_trace.graph, DiagramOptions(max_nodes=20))
    # tape: x = 0, step k (0-based) records multiply, add, tanh at 3k+1 .. 3k+3;
    # the output is step 59's tanh.
    assert view.nodes == ["x", "n1", "n2", "n3", "n178", "n179", "chain"]
    (group,) = view.groups
    assert group.kind == "repeat" and group.title == "×58 repeated steps"
    assert group.members == [f"n{i}" for i in range(4, 178)]
    assert [(e.tail, e.head) for e in view.edges if group.id in (e.tail, e.head)] == [
        ("n3", group.id), (group.id, "n178")]
    drawn_edges_are_complete(view)


def test_the_repeat_box_says_what_repeats_and_how_to_see_it(chain_trace):
    d = build_diagram(chain_trace, max_nodes=20)
    assert d.node_count == 8
    assert "181 nodes is over the budget max_nodes=20: the diagram draws 8 boxes" in d.notes
    assert any(note.startswith("58 repeated steps of multiply → add → tanh (174 nodes")
               for note in d.notes)
    assert "max_nodes=None draws every node" in d.notes[-1]
    assert "each step: multiply → add → tanh" in d.dot
    assert "174 nodes: add 58 · multiply 58 · tanh 58" in d.dot


def test_gradient_range_of_a_box_shows_vanishing_gradients():
    def deep(x):
        for _ in range(40):
            x = np.tanh(x * 0.2)  # each step scales the gradient by about 0.2
        return x

    t = tg.trace(deep, x=1.0)
    view = select(t.graph, DiagramOptions(max_nodes=10))
    (group,) = view.groups
    magnitudes = [abs(t.graph.nodes[node]["grad"]) for node in group.members]
    low, high = min(magnitudes), max(magnitudes)
    assert low < 1e-20 < high  # the chain really makes gradients vanish
    d = build_diagram(t, max_nodes=10)
    (box,) = [line for line in d.dot.splitlines() if line.strip().startswith(f'"{group.id}" [label')]
    cells = re.findall(r'<TD ALIGN="LEFT" BGCOLOR="(#\w+)">(?:<FONT COLOR="\w+">)?([^<]+)<', box)
    shown = {text: colour for colour, text in cells}
    as_text = [f"{v:.4g}".replace("-", "−") for v in (low, high)]
    assert set(as_text) <= set(shown)
    assert shown[as_text[0]] != shown[as_text[1]]  # vanishing and healthy look different


def test_per_step_inputs_are_drawn_inside_the_box():
    with tg.Tracer() as tr:
        y = tr.input("x", 0.3)
        for i in range(100):
            w = tr.input(f"w{i}", 0.5)
            b = tr.input(f"b{i}", 0.1)
            y = np.tanh(y * w + b)
        t = tr.finish(y, name="y")
    view = select(t.graph, DiagramOptions(max_nodes=30))
    (group,) = view.groups
    # steps 1..98 are summarised; their 196 inputs are only used there
    assert len(group.members) == 3 * 98
    assert group.absorbed == [name for i in range(1, 99) for name in (f"w{i}", f"b{i}")]
    assert view.nodes == ["x", "w0", "b0", "n3", "n4", "n5", "w99", "b99", "n498", "n499", "y"]
    drawn_edges_are_complete(view)
    assert "+ 196 inputs used only here (w1, b1, w2, …)" in to_dot(t, max_nodes=30)


# --------------------------------------------------------------------------- scopes


def scoped_model(x, W):
    with tg.scope("encoder"):
        h = x @ W
        for _ in range(12):
            h = np.tanh(h) + h * 0.5
    with tg.scope("decoder"):
        with tg.scope("head"):
            out = np.sum(h * h)
        out = tg.name(out * 2.0, "score")
    return out


@pytest.fixture(scope="module")
def scoped_trace():
    return tg.trace(scoped_model, x=np.ones((2, 3)), W=np.full((3, 2), 0.1))


def test_under_budget_scopes_are_nested_clusters(scoped_trace):
    d = build_diagram(scoped_trace, legend=False)
    assert d.notes == []
    labels = re.findall(r"subgraph cluster_\d+ \{ label=<<I>(\w+)</I>>", d.dot)
    assert labels == ["encoder", "decoder", "head"]

    def depth(text: str) -> int:  # braces open before the text (the names here have none)
        before = d.dot[: d.dot.index(text)]
        return before.count("{") - before.count("}")

    assert depth("label=<<I>encoder</I>>") == depth("label=<<I>decoder</I>>") == 2
    assert depth("label=<<I>head</I>>") == 3  # head's cluster sits inside decoder's
    assert depth('"score" [') == 2 and depth('"x" [') == 1


def test_over_budget_the_largest_scope_collapses_first(scoped_trace):
    graph = scoped_trace.graph
    view = select(graph, DiagramOptions(max_nodes=12))
    (group,) = view.groups
    encoder = [n for n, d in graph.nodes(data=True) if d["scope"] == ("encoder",)]
    assert group.kind == "scope" and group.title == "encoder" and group.members == encoder
    assert "decoder" in {s for n in view.nodes for s in graph.nodes[n]["scope"]}
    drawn_edges_are_complete(view)
    notes = build_diagram(scoped_trace, max_nodes=12).notes
    assert (f"scope 'encoder' ({len(encoder)} nodes) collapsed; expand={{'encoder'}} "
            "draws it") in notes


def test_expand_keeps_a_scope_open_and_its_inner_scopes_become_candidates(scoped_trace):
    view = select(scoped_trace.graph, DiagramOptions(max_nodes=5, expand={"encoder"}))
    titles = [g.title for g in view.groups]
    assert "encoder" not in titles and "decoder" in titles
    inner = select(scoped_trace.graph, DiagramOptions(max_nodes=30, expand={"decoder"}))
    assert [g.title for g in inner.groups][:1] == ["encoder"]
    deep = select(scoped_trace.graph, DiagramOptions(max_nodes=5, expand={"decoder", "encoder"}))
    assert all(g.title != "decoder" for g in deep.groups)


def test_unknown_expand_names_are_reported(scoped_trace):
    notes = build_diagram(scoped_trace, expand={"encodr"}).notes
    assert notes == ["expand: no scope named 'encodr' in the diagram"]


# --------------------------------------------------------------------------- segments


def irregular(seed: int, size: int):
    """A computation with no scopes and no repeating pattern."""
    rng = np.random.default_rng(seed)
    ops = [np.add, np.multiply, np.subtract]

    def f(a, b, c):
        values = [a, b, c]
        for _ in range(size):
            i, j = rng.integers(0, len(values), 2)
            op = ops[rng.integers(0, 3)]
            values.append(np.tanh(op(values[i], values[j])) if rng.random() < 0.3
                          else op(values[i], values[j]))
        return tg.name(sum(values[-5:]), "total")

    return tg.trace(f, a=0.3, b=-0.2, c=0.7)


def test_without_structure_the_tape_is_cut_into_segments():
    t = irregular(0, 300)
    view = select(t.graph, DiagramOptions(max_nodes=30))
    kinds = {g.kind for g in view.groups}
    assert "segment" in kinds
    assert len(view.items) <= 30
    assert "total" in view.nodes
    drawn_edges_are_complete(view)
    notes = build_diagram(t, max_nodes=30).notes
    segments = sum(1 for g in view.groups if g.kind == "segment")
    assert any(f"cut into {segments} segments of the tape" in note for note in notes)


def test_budget_is_met_for_many_shapes_of_graph():
    for seed in range(4):
        t = irregular(seed, 150)
        for budget in (5, 12, 40):
            view = select(t.graph, DiagramOptions(max_nodes=budget))
            assert len(view.items) <= budget
            drawn_edges_are_complete(view)


# --------------------------------------------------------------------------- what stays visible


def test_marked_and_focused_nodes_are_never_collapsed(chain_trace):
    marks = {"n90": {"status": "wrong", "note": "check this"}}
    view = select(chain_trace.graph, DiagramOptions(max_nodes=20, marks=marks))
    assert "n90" in view.nodes and "n90" not in view.owner
    assert len(view.groups) >= 2  # the run is split around the marked node
    drawn_edges_are_complete(view)


def test_focus_keeps_a_node_and_its_ancestors():
    def f(a, b, c):
        left = tg.name(a * b, "left")
        right = tg.name(b + c, "right")
        return tg.name(left * right, "out")

    t = tg.trace(f, a=1.0, b=2.0, c=3.0)
    assert select(t.graph, DiagramOptions(focus="left")).nodes == ["a", "b", "left"]
    assert select(t.graph, DiagramOptions(path=("c", "out"))).nodes == ["c", "right", "out"]
    assert select(t.graph, DiagramOptions(path=("b", "out"))).nodes == [
        "b", "left", "right", "out"]
    notes = build_diagram(t, path=("c", "out")).notes
    assert notes == ["only the 3 nodes on paths from 'c' to 'out' (of 6); drop path to see all"]


def test_max_nodes_none_draws_every_node(chain_trace):
    d = build_diagram(chain_trace, max_nodes=None)
    non_literal = [n for n, data in chain_trace.graph.nodes(data=True)
                   if data["kind"] != "constant"]
    assert d.node_count == len(non_literal) == 181
    assert d.notes == []


# --------------------------------------------------------------------------- scale


def test_a_large_trace_summarises_quickly():
    with tg.Tracer() as tr:
        y = tr.input("x", 0.3)
        for i in range(4000):
            y = np.tanh(y * tr.input(f"w{i}", 0.5) + tr.input(f"b{i}", 0.1))
        t = tr.finish(y, name="y")
    graph = t.graph
    assert graph.number_of_nodes() == 20_001
    start = time.perf_counter()
    d = build_diagram(t)
    elapsed = time.perf_counter() - start
    assert d.node_count <= 200
    assert elapsed < 10  # linear passes take well under a second; quadratic ones take minutes


def test_building_never_recurses_deeply(tmp_path):
    script = tmp_path / "deep.py"
    script.write_text(
        "import sys, numpy as np, tracegraph as tg\n"
        "from tracegraph.diagram import build_diagram\n"
        "def chain(x):\n"
        "    for _ in range(2000):\n"
        "        x = np.tanh(x * 0.9 + 0.1)\n"
        "    return x\n"
        "t = tg.trace(chain, x=0.5)\n"
        "t.graph\n"
        "sys.setrecursionlimit(100)\n"
        "full = build_diagram(t, max_nodes=None, focus='chain')\n"
        "small = build_diagram(t)\n"
        "print(full.node_count, small.node_count)\n")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["6001", "8"]
