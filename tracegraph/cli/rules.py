"""``tracegraph rules``: the derivative table, listed from the registry by category,
and ``docs/operations.md`` generated from the same rows (``tracegraph rules --page``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..core import Primitive
from ..extend import numpy_routes, primitives
from ..formula import Label, Symbols
from ..rules import load_scipy_rules
from ..numbers import counted
from ..rules.scipy_names import MIRROR_CALLS
from ._common import CommandError, DebugOption, load, markdown_table, reporting, stdout_console

NAME = "rules"
EPILOG = (
    "[bold]Examples[/]\n\n"
    "  tracegraph rules\n\n"
    "  tracegraph rules sigmoid\n\n"
    "  tracegraph rules --markdown > rules.md\n\n"
    "  tracegraph rules --page > docs/operations.md   [dim]# the generated docs page[/]\n\n"
    "  tracegraph rules --file my_rules.py   [dim]# also the rules my_rules.py registers[/]"
)
HEADER = ("op", "category", "called as", "local derivatives", "description")
CATEGORY_ORDER = ("arithmetic", "elementwise", "piecewise", "reduction", "statistics",
                  "linear algebra", "shape and indexing", "neural network", "convolution",
                  "scipy.special", "scipy.stats")


def formula_text(prim: Primitive) -> list[str]:
    """The local derivative for each input, written with the argument names.

    Example:
        >>> from tracegraph.core import REGISTRY
        >>> formula_text(REGISTRY["sigmoid"])
        ['∂out/∂x = out·(1 − out)']
        >>> formula_text(REGISTRY["multiply"])
        ['∂out/∂x = y', '∂out/∂y = x']
    """
    names = {arg: Label(arg) for arg in prim.argnames}
    names["out"] = Label("out")
    lines = []
    for position, arg in enumerate(prim.argnames):
        template = prim.formula(position)
        if template is None:
            lines.append(f"∂out/∂{arg}: no gradient")
            continue
        symbols = Symbols(names, _Placeholders(), {}, position)
        try:
            text = symbols.render(template)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            text = "(depends on the arguments; see the diagram)"
        lines.append(f"∂out/∂{arg} = {text}")
    return lines


class _Placeholders(dict):
    """Params shown by name (``{axis}`` -> ``axis``) where a formula mentions one."""

    def __missing__(self, key: str) -> str:
        return key


def by_category(chosen: list[Primitive]) -> list[tuple[str, list[Primitive]]]:
    """Rules grouped by category: the table's own order, then any others (user last).

    Example:
        >>> from tracegraph.core import REGISTRY
        >>> [c for c, _ in by_category([REGISTRY["sum"], REGISTRY["add"]])]
        ['arithmetic', 'reduction']
    """
    groups: dict[str, list[Primitive]] = {}
    for prim in chosen:
        groups.setdefault(prim.category, []).append(prim)

    def rank(category: str) -> tuple[int, str]:
        if category in CATEGORY_ORDER:
            return CATEGORY_ORDER.index(category), ""
        return (len(CATEGORY_ORDER) + (category == "user"), category)

    return [(category, groups[category]) for category in sorted(groups, key=rank)]


def called_as(prim: Primitive) -> str:
    """How user code reaches a rule: ``np.tanh``, ``tracegraph.sigmoid``,
    ``tracegraph.scipy.stats.norm.logpdf``.

    Example:
        >>> from tracegraph.core import REGISTRY
        >>> called_as(REGISTRY["relu"])
        'tracegraph.relu'
    """
    import tracegraph

    names = numpy_routes(prim)
    if prim.category != "user" and callable(getattr(tracegraph, prim.name, None)):
        names.append(f"tracegraph.{prim.name}")
    if prim.category != "user":
        names += MIRROR_CALLS.get(prim.name, ())
    return ", ".join(names) or "—"


def command(
    pattern: Annotated[str | None, typer.Argument(
        metavar="[NAME]", show_default=False,
        help="Only rules whose name (or numpy name) contains this text.")] = None,
    markdown: Annotated[bool, typer.Option(
        "--markdown", "-m", help="Print a GitHub markdown table.")] = False,
    page: Annotated[bool, typer.Option(
        "--page", help="Print the docs/operations.md page (every built-in rule, by "
        "category).")] = False,
    file: Annotated[Path | None, typer.Option(
        "--file", metavar="FILE", show_default=False,
        help="Run this expression file first, so the rules it registers are listed too.")]
    = None,
    debug: DebugOption = False,
) -> None:
    """List the derivative table: every operation tracegraph can differentiate.

    One row per primitive, grouped by category: the numpy (and scipy) functions
    that dispatch to it and its local derivative with respect to each input
    ("out" is the result).  scipy's rules are listed when scipy is installed.
    Register your own with @tracegraph.primitive (docs/extending.md); it is
    listed here too.

    Example:
        >>> from typer.testing import CliRunner
        >>> from tracegraph.cli import app
        >>> print(CliRunner().invoke(app, ["rules", "tanh", "--markdown"]).stdout)
        | op | category | called as | local derivatives | description |
        |---|---|---|---|---|
        | tanh | elementwise | np.tanh | ∂out/∂x = 1 − out² | np.tanh(x) |
        | arctanh | elementwise | np.arctanh | ∂out/∂x = 1/(1 − x²) | np.arctanh(x) |
        <BLANKLINE>
    """
    with reporting(debug):
        load_scipy_rules()
        if page:
            print(operations_page(), end="")
            return
        if file is not None:
            load(file)
        chosen = [p for p in primitives() if _matches(p, pattern)]
        if not chosen:
            raise CommandError(
                f"no rule matches {pattern!r}",
                hint="run `tracegraph rules` to list every rule; rules a file registers with "
                "@tracegraph.primitive are listed with --file FILE")
        if markdown:
            rows = [(p.name, p.category, called_as(p), "\n".join(formula_text(p)), p.doc)
                    for p in chosen]
            print(markdown_table(HEADER, rows))
            return
        console = stdout_console()
        console.print(Text(counted(len(chosen), "derivative rule"), style="bold"))
        for category, rules in by_category(chosen):
            table = Table(title=Text(f"{category} ({len(rules)})"), title_justify="left",
                          show_lines=True)
            for title in ("op", "called as", "local derivatives", "description"):
                table.add_column(Text(title))
            for p in rules:
                table.add_row(Text(p.name), Text(called_as(p)),
                              Text("\n".join(formula_text(p))), Text(p.doc))
            console.print(table)


PAGE_INTRO = """\
# Operations

