"""The expr.py convention (tracegraph.script): what becomes an input, a node name, the output,
a claim; function mode and files that trace themselves; every error a user will make."""

from __future__ import annotations

import builtins
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tracegraph as tg
from tracegraph.cli.exit_codes import for_error as exit_code_for
from tracegraph.errors import (
    NoGradientError,
    NothingToTraceError,
    OverrideError,
    ScriptChoiceError,
    ScriptError,
    ScriptFileError,
    TracedValueLeakError,
    UnsupportedOperationError,
    UserCodeError,
)
from tracegraph.check import check_script
from tracegraph.script import ClaimSource, load_script, parse_override, require_gradients

NEURON = """
    import tracegraph as tg

    x1 = 1.0
    x2 = 2.0
    x3 = 0.5
    w1 = 0.5
    w2 = -0.3
    w3 = 0.8
    gold = 1.0

    A = w1 * x1
    B = w2 * x2
    C = w3 * x3
    G = A + B + C
    S = tg.sigmoid(G)
    Loss = (gold - S) ** 2
"""


def write(folder, name, source):
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def files_in(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# --------------------------------------------------------------------------- script mode


def test_neuron_traces_as_written_with_the_lecture_names(tmp_path):
    result = load_script(write(tmp_path, "neuron.py", NEURON))
    assert result.mode == "script"
    assert result.output == "Loss"
    assert result.inputs == {"x1": 1.0, "x2": 2.0, "x3": 0.5, "w1": 0.5, "w2": -0.3,
                             "w3": 0.8, "gold": 1.0}
    graph = result.trace.graph
    for name in ("A", "B", "C", "G", "S", "Loss"):
        assert name in graph
    assert graph.nodes["G"]["expr"] == "A + B + C"
    # Values and gradients by hand: S = σ(0.3), dLoss/dS = −2(gold − S), dS/dG = S(1 − S).
    s = 1 / (1 + math.exp(-0.3))
    dloss_dg = -2 * (1 - s) * s * (1 - s)
    assert result.trace["S"].value == pytest.approx(s)
    assert result.trace.value == pytest.approx((1 - s) ** 2)
    assert result.trace.grads["w1"] == pytest.approx(dloss_dg * 1.0)
    assert result.trace.grads["x2"] == pytest.approx(dloss_dg * -0.3)
    assert result.trace["G"].grad == pytest.approx(dloss_dg)


def test_tuple_unpacking_declares_inputs_and_names_nodes(tmp_path):
    result = load_script(write(tmp_path, "t.py", """
        a, b = 2.0, 3.0
        c, d = a * b, a + b
        e = c * d
    """))
    assert result.inputs == {"a": 2.0, "b": 3.0}
    assert {"c", "d", "e"} <= set(result.trace.graph)
    assert result.trace.value == 30.0
    # de/da = d·b + c·1 = 5·3 + 6 = 21
    assert result.trace.grads == {"a": 21.0, "b": 5.0 * 2.0 + 6.0}


def test_augmented_assignment_names_the_new_value_and_becomes_the_output(tmp_path):
    result = load_script(write(tmp_path, "t.py", """
        x = 2.0
        y = x * 3.0
        y += 1.0
    """))
    assert result.output == "y#2"
    assert result.trace.graph.nodes["y"]["value"] == 6.0
    assert result.trace.value == 7.0


def test_names_inside_functions_and_top_level_names_win(tmp_path):
    result = load_script(write(tmp_path, "t.py", """
        import numpy as np

        x = 0.5

        def layer(v):
            pre = v * 2.0
            out = np.tanh(pre)
            return out

        h1 = layer(x)
        h2 = layer(h1)
        loss = h2 * h2
    """))
    graph = result.trace.graph
    # layer() names its values; the top-level names replace its `out`.
    assert {"pre", "pre#2", "h1", "h2", "loss"} <= set(graph)
    assert "out" not in graph
    assert graph.nodes["h1"]["op"] == "tanh"


def test_an_alias_renames_nothing_unless_it_is_the_output(tmp_path):
    # Issue 10: a trailing alias (loss = y) is the output, and names that node.
    result = load_script(write(tmp_path, "t.py", """
        x = 1.0
        y = x * 2.0
        z = y + 1.0
        alias = z
        x_again = x
        loss = y
    """))
    graph = result.trace.graph
    assert result.output == "loss"
    assert graph.nodes["loss"]["op"] == "multiply" and result.trace.value == 2.0
    assert {"x", "z"} <= set(graph) - {"y"} or "z" not in graph
    assert "alias" not in graph and "x_again" not in graph
    assert "an alias" in result.output_reason


def test_a_name_given_with_tracegraph_name_is_kept(tmp_path):
    result = load_script(write(tmp_path, "t.py", """
        import tracegraph as tg
        x = 1.0
        y = tg.name(x * 2.0, "doubled")
        z = y + 1.0
    """))
    assert "doubled" in result.trace.graph and "y" not in result.trace.graph


def test_output_option_picks_a_value_and_unknown_names_are_explained(tmp_path):
    path = write(tmp_path, "neuron.py", NEURON)
    result = load_script(path, output="S")
    assert result.output == "S"
    assert result.trace.grads["w1"] == pytest.approx(
        (1 / (1 + math.exp(-0.3))) * (1 - 1 / (1 + math.exp(-0.3))))
    with pytest.raises(ScriptChoiceError) as err:
        load_script(path, output="Lss")
    assert exit_code_for(err.value) == 2
    assert "no traced value named 'Lss'" in err.value.message
    assert "did you mean Loss?" in err.value.hint
    assert "A, B, C, G, S, Loss" in err.value.hint


def test_integer_arrays_and_tracegraph_constants_are_named_constants(tmp_path):
    result = load_script(write(tmp_path, "t.py", """
        import numpy as np
        import tracegraph as tg
        w = np.array([0.5, -1.0, 2.0])
        idx = np.array([2, 0])
        scale = tg.constant(np.array([1.0, 10.0]))
        flag = True
        y = np.sum(w[idx] * scale)
    """))
    assert list(result.inputs) == ["w"]
    assert sorted(result.trace.grads) == ["w"]
    assert result.trace.graph.nodes["scale"]["kind"] == "constant"
    assert result.trace.value == pytest.approx(2.0 * 1.0 + 0.5 * 10.0)
    np.testing.assert_allclose(result.trace.grads["w"], [10.0, 0.0, 1.0])


def test_a_files_int_is_a_weak_python_int_for_numpy(tmp_path):
    # numpy keeps np.float32(1.25) * 3 a float32 only for an int whose type is exactly
    # int; the file's n = 3 (an int subclass while traced) made it float64.
    code = """
        import numpy as np
        n = 3
        k = 2
        w = 0.7
        c = np.float32(1.25) ** n
        s = np.float32(0.5) * k + np.float16(1.5) / n
        r = np.arange(4) * n
        L = (c + s) * w + n * w
    """
    result = load_script(write(tmp_path, "weak.py", code))
    namespace = {}
    exec(textwrap.dedent(code), namespace)
    values = {v.name: result.trace.tape.equations[v.index].value for v in result.versions}
    values.update(result.trace.constants)
    for name in ("c", "s", "L"):
        assert type(values[name]) is type(namespace[name]) and values[name] == namespace[name]
    assert type(namespace["c"]) is np.float32
    assert result.trace.grads["w"] == pytest.approx(float(namespace["c"] + namespace["s"]) + 3)
    assert result.trace.grads["n"] == pytest.approx(0.7)  # n met w: an input, as before


def test_integer_inputs_still_count(tmp_path):
    result = load_script(write(tmp_path, "t.py", """
        n = 3
        x = 2.0
        total = x * 0.0
        for _ in range(n):
            total = total + x
    """))
    assert result.trace.value == 6.0
    assert result.trace.grads["x"] == 3.0


def test_main_guard_does_not_run_when_traced(tmp_path):
    result = load_script(write(tmp_path, "t.py", """
        x = 1.5
        y = x * x
        if __name__ == "__main__":
            raise SystemExit("only when run with python")
    """))
    assert result.trace.value == 2.25


def test_the_file_runs_like_a_script_and_the_interpreter_state_is_restored(tmp_path):
    write(tmp_path, "helper.py", "def double(v):\n    return v * 2.0\n")
    path = write(tmp_path, "main.py", """
        import sys
        from helper import double
        ARGV = list(sys.argv)
        x = 1.0
        y = double(x)
    """)
    path_before, argv_before = list(sys.path), list(sys.argv)
    result = load_script(path)
    assert result.trace.value == 2.0
    assert sys.path == path_before and sys.argv == argv_before
    assert "helper" not in sys.modules  # imported afresh next time, as by a new interpreter
    assert files_in(tmp_path) == ["helper.py", "main.py"]  # no __pycache__ left behind


# --------------------------------------------------------------------------- claims


def test_claims_are_recorded_never_inputs_names_or_outputs(tmp_path):
    result = load_script(write(tmp_path, "claims.py", NEURON + """
    dS_dG = 0.2445
    dLoss_dS = -2 * (gold - S)
    dS_dA = S * (1 - S)
    dS_dG2 = S * (1 - S)
    """))
    assert result.output == "Loss"
    assert "dS_dG" not in result.inputs
    claims = {"dS_dG", "dLoss_dS", "dS_dA"}
    assert set(result.claims) == claims
    labels = {data["label"] for _, data in result.trace.graph.nodes(data=True)}
    assert not claims & set(result.trace.graph) and not claims & labels
    s = 1 / (1 + math.exp(-0.3))
    assert result.claims["dS_dG"] == ClaimSource("dS_dG", 0.2445, 19)
    assert result.claims["dLoss_dS"].value == pytest.approx(-2 * (1 - s))
    assert type(result.claims["dLoss_dS"].value) is float
    assert result.claims["dS_dA"].value == pytest.approx(s * (1 - s))
    assert result.claims["dS_dA"].lineno == 21
    # Issue 10: no traced value is named G2, so dS_dG2 is an ordinary value and a note.
    assert "no traced value named 'G2'" in result.not_claims["dS_dG2"].reason
    assert result.not_claims["dS_dG2"].lineno == 22


def test_a_claim_cannot_be_the_output(tmp_path):
    path = write(tmp_path, "c.py", NEURON + "    dS_dG = S * (1 - S)\n")
    with pytest.raises(ScriptChoiceError, match="'dS_dG' is a hand-derived derivative") as err:
        load_script(path, output="dS_dG")
    assert exit_code_for(err.value) == 2


# --------------------------------------------------------------------------- overrides


def test_set_overrides_an_input(tmp_path):
    path = write(tmp_path, "neuron.py", NEURON)
    result = load_script(path, overrides={"w1": 2, "gold": 0.0})
    assert result.inputs["w1"] == 2.0 and type(result.inputs["w1"]) is float
    assert result.trace["A"].value == 2.0


def test_set_rejects_names_that_are_not_inputs_and_lists_them(tmp_path):
    path = write(tmp_path, "neuron.py", NEURON)
    with pytest.raises(OverrideError) as err:
        load_script(path, overrides={"w4": 1.0})
    assert exit_code_for(err.value) == 2
    assert "'w4' is not an input of" in err.value.message
    assert "x1, x2, x3, w1, w2, w3, gold" in err.value.message
    with pytest.raises(OverrideError, match="'A' is not an input"):
        load_script(path, overrides={"A": 1.0})


def test_set_refuses_a_change_of_shape(tmp_path):
    path = write(tmp_path, "v.py", "import numpy as np\nw = np.ones(3)\ny = np.sum(w * w)\n")
    with pytest.raises(OverrideError) as err:
        load_script(path, overrides={"w": 2.0})
    assert "an array of shape 3" in err.value.message and "a scalar" in err.value.message
    assert "override w=[0.0,0.0,0.0]" in err.value.hint
    result = load_script(path, overrides={"w": np.array([1.0, 2.0, 3.0])})
    assert result.trace.value == 14.0


@pytest.mark.parametrize(("text", "expected"), [
    ("w1=0.5", ("w1", 0.5)),
    ("w1 = -2", ("w1", -2)),
    ("rate=1e-3", ("rate", 0.001)),
])
def test_parse_override_numbers(text, expected):
    assert parse_override(text) == expected


def test_parse_override_lists_and_special_values():
    name, value = parse_override("x=[[1, 2.5], [3, 4]]")
    assert name == "x" and value.dtype == float and value.tolist() == [[1.0, 2.5], [3.0, 4.0]]
    assert math.isnan(parse_override("x=nan")[1])
    assert parse_override("x=-inf")[1] == -math.inf


@pytest.mark.parametrize(("text", "message"), [
    ("w1", "is not NAME=VALUE"),
    ("=3", "is not NAME=VALUE"),
    ("w1=", "is not NAME=VALUE"),
    ("1w=3", "is not a Python name"),
    ("w1=abc", "must be a number or a list of numbers"),
    ("w1=True", "must be a number or a list of numbers"),
    ("w1=[1, 'a']", "must be a number or a list of numbers"),
    ("w1=1e400", "too large for a float"),            # was inf, silently
    ("w1=[2, -1e309]", "too large for a float"),
])
def test_parse_override_errors(text, message):
    with pytest.raises(OverrideError, match=message) as err:
        parse_override(text)
    assert exit_code_for(err.value) == 2


# --------------------------------------------------------------------------- function mode


def test_function_mode_traces_the_function_matching_inputs(tmp_path):
    path = write(tmp_path, "f.py", """
        def helper(z):
            return z

        def loss(w, b):
            pred = w * 2.0 + b
            return (pred - 1.0) ** 2

        inputs = {"w": 0.5, "b": 0.1}
    """)
    result = load_script(path)
    assert result.mode == "function"
    assert result.output == "loss"
    assert "pred" in result.trace.graph
    # d/dw (2w + b − 1)² = 2·(2w + b − 1)·2 at w=0.5, b=0.1
    assert result.trace.grads["w"] == pytest.approx(4 * 0.1)
    assert load_script(path, overrides={"w": 1.0}).inputs == {"w": 1.0, "b": 0.1}
    assert load_script(path, output="pred").trace.value == pytest.approx(1.1)
    with pytest.raises(OverrideError, match="'c' is not an input") as err:
        load_script(path, overrides={"c": 1.0})
    assert "w, b" in err.value.message


def test_function_mode_by_name_and_defaults(tmp_path):
    path = write(tmp_path, "f.py", """
        def first(a=1.0):
            return a * 3.0

        def second(a=2.0):
            return a * a

        function = second
    """)
    assert load_script(path).trace.value == 4.0
    assert load_script(path, function="first").trace.value == 3.0
    with pytest.raises(ScriptChoiceError, match="no function named 'third'") as err:
        load_script(path, function="third")
    assert "first, second" in err.value.hint


def test_function_mode_errors_explain_the_convention(tmp_path):
    ambiguous = write(tmp_path, "a.py", """
        def f(x): return x * 2.0
        def g(x): return x * 3.0
        inputs = {"x": 1.0}
    """)
    with pytest.raises(ScriptChoiceError, match="several functions") as err:
        load_script(ambiguous)
    assert "function = f" in err.value.hint
    unmatched = write(tmp_path, "b.py", """
        def f(a, b): return a * b
        inputs = {"x": 1.0}
    """)
    with pytest.raises(NothingToTraceError, match="no function whose parameters match") as err:
        load_script(unmatched)
    assert exit_code_for(err.value) == 4 and "f(a, b)" in err.value.hint
    not_a_dict = write(tmp_path, "c.py", """
        def f(x): return x
        inputs = [1.0]
        function = f
    """)
    with pytest.raises(NothingToTraceError, match="`inputs` in .* is a list"):
        load_script(not_a_dict)


def test_a_file_that_traces_itself_gives_its_last_trace(tmp_path):
    path = write(tmp_path, "s.py", """
        import tracegraph as tg

        def f(a, b):
            c = a * b
            return c + a

        first = tg.trace(f, a=2.0, b=3.0)
        second = tg.trace(f, a=1.0, b=1.0)
    """)
    result = load_script(path)
    assert result.mode == "function"
    assert result.trace.grads == {"a": 2.0, "b": 1.0}
    assert "c" in result.trace.graph
    assert load_script(path, output="first").trace.grads == {"a": 4.0, "b": 2.0}
    with pytest.raises(ScriptChoiceError, match="binds no Trace named 'third'"):
        load_script(path, output="third")


# --------------------------------------------------------------------------- errors


def test_missing_file_suggests_the_closest_name(tmp_path):
    write(tmp_path, "neuron.py", NEURON)
    with pytest.raises(ScriptFileError) as err:
        load_script(tmp_path / "nueron.py")
    assert exit_code_for(err.value) == 2
    assert "does not exist" in err.value.message
    assert "did you mean" in err.value.hint and "neuron.py" in err.value.hint


def test_folders_and_other_files_are_refused(tmp_path):
    with pytest.raises(ScriptFileError, match="is a folder"):
        load_script(tmp_path)
    notes = write(tmp_path, "notes.txt", "x = 1\n")
    with pytest.raises(ScriptFileError, match=r"not a Python file \(\.py\)"):
        load_script(notes)
    notebook = write(tmp_path, "lesson.ipynb", "{}")
    with pytest.raises(ScriptFileError) as err:
        load_script(notebook)
    assert "nbconvert" in err.value.hint


def test_syntax_error_gives_line_column_and_the_line(tmp_path):
    path = write(tmp_path, "bad.py", "x = 1.0\ny = (x +\n")
    with pytest.raises(ScriptFileError) as err:
        load_script(path)
    assert exit_code_for(err.value) == 2
    assert "bad.py:2:5: SyntaxError: '(' was never closed" in err.value.message
    assert "    y = (x +\n        ^" in err.value.message


def test_an_exception_in_the_users_code_shows_only_their_frames(tmp_path):
    path = write(tmp_path, "raise.py", """
        import numpy as np
        x = np.ones(3)

        def helper(a):
            return a @ np.ones(4)

        y = helper(x)
    """)
    with pytest.raises(UserCodeError) as err:
        load_script(path)
    message = err.value.message
    assert exit_code_for(err.value) == 3
    assert "raised ValueError" in message and "at line 6" in message
    assert "raise.py:8\n    y = helper(x)" in message
    assert "raise.py:6, in helper\n    return a @ np.ones(4)" in message
    assert "script.py" not in message and "core.py" not in message  # the user's frames only
    assert isinstance(err.value.__cause__, ValueError)


@pytest.mark.parametrize("line", ['print("loss", zero)', "dloss_dw = 2 * zero"])
def test_an_error_in_a_print_or_a_claim_shows_the_users_line_once(tmp_path, line):
    # a claim runs as a thunk of the binder: its frame is not the user's
    path = write(tmp_path, "raise.py", f"w = 0.5\nloss = w ** 2\n{line}\n")
    with pytest.raises(UserCodeError) as err:
        load_script(path)
    assert err.value.message.count(line) == 1 and "<lambda>" not in err.value.message


def test_sys_exit_while_traced_is_explained(tmp_path):
    path = write(tmp_path, "exit.py", "import sys\nx = 1.0\nsys.exit(2)\n")
    with pytest.raises(UserCodeError, match=r"called sys.exit\(2\)") as err:
        load_script(path)
    assert exit_code_for(err.value) == 3 and "__main__" in err.value.hint


def test_unsupported_operation_names_it_and_the_users_line(tmp_path):
    path = write(tmp_path, "u.py", "import numpy as np\nx = 8.0\ny = np.spacing(x)\n")
    with pytest.raises(UnsupportedOperationError) as err:
        load_script(path)
    assert err.value.operation == "np.spacing"
    assert err.value.location.lineno == 3
    assert err.value.location.filename.endswith("u.py")
    assert "tracegraph.primitive" in err.value.hint


def test_a_traced_value_turned_into_a_float_is_refused(tmp_path):
    # math.exp is traced (see below); math.gamma has no rule in tracegraph's math
    path = write(tmp_path, "leak.py", "import math\nx = 1.0\ny = math.gamma(x)\n")
    with pytest.raises(TracedValueLeakError) as err:
        load_script(path)
    assert err.value.location.lineno == 3 and "scipy.special.gamma" in err.value.hint


def test_no_traced_value_explains_the_convention(tmp_path):
    empty = write(tmp_path, "empty.py", "import numpy as np\nnames = ['a']\n")
    with pytest.raises(NothingToTraceError) as err:
        load_script(empty)
    assert exit_code_for(err.value) == 4
    assert "no traced value found" in err.value.message
    assert "no top-level name is bound to a number" in err.value.message
    assert "inputs = {...}" in err.value.hint and "docs/expr-files.md" in err.value.hint
    guarded = write(tmp_path, "guarded.py", """
        w = 0.5
        if __name__ == "__main__":
            loss = w * w
    """)
    with pytest.raises(ScriptError) as err:
        load_script(guarded)
    assert "its inputs are w" in err.value.message
    assert '`if __name__ == "__main__":` does not run' in err.value.message


def test_require_gradients_explains_a_non_scalar_output(tmp_path):
    path = write(tmp_path, "v.py", """
        import numpy as np
        x = np.array([1.0, 2.0])
        loss = np.sum(x * x)
        probs = x / np.sum(x)
    """)
    result = load_script(path)
    assert not result.trace.differentiated
    with pytest.raises(NoGradientError) as err:
        require_gradients(result)
    assert exit_code_for(err.value) == 4
    assert "'probs' has shape (2,)" in err.value.message
    assert "output=NAME" in err.value.hint and "loss (line 4, scalar)" in err.value.hint
    require_gradients(load_script(path, output="loss"))


def test_loading_touches_no_file(tmp_path):
    path = write(tmp_path, "neuron.py", NEURON)
    before = path.stat().st_mtime_ns
    load_script(path)
    assert files_in(tmp_path) == ["neuron.py"]
    assert path.stat().st_mtime_ns == before


def test_a_file_is_traced_afresh_each_time(tmp_path):
    path = write(tmp_path, "neuron.py", NEURON)
    first, second = load_script(path), load_script(path)
    assert first.trace is not second.trace
    assert tg.is_traced(first.trace["S"].value) is False
    assert first.trace.value == second.trace.value


# --------------------------------------------------------------------------- Python's max and min


@pytest.mark.parametrize("code, expected", [
    # a tie shares the gradient, as np.max and np.maximum do
    ("a = 2.0\nb = 2.0\nc = 1.0\nm = max(a, b, c)\nL = m * 3\n", {"a": 1.5, "b": 1.5, "c": 0.0}),
    # a plain number first: Python would return it and drop x's gradient
    ("x = 0.0\nw = 2.0\nr = max(0.0, x)\nL = w * r + x\n", {"x": 2.0, "w": 0.0}),
    ("x = 0.0\nw = 2.0\nr = max(x, 0.0)\nL = w * r\n", {"x": 1.0, "w": 0.0}),
    # an iterable, and min
    ("a = 1.0\nb = 2.0\nn = min(v * 2 for v in (a, b - 1))\nL = 6 * n\n",
     {"a": 6.0, "b": 6.0}),
    ("a = 1.0\nb = 4.0\nn = min([a * 2, b])\nL = n * n\n", {"a": 8.0, "b": 0.0}),
])
def test_pythons_max_and_min_share_ties_like_numpy(tmp_path, code, expected):
    result = load_script(write(tmp_path, "ties.py", code))
    namespace = {}
    exec(code, namespace)  # the values are Python's own
    assert result.trace.value == namespace["L"]
    assert {k: result.trace.grads[k] for k in expected} == pytest.approx(expected)


def test_pythons_max_and_min_stay_pythons_where_nothing_is_traced_or_they_count(tmp_path):
    result = load_script(write(tmp_path, "counts.py", """
        n = 3
        x = 2.0
        k = max(n, 1)
        s = 0.0
        for i in range(max(k, 2)):
            s = s + x * i
        word = max(["pear", "apple"], key=len)
        first = min([5.0, 1.0, 3.0], default=0.0)
        empty = max([], default=-1.0)
        y = max(x, float("nan"))  # Python's comparisons: x, where np.max says NaN
        L = s + first + empty + y
    """))
    t = result.trace
    assert t.value == 2.0 * 3 + 1.0 - 1.0 + 2.0
    assert t.grads["x"] == pytest.approx(3.0 + 1.0)  # s = x·(0 + 1 + 2), y = x
    assert t.constants.get("word", "pear") == "pear"


def test_pythons_max_and_min_give_the_winner_in_its_own_precision(tmp_path):
    # Python returns the winning object: a float32 winner keeps the arithmetic after it in
    # float32 (min(x0, x1, 0.3) + 0.25 * x1 rounds as float32 does, not as float64 does).
    code = ("import numpy as np\nx0 = 1.06\nx1 = np.float32(-0.131)\n"
            "m = min(x0, x1, 0.3)\ny = m + 0.25 * x1\nM = max(x1 * 2, -2.0)\nL = y * M\n")
    result = load_script(write(tmp_path, "f32.py", code))
    namespace = {}
    exec(code, namespace)
    values = {v.name: result.trace.tape.equations[v.index].value for v in result.versions}
    for name in ("m", "y", "M", "L"):
        assert type(values[name]) is np.float32 and values[name] == namespace[name], name
    assert result.trace.grads["x0"] == 0.0
    assert result.trace.grads["x1"] == pytest.approx(1.25 * -0.262 + -0.16375 * 2, rel=1e-6)


def _compensated_sum(monkeypatch):
    """Python 3.12's sum of floats (compensated, ``sum([1e16, 1.0, -1e16])`` is 1.0) on any
    Python: for exact floats and ints it is the exact sum, rounded once; anything else is
    summed as before."""
    original = builtins.sum

    def compensated(items, /, start=0):
        items = list(items)
        if all(type(v) in (float, int) for v in (start, *items)) and \
                any(type(v) is float for v in (start, *items)):
            return math.fsum([start, *items])
        return original(items, start)
    monkeypatch.setattr(builtins, "sum", compensated)


@pytest.mark.parametrize("terms", ["[a, 1.0, -a]", "(v * 1.0 for v in [a, 0.1, 0.2, 0.3])",
                                   "[0.1, 0.2, 0.3, a * 1e-17]"])
def test_pythons_sum_of_traced_numbers_has_pythons_value(tmp_path, monkeypatch, terms):
    # Python 3.12 compensates sum() of floats; adding traced numbers one by one does not.
    _compensated_sum(monkeypatch)
    code = f"a = 1e16\ns = sum({terms})\nL = s * 2.0\n"
    result = load_script(write(tmp_path, "sums.py", code))
    namespace = {}
    exec(code, namespace)
    assert result.trace["s"].value == namespace["s"]
    assert result.trace.value == namespace["L"]
    a = 1e16
    by_hand = {"[a, 1.0, -a]": 0.0, "[0.1, 0.2, 0.3, a * 1e-17]": 2e-17}
    assert result.trace.grads["a"] == pytest.approx(by_hand.get(terms, 2.0))


@pytest.mark.parametrize("code, message, hint", [
    ("x = 1.0\nx = 2.0\ny = x ** 2\ndy_dx = 2 * x\n",
     "'x' is bound to a number twice (lines 1 and 2)", "bind each input once"),
    ("x = 3\ny = x ** 2\ndy_dx = 2 * x\n",
     "the numbers bound at the top level (x) are ints", "(x = 3.0)"),  # y is computed from x
])
def test_nothing_traced_says_why(tmp_path, code, message, hint):
    with pytest.raises(NothingToTraceError) as caught:
        load_script(write(tmp_path, "why.py", code))
    assert message in caught.value.message and hint in caught.value.hint


def test_a_claim_on_a_name_of_a_function_called_twice_takes_the_value_it_can_mean(tmp_path):
    result = load_script(write(tmp_path, "layers.py", """
        import numpy as np
        def layer(x, w):
            z = w * x
            return np.tanh(z)
        x = 0.5
        w1 = 0.8
        w2 = -1.2
        h1 = layer(x, w1)
        h2 = layer(h1, w2)
        L = h2 ** 2
        dh1_dz = 1 - h1 ** 2
        dL_dz = 2 * h2 * (1 - h2 ** 2)
    """))
    report = check_script(result)
    verdicts = {r.name: (r.verdict, r.labels[1]) for r in report.results}
    # h1 depends on the first call's z only; L on both, and the latest is the second's
    assert verdicts == {"dh1_dz": ("exact", "z₁"), "dL_dz": ("exact", "z₂")}


def test_the_math_module_is_traced_with_pythons_values(tmp_path):
    code = """
        import math
        from math import sin, pi
        x = 0.5
        w = 2.3
        y = math.log(x * w + 1, 2) + sin(x) * pi + math.sqrt(w) * math.exp(-x) + math.floor(w)
        z = math.tanh(y) * math.degrees(x)
    """
    namespace = {}
    exec(textwrap.dedent(code), namespace)
    t = load_script(write(tmp_path, "maths.py", code)).trace
    # to the last bit or two: math.floor gives Python an int, the trace numpy's float
    assert t.value == pytest.approx(namespace["z"], rel=1e-14)
    assert t["y"].value == pytest.approx(namespace["y"], rel=1e-14)

    def plain(x, w):
        scope = {}
        source = textwrap.dedent(code).replace("x = 0.5", f"x = {x!r}")
        exec(source.replace("w = 2.3", f"w = {w!r}"), scope)
        return scope["z"]
    step = 1e-6
    assert t.grads["x"] == pytest.approx((plain(0.5 + step, 2.3) - plain(0.5 - step, 2.3))
                                         / (2 * step), rel=1e-6)
    assert t.grads["w"] == pytest.approx((plain(0.5, 2.3 + step) - plain(0.5, 2.3 - step))
                                         / (2 * step), rel=1e-6)


def test_math_raises_where_python_does(tmp_path):
    with pytest.raises(UserCodeError, match="math domain error"):
        load_script(write(tmp_path, "domain.py", "import math\nx = -1.0\ny = math.log(x)\n"))


def test_a_bug_in_tracegraph_under_the_files_code_is_not_blamed_on_the_file(tmp_path, monkeypatch):
    from tracegraph.script import python_builtins

    scope: dict = {}  # a function whose code lives in tracegraph's own file, with a bug
    exec(compile("def broken(items):\n    return undefined_name\n", python_builtins.__file__,
                 "exec"), scope)
    monkeypatch.setattr(python_builtins, "_traced_numbers", scope["broken"])
    with pytest.raises(NameError):
        load_script(write(tmp_path, "fine.py", "a = 1.0\nb = max(a, 2.0) * a\n"))
    with pytest.raises(UserCodeError, match="NameError"):  # the file's own NameError still is
        load_script(write(tmp_path, "typo.py", "a = 1.0\nb = c * a\n"))


def test_math_star_import_and_a_traced_base_and_second_derivatives(tmp_path):
    star = load_script(write(tmp_path, "star.py", """
        from math import *
        x = 0.6
        b = 3.0
        y = exp(sin(x)) * sqrt(x) * pi + log(x, b)
    """)).trace
    x, b = 0.6, 3.0
    assert star.value == pytest.approx(math.exp(math.sin(x)) * math.sqrt(x) * math.pi
                                       + math.log(x, b), rel=1e-14)
    assert star.grads["b"] == pytest.approx(-math.log(x) / (b * math.log(b) ** 2), rel=1e-12)
    path = write(tmp_path, "second.py", """
        import math
        a = 1.0
        b = 2.0
        f = math.exp(a * b) + max(a, b) ** 2
    """)
    def file(a, b):
        return load_script(path, overrides={"a": a, "b": b}).trace
    file.traces_itself = True  # the file's own trace stands for the function
    found = tg.hessian(file, a=1.0, b=2.0)
    e = math.exp(2.0)
    np.testing.assert_allclose(found.matrix, [[4 * e, e * 3], [e * 3, e + 2]], rtol=1e-12)


TWO_ARGUMENT_MATH = {"pow": (0.1, 3.0), "atan2": (-3.0, 3.0), "hypot": (-3.0, 3.0),
                     "fmod": (0.1, 7.0)}
ONE_ARGUMENT_MATH = {"acos": (-0.9, 0.9), "asin": (-0.9, 0.9), "acosh": (1.1, 4.0),
                     "atanh": (-0.9, 0.9), "log": (0.1, 5.0), "log10": (0.1, 5.0),
                     "log2": (0.1, 5.0), "log1p": (-0.5, 5.0), "sqrt": (0.1, 5.0)}


def _traced_math_functions():
    from tracegraph.script.python_builtins import TracedMath

    traced = TracedMath()
    for name in dir(math):
        function = getattr(traced, name)
        if callable(function) and function is not getattr(math, name) and \
                name not in ("floor", "ceil", "trunc", "isfinite", "isinf", "isnan", "isclose"):
            yield name


@pytest.mark.parametrize("name", sorted(_traced_math_functions()))
def test_the_files_math_on_traced_floats_has_pythons_value_to_the_bit(name):
    # math.tanh and np.tanh can differ in the last bit: the file asked for math's
    from tracegraph.script.python_builtins import TracedMath

    traced, real = getattr(TracedMath(), name), getattr(math, name)
    rng = np.random.default_rng(7)
    if name in TWO_ARGUMENT_MATH:
        points = rng.uniform(*TWO_ARGUMENT_MATH[name], size=(100, 2))
    else:
        points = rng.uniform(*ONE_ARGUMENT_MATH.get(name, (-2.0, 2.0)), size=(300, 1))
    step = 1e-6
    for point in points.tolist():
        names = ["a", "b"][:len(point)]
        t = tg.trace(lambda **inputs: traced(*inputs.values()), **dict(zip(names, point)))
        assert t.value == real(*point), (name, point)
        for wrt, input_name in enumerate(names):
            up, down = list(point), list(point)
            up[wrt] += step
            down[wrt] -= step
            assert t.grads[input_name] == pytest.approx(
                (real(*up) - real(*down)) / (2 * step), rel=1e-5, abs=1e-7), (name, point)


def test_math_predicates_and_fabs_on_traced_numbers(tmp_path):
    t = load_script(write(tmp_path, "predicates.py", """
        import math
        x = -2.0
        y = math.fabs(x) * math.pow(x, 2)
        if math.isfinite(y) and not math.isnan(y) and not math.isinf(y):
            y = y * 3
        assert math.isclose(y, 24.0, rel_tol=1e-12)
        loss = y
    """)).trace
    assert t.value == 24.0
    assert t.grads["x"] == pytest.approx(-36.0)  # d/dx 3|x|x² = 3(sign(x)x² + 2|x|x)


def test_the_files_own_helper_modules_trace_math_too(tmp_path):
    (tmp_path / "mathhelp.py").write_text(
        "import math\nfrom math import tanh\n"
        "def sig(z):\n    return 1.0 / (1.0 + math.exp(-z))\n"
        "def act(z):\n    return tanh(z) * 2.0\n")
    path = write(tmp_path, "uses.py", """
        from mathhelp import sig, act
        w = 0.7
        loss = sig(w) * act(w)
    """)
    t = load_script(path).trace
    s, a = 1 / (1 + math.exp(-0.7)), math.tanh(0.7) * 2.0
    assert t.value == s * a
    assert t.grads["w"] == pytest.approx(s * (1 - s) * a + s * 2.0 * (1 - math.tanh(0.7) ** 2))
    import math as real_math
    assert math is real_math and "mathhelp" not in sys.modules  # nothing left behind


def test_numpy_meeting_an_array_of_traced_numbers_inside_a_call_says_how_to_build_it(tmp_path):
    path = write(tmp_path, "inline.py", """
        import numpy as np
        a = 2.5
        b = 1.5
        d = np.linalg.det([[a, b], [b, a + 1]])
    """)
    with pytest.raises(UserCodeError) as caught:
        load_script(path)
    assert "assign it to a name first" in caught.value.hint
    inline = write(tmp_path, "inline_array.py", """
        import numpy as np
        a = 2.5
        b = 1.5
        d = np.linalg.det(np.array([[a, b], [b, a + 1]]))
    """)
    t = load_script(inline).trace
    assert t.value == np.linalg.det(np.array([[2.5, 1.5], [1.5, 3.5]]))
    assert t.grads["a"] == pytest.approx(2 * 2.5 + 1) and t.grads["b"] == pytest.approx(-3.0)
    named = write(tmp_path, "named.py", """
        import numpy as np
        a = 2.5
        b = 1.5
        M = np.array([[a, b], [b, a + 1]])
        d = np.linalg.det(M)
    """)
    t = load_script(named).trace
    assert t.value == pytest.approx(2.5 * 3.5 - 1.5 ** 2)
    assert t.grads["a"] == pytest.approx(2 * 2.5 + 1) and t.grads["b"] == pytest.approx(-3.0)


def test_np_array_of_traced_numbers_inside_an_expression_computes_as_numpy_does(tmp_path):
    # numpy keeps an object array there: np.cos ran number by number, an ulp off numpy's
    # array loop at x = 0.3 (cos(1.37·0.3·i − 0.7) for i < 20), and float32 numbers
    # rounded in float32 where numpy's array of them is float64.
    code = """
        import numpy as np
        a = 0.3
        b = 0.7
        f = np.float32(1.466)
        c = np.sum(np.cos(np.array([a * 1.37 * i - b for i in range(20)])))
        s = np.sum(np.maximum(np.array([np.float64(-0.08), f ** 3, a]), 0.1)) / 2.0
        L = c + s
    """
    result = load_script(write(tmp_path, "inline.py", code))
    namespace = {}
    exec(textwrap.dedent(code), namespace)
    values = {v.name: result.trace.tape.equations[v.index].value for v in result.versions}
    assert values["c"] == namespace["c"] and values["s"] == namespace["s"]
    assert result.trace.value == namespace["L"]
    assert result.trace.grads["a"] == pytest.approx(
        -sum(1.37 * i * np.sin(1.37 * 0.3 * i - 0.7) for i in range(20)) + 0.5)
    assert result.trace.grads["f"] == pytest.approx(1.5 * 1.466 ** 2, rel=1e-6)


def test_a_file_that_changes_folder_runs_as_with_python_and_the_folder_comes_back(
        tmp_path, monkeypatch):
    # The idiom os.chdir(os.path.dirname(__file__)) failed for `hw.py` (a relative
    # __file__ gives dirname ''), and a chdir stayed in effect after the run.
    (tmp_path / "data").mkdir()
    write(tmp_path / "data", "scale.txt", "3.0\n")
    write(tmp_path, "helper.py", "OFFSET = 1.0\n")
    write(tmp_path, "hw.py", """
        import os
        os.chdir(os.path.join(os.path.dirname(__file__), "data"))
        from helper import OFFSET
        x = 2.0
        y = x * float(open("scale.txt").read()) + OFFSET
        if __name__ == "__main__":
            print(y, os.path.isabs(__file__))
    """)
    monkeypatch.chdir(tmp_path)
    python = subprocess.run([sys.executable, "hw.py"], capture_output=True, text=True)
    assert python.stdout.split() == ["7.0", "True"], python.stderr
    result = load_script(Path("hw.py"))  # relative, as typed on a command line
    assert result.trace.value == 7.0 and result.trace.grads["x"] == 3.0
    assert Path.cwd() == tmp_path


def test_undecodable_first_lines_and_unknown_codings_name_their_line(tmp_path):
    # Bytes on line 1 or 2 reach python's coding-line detection first; that once came
    # out as "SyntaxError: invalid or missing encoding declaration" with no line and a
    # hint to fix the syntax.
    for lines, where in ((b"\xff\xfe\x01 = 1.0\n", 1), (b"x = 1.0\ny = x  # \xe9\n", 2)):
        first = tmp_path / "first.py"
        first.write_bytes(lines)
        with pytest.raises(ScriptFileError) as caught:
            load_script(first)
        assert f"first.py:{where}: the file is not valid utf-8" in str(caught.value)
        assert "SyntaxError" not in str(caught.value) and "coding: latin-1" in caught.value.hint
    for lines, where in ((b"# coding: nope\nx = 1.0\n", 1),
                         (b"#!/usr/bin/env python\n# -*- coding: nope -*-\nx = 1.0\n", 2)):
        cookie = tmp_path / "cookie.py"
        cookie.write_bytes(lines)
        with pytest.raises(ScriptFileError, match=rf"cookie.py:{where}: unknown encoding: nope"):
            load_script(cookie)


def test_files_python_refuses_are_refused_clearly(tmp_path):
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"x = 1.0\ny = x * 2.0  # caf\xe9\n")  # python latin.py: SyntaxError
    with pytest.raises(tg.TracegraphError, match=r"latin.py:2: the file is not valid utf-8"):
        load_script(latin)
    declared = tmp_path / "declared.py"
    declared.write_bytes(b"# -*- coding: latin-1 -*-\nx = 1.0\ny = x * 2.0  # caf\xe9\n")
    assert load_script(declared).trace.value == 2.0
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"x = 1.0\x00\n")
    with pytest.raises(tg.TracegraphError, match="contains null bytes") as caught:
        load_script(binary)
    assert "?:?" not in str(caught.value)
