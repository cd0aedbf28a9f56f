"""tg.descend: conventions, stopping rules, divergence, batches, and replay = re-tracing."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tracegraph as tg
from tracegraph.descent.objective import function_objective
from tracegraph.descent.optimizers import Settings
from tracegraph.descent.run import minimise


def rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def mds(X, D):
    m, n = np.triu_indices(len(X), k=1)
    d = np.sqrt(np.sum((X[m] - X[n]) ** 2, axis=1))
    return np.sum((D[m, n] - d) ** 2)


def mlp(W1, b1, w2, X, t):
    h = np.tanh(X @ W1 + b1)
    return np.mean((h @ w2 - t) ** 2)


def kinked(x):
    # The branch flips when x crosses 0: a guard the replay must notice.
    if x > 0:
        return (x + 1.0) ** 2
    return 3.0 * (x + 1.0) ** 2 + 2.0 * x


def kinked_array(w):
    big = np.argmax(w)  # a gradient-free index that steers the computation
    return np.sum(w * w) + 3.0 * w[big] + np.sum(np.where(w > 0.5, w, 2.0 * w))


RNG = np.random.default_rng(7)
POINTS = RNG.normal(size=(8, 2))
TARGET = np.sqrt(((POINTS[:, None] - POINTS[None]) ** 2).sum(-1))
DATA_X = RNG.normal(size=(12, 3))
DATA_T = np.sin(DATA_X @ np.array([1.0, -2.0, 0.5]))


# --------------------------------------------------------------------------- conventions


def test_params_losses_and_grad_norms_follow_the_documented_convention():
    run = tg.descend(rosenbrock, x=-1.0, y=1.0, optimizer="gd", lr=1e-3, steps=25)
    assert run.losses.shape == (26,) and run.params["x"].shape == (26,)
    assert run.steps == 25 and run.stopped == "max steps"
    for k in (0, 7, 25):
        x, y = run.params["x"][k], run.params["y"][k]
        assert run.losses[k] == pytest.approx(rosenbrock(x, y), rel=1e-14)
        gx = -2 * (1 - x) - 400 * x * (y - x * x)
        gy = 200 * (y - x * x)
        assert run.grad_norms[k] == pytest.approx(math.hypot(gx, gy), rel=1e-12)
    # params[k + 1] = params[k] − lr · gradient at params[k]
    x0, y0 = -1.0, 1.0
    gx0 = -2 * (1 - x0) - 400 * x0 * (y0 - x0 * x0)
    assert run.params["x"][1] == pytest.approx(x0 - 1e-3 * gx0, rel=1e-14)
    assert run.final == {"x": run.params["x"][-1], "y": run.params["y"][-1]}
    assert type(run.final["x"]) is float and run.loss == run.losses[-1]
    assert run.evaluations == run.gradient_evaluations == 26


def test_array_parameters_are_stacked_over_steps():
    run = tg.descend(mds, X=POINTS + 0.3, D=tg.constant(TARGET), lr=0.01, steps=4)
    assert set(run.params) == {"X"}  # constants never appear in params
    assert run.params["X"].shape == (5, 8, 2)
    np.testing.assert_array_equal(run.params["X"][0], POINTS + 0.3)
    np.testing.assert_array_equal(run.final["X"], run.params["X"][-1])


def test_wrt_default_is_every_float_input_that_is_not_a_constant():
    run = tg.descend(mlp, W1=np.zeros((3, 4)) + 0.1, b1=np.zeros(4), w2=np.ones(4),
                     X=tg.constant(DATA_X), t=tg.constant(DATA_T), steps=2)
    assert list(run.params) == ["W1", "b1", "w2"]
    both = tg.descend(lambda a, b, n: (a - b) ** 2 * n, a=1.0, b=0.0, n=2, steps=1)
    assert list(both.params) == ["a", "b"]  # the int n is a count, never optimised
    only = tg.descend(lambda a, b: (a - b) ** 2, a=1.0, b=0.0, wrt="a", steps=1)
    also = tg.descend(lambda a, b: (a - b) ** 2, a=1.0, b=0.0, wrt=["a"], steps=1)
    assert list(only.params) == list(also.params) == ["a"]
    assert only.params["a"][1] == 1.0 - 0.01 * 2.0


@pytest.mark.parametrize("wrt, message", [
    ("c", "'c' is not an input"),
    ("k", "constant"),
    ("n", "int"),
    ("", "wrt names no input"),
])
def test_wrong_wrt_is_a_clear_error(wrt, message):
    with pytest.raises(tg.TracegraphError, match=message):
        tg.descend(lambda a, k, n: a * k * n, a=1.0, k=tg.constant(2.0), n=3, wrt=wrt)


def test_nothing_to_optimise_and_bad_settings_are_errors():
    with pytest.raises(tg.TracegraphError, match="nothing to optimise"):
        tg.descend(lambda n: n * 2, n=3)
    with pytest.raises(tg.TracegraphError, match="unknown optimizer 'sgd'"):
        tg.descend(rosenbrock, x=0.0, y=0.0, optimizer="sgd")
    with pytest.raises(tg.TracegraphError, match="lr must be a positive"):
        tg.descend(rosenbrock, x=0.0, y=0.0, lr=-1.0)
    with pytest.raises(tg.NotDifferentiatedError, match="one number to minimise"):
        tg.descend(lambda w: w * 2.0, w=np.ones(3))
    with pytest.raises(tg.TracegraphError, match=r"betas must be a pair \(beta1, beta2\)"):
        tg.descend(rosenbrock, x=0.0, y=0.0, optimizer="adam", betas=0.9)
    for threshold in ("tol", "gtol"):  # NaN compares false: the rule would never stop
        with pytest.raises(tg.TracegraphError, match=f"{threshold} must be a number"):
            tg.descend(rosenbrock, x=0.0, y=0.0, steps=3, **{threshold: float("nan")})
    assert tg.descend(rosenbrock, x=0.0, y=0.0, steps=3, tol=np.float64(2.0)).steps == 0


# --------------------------------------------------------------------------- stopping rules


def test_tol_stops_at_the_first_loss_below_it():
    run = tg.descend(lambda x: x * x, x=1.0, lr=0.1, steps=1000, tol=1e-3)
    assert run.stopped == "loss below tol"
    assert run.losses[-1] < 1e-3 <= run.losses[:-1].min()
    assert run.steps == len(run.losses) - 1 == 16  # 0.64^k < 1e-3 first at k = 16


def test_gtol_stops_at_the_first_small_gradient():
    run = tg.descend(lambda x: x * x, x=1.0, lr=0.1, steps=1000, gtol=1e-2)
    assert run.stopped == "gradient norm below gtol"
    assert run.grad_norms[-1] < 1e-2 <= run.grad_norms[:-1].min()


def test_patience_counts_steps_without_a_strictly_lower_loss():
    # lr = 1 on x²: x flips sign every step, the loss never improves.
    run = tg.descend(lambda x: x * x, x=1.0, lr=1.0, steps=100, patience=3)
    assert run.stopped == "no improvement for 3 steps"
    assert run.steps == 3 and run.losses.tolist() == [1.0, 1.0, 1.0, 1.0]
    slow = tg.descend(lambda x: x * x, x=1.0, lr=0.1, steps=20, patience=3)
    assert slow.stopped == "max steps"


def test_divergence_stops_with_its_step_never_raises():
    run = tg.descend(lambda x: x * x, x=1.0, lr=1.5, steps=1000)  # x ← −2x
    # losses 4^k; the first above 1e6·(|1| + 1) is 4^11
    assert run.stopped == "diverged at step 11" and run.steps == 11
    assert run.losses[-1] == 4.0 ** 11
    nan = tg.descend(lambda x: np.log(x) ** 2 + x, x=0.5, lr=1.0, steps=50)
    assert nan.stopped.startswith("diverged at step ") and math.isnan(nan.loss)
    overflow = tg.descend(lambda x: np.exp(x) * 1e308, x=1.0, lr=1.0, steps=10, optimizer="adam")
    assert overflow.stopped == "diverged at step 0"


def test_callback_sees_each_step_and_can_stop_the_run():
    seen = []

    def callback(step, params, loss):
        seen.append((step, params["x"], loss))
        return step == 4

    run = tg.descend(lambda x: x * x, x=1.0, lr=0.1, steps=100, callback=callback)
    assert run.stopped == "stopped by callback" and run.steps == 4
    assert seen == [(k, run.params["x"][k], run.losses[k]) for k in range(5)]


def test_zero_steps_records_only_the_start():
    run = tg.descend(lambda x: x * x, x=3.0, steps=0)
    assert run.losses.tolist() == [9.0] and run.grad_norms.tolist() == [6.0]
    assert run.stopped == "max steps" and run.evaluations == 1


# --------------------------------------------------------------------------- the textbook


def _quadratic_gradient(t):
    return np.array([t[0] + t[1], 10.0 * t[1] + t[0]])  # of x²/2 + 5y² + xy


def _rosenbrock_gradient(t):
    x, y = t
    return np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])


def _mds_gradient(t):
    X, g = t.reshape(-1, 2), np.zeros((len(t) // 2, 2))
    for i in range(len(X)):
        for j in range(i + 1, len(X)):
            diff = X[i] - X[j]
            d = math.sqrt(diff @ diff)
            share = -2.0 * (TARGET[i, j] - d) / d * diff
            g[i] += share
            g[j] -= share
    return g.ravel()


def _textbook(name, f, grad, theta, lr, steps, mu=0.9, beta1=0.9, beta2=0.999, eps=1e-8,
              alpha=0.99):
    """The update rules as a course writes them (Adam with m̂ and v̂), on a flat vector."""
    path, buffer = [theta], None
    m = v = np.zeros_like(theta)
    for t in range(1, steps + 1):
        g = grad(theta)
        if name == "gd":
            theta = theta - lr * g
        elif name in ("momentum", "nesterov"):
            buffer = g if buffer is None else mu * buffer + g
            theta = theta - lr * (g + mu * buffer if name == "nesterov" else buffer)
        elif name == "rmsprop":
            v = alpha * v + (1 - alpha) * g * g
            theta = theta - lr * g / (np.sqrt(v) + eps)
        elif name == "adam":
            m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
            theta = theta - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
        else:  # armijo: halve from lr until f drops by 1e-4·s·|g|²
            s = lr
            while f(theta - s * g) > f(theta) - 1e-4 * s * (g @ g):
                s /= 2
            theta = theta - s * g
        path.append(theta)
    return np.array(path)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov", "rmsprop", "adam",
                                       "armijo"])
@pytest.mark.parametrize("case", ["quadratic", "rosenbrock", "mds"])
def test_every_optimiser_follows_the_textbook_update(case, optimizer):
    if case == "mds":
        start = POINTS + 0.3 * np.random.default_rng(3).normal(size=POINTS.shape)
        run = tg.descend(mds, X=start, D=tg.constant(TARGET), optimizer=optimizer,
                         lr=0.01 if optimizer != "armijo" else 0.5, steps=15)
        got = run.params["X"].reshape(16, -1)
        expected = _textbook(optimizer, lambda t: mds(t.reshape(-1, 2), TARGET), _mds_gradient,
                             start.ravel(), run.lr, 15)
    else:
        f, grad, start, lr = {
            "quadratic": (lambda x, y: 0.5 * x * x + 5.0 * y * y + x * y, _quadratic_gradient,
                          (1.0, -2.0), 0.05),
            "rosenbrock": (rosenbrock, _rosenbrock_gradient, (-1.0, 1.0), 0.001),
        }[case]
        run = tg.descend(f, x=start[0], y=start[1], optimizer=optimizer,
                         lr=lr if optimizer != "armijo" else 1.0, steps=15)
        got = np.column_stack([run.params["x"], run.params["y"]])
        expected = _textbook(optimizer, lambda t: f(*t), grad, np.array(start), run.lr, 15)
    assert run.stopped == "max steps" and got.shape[0] == 16
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- armijo


def test_armijo_halves_from_lr_and_counts_every_trial():
    def f(x, y):
        return x * x + 10.0 * y * y

    def grad(x, y):
        return np.array([2 * x, 20 * y])

    run = tg.descend(f, x=1.0, y=1.0, optimizer="armijo", lr=1.0, steps=30)
    point, evaluations, path = np.array([1.0, 1.0]), 1, [np.array([1.0, 1.0])]
    for _ in range(30):
        g, loss, step = grad(*point), f(*point), 1.0
        while True:
            trial = point - step * g
            evaluations += 1
            if f(*trial) <= loss - 1e-4 * step * (g @ g):
                break
            step /= 2
        point = trial
        path.append(point)
    np.testing.assert_allclose(np.column_stack([run.params["x"], run.params["y"]]), path,
                               rtol=1e-12, atol=1e-300)
    assert run.evaluations == evaluations and run.gradient_evaluations == 31


def test_armijo_treats_nan_as_a_failed_trial_and_reports_a_failed_search():
    # log(x) is NaN for x < 0: the first trials overshoot into it and must be halved.
    run = tg.descend(lambda x: (np.log(x) - 1.0) ** 2, x=0.5, optimizer="armijo", lr=100.0,
                     steps=40)
    assert np.isfinite(run.losses).all()
    assert run.loss < 1e-10
    # A jump just below x = 1 that the gradient cannot see: no step length decreases f.
    cliff = tg.descend(lambda x: x * x + 3.0 * (x < 1.0), x=1.0, optimizer="armijo", lr=1.0,
                       steps=5)
    assert cliff.stopped == "line search failed at step 0"
    assert cliff.evaluations == 1 + 51  # 50 halvings: 51 trials
    assert cliff.steps == 0 and cliff.final == {"x": 1.0}


# --------------------------------------------------------------------------- batches


def test_mini_batches_follow_default_rng_permutations_per_epoch():
    X = RNG.normal(size=(10, 2))
    y = X @ np.array([2.0, -1.0]) + 0.5

    def loss(w, b, X, y):
        return np.mean((X @ w + b - y) ** 2)

    run = tg.descend(loss, w=np.zeros(2), b=0.0, X=tg.constant(X), y=y, batch="X,y",
                     batch_size=4, lr=0.1, steps=9, seed=5)
    rng = np.random.default_rng(5)
    w, b, order, position, losses = np.zeros(2), 0.0, np.arange(0), 0, []
    for _ in range(10):
        final = w
        if position >= len(order):
            order, position = rng.permutation(10), 0
        rows = order[position:position + 4]
        position += 4
        residual = X[rows] @ w + b - y[rows]
        losses.append(np.mean(residual ** 2))
        w, b = w - 0.1 * 2 * X[rows].T @ residual / len(rows), b - 0.1 * 2 * residual.mean()
    np.testing.assert_allclose(run.losses, losses, rtol=1e-12)
    np.testing.assert_allclose(run.final["w"], final, rtol=1e-12)
    assert list(run.params) == ["w", "b"]  # batched data is never optimised
    # the last batch of each epoch has 2 rows: traced once, then replayed like the others
    assert run.retraces == 2


def test_stochastic_and_full_batch():
    X = RNG.normal(size=(6, 2))
    y = X @ np.array([1.0, 1.0])

    def loss(w, X, y):
        return np.mean((X @ w - y) ** 2)

    one = tg.descend(loss, w=np.zeros(2), X=X, y=y, batch=["X", "y"], batch_size=1, steps=12)
    assert one.retraces == 1  # every batch has one row: the record is replayed
    full = tg.descend(loss, w=np.zeros(2), X=X, y=y, batch="X,y", steps=12)
    plain = tg.descend(loss, w=np.zeros(2), X=tg.constant(X), y=tg.constant(y), steps=12)
    np.testing.assert_array_equal(full.losses, plain.losses)
    with pytest.raises(tg.TracegraphError, match="batch_size needs batch="):
        tg.descend(loss, w=np.zeros(2), X=X, y=y, batch_size=2)
    with pytest.raises(tg.TracegraphError, match="different numbers of rows"):
        tg.descend(loss, w=np.zeros(2), X=X, y=y[:3], batch="X,y", batch_size=2)
    with pytest.raises(tg.TracegraphError, match="both optimised"):
        tg.descend(loss, w=np.zeros(2), X=X, y=y, wrt="w,X", batch="X,y", batch_size=2)


# --------------------------------------------------------------------------- replay


def _both(fn, inputs, wrt=None, **settings):
    """The same run replaying the record and tracing every step."""
    optimizer = settings.pop("optimizer", "gd")
    steps = settings.pop("steps", 60)
    runs = []
    for replay in (True, False):
        objective = function_objective(fn, inputs, wrt, replay=replay)
        runs.append(minimise(objective, optimizer, Settings(**settings), steps=steps))
    return runs


@pytest.mark.parametrize("optimizer", ["gd", "adam", "armijo"])
@pytest.mark.parametrize("case", ["mds", "mlp", "kinked", "kinked_array"])
def test_replayed_steps_equal_tracing_every_step_exactly(case, optimizer):
    fn, inputs, lr = {
        "mds": (mds, {"X": POINTS + 0.2 * RNG.normal(size=(8, 2)), "D": tg.constant(TARGET)},
                0.01),
        "mlp": (mlp, {"W1": 0.3 * RNG.normal(size=(3, 4)), "b1": np.zeros(4),
                      "w2": RNG.normal(size=4), "X": tg.constant(DATA_X),
                      "t": tg.constant(DATA_T)}, 0.05),
        "kinked": (kinked, {"x": 2.0}, 0.2),
        "kinked_array": (kinked_array, {"w": np.array([2.0, 0.7, -0.4])}, 0.1),
    }[case]
    replayed, traced = _both(fn, inputs, lr=lr, optimizer=optimizer)
    np.testing.assert_array_equal(replayed.losses, traced.losses)
    np.testing.assert_array_equal(replayed.grad_norms, traced.grad_norms)
    for name in replayed.params:
        np.testing.assert_array_equal(replayed.params[name], traced.params[name])
    assert replayed.stopped == traced.stopped
    assert traced.retraces == traced.evaluations
    if case in ("mds", "mlp"):
        assert replayed.retraces == 1


def test_a_branch_that_flips_mid_run_is_traced_again():
    replayed, traced = _both(kinked, {"x": 2.0}, lr=0.2, steps=30)
    xs = replayed.params["x"]
    flip = int(np.argmax(xs <= 0))
    assert 0 < flip < 30 and xs[flip - 1] > 0  # it crossed 0 mid-run
    assert 2 <= replayed.retraces < traced.retraces
    # Both branches' gradients were used: 2(x + 1) before the flip, 6(x + 1) + 2 after.
    assert replayed.grad_norms[0] == pytest.approx(6.0)
    assert replayed.grad_norms[flip] == pytest.approx(abs(6 * (xs[flip] + 1) + 2))
    np.testing.assert_array_equal(replayed.losses, traced.losses)


def test_a_traced_mask_in_np_where_is_guarded():
    # np.where with a traced float condition: replay must notice when the mask changes.
    def f(x, m):
        return np.sum(np.where(m, x * x, 3.0 * x))

    objective = function_objective(f, {"x": np.array([1.0, -1.0]), "m": np.array([1.0, 0.0])},
                                   wrt="m")
    assert objective.evaluate(objective.start) == -2.0
    assert objective.evaluate(np.array([0.0, 1.0])) == 4.0  # 3·1 + (−1)²
    assert objective.retraces == 2


def test_the_users_function_runs_once_when_nothing_flips():
    calls = []

    def counted(w):
        calls.append(1)
        return np.sum((w - 1.0) ** 2)

    run = tg.descend(counted, w=np.zeros(3), steps=50)
    assert len(calls) == 1 and run.retraces == 1 and run.evaluations == 51


def test_a_step_onto_a_pole_of_python_floats_is_divergence_not_a_zero_division_error():
    # 0.5x² + 0·(1/x) from x = 1 with lr 1 lands on x = 0.0 exactly: Python's 1/0.0 raises
    for optimizer in ("gd", "armijo"):
        run = tg.descend(lambda x: 0.5 * x ** 2 + 0.0 * (1.0 / x), x=1.0, lr=1.0, steps=5,
                         optimizer=optimizer)
        if optimizer == "gd":
            assert run.stopped == "diverged at step 1"
            assert math.isnan(run.losses[-1])


def test_numpy_numbers_are_accepted_as_settings_and_a_complex_array_is_named_as_such():
    run = tg.descend(lambda x: x ** 2, x=1.0, lr=np.float32(0.25), steps=3,
                     patience=np.int64(2))
    assert run.losses.tolist() == [1.0, 0.25, 0.0625, 0.015625]
    with pytest.raises(tg.TracegraphError, match="an array of complex128"):
        tg.descend(lambda x: np.sum(np.abs(x) ** 2), x=np.array([1 + 1j, 2.0]), wrt="x")
