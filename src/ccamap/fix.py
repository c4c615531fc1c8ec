"""``ccamap validate --fix``: the repairs validation announces, written back to ``geodata/``.

Only these repairs are made, each one reported:

========================  ================================================================
repair                    what changes
========================  ================================================================
``utf8-bom``              the UTF-8 byte-order mark is removed (every layer file,
                          ``sources.csv``, ``catalogue.csv``)
``duplicate-vertex``      repeated consecutive vertices of a line are removed, with their
                          ``waypoints`` and ``coordinate_sources`` entries
``coordinate-precision``  coordinates are rounded to ``settings.COORDINATE_PRECISION``
                          decimals (not where that would collapse a line)
``key-whitespace``        whitespace around an ``id`` (GeoJSON and attribute table) is removed
========================  ================================================================

Nothing else is touched: a file that cannot be read is left alone and reported. Every file to
change is first copied to ``geodata/.backup/<timestamp>/``, then rewritten atomically in its own
layout (JSON indentation, CSV line endings), and a unified diff of the changes is returned.
"""

from __future__ import annotations

import csv
import datetime as _dt
import difflib
import io as _io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccamap import settings
from ccamap.errors import CcamapError, LoadError
from ccamap.io import atomic_write, read_attribute_table, read_json
from ccamap.layers import LAYERS
from ccamap.report import Report

__all__ = ["BACKUP_DIR", "FixResult", "dump_csv_like", "dump_json_like", "fix"]

#: Backups go to ``geodata/<BACKUP_DIR>/<timestamp>/``.
BACKUP_DIR = ".backup"
_BOM = b"\xef\xbb\xbf"


@dataclass
class FixResult:
    """What ``fix`` changed.

    Attributes
    ----------
    changed
        The files rewritten.
    backup
        The directory holding the previous version of each, or ``None`` if nothing changed.
    diff
        A unified diff of every change (empty if nothing changed).
    report
        One ``warning`` per repair made (code = the repair), ``error`` for files left alone.
    """

    changed: list[Path] = field(default_factory=list)
    backup: Path | None = None
    diff: str = ""
    report: Report = field(default_factory=Report)


# --------------------------------------------------------------------------- layout-keeping dumps


def dump_json_like(original: str, doc: Any) -> str:
    """Serialise ``doc`` in the layout of ``original`` (indentation, escaping, final newline).

    The layout is the first of the usual ``json.dumps`` styles that reproduces ``original``
    exactly from its own parsed content; if none does, one-space indentation (the layout of
    the bundled data) is used.
    """
    body = original.removeprefix("\ufeff")
    trail = "\n" if body.endswith("\n") else ""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    styles: list[dict[str, Any]] = [
        {"indent": indent, "ensure_ascii": ascii_only}
        for indent in (1, 2, 4, "\t", None) for ascii_only in (False, True)
    ] + [{"indent": None, "ensure_ascii": a, "separators": (",", ":")} for a in (False, True)]
    for style in styles:
        if parsed is not None and json.dumps(parsed, **style) + trail == body:
            return json.dumps(doc, **style) + trail
    return json.dumps(doc, indent=1, ensure_ascii=False) + trail


def dump_csv_like(original: str, rows: list[list[str]]) -> str:
    """Write ``rows`` as CSV with the line ending and quoting of ``original``."""
    body = original.removeprefix("\ufeff")
    ending = "\r\n" if "\r\n" in body else "\n"
    trail = body.endswith(("\n", "\r"))
    for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC):
        if _csv_text(_csv_rows(body), ending, quoting, trail) == body:
            return _csv_text(rows, ending, quoting, trail)
    return _csv_text(rows, ending, csv.QUOTE_MINIMAL, trail=True)


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(_io.StringIO(text, newline=""), strict=True))


def _csv_text(rows: list[list[str]], ending: str, quoting: int, trail: bool) -> str:
    buf = _io.StringIO()
    csv.writer(buf, lineterminator=ending, quoting=quoting).writerows(rows)  # type: ignore[arg-type]
    text = buf.getvalue()
    return text if trail else text.removesuffix(ending)


