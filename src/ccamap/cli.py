"""The ``ccamap`` command line: a thin layer over the library API.

Exit codes: 0 ok, 1 validation failed (or another data error, or a file that could not be
written), 2 usage error (including an output directory inside the data directory).

Everything printed from data or from an error passes :func:`ccamap.safety.sanitize_terminal`
(control characters shown as visible escapes, so no escape sequence reaches the terminal), and
every error message passes :func:`ccamap.safety.redact` (no password is ever printed). An
``OSError`` while writing (a read-only directory, a full disk) is a message, not a traceback.
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from ccamap import settings
from ccamap.errors import CcamapError, UnsafeOutputError, UsageError, ValidationError
from ccamap.fix import fix as fix_geodata
from ccamap.layers import LAYERS
from ccamap.report import Progress, Report
from ccamap.safety import check_local_source, redact, sanitize_terminal, secrets_in_url
from ccamap.validate import validate as validate_data

if TYPE_CHECKING:
    from ccamap.importer import ImportPreview

# ``build``, ``export`` and ``import`` load their stage (folium and the renderer, the writers,
# GDAL) when they run, so that ``ccamap validate`` and ``ccamap layers`` start without it: the
# one place in ccamap with imports inside functions, for start-up time only (no cycle needs
# them; tests/test_architecture.py names this module as the exception).

__all__ = ["app", "main"]

#: Notes (``info`` problems) printed per code before the rest are counted in one line.
INFO_SHOWN_PER_CODE = 10

app = typer.Typer(
    name="ccamap",
    help="Validate, map and export China–Central Asia cooperation infrastructure.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,  # locals can hold a password (--to URL)
)
out_console = Console(soft_wrap=True, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, highlight=False)

GeodataOpt = Annotated[
    Path, typer.Option("--geodata", "-g", help="Data directory.", show_default=True)
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")]


class ReportFormat(StrEnum):
    """Output format of ``ccamap validate``."""

    text = "text"
    json = "json"


_STAGES = {"validate": "validating", "render": "rendering pages", "export": "exporting",
           "write": "writing"}


@contextlib.contextmanager
def _progress(title: str) -> Iterator[Progress | None]:
    """Yield a progress callback that draws a bar on a terminal, or ``None`` when piped.

    The bar goes to standard error and disappears when the work is done, so piped output and
    logs stay exactly as before.
    """
    if not err_console.is_terminal:
        yield None
        return
    with RichProgress(TextColumn("[bold]{task.description}"), BarColumn(),
                      TextColumn("{task.fields[stage]}"), TimeElapsedColumn(),
                      console=err_console, transient=True) as bar:
        task = bar.add_task(title, total=None, stage="")

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, stage=_STAGES.get(stage, stage))

        yield report


@contextlib.contextmanager
def _stage_bars(title: str) -> Iterator[Progress | None]:
    """Yield a progress callback that draws one bar per stage on a terminal, or ``None`` piped.

    Used by ``build`` and ``export``: each stage (validating, rendering pages, exporting,
    writing) gets its own bar with its count of pages or files, added when the stage is first
    told of. The bars go to standard error and disappear when the work is done, so piped output
    and logs stay exactly as before.
    """
    if not err_console.is_terminal:
        yield None
        return
    with RichProgress(TextColumn("[bold]{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err_console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                label = rich_escape(sanitize_terminal(f"{title}: {_STAGES.get(stage, stage)}"))
                tasks[stage] = bar.add_task(label, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield report


def _say(console: Console, text: str) -> None:
    """Print text that may hold data: control characters shown as escapes, no markup."""
    console.print(rich_escape(sanitize_terminal(text)))


def _fail(exc: CcamapError, *, known: Iterable[str] = ()) -> NoReturn:
    code = 2 if isinstance(exc, UsageError | UnsafeOutputError) else 1
    _say(err_console, redact(f"error: {exc}", known=known))
    raise typer.Exit(code)


def _fail_write(exc: OSError, what: str) -> NoReturn:
    """Report a system error while writing (read-only directory, full disk) and exit 1."""
    where = exc.filename if exc.filename is not None else what
    reason = exc.strerror or str(exc)
    _say(err_console, redact(f"error: {where}: expected to write {what}, found: {reason}"))
    raise typer.Exit(1)


def _print_report(report: Report, *, verbose: bool = True) -> None:
    """Print every error and warning, and the notes (``info``).

    Unless ``verbose``, at most :data:`INFO_SHOWN_PER_CODE` notes of each code are printed,
    then how many more there are.
    """
    shown: Counter[str] = Counter()
    for problem in report:
        if problem.severity == "info" and not verbose:
            shown[problem.code] += 1
            if shown[problem.code] > INFO_SHOWN_PER_CODE:
                continue
        _say(err_console, problem.format())
    for code, n in sorted(shown.items()):
        if n > INFO_SHOWN_PER_CODE:
            _say(err_console, f"... and {n - INFO_SHOWN_PER_CODE:,} more notes [{code}] "
                              "(ccamap validate --verbose lists every one)")


def _check_layers(layers: list[str] | None) -> list[str] | None:
    for name in layers or []:
        if name not in LAYERS:
            msg = f"unknown layer {name!r}; expected one of: {', '.join(LAYERS)}"
            raise typer.BadParameter(msg, param_hint="LAYER")
    return layers or None


@app.command()
def build(
    layers: Annotated[
        list[str] | None, typer.Argument(help="Layers to build (default: all).",
                                         show_default=False)
    ] = None,
    geodata: GeodataOpt = settings.GEODATA_DIR,
    out: Annotated[Path, typer.Option("--out", "-o", help="Maps directory.")] =
        settings.MAPS_DIR,
    strict: StrictOpt = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Inline every asset (the default; kept for "
                                             "scripts written for earlier versions).")
    ] = False,
    cdn: Annotated[
        bool, typer.Option("--cdn", help="Link Leaflet from its CDN instead of inlining it: "
                                         "smaller pages that need the network.")
    ] = False,
) -> None:
    """Validate, join, then regenerate the maps and GeoJSON exports.

    \b
    Examples:
      ccamap build            all layers: maps/index.html, maps/LAYER.html,
                              maps/table.html, maps/export/ (no network needed)
      ccamap build --cdn      the same, linking Leaflet's CDN: smaller pages
      ccamap build railways   the railways map and export, and the overview and
                              table with every layer
    """  # noqa: D301 (\b: Click keeps the block as written)
    names = _check_layers(layers)
    if offline and cdn:
        _fail(UsageError("expected --offline or --cdn, found both"))
    from ccamap.pipeline import build as build_maps

    try:
        with _stage_bars("Building") as progress:
            result = build_maps(geodata, out, names, strict=strict, cdn=cdn, progress=progress)
    except ValidationError as exc:
        _print_report(exc.report, verbose=False)
        _fail(exc)
    except CcamapError as exc:
        _fail(exc)
    except OSError as exc:
        _fail_write(exc, f"the maps into {out}")
    for problem in result.report.warnings:
        _say(err_console, problem.format())
    _say(out_console, f"wrote {len(result.written)} files to {out}")


@app.command()
def validate(
    geodata: GeodataOpt = settings.GEODATA_DIR,
    strict: StrictOpt = False,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Report format.")
    ] = ReportFormat.text,
    fix: Annotated[
        bool, typer.Option("--fix", help="Apply the announced repairs to geodata/ (backup "
                                         "first, diff printed), then validate.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print every note, not the first "
                                                   f"{INFO_SHOWN_PER_CODE} of each code.")
    ] = False,
) -> None:
    """Check every layer and print every error and warning; exit 1 on any error.

    Notes (accepted oddities) are printed up to 10 per code, then counted; --verbose prints
    them all, and --format json always holds every problem.

    \b
    Examples:
      ccamap validate --format json > report.json
      ccamap validate --fix   (the only command that changes geodata/)
    """  # noqa: D301 (\b: Click keeps the block as written)
    try:
        if fix:
            fixed = fix_geodata(geodata)
            for problem in fixed.report:
                _say(err_console, problem.format())
            if fixed.changed:
                sys.stdout.write(sanitize_terminal(fixed.diff))
                _say(err_console, f"fixed {len(fixed.changed)} files; backup in {fixed.backup}")
            else:
                err_console.print("nothing to fix")
        with _progress("Validating") as progress:
            report, inputs, _ = validate_data(geodata, progress=progress)
    except CcamapError as exc:
        _fail(exc)
    except OSError as exc:
        _fail_write(exc, f"the repairs into {geodata}")
    if fmt is ReportFormat.json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        _print_report(report, verbose=verbose)
        n_features = sum(len(i.geometries) for i in inputs.values())
        out_console.print(f"{len(inputs)} layers, {n_features} features: "
                          f"{len(report.errors)} errors, {len(report.warnings)} warnings")
    if report.failed(strict=strict):
        raise typer.Exit(1)


@app.command()
def export(
    fmt: Annotated[
        str, typer.Option("--format", "-f",
                          help=f"Export format: {', '.join(settings.EXPORT_FORMATS)}.")
    ] = "geojson",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] =
        settings.EXPORT_DIR,
    layer: Annotated[
        list[str] | None, typer.Option("--layer", "-l", help="Layer to export (repeatable).")
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", help="PostGIS target, postgresql://USER@HOST:PORT/DB "
                                  "(instead of files)."),
    ] = None,
    schema: Annotated[str, typer.Option("--schema", help="PostGIS schema.")] = "ccamap",
    geodata: GeodataOpt = settings.GEODATA_DIR,
) -> None:
    """Export layers for GIS tools, or into PostGIS with --to.

    \b
    Examples:
      ccamap export --format gpkg --out /tmp/ccamap
      ccamap export --to postgresql://me@localhost:5432/gis --schema ccamap
    """  # noqa: D301 (\b: Click keeps the block as written)
    from ccamap.pipeline import export as export_layers
    from ccamap.pipeline import export_postgis

    names = _check_layers(layer)
    known = secrets_in_url(to) if to is not None else []
    try:
        if to is not None:
            tables = export_postgis(to, geodata, names, schema=schema)
            for table in tables:
                _say(out_console, table)
            return
        with _stage_bars(f"Exporting {fmt}") as progress:
            written = export_layers(geodata, out, names, fmt=fmt, progress=progress)
    except ValidationError as exc:
        _print_report(exc.report, verbose=False)
        _fail(exc)
    except CcamapError as exc:
        _fail(exc, known=known)
    except OSError as exc:
        _fail_write(exc, f"the {fmt} export into {out}")
    for path in written:
        _say(out_console, str(path))


@app.command("import")
def import_(
    layer: Annotated[str, typer.Argument(help="Layer of the feature.")],
    feature_id: Annotated[str, typer.Argument(metavar="ID", help="Id of the feature.")],
    file: Annotated[str, typer.Argument(help="Any local file GDAL reads (GeoJSON, GPKG, KML…)."
                                              " URLs, /vsi…/ paths and VRT files are refused.")],
    source: Annotated[str, typer.Option("--source", help="Id in sources.csv of the new "
                                                         "geometry's source.")],
    feature_index: Annotated[
        int | None, typer.Option("--feature-index", help="Take the Nth feature (0-based).")
    ] = None,
    where: Annotated[
        str | None, typer.Option("--where", help="Attribute filter selecting one feature.")
    ] = None,
    precision: Annotated[
        str | None, typer.Option("--precision", help="exact, approximate or schematic "
                                                     "(default: exact)."),
    ] = None,
    route_error_km: Annotated[
        float | None, typer.Option(
            "--route-error-km", metavar="KM",
            help="Lines: the new geometry's estimated largest distance in km from the real "
                 "route (0 or more). Default: the old estimate plus the largest distance "
                 "between old and new geometry; required if the line has no estimate."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    geodata: GeodataOpt = settings.GEODATA_DIR,
) -> None:
    """Replace one feature's geometry with better geometry from a file, keeping a backup.

    \b
    Example:
      ccamap import pipelines pipe-cac-line-a route.gpkg --where "name = 'Line A'" \\
          --source osm-2026 --route-error-km 1
    """  # noqa: D301 (\b: Click keeps the block as written)
    from ccamap.importer import import_geometry

    _check_layers([layer])
    if feature_index is not None and where is not None:
        raise typer.BadParameter("give --feature-index or --where, not both",
                                 param_hint="--where")

    def ask(preview: ImportPreview) -> bool:
        _say(out_console, preview.format())
        return yes or typer.confirm("Replace the geometry?", default=False)

    try:
        path = check_local_source(file)  # as typed: a Path would fold "https://" to "https:/"
        result = import_geometry(layer, feature_id, path, source_id=source, geodata=geodata,
                                 feature_index=feature_index, where=where,
                                 precision=precision, route_error_km=route_error_km,
                                 confirm=ask)
    except CcamapError as exc:
        _fail(exc)
    except OSError as exc:
        _fail_write(exc, f"the import into {geodata}")
    if result.applied:
        _say(out_console, f"replaced; backup in {result.backup}")
    else:
        out_console.print("not changed")


@app.command()
def layers(geodata: GeodataOpt = settings.GEODATA_DIR) -> None:
    """List each layer with its feature count, its statuses and its file.

    \b
    Example:
      ccamap layers
    """  # noqa: D301 (\b: Click keeps the block as written)
    try:
        report, inputs, _ = validate_data(geodata)
    except CcamapError as exc:
        _fail(exc)
    table = Table("layer", "features", "statuses", "file")

    def cell(text: str) -> str:
        return rich_escape(sanitize_terminal(text))

    for name, layer in LAYERS.items():
        inp = inputs.get(name)
        if inp is None:
            table.add_row(name, "-", "unreadable", cell(str(geodata / f"{name}.geojson")))
            continue
        statuses = Counter(s for s in inp.attributes.get("status", []) if s)
        text = ", ".join(f"{s} {n}" for s, n in sorted(statuses.items()))
        table.add_row(cell(layer.name), str(len(inp.geometries)), cell(text),
                      cell(str(inp.geometry_file)))
    out_console.print(table)
    if report.errors:
        err_console.print(f"{len(report.errors)} validation errors: run ccamap validate")


def main() -> None:
    """Run the CLI (the ``ccamap`` command runs it through :func:`ccamap.__main__.main`)."""
    app()
