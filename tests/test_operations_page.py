"""docs/operations.md is generated from the registry (``tracegraph rules --page``); this
test regenerates it and fails when the page and the derivative table disagree."""

from __future__ import annotations

from pathlib import Path

from tracegraph.cli.rules import by_category, operations_page
from tracegraph.extend import primitives

PAGE = Path(__file__).resolve().parent.parent / "docs" / "operations.md"


def test_operations_page_is_in_sync_with_the_registry():
    assert PAGE.read_text(encoding="utf-8") == operations_page(), (
        "docs/operations.md is out of date: run "
        "`python -m tracegraph rules --page > docs/operations.md`")


def test_the_page_lists_every_built_in_rule_once_under_its_category():
    page = PAGE.read_text(encoding="utf-8")
    built_in = [p for p in primitives() if p.category != "user"]
    for prim in built_in:
        assert page.count(f"| `{prim.name}` |") == 1, prim.name
    for category, _ in by_category(built_in):
        assert f"\n## {category}\n" in page
    assert "test_softplus" not in page  # rules registered by tests are not part of the page


def test_the_terminal_listing_is_grouped_by_category():
    from typer.testing import CliRunner

    from tracegraph.cli import app

    result = CliRunner().invoke(app, ["rules"], env={"COLUMNS": "160"})
    assert result.exit_code == 0
    out = result.stdout
    headings = [line.split(" (")[0] for line in out.splitlines()
                if line and line.split(" (")[0] in {c for c, _ in by_category(list(primitives()))}]
    assert headings[:4] == ["arithmetic", "elementwise", "piecewise", "reduction"]
    assert "scipy.stats" in headings and "statistics" in headings
    by_route = CliRunner().invoke(app, ["rules", "radians", "--markdown"]).stdout
    assert "| deg2rad | elementwise | np.deg2rad, np.radians |" in by_route
    stats = CliRunner().invoke(app, ["rules", "norm.logpdf", "--markdown"]).stdout
    assert "tracegraph.scipy.stats.norm.logpdf" in stats
