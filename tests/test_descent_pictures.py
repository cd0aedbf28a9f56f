"""Pictures of runs: PNG plots, GIF and self-contained HTML animations (read back, not timed)."""

from __future__ import annotations

import errno
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import tracegraph as tg
from tracegraph.descent.animation import frame_font, frame_steps
from tracegraph.descent.plots import contour_levels, plot_runs, view_of, wants_log

Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
import mds_cities  # noqa: E402


@pytest.fixture(scope="module")
def cities_run():
    names, D, X = mds_cities.problem(34)
    run = tg.descend(mds_cities.stress_of, X=X, D=tg.constant(D), lr=0.002, steps=199)
    return names, run


def rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def test_views_and_scales():
    assert view_of(tg.descend(rosenbrock, x=0.0, y=0.0, steps=1)) == "contour"
    assert view_of(tg.descend(lambda w: np.sum(w * w), w=np.ones(3), steps=1)) == "curve"
    assert wants_log(np.array([1e3, 1e-2])) and not wants_log(np.array([5.0, 1.0]))
    assert not wants_log(np.array([1.0, -1.0]))
    levels = contour_levels(np.array([[1e-3, 1.0], [10.0, 100.0]]))
    assert levels[0] == pytest.approx(1e-3) and levels[1] / levels[0] == pytest.approx(
        levels[2] / levels[1])


def test_frames_are_spread_evenly_and_include_both_ends():
    assert frame_steps(1000, 200)[:3] == [0, 5, 10] and frame_steps(1000, 200)[-1] == 1000
    assert len(frame_steps(1000, 200)) == 200 and frame_steps(0, 200) == [0]


@pytest.mark.parametrize("kind", ["contour", "plane", "curve"])
def test_png_plots_are_written(tmp_path, kind, cities_run):
    if kind == "contour":
        run = tg.descend(rosenbrock, x=-1.0, y=1.0, optimizer="adam", lr=0.05, steps=300)
        size = (1210, 528)
    elif kind == "plane":
        run = cities_run[1]
        size = (1210, 528)
    else:
        run = tg.descend(lambda w: np.sum((w - 2.0) ** 2), w=np.zeros(5), steps=50)
        size = (715, 462)
    path = run.plot(tmp_path / "run.png", labels=cities_run[0] if kind == "plane" else None)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == size
        colours = np.unique(np.asarray(image.convert("RGB")).reshape(-1, 3), axis=0)
        assert len(colours) > 50  # a picture, not a blank


def test_gif_of_34_cities_has_every_frame_and_stays_small(tmp_path, cities_run):
    names, run = cities_run
    path = run.animate(tmp_path / "cities.gif", labels=names)
    assert path.stat().st_size < 300_000
    with Image.open(path) as gif:
        assert gif.n_frames == 200 and gif.info["loop"] == 0
        gif.seek(0)
        first = np.asarray(gif.convert("RGB")).copy()
        gif.seek(199)
        last = np.asarray(gif.convert("RGB")).copy()
    # The points moved: the last frame differs from the first on the plane.
    assert (first != last).any(axis=2).sum() > 500


def test_html_animation_is_one_offline_page(tmp_path, cities_run):
    names, run = cities_run
    page = run.animate(tmp_path / "cities.html", labels=names).read_text(encoding="utf-8")
    assert "<canvas" in page and "<script src" not in page
    assert not re.search(r"https?://", page)  # nothing fetched from the network
    data = json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>',
                                page, re.S).group(1))
    assert data["view"] == "plane" and len(data["steps"]) == 200
    assert data["labels"] == names and np.shape(data["points"]) == (200, 34, 2)
    assert data["losses"][0] == pytest.approx(run.losses[0], rel=1e-5)


def test_contour_html_embeds_its_background(tmp_path):
    run = tg.descend(rosenbrock, x=-1.0, y=1.0, optimizer="adam", lr=0.05, steps=100)
    page = run.animate(tmp_path / "valley.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and '"view":"contour"' in page
    run.animate(tmp_path / "valley.gif")
    with Image.open(tmp_path / "valley.gif") as gif:
        assert gif.n_frames == 101


def test_the_loss_curve_of_a_short_run_has_whole_steps_on_its_axis():
    from tracegraph.descent.optional import figure_class
    from tracegraph.descent.plots import draw_loss_curve

    run = tg.descend(rosenbrock, x=-1.0, y=1.0, lr=0.1, steps=100)  # diverges at step 2
    ax = figure_class()().subplots()
    draw_loss_curve(ax, [run])
    ticks = [t for t in ax.get_xticks() if 0 <= t <= run.steps]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks)  # not 0.25, 0.5, ...


def test_a_diverged_run_still_draws(tmp_path):
    run = tg.descend(lambda x, y: x * x + y * y, x=1.0, y=1.0, lr=1.5, steps=100)
    assert run.stopped == "diverged at step 11" and len(run.losses) == 12
    run.plot(tmp_path / "d.png")
    run.animate(tmp_path / "d.gif")
    run.animate(tmp_path / "d.html")
    with Image.open(tmp_path / "d.png") as picture:
        assert min(picture.size) > 300
    with Image.open(tmp_path / "d.gif") as animation:
        assert animation.n_frames == len(run.losses)  # every step up to the divergence
    assert "diverged at step 11" in (tmp_path / "d.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("start", [{"x": math.nan, "y": 1.0},
                                   {"X": np.full((3, 2), np.nan)}])
