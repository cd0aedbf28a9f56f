"""The lecture's neuron (seed 002), checked against numbers computed by hand.

A = w1·x1, B = w2·x2, C = w3·x3, G = A + B + C, S = σ(G), Loss = (gold − S)².
The expected values below are written out with plain ``math`` in the
lecture's own order (chain rule from the loss down), independently of
tracegraph.
"""

from __future__ import annotations

import math

import pytest

import tracegraph as tg
from seed002 import neuron

W1, X1, W2, X2, W3, X3, GOLD = 0.5, 1.0, -0.3, 2.0, 0.8, 0.5, 1.0


@pytest.fixture(scope="module")
def trace():
    return tg.trace(neuron, w1=W1, x1=X1, w2=W2, x2=X2, w3=W3, x3=X3, gold=GOLD)


@pytest.fixture(scope="module")
def by_hand():
    A, B, C = W1 * X1, W2 * X2, W3 * X3
    G = A + B + C
    S = 1.0 / (1.0 + math.exp(-G))
    loss = (GOLD - S) ** 2
    dLoss_dS = -2.0 * (GOLD - S)            # d(a²)/da = 2a, and d(gold − S)/dS = −1
    dS_dG = S * (1.0 - S)                   # σ'(a) = σ(a)(1 − σ(a))
    dLoss_dG = dLoss_dS * dS_dG
    return {
        "values": {"A": A, "B": B, "C": C, "G": G, "S": S, "Loss": loss},
        "local": {("G", "S"): dS_dG, ("A", "G"): 1.0, ("B", "G"): 1.0, ("C", "G"): 1.0,
                  ("w1", "A"): X1, ("x1", "A"): W1, ("w2", "B"): X2, ("x2", "B"): W2,
                  ("w3", "C"): X3, ("x3", "C"): W3},
        "grads": {"Loss": 1.0, "S": dLoss_dS, "G": dLoss_dG, "A": dLoss_dG, "B": dLoss_dG,
                  "C": dLoss_dG, "w1": dLoss_dG * X1, "x1": dLoss_dG * W1,
                  "w2": dLoss_dG * X2, "x2": dLoss_dG * W2, "w3": dLoss_dG * X3,
                  "x3": dLoss_dG * W3, "gold": 2.0 * (GOLD - S)},
    }


def test_forward_values(trace, by_hand):
    for name, expected in by_hand["values"].items():
        assert trace[name].value == pytest.approx(expected, rel=1e-15), name
    assert trace.value == pytest.approx(by_hand["values"]["Loss"], rel=1e-15)


def test_every_node_gradient(trace, by_hand):
    for name, expected in by_hand["grads"].items():
        assert trace[name].grad == pytest.approx(expected, rel=1e-14), name


def test_input_gradients_match(trace, by_hand):
    assert set(trace.grads) == {"w1", "x1", "w2", "x2", "w3", "x3", "gold"}
    for name, grad in trace.grads.items():
        assert isinstance(grad, float)
        assert grad == pytest.approx(by_hand["grads"][name], rel=1e-14), name


def test_local_derivative_table(trace, by_hand):
    """The lecture's table: d(w·a)/da = w, d(a+b)/da = 1, σ' = σ(1 − σ)."""
    for (parent, child), expected in by_hand["local"].items():
        edges = trace.graph.get_edge_data(parent, child)
        assert len(edges) == 1, (parent, child)
        (edge,) = edges.values()
        assert edge["local"] == pytest.approx(expected, rel=1e-15), (parent, child)


def test_formulas_use_the_users_names(trace):
    g = trace.graph
    assert g.edges["G", "S", 0]["formula"] == "S·(1 − S)"
    assert g.edges["w1", "A", 0]["formula"] == "x1"
    assert g.edges["x1", "A", 1]["formula"] == "w1"
    assert g.edges["A", "G", 0]["formula"] == "1"
    assert g.nodes["G"]["expr"] == "A + B + C"
    assert g.nodes["A"]["expr"] == "w1·x1"
    assert g.nodes["S"]["expr"] == "σ(G)"
    assert g.nodes["Loss"]["expr"] == "(gold − S)²"


def test_squared_difference_edge_reads_like_the_table(trace, by_hand):
    """d(a²)/da = 2a, with a = gold − S."""
    g = trace.graph
    (difference,) = [n for n in g.predecessors("Loss") if g.nodes[n]["kind"] == "op"]
    assert g.nodes[difference]["label"] == "gold − S"
    edge = g.edges[difference, "Loss", 0]
    assert edge["formula"] == "2·(gold − S)"
    assert edge["local"] == pytest.approx(2 * (GOLD - by_hand["values"]["S"]), rel=1e-15)


def test_contributions_are_upstream_times_local(trace):
    g = trace.graph
    for parent, child, data in g.edges(data=True):
        if data["local"] is None:
            continue
        upstream = g.nodes[child]["grad"]
        assert data["contribution"] == pytest.approx(upstream * data["local"], rel=1e-14)


def test_gradient_descent_step_lowers_the_loss(trace):
    """param_new = param_old − lr · dLoss/dparam (seed 002) decreases the loss."""
    lr = 0.1
    params = {"w1": W1, "w2": W2, "w3": W3}
    stepped = {k: v - lr * trace.grads[k] for k, v in params.items()}
    after = tg.trace(neuron, **stepped, x1=X1, x2=X2, x3=X3, gold=GOLD)
    assert after.value < trace.value
