"""The update rules, with torch.optim's semantics in float64 (docs/descent.md has the formulas).

Each rule is a small class with ``update(theta, g) -> new theta`` on the flat
parameter vector (new arrays, never in place: the run keeps every point).
``g`` is the gradient at ``theta``; ``t`` counts updates from 1.

====================  =========================================================
``"gd"``              θ ← θ − lr·g                                (torch SGD)
``"momentum"``        b ← g (first step), b ← μ·b + g; θ ← θ − lr·b
``"nesterov"``        b as above; θ ← θ − lr·(g + μ·b)            (nesterov=True)
``"rmsprop"``         v ← α·v + (1 − α)·g²; θ ← θ − lr·g / (√v + ε)
``"adam"``            m ← β₁·m + (1 − β₁)·g; v ← β₂·v + (1 − β₂)·g²;
                      θ ← θ − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε)
``"armijo"``          θ ← θ − s·g with s = lr, lr/2, ... (at most 50 halvings),
                      the first with f(θ − s·g) ≤ f(θ) − 10⁻⁴·s·‖g‖²
====================  =========================================================

Example:
    >>> import numpy as np
    >>> rule = make_rule("momentum", Settings(lr=0.1, momentum=0.9))
    >>> theta = rule.update(np.array([1.0]), np.array([1.0]))   # b = g
    >>> rule.update(theta, np.array([1.0])).tolist()            # b = 0.9·1 + 1
    [0.71]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import TracegraphError

ARMIJO_C = 1e-4
"""The sufficient-decrease constant of the Armijo rule."""
ARMIJO_HALVINGS = 50
"""How many times a step may be halved before the line search gives up."""


@dataclass(frozen=True)
class Settings:
    """The hyper-parameters, named as in :func:`tracegraph.descend` (and torch.optim).

    Example:
        >>> Settings(lr=0.1)
        Settings(lr=0.1, momentum=0.9, betas=(0.9, 0.999), eps=1e-08, alpha=0.99)
    """

    lr: float = 0.01
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    alpha: float = 0.99


class GradientDescent:
    """torch.optim.SGD(lr): θ ← θ − lr·g.

    Example:
        >>> import numpy as np
        >>> rule = GradientDescent(Settings(lr=0.1))
        >>> rule.update(np.array([1.0, 2.0]), np.array([2.0, -4.0])).tolist()
        [0.8, 2.4]
    """

    def __init__(self, settings: Settings) -> None:
        self.lr = settings.lr

    def update(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        step = self.lr * g
        return np.subtract(theta, step, out=step)  # θ − lr·g with one new array, not two


class Momentum:
    """torch.optim.SGD(lr, momentum=μ, dampening=0, nesterov=...): the buffer starts as g.

    Example:
        >>> import numpy as np
        >>> rule = Momentum(Settings(lr=0.1, momentum=0.5), nesterov=True)
        >>> theta = rule.update(np.array([1.0]), np.array([1.0]))   # b = 1; 1 − 0.1·(1 + 0.5)
        >>> theta.tolist(), rule.buffer.tolist()
        ([0.85], [1.0])
    """

    def __init__(self, settings: Settings, *, nesterov: bool = False) -> None:
        self.lr = settings.lr
        self.mu = settings.momentum
        self.nesterov = nesterov
        self.buffer: np.ndarray | None = None

    def update(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.buffer = g.copy() if self.buffer is None else self.mu * self.buffer + g
        direction = g + self.mu * self.buffer if self.nesterov else self.buffer
        return theta - self.lr * direction


class RMSprop:
    """torch.optim.RMSprop(lr, alpha, eps): not centred, no momentum, v starts at 0.

    Example:
        >>> import numpy as np
        >>> rule = RMSprop(Settings(lr=0.01))                 # v = 0.01·g²: steps of 10·lr
        >>> rule.update(np.array([1.0, 1.0]), np.array([4.0, -0.5])).round(6).tolist()
        [0.9, 1.1]
    """

    def __init__(self, settings: Settings) -> None:
        self.lr = settings.lr
        self.alpha = settings.alpha
        self.eps = settings.eps
        self.square_avg: np.ndarray | None = None

    def update(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.square_avg is None:
            self.square_avg = np.zeros_like(theta)
        self.square_avg = self.alpha * self.square_avg + (1 - self.alpha) * (g * g)
        return theta - self.lr * (g / (np.sqrt(self.square_avg) + self.eps))


class Adam:
    """torch.optim.Adam(lr, betas, eps): bias-corrected, no amsgrad, no weight decay.

    Example:
        >>> import numpy as np
        >>> rule = Adam(Settings(lr=0.1))      # the first step is lr·sign(g), whatever |g|
        >>> rule.update(np.array([1.0, 1.0]), np.array([100.0, -0.01])).round(6).tolist(), rule.t
        ([0.9, 1.1], 1)
    """

    def __init__(self, settings: Settings) -> None:
        self.lr = settings.lr
        self.beta1, self.beta2 = settings.betas
        self.eps = settings.eps
        self.t = 0
        self.m: np.ndarray | None = None
        self.v: np.ndarray | None = None

    def update(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.m is None:
            self.m = np.zeros_like(theta)
            self.v = np.zeros_like(theta)
        self.t += 1
        # torch writes the first moment as lerp(m, g, 1 − β₁) = m + (1 − β₁)·(g − m).
        self.m = self.m + (1 - self.beta1) * (g - self.m)
        self.v = self.beta2 * self.v + (1 - self.beta2) * (g * g)
        step_size = self.lr / (1 - self.beta1 ** self.t)
        denominator = np.sqrt(self.v) / math.sqrt(1 - self.beta2 ** self.t) + self.eps
        return theta - step_size * (self.m / denominator)


class Armijo:
    """Gradient descent with backtracking: each step starts again at s = lr and halves
    (at most :data:`ARMIJO_HALVINGS` times) until f(θ − s·g) ≤ f(θ) − 10⁻⁴·s·‖g‖².

    ``search`` needs f: the run passes a function that evaluates (and counts)
    a trial point.  A NaN trial loss is a failed trial.

    Example:
        >>> import numpy as np
        >>> tried = []
        >>> def f(theta):
        ...     tried.append(theta.tolist())
        ...     return float(theta @ theta)
        >>> point, loss = Armijo(Settings(lr=1.0)).search(np.array([1.0]), np.array([2.0]), 1.0, f)
        >>> point.tolist(), loss, tried          # s = 1 overshoots to −1; s = 0.5 is accepted
        ([0.0], 0.0, [[-1.0], [0.0]])
    """

    def __init__(self, settings: Settings) -> None:
        self.lr = settings.lr

    def search(self, theta: np.ndarray, g: np.ndarray, loss: float,
               evaluate: Callable[[np.ndarray], float | None]
               ) -> tuple[np.ndarray, float] | None:
        """The accepted point and its loss, or None when every trial failed (or the
        evaluation budget ran out: ``evaluate`` returns None)."""
        squared = float(g @ g)
        step = self.lr
        for _ in range(ARMIJO_HALVINGS + 1):
            trial = theta - step * g
            trial_loss = evaluate(trial)
            if trial_loss is None:
                return None
            if trial_loss <= loss - ARMIJO_C * step * squared:  # False for NaN
                return trial, trial_loss
            step = step / 2
        return None


RULES: dict[str, Callable[[Settings], object]] = {
    "gd": GradientDescent,
    "momentum": Momentum,
    "nesterov": lambda settings: Momentum(settings, nesterov=True),
    "rmsprop": RMSprop,
    "adam": Adam,
    "armijo": Armijo,
}
"""Optimiser name -> rule class (the names :func:`tracegraph.descend` accepts)."""


def make_rule(name: str, settings: Settings) -> object:
    """A fresh rule (with its own state) for optimiser ``name``.

    Example:
        >>> make_rule("adam", Settings()).beta2
        0.999
    """
    factory = RULES.get(name)
    if factory is None:
        raise TracegraphError(f"unknown optimizer {name!r}",
                              hint="choose one of " + ", ".join(RULES))
    check_settings(settings)
    return factory(settings)


def check_settings(settings: Settings) -> None:
    """Refuse hyper-parameters no rule can use (a negative learning rate ...).

    Example:
        >>> check_settings(Settings(lr=0.5, momentum=0.0))    # fine: returns None
        >>> check_settings(Settings(betas=(0.9, 1.0)))
        Traceback (most recent call last):
        ...
        tracegraph.errors.TracegraphError: betas[1] must be in [0, 1), got 1.0
    """
    if not (isinstance(settings.lr, (int, float, np.integer, np.floating)) and
            not isinstance(settings.lr, bool) and settings.lr > 0 and
            math.isfinite(settings.lr)):
        raise TracegraphError(f"lr must be a positive number, got {settings.lr!r}")
    try:
        beta1, beta2 = settings.betas
    except (TypeError, ValueError):
        raise TracegraphError(f"betas must be a pair (beta1, beta2), got {settings.betas!r}",
                              hint="e.g. betas=(0.9, 0.999), Adam's defaults") from None
    for name, value in (("momentum", settings.momentum), ("betas[0]", beta1),
                        ("betas[1]", beta2), ("alpha", settings.alpha)):
        if not 0 <= value < 1:
            raise TracegraphError(f"{name} must be in [0, 1), got {value!r}")
    if not settings.eps >= 0:
        raise TracegraphError(f"eps must be >= 0, got {settings.eps!r}")
