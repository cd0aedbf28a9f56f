"""The annotated graph: schema, invariants of the chain rule, export, determinism."""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tracegraph as tg
from tracegraph.graph import from_json, to_json

NODE_KEYS = {"kind", "op", "label", "name", "expr", "value", "grad", "shape", "dtype", "index",
             "scope", "value_nonfinite", "grad_nonfinite"}
EDGE_KEYS = {"position", "formula", "local", "contribution"}


def mlp(W1, b1, W2, b2, X, Y):
    with tg.scope("layer1"):
        h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    return tg.softmax_cross_entropy(logits, Y)


def mds(X, D):
    I, J = np.triu_indices(X.shape[0], 1)
    diff = X[I] - X[J]
    d = np.sqrt(np.sum(diff * diff, axis=1))
    return np.sum((D[I, J] - d) ** 2)


def broadcasting(a, b, c):
    shared = a * b                     # fan-out: used three times below
    return np.sum(shared + c) + np.mean(shared * shared) - np.max(shared / (1.0 + c * c))


def _programs():
    rng = np.random.default_rng(0)
    yield tg.trace(mlp, W1=rng.normal(size=(3, 4)), b1=np.zeros(4), W2=rng.normal(size=(4, 2)),
                   b2=np.zeros(2), X=tg.constant(rng.normal(size=(5, 3))),
                   Y=tg.constant(np.eye(2)[[0, 1, 1, 0, 1]]))
    points = rng.normal(size=(4, 2))
    yield tg.trace(mds, X=rng.normal(size=(4, 2)),
                   D=tg.constant(np.linalg.norm(points[:, None] - points[None], axis=-1)))
    yield tg.trace(broadcasting, a=rng.normal(size=(3, 1)), b=rng.normal(size=(4,)), c=0.5)


@pytest.fixture(scope="module", params=["mlp", "mds", "broadcasting"])
def trace(request):
    return dict(zip(["mlp", "mds", "broadcasting"], _programs()))[request.param]


def test_schema_attributes_and_graph_metadata(trace):
    g = trace.graph
    assert isinstance(g, nx.MultiDiGraph) and nx.is_directed_acyclic_graph(g)
    assert g.graph["output"] in g and g.nodes[g.graph["output"]]["kind"] == "output"
    assert set(g.graph["inputs"]) == set(trace.grads)
    for node, data in g.nodes(data=True):
        assert NODE_KEYS <= set(data), node
        assert data["kind"] in {"input", "constant", "op", "output"}
        assert tuple(np.shape(data["value"])) == data["shape"]
        if data["grad"] is not None:
            assert np.shape(data["grad"]) == data["shape"], node
    for u, v, key, data in g.edges(keys=True, data=True):
        assert EDGE_KEYS <= set(data)
        assert data["position"] == key
        assert isinstance(data["formula"], str) and data["formula"]


def test_each_gradient_is_the_sum_of_what_flows_back_along_its_edges(trace):
    g = trace.graph
    for node, data in g.nodes(data=True):
        if data["kind"] in {"constant", "output"}:
            continue
        flows = [d["contribution"] for _, _, d in g.out_edges(node, data=True)]
        total = np.sum(np.stack([np.broadcast_to(f, data["shape"]) for f in flows]), axis=0)
        np.testing.assert_allclose(data["grad"], total, rtol=1e-12, atol=1e-14, err_msg=node)


def test_input_gradients_are_the_graph_gradients(trace):
    for name, grad in trace.grads.items():
        np.testing.assert_array_equal(trace.graph.nodes[name]["grad"], grad)


def test_gradients_match_central_differences(trace):
    """The done-criterion workloads: MLP with softmax cross-entropy, MDS stress."""
    fn = {"mlp": mlp, "mds": mds, "broadcasting": broadcasting}[trace.output_name]
    values = {**trace.inputs, **trace.constants}
    for name, grad in trace.grads.items():
        base = np.asarray(values[name], dtype=float)
        numeric = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            shifted = []
            for sign in (1, -1):
                probe = base.copy()
                probe[index] += sign * 1e-6
                shifted.append(fn(**{**values, name: probe if base.shape else float(probe)}))
            numeric[index] = (shifted[0] - shifted[1]) / 2e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7, err_msg=name)


