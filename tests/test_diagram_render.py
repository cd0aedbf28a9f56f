"""Writing diagrams: files, Graphviz (real `dot` where marked), escaping, Jupyter."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tracegraph as tg
from tracegraph.diagram import build_diagram, mimebundle, render, svg, to_dot
from tracegraph.diagram.dot import NAME_LIMIT
from tracegraph.diagram.output import fit_to_width
from seed002 import neuron

SVG = "{http://www.w3.org/2000/svg}"
# What Graphviz's SVG is made of; anything else would be markup injected by a label.
SVG_ELEMENTS = {"svg", "g", "title", "polygon", "polyline", "path", "ellipse", "text", "a"}


@pytest.fixture(scope="module")
def seed_trace():
    return tg.trace(neuron, w1=0.5, x1=1.0, w2=-0.3, x2=2.0, w3=0.8, x3=0.5, gold=1.0)


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """A PATH on which Graphviz's `dot` cannot be found."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def visible(text: str) -> str:
    """The documented rule: non-printable characters are shown as Python escapes, and
    every backslash is drawn as ⧵ (U+29F5)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text).replace("\\", "⧵")


def svg_texts(svg_text: str) -> tuple[list[str], list[str], ET.Element]:
    root = ET.fromstring(svg_text)
    texts, tooltips = [], []
    for element in root.iter():
        if element.tag == f"{SVG}text":
            texts.append((element.text or "").replace("\xa0", " ").strip())
        tooltips.extend(v.replace("\xa0", " ") for k, v in element.attrib.items()
                        if k.endswith("}title"))
    return texts, tooltips, root


# --------------------------------------------------------------------------- files without dot


def test_dot_and_json_files(tmp_path, seed_trace):
    dot_path = render(seed_trace, tmp_path / "neuron.dot")
    assert dot_path == tmp_path / "neuron.dot"
    assert dot_path.read_text(encoding="utf-8") == to_dot(seed_trace)
    data = json.loads(render(seed_trace, tmp_path / "neuron.json").read_text(encoding="utf-8"))
    assert data["graph"]["output"] == "Loss"
    assert len(data["nodes"]) == seed_trace.graph.number_of_nodes()
    focused = json.loads(render(seed_trace, tmp_path / "g.json", focus="G").read_text())
    assert sorted(node["id"] for node in focused["nodes"]) == sorted(
        ["w1", "x1", "w2", "x2", "w3", "x3", "A", "B", "C", "G"])


def test_format_argument_and_unknown_suffixes(tmp_path, seed_trace):
    path = render(seed_trace, tmp_path / "diagram.txt", format="dot")
    assert path.read_text().startswith("digraph tracegraph {")
    with pytest.raises(tg.TracegraphError, match=r"\.svg") as err:
        render(seed_trace, tmp_path / "diagram.txt")
    assert "suffix" in str(err.value)
    assert not (tmp_path / "diagram.txt").read_text().startswith("{")  # untouched


def test_missing_folder_is_an_error_and_is_not_created(tmp_path, seed_trace):
    target = tmp_path / "no" / "such" / "neuron.dot"
    with pytest.raises(tg.TracegraphError, match="does not exist") as err:
        render(seed_trace, target)
    assert "create the folder" in err.value.hint
    assert not (tmp_path / "no").exists()
    with pytest.raises(tg.TracegraphError, match="it is a folder"):
        render(seed_trace, tmp_path, format="dot")


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, seed_trace,
                                                                   monkeypatch):
    target = tmp_path / "neuron.dot"
    target.write_text("previous diagram")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        render(seed_trace, target)
    assert target.read_text() == "previous diagram"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neuron.dot"]


def test_written_files_get_ordinary_permissions(tmp_path, seed_trace):
    old = os.umask(0o022)
    try:
        path = render(seed_trace, tmp_path / "neuron.dot")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------- without Graphviz


def test_images_without_dot_raise_a_clear_error(tmp_path, seed_trace, no_dot):
    target = tmp_path / "neuron.svg"
    target.write_text("old image")
    with pytest.raises(tg.GraphvizNotFoundError) as err:
        render(seed_trace, target)
    message = str(err.value)
    for words in ("`dot`", "apt-get install graphviz", "brew install graphviz",
                  "conda install", "choco install graphviz"):
        assert words in message
    assert target.read_text() == "old image"
    assert render(seed_trace, tmp_path / "ok.dot").exists()  # DOT and JSON still work
    assert render(seed_trace, tmp_path / "ok.json").exists()
    with pytest.raises(tg.GraphvizNotFoundError):
        svg(seed_trace)


def test_graphviz_packages_own_not_found_error_is_translated(tmp_path, seed_trace, no_dot,
                                                              monkeypatch):
    # shutil.which claims `dot` exists, but the graphviz package cannot start it.
    monkeypatch.setattr("tracegraph.diagram.output.shutil.which", lambda name: "/usr/bin/dot")
    with pytest.raises(tg.GraphvizNotFoundError, match="apt-get install graphviz"):
        render(seed_trace, tmp_path / "neuron.png")


def test_jupyter_without_dot_explains_how_to_install(seed_trace, no_dot):
    bundle = mimebundle(seed_trace)
    assert list(bundle) == ["text/plain"]
    assert bundle["text/plain"].startswith("<Trace Loss = 0.181099")
    assert "apt-get install graphviz" in bundle["text/plain"]
    assert seed_trace._repr_mimebundle_() == bundle


def test_fit_to_width_only_touches_wide_pictures():
    wide = '<svg width="1000.5pt" height="80pt"\n viewBox="0.00 0.00 1000.50 80.00" x="1">'
    assert fit_to_width(wide) == '<svg width="100%"\n viewBox="0.00 0.00 1000.50 80.00" x="1">'
    narrow = '<svg width="300pt" height="80pt"\n viewBox="0.00 0.00 300.00 80.00">'
    assert fit_to_width(narrow) == narrow


# --------------------------------------------------------------------------- with Graphviz


@pytest.mark.needs_dot
def test_svg_of_the_neuron_draws_every_node(seed_trace):
    image = svg(seed_trace)
    texts, tooltips, root = svg_texts(image)
    titles = [t.text for t in root.iter(f"{SVG}title")]
    drawn = [n for n, d in seed_trace.graph.nodes(data=True) if d["kind"] != "constant"]
    assert set(drawn) | {"~legend"} <= set(titles)
    for expected in ("G = A + B + C", "S = σ(G)", "∂S/∂G = S·(1 − S) = 0.2445"):
        assert expected in texts
    assert "w1 (input, op input)\nvalue:\n  0.5\n∂Loss/∂w1:\n  −0.2081" in tooltips


@pytest.mark.needs_dot
def test_svg_is_byte_identical_run_to_run(seed_trace, tmp_path):
    first = render(seed_trace, tmp_path / "a.svg").read_bytes()
    second = render(seed_trace, tmp_path / "b.svg").read_bytes()
    assert first == second
    assert str(tmp_path).encode() not in first
    assert svg(seed_trace, max_nodes=None) == svg(seed_trace, max_nodes=None)


@pytest.mark.needs_dot
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-")])
def test_png_and_pdf(tmp_path, seed_trace, suffix, magic):
    path = render(seed_trace, tmp_path / f"neuron{suffix}")
    assert path.read_bytes().startswith(magic)


@pytest.mark.needs_dot
def test_jupyter_bundle_scales_wide_diagrams_instead_of_cropping():
    def chain(x):
        for _ in range(30):
            x = np.tanh(x * 0.9 + 0.1)
        return x

    t = tg.trace(chain, x=0.5)
    wide = mimebundle(t)["image/svg+xml"]
    assert re.search(r'<svg width="100%"\s+viewBox=', wide)
    small = mimebundle(tg.trace(lambda x: -x, x=1.0), legend=False)["image/svg+xml"]
    width = float(re.search(r'<svg width="([\d.]+)pt"', small).group(1))
    assert width < 720
    ET.fromstring(wide)


@pytest.mark.needs_dot
def test_a_big_summarised_chain_lays_out(tmp_path):
    with tg.Tracer() as tr:
        y = tr.input("x", 0.3)
        for i in range(2000):
            y = np.tanh(y * tr.input(f"w{i}", 0.5) + tr.input(f"b{i}", 0.1))
        t = tr.finish(y, name="y")
    root = ET.fromstring(render(t, tmp_path / "chain.svg").read_text(encoding="utf-8"))
    nodes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    assert len(nodes) == build_diagram(t).node_count + 1  # + the legend


@pytest.mark.needs_dot
def test_huge_names_and_arrays_stay_within_graphvizs_string_limit():
    # Graphviz rejects any quoted or HTML string over 16,384 bytes.
    long_name = "ж" * 20_000
    with tg.Tracer() as tr:
        x = tr.input(long_name, np.linspace(-1.0, 1.0, 5_000))
        with tg.scope(long_name):
            y = tg.name(np.sum(x * x), long_name + "2")
        t = tr.finish(y)
    dot = to_dot(t, title=long_name,
                 marks={long_name + "2": {"status": "wrong", "note": long_name}})
    longest = max(len(s.encode()) for s in re.findall(r'"[^"]*"|<.*?>(?=[,;\]] |\];$)', dot))
    assert longest < 16_384
    texts, tooltips, _ = svg_texts(svg(t, title=long_name))
    assert any(text.startswith("ж" * 50) and text.endswith("…") for text in texts)
    assert any("first 1,000 of 5,000 values" in tip and tip.endswith("… (cut)")
               for tip in tooltips)


# --------------------------------------------------------------------------- escaping


@pytest.mark.needs_dot
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(min_size=1, max_size=14), scope=st.text(min_size=1, max_size=8),
       note=st.text(max_size=14))
@example(name='"; evil [label="x"', scope="}", note="</TD></TR></TABLE>")
@example(name="a\\", scope="\\", note="\\")
@example(name="\\N \\G \\\\ \\n", scope="\\N", note="\\L")
@example(name="<script>alert(1)</script>", scope="&amp;", note="&lt;")
@example(name="line\nbreak\x00\u202e", scope="{}|<>", note="\r\n")
@example(name="0", scope="0" + "\U00018cd6" * 7, note="")
def test_any_name_is_escaped_through_real_dot(name, scope, note):
    def traced(name: str, scope: str):
        with tg.Tracer() as tr:
            x = tr.input(name, 1.0)
            with tg.scope(scope):
                y = tg.name(x * 2.0, name + "!")
            return tr.finish(y + 1.0, name="out")

    t = traced(name, scope)
    marks = {"out": {"status": "wrong", "note": note}}
    diagram = build_diagram(t, title=name, marks=marks)
    plain = to_dot(traced("a", "s"), title="t", marks={"out": {"status": "wrong", "note": "n"}})
    assert diagram.dot.count("\n") == plain.count("\n")  # no line break comes from user text
    image = svg(t, title=name, marks=marks)
    texts, tooltips, root = svg_texts(image)
    assert {element.tag.removeprefix(SVG) for element in root.iter()} <= SVG_ELEMENTS
    nodes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    assert len(nodes) == diagram.node_count + 1  # + the legend
    shown = visible(name)
    if len(shown) <= 59:
        assert shown.strip() in texts  # the input's title
        assert any(t.startswith(f"{shown} (input, op input)") for t in tooltips)
    label = visible(scope)
    if len(label) > NAME_LIMIT:  # ten characters per escaped astral character
        label = label[:NAME_LIMIT - 1] + "…"
    assert label.strip() in texts  # the cluster's label
    if len(visible(note)) <= 60:
        assert (f"✗ WRONG: {visible(note)}" if note else "✗ WRONG").strip() in texts


def test_a_built_diagram_is_written_without_building_it_again(tmp_path, seed_trace):
    diagram = build_diagram(seed_trace, show="grads")
    assert render(diagram, tmp_path / "a.dot").read_text() == diagram.dot
    with pytest.raises(tg.TracegraphError, match="no graph to write as JSON"):
        render(diagram, tmp_path / "a.json")
    with pytest.raises(tg.TracegraphError, match="cannot take diagram options"):
        render(diagram, tmp_path / "b.dot", show="local")
    assert not (tmp_path / "b.dot").exists()