# --------------------------------------------------------------------------- repairs


def _round(value: Any, decimals: int) -> Any:
    if isinstance(value, float):
        return round(value, decimals)
    return value


def _round_coords(coords: Any, decimals: int) -> Any:
    if isinstance(coords, list) and coords and isinstance(coords[0], list):
        return [_round_coords(c, decimals) for c in coords]
    if isinstance(coords, list):
        return [_round(v, decimals) for v in coords]
    return coords


def _is_position(pos: Any) -> bool:
    return (isinstance(pos, list) and len(pos) in (2, 3)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos))


def _fix_line(geom: dict[str, Any], props: dict[str, Any], fid: str, file: str,
              decimals: int, report: Report) -> None:
    """Round and de-duplicate the vertices of a (Multi)LineString in place."""
    gtype = geom.get("type")
    coords = geom.get("coordinates")
    if gtype not in ("LineString", "MultiLineString") or not isinstance(coords, list):
        return
    parts = [coords] if gtype == "LineString" else coords
    if not all(isinstance(p, list) and all(_is_position(q) for q in p) for p in parts):
        return  # malformed: validation reports it, fix does not guess
    rounded = [_round_coords(p, decimals) for p in parts]
    if rounded != parts and all(len({tuple(q[:2]) for q in p}) >= 2 for p in rounded):
        report.warning(file, fid, "geometry", "coordinate-precision",
                       f"at most {decimals} decimals", "more", "coordinates rounded")
        parts = rounded
    n_vertices = sum(len(p) for p in parts)
    kept_parts: list[list[Any]] = []
    keep: list[bool] = []
    for part in parts:
        kept: list[Any] = []
        for pos in part:
            repeated = bool(kept) and pos == kept[-1]
            keep.append(not repeated)
            if not repeated:
                kept.append(pos)
        kept_parts.append(kept)
    if not all(keep):
        if any(len({tuple(q) for q in p}) < 2 for p in kept_parts):
            return  # a degenerate line stays an error; never turned into something else
        report.warning(file, fid, "geometry", "duplicate-vertex", "distinct consecutive "
                       "vertices", f"{keep.count(False)} repeated", "repeated vertices removed")
        parts = kept_parts
        for key in ("waypoints", "coordinate_sources"):
            values = props.get(key)
            if isinstance(values, list) and len(values) == n_vertices:
                props[key] = [v for v, k in zip(values, keep, strict=True) if k]
    geom["coordinates"] = parts[0] if gtype == "LineString" else parts


def _fix_point(geom: dict[str, Any], fid: str, file: str, decimals: int,
               report: Report) -> None:
    coords = geom.get("coordinates")
    if geom.get("type") != "Point" or not _is_position(coords):
        return
    rounded = _round_coords(coords, decimals)
    if rounded != coords:
        report.warning(file, fid, "geometry", "coordinate-precision",
                       f"at most {decimals} decimals", "more", "coordinates rounded")
        geom["coordinates"] = rounded


def _fix_geojson(path: Path, text: str, report: Report) -> str:
    doc = json.loads(text.removeprefix("\ufeff"))
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        return text
    decimals = settings.COORDINATE_PRECISION
    for number, feat in enumerate(doc["features"], start=1):
        if not isinstance(feat, dict):
            continue
        props = feat.get("properties")
        props = props if isinstance(props, dict) else {}
        fid = props.get("id", feat.get("id"))
        label = fid if isinstance(fid, str) else f"#{number}"
        for holder in (props, feat):
            value = holder.get("id")
            if isinstance(value, str) and value.strip() and value != value.strip():
                holder["id"] = value.strip()
                report.warning(path, value.strip(), "id", "key-whitespace", repr(value.strip()),
                               repr(value), "whitespace removed around the id")
        geom = feat.get("geometry")
        if isinstance(geom, dict):
            label = label.strip()
            _fix_line(geom, props, label, str(path), decimals, report)
            _fix_point(geom, label, str(path), decimals, report)
    return dump_json_like(text, doc)