def test_json_export_roundtrips_without_pickle(trace):
    text = to_json(trace.graph)
    data = json.loads(text)
    assert data["directed"] and data["multigraph"]
    back = from_json(text)
    assert set(back.nodes) == set(trace.graph.nodes)
    assert sorted(back.edges(keys=True)) == sorted(trace.graph.edges(keys=True))
    for node in trace.grads:
        np.testing.assert_allclose(np.asarray(back.nodes[node]["grad"]), trace.grads[node])


def test_same_computation_gives_identical_json():
    first = to_json(next(_programs()).graph)
    second = to_json(next(_programs()).graph)
    assert first == second


def test_nan_and_infinity_survive_json():
    with np.errstate(divide="ignore"), pytest.warns(tg.NonFiniteWarning):
        t = tg.trace(lambda x: np.sum(np.log(x)), x=np.array([0.0, 1.0]))
    data = json.loads(to_json(t.graph))
    values = {n["id"]: n["value"] for n in data["nodes"]}
    assert "-Infinity" in json.dumps(values)


def test_sums_fold_into_one_node_like_the_lecture():
    def f(a, b, c):
        return tg.name(a + b + c, "G") * 2.0
    traced = tg.trace(f, a=1.0, b=2.0, c=3.0)
    g = traced.graph
    in_order = sorted(g.in_edges("G", keys=True), key=lambda e: e[2])
    assert [u for u, _, _ in in_order] == ["a", "b", "c"]
    unfolded = tg.graph.build_graph(traced.tape, traced.adjoints(), fold_sums=False)
    assert unfolded.in_degree("G") == 2


def test_named_partial_sums_are_kept():
    def f(a, b, c):
        ab = tg.name(a + b, "AB")
        return ab + c + ab
    g = tg.trace(f, a=1.0, b=2.0, c=3.0).graph
    assert "AB" in g
    assert g.nodes["AB"]["grad"] == 2.0


def test_node_ids_are_names_or_counters_and_unique():
    def f(x):
        y = x
        for _ in range(3):
            y = tg.name(np.tanh(y), "y")
        return y
    g = tg.trace(f, x=0.1).graph
    assert list(g.nodes) == ["x", "y", "y#2", "y#3"]
    assert g.graph["output"] == "y#3"


def test_nodes_after_the_output_are_left_out():
    captured = {}

    def f(x):
        loss = x * x
        captured["side"] = tg.name(loss * 3.0, "side")   # computed, never used
        return loss
    t = tg.trace(f, x=2.0)
    assert "side" not in t.graph


@given(st.lists(st.sampled_from(["add", "mul", "tanh", "reuse", "square"]), min_size=1,
                max_size=25), st.floats(-1.5, 1.5))