<!-- Generated by `tracegraph rules --page > docs/operations.md`; do not edit by hand.
     tests/test_operations_page.py fails when this page and the registry disagree. -->

Every operation tracegraph differentiates: one row per rule of the derivative table
({count} rules), grouped by category. *Called as* lists the numpy, scipy and tracegraph
functions that record the rule on traced values; *local derivatives* gives ∂out/∂input
for each input (`out` is the rule's result, `ḡ` the upstream gradient where a rule is
easier to state as a vector-Jacobian product). `tracegraph rules` prints the same table
in a terminal.

At a point where a rule is not differentiable (relu at 0, ties of max, clip on a bound,
the median of tied elements) the tied pieces share the gradient equally:
[non-differentiable.md](non-differentiable.md) explains why and compares with PyTorch
and JAX. Anything not listed here raises an error naming the function;
[extending.md](extending.md) shows how to add a rule.

scipy is optional. scipy.special's functions trace as written (`scipy.special.erf(x)`);
the scipy functions that convert their arguments with `np.asarray` (scipy.stats,
`scipy.special.logsumexp`, `scipy.signal.convolve` ...) have tracing versions under
`tracegraph.scipy` with the same names and arguments.
"""


def operations_page() -> str:
    """The docs/operations.md page: every built-in rule by category (scipy's when installed).

    Example:
        >>> page = operations_page()
        >>> page.startswith("# Operations") and "| np.tanh |" in page
        True
    """
    built_in = [p for p in primitives() if p.category != "user"]
    parts = [PAGE_INTRO.format(count=len(built_in))]
    for category, rules in by_category(built_in):
        rows = [(f"`{p.name}`", called_as(p), "\n".join(formula_text(p)), p.doc) for p in rules]
        parts.append(f"\n## {category}\n\n"
                     + markdown_table(("op", "called as", "local derivatives", "description"),
                                      rows) + "\n")
    return "".join(parts)


def _matches(prim: Primitive, pattern: str | None) -> bool:
    if not pattern:
        return True
    # A route matches by its last part: `radians` finds deg2rad (np.radians), but
    # `multiply` does not list prod for np.multiply.reduce.
    needle = pattern.lower()
    return needle in prim.name.lower() or any(
        needle in n.lower().rsplit(".", 1)[-1] for n in numpy_routes(prim))
