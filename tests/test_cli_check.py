"""`tracegraph check`: the autograder's table, exit codes, first wrong step and marked diagram."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracegraph.cli import app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RIGHT = EXAMPLES / "neuron_homework.py"
WRONG = EXAMPLES / "neuron_homework_wrong.py"
S = 1 / (1 + math.exp(-0.3))  # the homework neuron's S = σ(0.3)


def run(*args):
    return CliRunner().invoke(app, ["check", *map(str, args)])


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def test_a_correct_derivation_exits_zero():
    result = run(RIGHT)
    assert result.exit_code == 0, result.output
    assert "21 claims: 21 exact" in result.stdout


def test_the_wrong_variant_exits_one_and_names_the_first_wrong_step():
    result = run(WRONG)
    assert result.exit_code == 1, result.output
    summary = next(line for line in result.stdout.splitlines() if "first wrong step:" in line)
    assert "dS_dG (line" in summary
    assert f"claimed {S * (1 + S):.4f}" in summary
    assert f"true dS/dG = S·(1 − S) = {S * (1 - S):.4f}" in summary
    # the end-to-end claims built on it are named as inheriting, not explained one by one
    assert "built on it, so also wrong: dLoss_dG" in result.stdout
    assert "dLoss_dw1 (line" not in result.stdout
    assert "dLoss_dw1 (line" in run(WRONG, "--verbose").stdout


def test_render_marks_the_wrong_edge_in_the_diagram(tmp_path):
    out = tmp_path / "wrong.dot"
    result = run(WRONG, "--render", out)
    assert result.exit_code == 1
    dot = out.read_text(encoding="utf-8")
    edge = next(line for line in dot.splitlines() if line.lstrip().startswith('"G" -> "S"'))
    assert "first wrong step" in edge and "#d7191c" in edge  # the wrong-mark colour
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wrong.dot"]


@pytest.mark.needs_dot
def test_render_writes_an_image(tmp_path):
    out = tmp_path / "right.svg"
    assert run(RIGHT, "--render", out).exit_code == 0
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_markdown_table_for_a_course_page():
    result = run(WRONG, "--markdown")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "| line | claim | derivative | verdict | claimed | true value | note |"
    assert any(line.startswith("| 44 | dS_dG | dS/dG = S·(1 − S) | wrong |") for line in lines)


def test_numeric_check_of_the_engine(tmp_path):
    result = run(EXAMPLES / "mlp.py", "--numeric")
    assert result.exit_code == 0, result.output
    assert "engine vs central finite differences" in result.stdout
    assert " wrong" not in result.stdout.split("engine vs central finite differences")[1]


def test_numeric_check_catches_a_wrong_user_rule(tmp_path):
    script = write(tmp_path, "bad_rule.py", """
        import numpy as np
        import tracegraph as tg

        @tg.primitive(grads={"x": (lambda g, out, x: g * 2.0 * x, "2·{x}")},
                      name="bad_cube", replace=True)
        def cube(x):
            return x ** 3

        x = 1.5
        y = cube(x)
    """)
    result = run(script, "--numeric")
    assert result.exit_code == 1, result.output
    assert "wrong" in result.stdout


def test_numeric_check_of_an_input_the_output_does_not_use(tmp_path):
    script = write(tmp_path, "unused.py", "x = 2.0\nunused = 3.0\ny = x * x\ndy_dx = 4.0\n")
    result = run(script, "--numeric", "--render", tmp_path / "unused.gv")
    assert result.exit_code == 0, result.output
    assert "4 ok" in result.stdout
    assert (tmp_path / "unused.gv").read_text(encoding="utf-8").startswith("digraph")


def test_a_file_without_claims_is_a_usage_error(tmp_path):
    script = write(tmp_path, "plain.py", "x = 2.0\ny = x * x\n")
    result = run(script)
    assert result.exit_code == 2
    assert "has no claims to check" in result.stderr
    assert "dS_dG = S * (1 - S)" in result.stderr


def test_render_needs_a_known_format_and_an_existing_folder(tmp_path):
    assert run(WRONG, "--render", tmp_path / "x.txt").exit_code == 2
    missing = run(WRONG, "--render", tmp_path / "nope" / "x.svg")
    assert missing.exit_code == 5 and "does not exist" in missing.stderr


def test_render_errors_name_the_render_flag(tmp_path):
    script = tmp_path / "homework.py"
    script.write_text(WRONG.read_text(), encoding="utf-8")
    itself = run(script, "--render", script)
    assert itself.exit_code == 5
    assert f"--render {script}: this is the expression file itself" in itself.stderr
    other = run(script, "--render", tmp_path / "notes.py")
    assert other.exit_code == 5 and "does not write into Python files" in other.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["homework.py"]
    assert script.read_text(encoding="utf-8") == WRONG.read_text()


@pytest.mark.skipif(shutil.which("tracegraph") is None and not Path(sys.executable).with_name(
    "tracegraph").exists(), reason="console script not installed")
def test_exit_codes_through_the_installed_command():
    command = Path(sys.executable).with_name("tracegraph")
    right = subprocess.run([command, "check", RIGHT], capture_output=True, text=True)
    wrong = subprocess.run([command, "check", WRONG], capture_output=True, text=True)
    assert (right.returncode, wrong.returncode) == (0, 1)
    assert "first wrong step: dS_dG" in wrong.stdout