@settings(max_examples=60, deadline=None)
def test_random_programs_keep_the_chain_rule_invariants(steps, start):
    def program(x):
        values = [x]
        for step in steps:
            last = values[-1]
            if step == "add":
                values.append(last + values[len(values) // 2])
            elif step == "mul":
                values.append(last * values[0])
            elif step == "tanh":
                values.append(np.tanh(last))
            elif step == "square":
                values.append(last ** 2)
            else:
                values.append(last - values[-1] * 0.5 + values[0])
        return values[-1]
    t = tg.trace(program, x=start)
    g = t.graph
    for node, data in g.nodes(data=True):
        if data["kind"] in {"constant", "output"}:
            continue
        total = sum(d["contribution"] for _, _, d in g.out_edges(node, data=True))
        assert data["grad"] == pytest.approx(total, rel=1e-9, abs=1e-12)
    eps = 1e-6
    numeric = (program(start + eps) - program(start - eps)) / (2 * eps)
    assert t.grads["x"] == pytest.approx(numeric, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("fn", [
    lambda x: np.sum(np.concatenate([x])),
    lambda x: np.sum(np.stack([x])),
    lambda x: np.sum(x.T @ x),
    lambda x: np.sum(tg.log_softmax(x)),
])
def test_size_one_arrays_get_a_numeric_local_derivative(fn):
    g = tg.trace(fn, x=np.ones(1)).graph
    for _, _, data in g.out_edges("x", data=True):
        assert isinstance(data["local"], float)


def _brute_force_shares(graph, source):
    shares = []
    for path in tg.graph.chain_paths(graph, source, limit=10**6):
        share = 1.0
        for edge in path:
            share *= graph.edges[edge]["local"]
        shares.append(share)
    return shares


def test_paths_are_counted_and_ranked_without_listing_them_all():
    def f(x, y):
        a = x * y
        b = np.tanh(a + x)
        c = b * b + a * 3.0
        return c * x + np.sin(b)
    graph = tg.trace(f, x=0.7, y=-1.3).graph
    for source in ("x", "y"):
        shares = _brute_force_shares(graph, source)
        assert tg.graph.count_paths(graph, source) == len(shares)
        strongest = tg.graph.strongest_paths(graph, source, k=3)
        expected = sorted(shares, key=abs, reverse=True)[:3]
        assert [share for _, share in strongest] == pytest.approx(expected, rel=1e-12)
        for edges, share in strongest:
            assert edges[0][0] == source and edges[-1][1] == graph.graph["output"]
            product = 1.0
            for edge in edges:
                product *= graph.edges[edge]["local"]
            assert product == pytest.approx(share, rel=1e-12)
        everything = tg.graph.strongest_paths(graph, source, k=10**6)
        assert math.fsum(s for _, s in everything) == pytest.approx(graph.nodes[source]["grad"])


def test_counting_paths_scales_to_exponentially_many():
    def f(x):
        for _ in range(60):
            x = x * x
        return x
    graph = tg.trace(f, x=1.0).graph
    assert tg.graph.count_paths(graph, "x") == 2 ** 60
    assert len(tg.graph.strongest_paths(graph, "x", k=5)) == 5


def test_paths_are_listed_in_depth_first_order_and_summed_by_dynamic_programming():
    def f(x, y):
        a = x * y
        b = np.tanh(a + x)
        c = b * b + a * 3.0
        return c * x + np.sin(b)
    graph = tg.trace(f, x=0.7, y=-1.3).graph
    for source in ("x", "y", "n2"):
        everything = list(nx.all_simple_edge_paths(graph, source, graph.graph["output"]))
        assert tg.graph.chain_paths(graph, source, limit=10**6) == everything
        assert tg.graph.chain_paths(graph, source, limit=3) == everything[:3]
        total = tg.graph.sum_over_paths(graph, source)
        assert total == pytest.approx(math.fsum(_brute_force_shares(graph, source)), rel=1e-12)
        assert total == pytest.approx(graph.nodes[source]["grad"], rel=1e-12)
    assert tg.graph.sum_over_paths(graph, "y", "x") == 0.0  # no path: y does not lead to x
    assert tg.graph.chain_paths(graph, "x", "x") == []


def test_the_sum_over_paths_of_array_edges_is_not_a_number():
    t = tg.trace(lambda w: np.sum(np.tanh(w) * 2.0), w=np.ones(3))
    assert tg.graph.sum_over_paths(t.graph, "w") is None
    assert tg.graph.count_paths(t.graph, "w") == 1


@pytest.mark.parametrize("fn", [
    lambda x: x * 2.0,
    lambda x: tg.name(x * 2.0, "x") + 1.0,                        # the output reuses a name
    lambda x: tg.name(tg.name(x + 1.0, "n2") + x + x, "n2"),      # a user name like an id
    lambda x: tg.name(x + 1.0, "n3") * (x + x + x),               # folded sums, a name n3
    lambda x: 3.0,                                                # a constant output
])
def test_the_output_id_is_known_without_building_the_graph(fn):
    t = tg.trace(fn, x=1.5)
    assert tg.graph.output_id(t.tape) == t.graph.graph["output"]


def test_node_link_json_has_networkx_layout_and_reads_back():
    def f(w, x):
        h = tg.name(np.tanh(w * x), "h")
        return tg.name(np.sum(h ** 2) + np.log(x[0] - 1.0), "loss")  # log(0): −inf
    with np.errstate(divide="ignore"), pytest.warns(tg.errors.NonFiniteWarning):
        graph = tg.trace(f, w=np.array([0.5, -1.0]), x=np.array([1.0, 2.0])).graph

    def plain(value):  # an independent encoder of what networkx's own layout holds
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, np.ndarray):
            return plain(value.tolist())
        if isinstance(value, (float, np.floating)):
            v = float(value)
            return "NaN" if math.isnan(v) else ("Infinity" if v == math.inf else
                                                "-Infinity" if v == -math.inf else v)
        if isinstance(value, np.bool_):
            return bool(value)
        return value

    expected = plain(nx.node_link_data(graph, edges="edges"))
    assert json.loads(to_json(graph)) == expected
    assert json.loads(to_json(graph, indent=None)) == expected
    back = from_json(to_json(graph))
    assert sorted(back.nodes) == sorted(graph.nodes)
    assert back.nodes["loss"]["value"] == "-Infinity"  # JSON has no infinities


def test_a_loop_over_rows_keeps_the_graph_within_memory(monkeypatch):
    # One contribution per row, each the shape of the whole array, is quadratic memory;
    # past the budget, indexing edges of big arrays keep none, and the graph says so.
    import tracegraph.graph as graph_module
    from tracegraph.diagram import build_diagram

    monkeypatch.setattr(graph_module, "CONTRIBUTION_BUDGET", 64 * 1024)
    X = np.random.default_rng(0).normal(size=(200, 10))
    t = tg.trace(lambda X: sum(np.sum(row ** 2) for row in X), X=X)
    graph = t.graph
    omitted = graph.graph["omitted_contributions"]
    rows = [d for _, _, d in graph.out_edges("X", data=True)]
    assert len(rows) == 200 and omitted == sum(d["contribution"] is None for d in rows) > 100
    assert graph.graph["omitted_bytes"] == omitted * X.nbytes
    kept = [d["contribution"] for d in rows if d["contribution"] is not None]
    assert all(c.shape == X.shape and np.count_nonzero(c) == 10 for c in kept)
    np.testing.assert_allclose(graph.nodes["X"]["grad"], 2 * X)
    assert any("indexing edges from big arrays show no 'back' value" in note
               for note in build_diagram(t).notes)
    small = tg.trace(lambda X: sum(np.sum(row ** 2) for row in X), X=X[:5]).graph
    assert "omitted_contributions" not in small.graph


@pytest.mark.parametrize("name", sorted(p.name for p in tg.primitives()))
def test_formula_text_is_what_str_format_gives_for_every_rule(name, monkeypatch):
    # The graph fills plain templates with the labels directly (a loop's numbered
    # versions make most of them unique); it must say exactly what str.format says.
    from tracegraph.core import REGISTRY
    from tracegraph.graph import _LazySymbols, build_graph

    prim = REGISTRY[name]
    if prim.sample is None:
        args, params = tuple(np.linspace(0.1, 0.9, 3) for _ in prim.argnames), {}
    else:
        args, params = prim.sample(np.random.default_rng(3))
    with tg.Tracer() as tracer:
        traced = [tracer.input(f"a{i}", arg) if isinstance(arg, (float, np.ndarray))
                  and np.asarray(arg).dtype.kind == "f" else arg for i, arg in enumerate(args)]
        out = prim(*traced, **params)
        out = out if not isinstance(out, tuple) else out[0]
        t = tracer.finish(tg.name(out * 1.0, "z") if not isinstance(out, (list,)) else out[0])
    fast = build_graph(t.tape, t.adjoints())
    monkeypatch.setattr(_LazySymbols, "fill", lambda self, template: None)
    slow = build_graph(t.tape, t.adjoints())
    assert dict(fast.nodes(data="expr")) == dict(slow.nodes(data="expr"))  # node texts
    assert list(fast.edges(keys=True, data="formula")) == list(slow.edges(keys=True,
                                                                           data="formula"))
