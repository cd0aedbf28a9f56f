"""scipy through tracegraph: scipy.special's ufuncs as written, the tracegraph.scipy mirror
for the rest, lazy loading (never on ``import tracegraph``), and the errors that name the
real function and its replacement."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy
import scipy.signal
import scipy.special
import scipy.stats

import tracegraph as tg
from tracegraph.rules.scipy_names import MIRRORED
from tracegraph.scipy import linalg, signal, special, stats
from tracegraph.testing import assert_gradients_numeric

X = np.array([0.4, 1.3, 2.2])


def test_scipy_special_ufuncs_trace_as_written():
    def f(x):
        return np.sum(scipy.special.erf(x) * scipy.special.gammaln(x + 1.0)
                      + scipy.special.xlogy(x, x) + scipy.special.digamma(x))
    np.testing.assert_allclose(tg.trace(f, x=X).value, f(X))
    assert_gradients_numeric(f, x=X)


def test_expit_is_the_sigmoid_rule():
    t = tg.trace(lambda x: scipy.special.expit(x), x=0.0)
    assert t.value == 0.5 and t.grads["x"] == 0.25
    assert t.graph.nodes["output"]["op"] == "sigmoid"


def test_the_rules_are_declared_on_first_use_and_never_by_import_tracegraph():
    code = ("import sys, tracegraph as tg, scipy.special as sp; "
            "before = 'tracegraph.rules.scipy_special' in sys.modules; "
            "t = tg.trace(lambda x: sp.erf(x), x=0.5); "
            "print(before, 'tracegraph.rules.scipy_special' in sys.modules, round(t.grads['x'], 6))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["False", "True", "0.878783"]


@pytest.mark.parametrize("name, args", [
    ("norm", (0.5, 1.5)), ("t", (3.0, 0.5, 1.5)), ("gamma", (2.0, 0.1, 1.5)),
    ("beta", (2.0, 3.0, 0.0, 3.0)), ("chi2", (3.0, 0.0, 1.2)),
])
@pytest.mark.parametrize("method", ["pdf", "logpdf", "cdf", "logcdf"])
def test_distributions_match_scipy_and_differentiate_every_parameter(name, args, method):
    real = getattr(getattr(scipy.stats, name), method)
    mirror = getattr(getattr(stats, name), method)
    np.testing.assert_allclose(mirror(X, *args), real(X, *args))
    shapes = len(args) - 2
    traced = range(len(args)) if method in ("pdf", "logpdf") else range(shapes, len(args))
    names = [f"p{k}" for k in traced]

    def loss(x, **params):
        full = [params.get(f"p{k}", a) for k, a in enumerate(args)]
        return np.sum(mirror(x, *full))
    inputs = {n: args[int(n[1:])] for n in names}
    t = tg.trace(loss, x=X, **inputs)
    assert t.value == pytest.approx(np.sum(real(X, *args)))
    assert_gradients_numeric(loss, x=X, **inputs)


def test_keywords_and_frozen_distributions():
    t = tg.trace(lambda mu, s: stats.norm(loc=mu, scale=s).logpdf(1.0)
                 + stats.t.logpdf(1.0, df=4.0, loc=mu), mu=0.5, s=2.0)
    expected = scipy.stats.norm(loc=0.5, scale=2.0).logpdf(1.0) + scipy.stats.t.logpdf(
        1.0, df=4.0, loc=0.5)
    assert t.value == pytest.approx(expected)
    assert stats.norm(0.0, 2.0).std() == 2.0 and stats.norm.ppf(0.5) == 0.0  # scipy's own


def test_every_distribution_freezes_like_scipys():
    assert stats.poisson(2.5).pmf(2) == scipy.stats.poisson(2.5).pmf(2)
    assert stats.poisson(mu=2.5).logpmf(2) == scipy.stats.poisson(2.5).logpmf(2)
    assert stats.poisson(2.5).cdf(2) == scipy.stats.poisson(2.5).cdf(2)
    assert stats.poisson(2.5).mean() == 2.5                       # scipy's frozen method
    mvn = stats.multivariate_normal(np.zeros(2), np.eye(2))
    assert mvn.pdf(np.zeros(2)) == pytest.approx(1 / (2 * np.pi))
    assert mvn.logpdf(np.zeros(2)) == scipy.stats.multivariate_normal(
        np.zeros(2), np.eye(2)).logpdf(np.zeros(2))
    uniform = stats.dirichlet(np.ones(3))
    assert uniform.pdf(np.ones(3) / 3) == pytest.approx(2.0)
    assert uniform.mean().tolist() == pytest.approx([1 / 3] * 3)
    assert tg.trace(lambda mu: stats.poisson(mu).logpmf(3), mu=2.0).grads["mu"] == 0.5
    g = tg.trace(lambda m: stats.multivariate_normal(m, np.eye(2)).logpdf(np.ones(2)),
                 m=np.zeros(2)).grads["m"]
    assert g.tolist() == [1.0, 1.0]
    x = np.array([0.2, 0.3, 0.5])
    g = tg.trace(lambda a: stats.dirichlet(a).logpdf(x), a=np.full(3, 2.0)).grads["a"]
    np.testing.assert_allclose(g, scipy.special.digamma(6.0) - scipy.special.digamma(2.0)
                               + np.log(x))
    with pytest.raises(AttributeError):
        stats.norm(0.0, 1.0).pmf(1.0)


def _numeric_hessian(f, x, h=1e-4):
    flat = np.asarray(x, dtype=float).ravel()
    hessian = np.zeros((flat.size, flat.size))
    for i in range(flat.size):
        for j in range(flat.size):
            def at(di, dj):
                moved = flat.copy()
                moved[i] += di
                moved[j] += dj
                return f(moved.reshape(np.shape(x)))
            hessian[i, j] = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
    return hessian


def test_second_derivatives_of_dirichlet_and_multivariate_normal():
    x = np.array([0.2, 0.3, 0.5])
    h = tg.hessian(lambda a: stats.dirichlet.logpdf(x, a), a=np.full(3, 2.0)).matrix
    expected = scipy.special.polygamma(1, 6.0) - np.eye(3) * scipy.special.polygamma(1, 2.0)
    np.testing.assert_allclose(h, expected, rtol=1e-12)
    point, mean = np.array([0.3, -0.2]), np.array([0.1, 0.4])
    # not symmetric: scipy reads the lower triangle, and so do the derivatives
    cov = np.array([[2.0, 0.3], [0.25, 1.0]])
    for method in ("logpdf", "pdf"):
        real = getattr(scipy.stats.multivariate_normal, method)
        h = tg.hessian(lambda c: getattr(stats.multivariate_normal, method)(point, mean, c),
                       c=cov).matrix
        np.testing.assert_allclose(h, _numeric_hessian(lambda c: real(point, mean, c), cov),
                                   atol=1e-6)
        assert h[1].tolist() == [0.0] * 4 and h[:, 1].tolist() == [0.0] * 4  # cov[0, 1]
    h = tg.hessian(lambda x, c: stats.multivariate_normal.logpdf(x, mean, c), x=point,
                   c=cov).matrix
    joint = _numeric_hessian(
        lambda v: scipy.stats.multivariate_normal.logpdf(v[:2], mean, v[2:].reshape(2, 2)),
        np.concatenate([point, cov.ravel()]))
    np.testing.assert_allclose(h, joint, atol=1e-6)


def test_second_derivatives_in_logsumexps_weights():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.0])
    h = tg.hessian(lambda b: special.logsumexp(a, b=b), b=b).matrix
    e = np.exp(a)
    np.testing.assert_allclose(h, -np.outer(e, e) / np.dot(b, e) ** 2)


def test_poisson_differentiates_mu():
    k = np.array([0.0, 2.0, 5.0])
    for method in ("pmf", "logpmf", "cdf"):
        mirror = getattr(stats.poisson, method)
        np.testing.assert_allclose(tg.trace(lambda mu: mirror(k, mu), mu=1.7).value,
                                   getattr(scipy.stats.poisson, method)(k, 1.7))
        assert_gradients_numeric(lambda mu: np.sum(mirror(k, mu)), mu=1.7)


@pytest.mark.parametrize("x, mean, cov", [
    (np.array([0.3, -0.2]), np.array([0.1, 0.0]), np.array([[2.0, 0.3], [0.3, 1.0]])),
    (np.array([[0.3, -0.2], [1.0, 0.5], [0.0, 0.0]]), np.zeros(2), np.array([[1.5, -0.4],
                                                                            [-0.4, 1.0]])),
    (np.array([[0.3, -0.2]]), np.zeros(2), np.eye(2)),
    (np.array([0.3, -0.2, 1.0]), None, 2.0),
    (np.array([0.3, -0.2]), np.ones(2), np.array([1.0, 3.0])),
])
def test_multivariate_normal_matches_scipy_shapes_and_gradients(x, mean, cov):
    for method in ("logpdf", "pdf"):
        real = getattr(scipy.stats.multivariate_normal, method)(x, mean, cov)
        got = tg.trace(lambda x: getattr(stats.multivariate_normal, method)(x, mean, cov),
                       x=x)
        assert np.shape(got.value) == np.shape(real)
        np.testing.assert_allclose(got.value, real)
    assert_gradients_numeric(lambda x: np.sum(stats.multivariate_normal.logpdf(x, mean, cov)),
                             x=x)
    if np.ndim(cov) == 2:
        def loss(m, c):
            return np.sum(stats.multivariate_normal.logpdf(x, m, (c + c.T) / 2.0))
        assert_gradients_numeric(loss, m=np.zeros(2) if mean is None else mean, c=cov)


def test_dirichlet_validates_like_scipy_and_differentiates_alpha():
    x = np.array([0.2, 0.5, 0.3])
    assert_gradients_numeric(lambda a: stats.dirichlet.logpdf(x, a), a=np.array([1.5, 2.0, 0.7]))
    with pytest.raises(ValueError):
        tg.trace(lambda a: stats.dirichlet.logpdf(np.array([0.2, 0.2, 0.2]), a), a=np.ones(3))


@pytest.mark.parametrize("call, message", [
    (lambda p: stats.t.cdf(1.0, p), "scipy.stats.t.cdf with a traced df"),
    (lambda p: stats.gamma.logcdf(1.0, a=p), "scipy.stats.gamma.logcdf with a traced a"),
    (lambda p: stats.poisson.pmf(p, 2.0), "scipy.stats.poisson.pmf with a traced k"),
    (lambda p: stats.multivariate_normal.logpdf(np.zeros(2), p * np.ones(2), np.eye(2),
                                                allow_singular=True), "allow_singular=True"),
    (lambda p: scipy.special.gammainc(p, 1.0), "scipy.special.gammainc with a traced a"),
    (lambda p: special.polygamma(p, 1.0), "scipy.special.polygamma with a traced n"),
])
def test_arguments_without_a_rule_are_refused_not_given_zero(call, message):
    with pytest.raises(tg.UnsupportedOperationError, match=message.replace(".", r"\.")):
        tg.trace(call, p=2.0)


def test_special_functions_that_convert_their_input():
    a = np.array([[0.5, -1.0, 2.0], [0.0, 1.0, 3.0]])
    cases = [
        lambda a: special.logsumexp(a, axis=1, b=np.array([1.0, 2.0, 0.5])),
        lambda a: special.logsumexp(a, axis=(0, 1), keepdims=True),
        lambda a: special.softmax(a),
        lambda a: special.softmax(a, axis=0),
        lambda a: special.log_softmax(a, axis=(0, 1)),
        lambda a: special.polygamma(1, a + 2.0),
    ]
    real = [
        scipy.special.logsumexp(a, axis=1, b=np.array([1.0, 2.0, 0.5])),
        scipy.special.logsumexp(a, axis=(0, 1), keepdims=True),
        scipy.special.softmax(a), scipy.special.softmax(a, axis=0),
        scipy.special.log_softmax(a, axis=(0, 1)), scipy.special.polygamma(1, a + 2.0),
    ]
    for case, expected in zip(cases, real):
        np.testing.assert_allclose(tg.trace(case, a=a).backward(np.ones(np.shape(expected)))
                                   .value, expected)
        assert_gradients_numeric(lambda a: np.sum(np.sin(case(a))), a=a)
    assert special.erf is scipy.special.erf


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_signal_convolve_and_correlate_in_two_dimensions(mode):
    image = np.arange(20.0).reshape(4, 5) / 10.0
    kernel = np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]])
    for mirror, real in ((signal.convolve, scipy.signal.convolve),
                         (signal.correlate, scipy.signal.correlate),
                         (signal.fftconvolve, scipy.signal.fftconvolve)):
        got = tg.trace(lambda i, k: mirror(i, k, mode=mode), i=image, k=kernel)
        np.testing.assert_allclose(got.value, real(image, kernel, mode=mode), atol=1e-12)
        assert_gradients_numeric(lambda i, k: np.sum(np.tanh(mirror(i, k, mode=mode))),
                                 i=image, k=kernel)


def test_the_real_scipy_function_on_a_traced_value_names_itself_and_the_mirror():
    with pytest.raises(tg.TracedValueLeakError) as info:
        tg.trace(lambda mu: np.sum(scipy.stats.norm.logpdf(X, mu, 1.0)), mu=0.5)
    message = str(info.value)
    assert message.startswith("scipy.stats.norm.logpdf converts the traced value 'mu' to a "
                              "plain numpy array")
    assert "use tracegraph.scipy.stats.norm.logpdf (same arguments)" in message
    assert "test_scipy.py:" in message  # the user's line, not scipy's
    with pytest.raises(tg.TracedValueLeakError, match=r"tracegraph\.scipy\.stats\.norm\(\.\.\.\)\.pdf"):
        tg.trace(lambda mu: scipy.stats.norm(mu, 1.0).pdf(1.0), mu=0.5)
    with pytest.raises(tg.TracedValueLeakError, match="tracegraph.scipy.special.logsumexp"):
        tg.trace(lambda a: scipy.special.logsumexp(a), a=np.ones(2))
    with pytest.raises(tg.TracedValueLeakError, match="tracegraph.scipy.signal.convolve"):
        tg.trace(lambda a: np.sum(scipy.signal.convolve(a, a)), a=np.ones(2))


def test_an_unsupported_scipy_function_is_named_as_written():
    with pytest.raises(tg.UnsupportedOperationError) as info:
        tg.trace(lambda x: scipy.special.zeta(x, 1.0), x=2.0)
    assert info.value.operation == "scipy.special.zeta"
    assert "test_scipy.py:" in str(info.value)
    with pytest.raises(tg.UnsupportedOperationError) as info:
        tg.trace(lambda x: scipy.special.kv(1.0, x), x=2.0)
    assert info.value.operation == "scipy.special.kv"


def test_every_mirrored_name_exists():
    namespaces = {"special": special, "stats": stats, "signal": signal, "linalg": linalg}
    for real, mirror in MIRRORED.items():
        module, *path = mirror.removeprefix("tracegraph.scipy.").split(".")
        target = namespaces[module]
        for part in path:
            target = getattr(target, part)
        assert callable(target), mirror
        real_target = scipy
        for part in real.split(".")[1:]:
            real_target = getattr(real_target, part)
        assert callable(real_target), real





def test_poisson_at_mu_zero_differentiates_its_value_minus_mu():
    assert stats.poisson.logpmf(0, 0.0) == 0.0
    assert tg.trace(lambda mu: stats.poisson.logpmf(0, mu), mu=0.0).grads["mu"] == -1.0
    assert tg.trace(lambda mu: stats.poisson.pmf(0, mu), mu=0.0).grads["mu"] == -1.0


# --------------------------------------------------------------------------- files as written


@pytest.mark.parametrize("imports, call", [
    ("from scipy.stats import norm", "norm.logpdf(x, mu, 2.0)"),
    ("from scipy import stats", "stats.norm(mu, 2.0).logpdf(x)"),
    ("import scipy.stats as st", "st.t.logpdf(x, 3.0, mu)"),
    ("import scipy.stats", "scipy.stats.gamma.logpdf(x + 3.0, 2.0, mu)"),
    ("import scipy", "scipy.special.logsumexp(x * mu)"),
    ("from scipy.special import logsumexp, expit", "logsumexp(x * mu) + np.sum(expit(mu * x))"),
    ("import scipy.signal", "np.sum(scipy.signal.convolve(x, np.ones(2) * mu) ** 2)"),
    ("from scipy import linalg", "np.sum(linalg.sqrtm(np.diag(x * x + mu)))"),
    ("from scipy.linalg import solve_triangular as st",
     "np.sum(st(np.triu(np.outer(x, x)) + 3 * np.eye(2), x * mu))"),
])
def test_a_file_traces_scipy_as_it_imports_it(tmp_path, imports, call):
    from tracegraph.script import load_script

    path = tmp_path / "f.py"
    path.write_text(f"import numpy as np\n{imports}\nmu = 0.5\nx = np.array([0.3, 1.2])\n"
                    f"loss = np.sum({call})\n")
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # python FILE
    result = load_script(path)
    assert result.trace.value == namespace["loss"]
    h = 1e-6
    numeric = []
    for shift in (h, -h):
        shifted: dict = {}
        exec(compile(path.read_text().replace("mu = 0.5", f"mu = {0.5 + shift!r}"), str(path),
                     "exec"), shifted)
        numeric.append(shifted["loss"])
    assert result.trace.grads["mu"] == pytest.approx((numeric[0] - numeric[1]) / (2 * h),
                                                     rel=1e-6, abs=1e-8)


def test_a_files_other_scipy_is_scipys_own(tmp_path):
    from tracegraph.script import load_script

    path = tmp_path / "f.py"
    path.write_text("import numpy as np\nfrom scipy.stats import *\nimport scipy.optimize\n"
                    "from scipy import integrate\nmu = 0.5\n"
                    "r = pearsonr([1.0, 2.0, 3.0], [1.0, 2.5, 2.9]).statistic\n"
                    "q = norm.ppf(0.975)\nloss = norm.logpdf(mu) * r * q\n")
    t = load_script(path).trace
    assert t.value == pytest.approx(scipy.stats.norm.logpdf(0.5) * scipy.stats.pearsonr(
        [1.0, 2.0, 3.0], [1.0, 2.5, 2.9]).statistic * scipy.stats.norm.ppf(0.975), rel=1e-15)
    # d/dmu of ln φ(mu)·r·q is −mu·r·q
    assert t.grads["mu"] == pytest.approx(-0.5 * t.value / scipy.stats.norm.logpdf(0.5),
                                          rel=1e-12)


def test_scipy_functions_without_a_rule_are_named_as_the_user_calls_them():
    import scipy.linalg

    a = np.array([[2.0, 0.0], [1.0, 1.0]])
    with pytest.raises(tg.TracedValueLeakError) as caught:  # it converts inside a decorator
        tg.trace(lambda b: np.sum(scipy.linalg.solve_triangular(a, b)), b=np.ones(2))
    assert caught.value.message.startswith("scipy.linalg.solve_triangular converts")
    assert "tracegraph.scipy.linalg.solve_triangular" in caught.value.hint
    with pytest.raises(tg.TracedValueLeakError) as caught:
        tg.trace(lambda m: np.sum(scipy.linalg.inv(m)), m=a)
    assert "np.linalg.inv(...)" in caught.value.hint