def test_a_run_with_no_finite_point_is_refused_by_name(tmp_path, start):
    fn = rosenbrock if "x" in start else (lambda X: np.sum(X * X))
    run = tg.descend(fn, steps=3, **start)
    assert run.stopped == "diverged at step 0"
    for name in ("run.png", "run.gif", "run.html"):
        # it was numpy's "zero-size array to reduction operation minimum"
        with pytest.raises(tg.TracegraphError, match="every point of the run is NaN"):
            run.plot(tmp_path / name) if name.endswith(".png") else run.animate(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_several_runs_on_one_figure_and_a_comparison(tmp_path):
    runs = [tg.descend(rosenbrock, x=-1.0, y=1.0, lr=lr, steps=200) for lr in (1e-4, 1e-3)]
    with Image.open(plot_runs(runs, tmp_path / "sweep.png")) as image:
        assert image.size == (1320, 550)  # loss curves beside one contour plot of all paths
    table = tg.compare(rosenbrock, methods=["gd", "nelder-mead"], budget=300, lr=1e-3,
                       x=-1.0, y=1.0)
    assert table.plot(tmp_path / "compare.svg").read_text().startswith("<?xml")


def test_the_same_run_draws_the_same_bytes_in_every_format(tmp_path):
    run = tg.descend(rosenbrock, x=-1.0, y=1.0, lr=1e-3, steps=30)
    for suffix in (".png", ".svg", ".pdf"):
        first, second = (run.plot(tmp_path / f"{i}{suffix}").read_bytes() for i in (1, 2))
        # an SVG carried the time of writing and ids salted at random, a PDF its date
        assert first == second, suffix
        assert b"<dc:date>" not in first and b"/CreationDate" not in first
    table = tg.compare(rosenbrock, methods=["gd", "adam"], budget=20, lr=1e-3, x=-1.0, y=1.0)
    assert (table.plot(tmp_path / "a.svg").read_bytes()
            == table.plot(tmp_path / "b.svg").read_bytes())


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(("name", "writer"), [
    ("run.gif", "PIL.GifImagePlugin._write_frame_data"),
    ("run.svg", "matplotlib.backends.backend_svg.RendererSVG.draw_path"),
])
def test_a_failed_write_leaves_the_existing_file_whole(tmp_path, monkeypatch, name, writer):
    run = tg.descend(rosenbrock, x=-1.0, y=1.0, lr=1e-3, steps=10)
    path = tmp_path / name
    path.write_bytes(b"last week's picture")
    monkeypatch.setattr(writer, _disk_full)
    with pytest.raises(OSError, match="No space left"):
        run.animate(path) if name.endswith(".gif") else run.plot(path)
    # Pillow and matplotlib open (and truncate) the file before they write into it
    assert path.read_bytes() == b"last week's picture"
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left behind


def test_a_missing_folder_is_named(tmp_path):
    run = tg.descend(rosenbrock, x=-1.0, y=1.0, lr=1e-3, steps=2)
    for write in (run.plot, run.animate, run.to_csv):
        with pytest.raises(tg.TracegraphError, match="the folder .* does not exist"):
            write(tmp_path / "missing" / ("run.gif" if write == run.animate else "run.png"))


def test_animating_to_an_unknown_format_is_an_error(tmp_path):
    run = tg.descend(rosenbrock, x=0.0, y=0.0, steps=2)
    with pytest.raises(tg.TracegraphError, match="cannot animate to 'run.mp4'"):
        run.animate(tmp_path / "run.mp4")


def test_coinciding_methods_of_the_default_comparison_stay_visible(tmp_path, monkeypatch):
    # With lr small enough that Armijo always accepts its first trial, "armijo" follows
    # "gd" exactly; in the default method list they are first and third.
    from tracegraph.descent import plots

    figures = []
    saved = plots._save
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or saved(fig, path))
    table = tg.compare(rosenbrock, methods=["gd", "adam", "armijo", "nelder-mead"], budget=200,
                       lr=1e-4, x=-1.0, y=1.0)
    gd, armijo = (run for run in table.runs if run.method in ("gd", "armijo"))
    assert np.array_equal(gd.history, armijo.history)
    table.plot(tmp_path / "compare.png")
    lines = {line.get_label(): line for line in figures[-1].axes[0].get_lines()}
    assert lines["gd"].get_linestyle() != lines["armijo"].get_linestyle()
    styles = [lines[run.method].get_linestyle() for run in table.runs]
    assert len(set(styles)) == len(styles)


def test_the_frames_text_is_in_the_typeface_of_the_background():
    # The step/loss line and the points' labels are drawn by Pillow onto a background
    # drawn by matplotlib: the same face for both (Pillow's own default face, cut to one
    # bit per pixel, ran "step 348   loss" together as "step348 loss").
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    assert frame_font().getname()[0] == FontProperties(family=rcParams["font.family"]).get_name()
