"""The lecture's neuron (seed 002) as a traced function, shared by the test modules.

A = w1·x1, B = w2·x2, C = w3·x3, G = A + B + C, S = σ(G), Loss = (gold − S)².
"""

from __future__ import annotations

import tracegraph as tg

INPUTS = {"w1": 0.5, "x1": 1.0, "w2": -0.3, "x2": 2.0, "w3": 0.8, "x3": 0.5, "gold": 1.0}


def neuron(w1, x1, w2, x2, w3, x3, gold):
    A = tg.name(w1 * x1, "A")
    B = tg.name(w2 * x2, "B")
    C = tg.name(w3 * x3, "C")
    G = tg.name(A + B + C, "G")
    S = tg.name(tg.sigmoid(G), "S")
    return tg.name((gold - S) ** 2, "Loss")
