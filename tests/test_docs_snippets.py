"""The Python examples of README.md and the guides run as written and print what they say.

Each test runs one code block, taken from the page itself, in a fresh folder and compares
the numbers its comments show with what the code computes now; a page edited so that its
block no longer runs, or a change of behaviour that makes a comment stale, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def block(page: str, heading: str, index: int = 0) -> str:
    """The index-th ```python block after the heading line `heading` of `page`."""
    text = "\n" + (ROOT / page).read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    blocks = re.findall(r"^```python\n(.*?)^```", text[start:], re.DOTALL | re.MULTILINE)
    return blocks[index]


def run(code: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(folder)
    namespace: dict = {}
    exec(compile(code, "<docs block>", "exec"), namespace)  # noqa: S102 (the docs' own code)
    return namespace


def said(code: str, expression: str) -> str:
    """The comment the block writes after `expression` (a line starting with it)."""
    for line in code.splitlines():
        if line.startswith(expression) and "#" in line:
            return line.split("#", 1)[1].strip()
    raise AssertionError(f"no commented line starting with {expression!r} in the block")


@pytest.mark.needs_dot
def test_the_readme_from_python_block(tmp_path, monkeypatch):
    code = block("README.md", "## From Python")
    ns = run(code, tmp_path, monkeypatch)
    t = ns["t"]
    assert said(code, "t.value") == "≈ 0.4636" and round(t.value, 4) == 0.4636
    assert 'array([-0.0298, -0.8162, 0.7418]), "b": 0.7269' in said(code, "t.grads")
    np.testing.assert_allclose(t.grads["w"], [-0.0298, -0.8162, 0.7418], atol=5e-5)
    assert round(t.grads["b"], 4) == 0.7269
    assert (tmp_path / "loss.svg").exists()


def test_the_readme_second_order_block(tmp_path, monkeypatch):
    # The block goes on from the one before it, which imports numpy and tracegraph.
    code = block("README.md", "## Second derivatives and forward mode")
    ns = run("import numpy as np\nimport tracegraph as tg\n" + code, tmp_path, monkeypatch)
    tg, f = ns["tg"], ns["f"]
    assert said(code, 'tg.grad(f, "x")').startswith("∂f/∂x = 2.25")
    assert tg.grad(f, "x")(x=1.0, y=0.5) == 2.25
    assert said(code, 'tg.grad(tg.grad(f, "x"), "x")').startswith("∂²f/∂x² = 6:")
    assert tg.grad(tg.grad(f, "x"), "x")(x=1.0, y=0.5) == 6.0
    assert said(code, "h.matrix").startswith('"inconclusive"')
    assert ns["h"].classify() == "inconclusive"
    assert tg.jvp(f, {"x": 1.0}, x=1.0, y=0.5) == (0.25, 2.25)


def test_the_quickstart_python_block(tmp_path, monkeypatch):
    code = block("docs/quickstart.md", "## From Python")
    t = run(code, tmp_path, monkeypatch)["t"]
    assert said(code, "t.value") == "≈ 0.4636" and round(t.value, 4) == 0.4636
    assert said(code, 't.grads["b"]') == "≈ 0.7269" and round(t.grads["b"], 4) == 0.7269
    assert said(code, 't.grads["w"]') == "array([-0.0298, -0.8162, 0.7418])"
    np.testing.assert_allclose(t.grads["w"], [-0.0298, -0.8162, 0.7418], atol=5e-5)
    assert run(code, tmp_path, monkeypatch)["dot"].startswith("digraph")


def test_the_quickstart_file_and_its_check(tmp_path):
    from tracegraph.check import check_script
    from tracegraph.script import load_script

    text = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    neuron = block("docs/quickstart.md", "## From the command line")
    claims = block("docs/quickstart.md", "## Check a hand derivation")
    path = tmp_path / "neuron.py"
    path.write_text(neuron + "\n" + claims, encoding="utf-8")  # "after a blank line"
    result = load_script(path)
    assert f"Loss = {result.trace.value:.4g}" in text
    assert f"∂Loss/∂w1 = {result.trace.grads['w1']:.4g}" in text
    summary = check_script(result).summary()
    assert summary in text, summary


def test_the_second_order_functions_block(tmp_path, monkeypatch):
    code = block("docs/second-order.md", "## The functions")
    ns = run(code, tmp_path, monkeypatch)
    tg, h = ns["tg"], ns["h"]
    assert tg.grad(ns["f"], "x")(x=2.0) == 12.0 == tg.grad(tg.grad(ns["f"], "x"), "x")(x=2.0)
    np.testing.assert_array_equal(h.matrix, [[2, 3], [3, -2]])
    assert h.labels == ["x", "y"] and h.classify() == "saddle point"
    assert said(code, "tg.hvp(f2").startswith('{"x": 4.0, "y": 6.0}')
    assert tg.hvp(ns["f2"], {"x": 1.0}, x=3.0, y=2.0) == {"x": 4.0, "y": 6.0}
    value, tangent = tg.jvp(ns["fn"], {"x": np.ones(3)}, x=np.zeros(3))
    np.testing.assert_array_equal(tangent, [1.0, 1.0, 1.0])


def test_the_descent_first_block(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    pytest.importorskip("PIL")
    code = block("docs/descent.md", "# Gradient descent in the open")
    run_ = run(code, tmp_path, monkeypatch)["run"]
    assert said(code, "run.stopped") == repr(run_.stopped)
    assert said(code, "run.final") == "{'x': 0.99999..., 'y': 0.99999...}"
    assert all(str(v).startswith("0.99999") for v in run_.final.values())
    assert (tmp_path / "rosenbrock.png").exists() and (tmp_path / "rosenbrock.gif").exists()
