"""Every optimiser's trajectory equals torch.optim's (float64) on functions written for this test.

torch is pinned in the ``test`` extra (``torch==2.13.0``); each function is
written twice, in numpy for tracegraph and in torch for the reference.
"""

from __future__ import annotations

import numpy as np
import pytest

import tracegraph as tg

torch = pytest.importorskip("torch", reason="torch is in the test extra: pip install -e '.[test]'")

RNG = np.random.default_rng(11)
X = RNG.normal(size=(16, 3))
LABELS = (RNG.random(16) > 0.5).astype(float)
TARGETS = np.tanh(X @ np.array([0.5, -1.0, 2.0]))


def logistic_np(w, b, X, y):
    z = (2.0 * y - 1.0) * (X @ w + b)
    return np.mean(np.log(1.0 + np.exp(-z))) + 0.05 * np.sum(w * w)


def logistic_torch(w, b, X, y):
    z = (2.0 * y - 1.0) * (X @ w + b)
    return torch.mean(torch.log(1.0 + torch.exp(-z))) + 0.05 * torch.sum(w * w)


def net_np(W, c, v, X, y):
    return np.mean((np.tanh(X @ W + c) @ v - y) ** 2)


def net_torch(W, c, v, X, y):
    return torch.mean((torch.tanh(X @ W + c) @ v - y) ** 2)


def valley_np(x, y):
    return (1.0 - x) ** 2 + 20.0 * (y - x * x) ** 2 + 0.1 * np.sin(3.0 * x)


def valley_torch(x, y):
    return (1.0 - x) ** 2 + 20.0 * (y - x * x) ** 2 + 0.1 * torch.sin(3.0 * x)


PROBLEMS = {
    "logistic": (logistic_np, logistic_torch,
                 {"w": np.array([0.1, -0.2, 0.3]), "b": 0.05}, {"X": X, "y": LABELS}),
    "net": (net_np, net_torch,
            {"W": 0.5 * RNG.normal(size=(3, 4)), "c": np.zeros(4), "v": RNG.normal(size=4)},
            {"X": X, "y": TARGETS}),
    "valley": (valley_np, valley_torch, {"x": -0.8, "y": 0.5}, {}),
}

OPTIMIZERS = {
    "gd": ({"lr": 0.02}, lambda p, s: torch.optim.SGD(p, lr=s["lr"])),
    "momentum": ({"lr": 0.01, "momentum": 0.8},
                 lambda p, s: torch.optim.SGD(p, lr=s["lr"], momentum=s["momentum"])),
    "nesterov": ({"lr": 0.01, "momentum": 0.85},
                 lambda p, s: torch.optim.SGD(p, lr=s["lr"], momentum=s["momentum"],
                                              nesterov=True)),
    "rmsprop": ({"lr": 0.002, "alpha": 0.9, "eps": 1e-4},
                lambda p, s: torch.optim.RMSprop(p, lr=s["lr"], alpha=s["alpha"], eps=s["eps"])),
    "adam": ({"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-7},
             lambda p, s: torch.optim.Adam(p, lr=s["lr"], betas=s["betas"], eps=s["eps"])),
}
STEPS = 80


def torch_trajectory(fn, start, data, make_optimizer, settings):
    params = {name: torch.tensor(np.asarray(value, dtype=np.float64), requires_grad=True)
              for name, value in start.items()}
    constants = {name: torch.tensor(value, dtype=torch.float64) for name, value in data.items()}
    optimizer = make_optimizer(list(params.values()), settings)
    path = {name: [] for name in params}
    losses = []
    for _ in range(STEPS + 1):
        optimizer.zero_grad()
        loss = fn(**params, **constants)
        losses.append(loss.item())
        for name, p in params.items():
            path[name].append(p.detach().numpy().copy())
        loss.backward()
        optimizer.step()
    return losses, {name: np.array(values) for name, values in path.items()}


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_trajectory_matches_torch_optim(problem, optimizer):
    fn_np, fn_torch, start, data = PROBLEMS[problem]
    settings, make = OPTIMIZERS[optimizer]
    run = tg.descend(fn_np, optimizer=optimizer, steps=STEPS, **settings, **start,
                     **{name: tg.constant(value) for name, value in data.items()})
    losses, path = torch_trajectory(fn_torch, start, data, make, settings)
    assert run.steps == STEPS
    np.testing.assert_allclose(run.losses, losses, rtol=1e-9, atol=1e-12)
    for name in start:
        np.testing.assert_allclose(run.params[name], path[name], rtol=1e-9, atol=1e-9)
    # The run went somewhere: the comparison is not between two standing points.
    assert run.loss < 0.99 * run.losses[0]


def test_default_hyper_parameters_are_torchs():
    fn_np, fn_torch, start, data = PROBLEMS["net"]
    inputs = {**start, **{name: tg.constant(value) for name, value in data.items()}}
    for optimizer, make in [("momentum", lambda p, s: torch.optim.SGD(p, lr=0.01, momentum=0.9)),
                            ("rmsprop", lambda p, s: torch.optim.RMSprop(p, lr=0.01)),
                            ("adam", lambda p, s: torch.optim.Adam(p, lr=0.01))]:
        run = tg.descend(fn_np, optimizer=optimizer, lr=0.01, steps=STEPS, **inputs)
        losses, _ = torch_trajectory(fn_torch, start, data, make, {})
        np.testing.assert_allclose(run.losses, losses, rtol=1e-9, atol=1e-12)
