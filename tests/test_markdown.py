"""The pymdownx.superfences fence (Python-Markdown / MkDocs)."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

markdown = pytest.importorskip("markdown")
pytest.importorskip("pymdownx")

import tracegraph.markdown
from tracegraph.markdown import fence_format, fence_validator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FENCE = {"name": "tracegraph", "class": "tracegraph", "format": fence_format,
         "validator": fence_validator}


def convert(text: str, *, validator: bool = True, attr_list: bool = False,
            extension: bool = True) -> str:
    fence = dict(FENCE) if validator else {k: v for k, v in FENCE.items() if k != "validator"}
    extensions = (["tracegraph.markdown"] if extension else []) + ["pymdownx.superfences"] + (
        ["attr_list"] if attr_list else [])
    return markdown.markdown(text, extensions=extensions, extension_configs={
        "pymdownx.superfences": {"custom_fences": [fence]}})


@pytest.fixture
def in_project(tmp_path, monkeypatch):
    """The current folder holds examples/neuron.py, as an MkDocs project would."""
    (tmp_path / "examples").mkdir()
    shutil.copy(EXAMPLES / "neuron.py", tmp_path / "examples" / "neuron.py")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACEGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.needs_dot
def test_a_file_fence_gives_the_inline_svg_with_ids_unique_in_the_page(in_project):
    page = convert('```tracegraph path="examples/neuron.py" rankdir="TB"\n```\n\n'
                   '```tracegraph path="examples/neuron.py" between="w1,Loss" table\n```\n')
    assert page.count('<svg ') == 2 and "<object" not in page and "<img" not in page
    assert 'id="tg-1-graph0"' in page and 'id="tg-2-graph0"' in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert page.count('<table class="tracegraph-table">') == 1
    assert "∂A/∂w1 = x1 = 1" in page
    assert 'aria-label="Chain-rule diagram of examples/neuron.py: Loss = 0.1811"' in page


@pytest.mark.needs_dot
def test_the_body_is_the_expression_and_options_mirror_the_command(in_project):
    page = convert('```tracegraph show="grads" set="x=2" caption="Square"\nx = 3.0\n'
                   'y = x * x\n```\n')
    assert "y = 4" in page  # the alt text, after set x=2
    assert "<figcaption>Square</figcaption>" in page
    assert "∂y/∂x = x" not in page  # show="grads": no local derivatives on the edges


def homework(folder: Path) -> None:
    shutil.copy(EXAMPLES / "neuron_homework_wrong.py", folder / "examples" / "wrong.py")


@pytest.mark.needs_dot
def test_the_directives_hyphenated_options_work_and_the_next_fence_is_drawn(in_project,
                                                                           caplog):
    homework(in_project)
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.tracegraph"):
        page = convert('```tracegraph path="examples/wrong.py" check expect-wrong\n```\n\n'
                       '```tracegraph path="examples/neuron.py" max-nodes="0" no-legend '
                       'no-constants\n```\n\n'
                       '```tracegraph path="examples/neuron.py" rankdir=\'TB\'\n```\n')
    # superfences alone dropped these headers: a code block, no diagram, no warning
    assert page.count("<svg ") == 3 and "<code" not in page, page[:2000]
    assert "✗ WRONG" in page and caplog.records == []
    second = page.split("<figure")[2]
    assert "gradient scale" not in second.lower() and "Legend" not in second


@pytest.mark.needs_dot
def test_the_underscore_spelling_works_without_the_extension(in_project, caplog, monkeypatch):
    homework(in_project)
    monkeypatch.setattr(tracegraph.markdown, "_warned_without_extension", True)
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.tracegraph"):
        page = convert('```tracegraph path="examples/wrong.py" check expect_wrong\n```\n\n'
                       '```tracegraph path="examples/neuron.py" max_nodes="0" no_legend\n```\n',
                       extension=False)
    assert page.count("<svg ") == 2 and caplog.records == []


def test_without_the_extension_the_fence_says_to_add_it_once(in_project, caplog, monkeypatch):
    monkeypatch.setattr(tracegraph.markdown, "_warned_without_extension", False)
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.tracegraph"):
        for _ in range(2):
            convert('```tracegraph path="examples/nueron.py"\n```\n', extension=False)
    advice = [r.getMessage() for r in caplog.records if "tracegraph.markdown" in r.getMessage()]
    assert len(advice) == 1 and "expect_wrong" in advice[0], advice


@pytest.mark.needs_dot
def test_a_header_the_fence_cannot_read_is_an_error_in_the_page(in_project, caplog):
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.tracegraph"):
        page = convert('```tracegraph path="examples/neuron.py" max-nodes="0 table\n```\n\n'
                       '```tracegraph path="examples/neuron.py"\n```\n')
    assert '<div class="tracegraph tracegraph-error">' in page
    assert 'cannot read the options of this fence: path="examples/neuron.py" max-nodes="0 ' \
           'table' in page
    assert page.count("<svg ") == 1  # the next fence is drawn, not swallowed
    assert any("cannot read the options" in r.getMessage() for r in caplog.records)


def test_a_fence_shown_inside_another_fence_is_left_as_written(in_project):
    page = convert('````md\n```tracegraph path="x.py" max-nodes="3"\n```\n````\n')
    assert 'path="x.py" max-nodes="3"' in page and "<svg" not in page and "error" not in page


@pytest.mark.needs_dot
def test_braces_work_without_the_validator(in_project):
    page = convert('```{.tracegraph path="examples/neuron.py" max-nodes="40"}\n```\n',
                   validator=False, attr_list=True)
    assert '<svg ' in page and "Chain-rule diagram of examples/neuron.py" in page


@pytest.mark.needs_dot
def test_a_rebuild_comes_from_the_cache(in_project, traces):
    text = '```tracegraph path="examples/neuron.py"\n```\n'
    first = convert(text)
    assert len(traces) == 1
    assert convert(text) == first
    assert len(traces) == 1
    (in_project / "examples" / "neuron.py").write_text(
        (EXAMPLES / "neuron.py").read_text().replace("w1 = 0.5", "w1 = 0.25"))
    assert convert(text) != first and len(traces) == 2


def test_failures_are_logged_warnings_and_shown_in_the_page(in_project, caplog):
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.tracegraph"):
        page = convert('```tracegraph path="examples/nueron.py"\n```\n\n'
                       '```tracegraph check\nw = 2.0\nloss = w * w\ndloss_dw = 3 * w\n```\n')
    messages = [r.getMessage() for r in caplog.records]
    assert any("examples/nueron.py does not exist" in m for m in messages), messages
    assert any("first wrong step: dloss_dw (line 3)" in m for m in messages), messages
    assert 'class="tracegraph tracegraph-error"' in page and "nueron.py does not exist" in page


def test_a_bad_option_is_an_error_not_a_code_block(in_project, caplog):
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.tracegraph"):
        page = convert('```tracegraph path="examples/neuron.py" rankdir="RL"\n```\n')
    # The message wraps in its box: a long hint must not widen the page.
    assert ('<pre style="white-space:pre-wrap">rankdir: \'RL\' is not a direction' in page
            and "<svg" not in page)
    assert any("use one of LR, TB" in r.getMessage() for r in caplog.records)


def test_without_dot_the_dot_source_and_the_table(in_project, monkeypatch, tmp_path, caplog):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.tracegraph"):
        page = convert('```tracegraph path="examples/neuron.py"\n```\n')
    assert "digraph tracegraph {" in page and "∂Loss/∂node" in page and "<svg" not in page
    assert '<pre class="tracegraph-dot" style="overflow-x:auto">digraph' in page  # lines are long
    assert any("needs Graphviz's `dot`" in r.getMessage() for r in caplog.records)
    assert not any(".json" in r.getMessage() for r in caplog.records)  # the CLI's advice
