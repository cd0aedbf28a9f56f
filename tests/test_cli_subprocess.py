"""The installed `tracegraph` console script and `python -m tracegraph`, run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NEURON = EXAMPLES / "neuron.py"
CONSOLE_SCRIPT = Path(sys.executable).parent / "tracegraph"


def tracegraph(*args, cwd, module=False):
    assert module or CONSOLE_SCRIPT.exists(), (
        f"{CONSOLE_SCRIPT} is missing: install the package (pip install -e .)")
    command = [sys.executable, "-m", "tracegraph"] if module else [str(CONSOLE_SCRIPT)]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("TRACEGRAPH_DEBUG", None)
    return subprocess.run([*command, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=120)


@pytest.mark.parametrize("module", [False, True], ids=["tracegraph", "python -m tracegraph"])
def test_explain_runs_as_a_program(tmp_path, module):
    done = tracegraph("explain", NEURON, "--markdown", cwd=tmp_path, module=module)
    assert done.returncode == 0, done.stderr
    assert "| S | σ(G) | 0.5744 | ∂S/∂G = S·(1 − S) = 0.2445 | -0.8511 |" in done.stdout
    # Only the header naming the output (issue 10) is written to stderr.
    assert done.stderr == ("output: Loss (line 31, the last value assigned that is computed "
                           "from the inputs)\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("module", [False, True], ids=["tracegraph", "python -m tracegraph"])
def test_render_writes_the_named_file_only(tmp_path, module):
    done = tracegraph("render", NEURON, "-f", "dot", cwd=tmp_path, module=module)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote neuron.dot: 14 nodes, Loss = 0.1811")
    assert [p.name for p in tmp_path.iterdir()] == ["neuron.dot"]


@pytest.mark.needs_dot
def test_render_svg_as_a_program(tmp_path):
    done = tracegraph("render", NEURON, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    svg = (tmp_path / "neuron.svg").read_text(encoding="utf-8")
    assert "</svg>" in svg and "S = σ(G)" in svg


def test_errors_exit_with_their_code_and_no_traceback(tmp_path):
    missing = tracegraph("render", "nueron.py", cwd=EXAMPLES)
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: nueron.py does not exist\n")
    assert "did you mean neuron.py?" in missing.stderr
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1.0\ny = x / zero\n")
    raised = tracegraph("explain", "bad.py", cwd=tmp_path)
    assert raised.returncode == 3 and "Traceback" not in raised.stderr
    assert "bad.py:2\n    y = x / zero" in raised.stderr
    usage = tracegraph("paths", NEURON, cwd=tmp_path)
    assert usage.returncode == 2 and "Missing option '--from'" in usage.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.py"]


@pytest.mark.parametrize("command", [["rules"], ["explain", NEURON]], ids=["rules", "explain"])
def test_a_closed_pipe_stops_quietly_with_141_not_checks_1(command):
    # `tracegraph rules | head -1`: the reader goes away after one line
    process = subprocess.Popen([str(CONSOLE_SCRIPT), *map(str, command)], cwd=EXAMPLES,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    errors = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, errors
    assert "Traceback" not in errors and "error:" not in errors


def test_export_to_stdout_is_clean_json_whatever_the_file_writes(tmp_path):
    path = tmp_path / "noisy.py"
    path.write_text("import os\nos.write(1, b'RAW\\n')\nos.system('echo shell')\n"
                    "x = 2.0\nprint('hi')\ny = x * 3\n")
    done = tracegraph("export", path, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    import json
    assert json.loads(done.stdout)["nodes"][0]["id"] == "x"
    assert "RAW" in done.stderr and "shell" in done.stderr and "hi" in done.stderr