def _fix_csv(path: Path, text: str, report: Report) -> str:
    rows = _csv_rows(text.removeprefix("\ufeff"))
    if not rows or "id" not in rows[0]:
        return text
    col = rows[0].index("id")
    changed = False
    for row in rows[1:]:
        if len(row) > col and row[col].strip() and row[col] != row[col].strip():
            report.warning(path, row[col].strip(), "id", "key-whitespace",
                           repr(row[col].strip()), repr(row[col]),
                           "whitespace removed around the id")
            row[col] = row[col].strip()
            changed = True
    return dump_csv_like(text, rows) if changed else text


# --------------------------------------------------------------------------- the command


def _plan(geodata: Path, report: Report) -> dict[Path, tuple[bytes, bytes]]:
    """Return ``{file: (old bytes, new bytes)}`` for every file that a repair changes."""
    files = [geodata / f"{name}{ext}" for name in LAYERS for ext in (".geojson", ".csv")]
    files += [geodata / "sources.csv", geodata / "catalogue.csv"]
    plan: dict[Path, tuple[bytes, bytes]] = {}
    for path in files:
        if not path.exists():
            continue
        old = path.read_bytes()
        check = Report()
        try:  # fix only what reads cleanly apart from the announced repairs
            if path.suffix == ".geojson":
                read_json(path, report=check)
            else:
                read_attribute_table(path, report=check)
        except LoadError as exc:
            report.error(exc.path, "", "", exc.code, exc.expected, exc.found,
                         "cannot read the file: left unchanged")
            continue
        text = old.decode("utf-8-sig")
        if old.startswith(_BOM):
            report.warning(path, "", "", "utf8-bom", "UTF-8 without BOM", "a UTF-8 BOM",
                           "byte-order mark removed")
        if path.suffix == ".geojson":
            text = _fix_geojson(path, text, report)
        elif path.stem in LAYERS:
            text = _fix_csv(path, text, report)
        new = text.removeprefix("\ufeff").encode("utf-8")
        if new != old:
            plan[path] = (old, new)
    return plan


def _backup_dir(geodata: Path) -> Path:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    root = geodata / BACKUP_DIR / stamp
    n = 1
    while root.exists():
        root = geodata / BACKUP_DIR / f"{stamp}-{n}"
        n += 1
    return root


def _diff(path: Path, old: bytes, new: bytes) -> str:
    a = old.decode("utf-8", errors="replace").splitlines(keepends=True)
    b = new.decode("utf-8", errors="replace").splitlines(keepends=True)
    if old.startswith(_BOM):
        a[0] = "<BOM>" + a[0].removeprefix("\ufeff")
    lines = difflib.unified_diff(a, b, fromfile=f"a/{path.name}", tofile=f"b/{path.name}")
    return "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines)


def fix(geodata: str | Path | None = None) -> FixResult:
    """Apply the announced repairs to ``geodata/``, after backing up every file they change.

    Parameters
    ----------
    geodata
        The data directory (default :data:`ccamap.settings.GEODATA_DIR`).

    Returns
    -------
    FixResult
        The files changed, the backup directory, the diff and a report of every repair.

    Raises
    ------
    CcamapError
        If ``geodata`` is not a directory, or the backup cannot be written (then nothing is
        changed).
    """
    root = Path(geodata) if geodata is not None else settings.GEODATA_DIR
    if not root.is_dir():
        msg = f"expected a geodata directory, found nothing at {root}"
        raise CcamapError(msg)
    result = FixResult()
    plan = _plan(root, result.report)
    if not plan:
        return result
    backup = _backup_dir(root)
    try:
        backup.mkdir(parents=True)
        for path, (old, _) in plan.items():
            with atomic_write(backup / path.name, "wb") as fh:
                fh.write(old)
    except OSError as exc:
        shutil.rmtree(backup, ignore_errors=True)
        msg = f"expected to write a backup to {backup}, found {exc.strerror}; nothing changed"
        raise CcamapError(msg) from None
    result.backup = backup
    for path, (old, new) in plan.items():
        with atomic_write(path, "wb") as fh:
            fh.write(new)
        result.changed.append(path)
        result.diff += _diff(path, old, new)
    return result
