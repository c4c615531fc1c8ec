"""``ccamap validate --fix``: the repairs validation announces, written back to ``geodata/``.

Only these repairs are made, each one reported with its rule of :mod:`ccamap.rules`:
``utf8-bom`` (the byte-order mark removed from every layer file, ``sources.csv`` and
``catalogue.csv``), ``duplicate-vertex`` (repeated consecutive vertices of a line removed, with
their ``waypoints`` and ``coordinate_sources`` entries), ``coordinate-precision`` (coordinates
rounded to ``settings.COORDINATE_PRECISION`` decimals, not where that would collapse a line) and
``key-whitespace`` (whitespace around an ``id`` removed, in GeoJSON and attribute tables).

Nothing else is touched: a file that cannot be read is left alone and reported, and so is a
GeoJSON file holding a number too large for a float (``1e400``), which would be written back as
``Infinity`` and could no longer be read (``number-range``). Every file to change is first copied
to ``geodata/.backup/<timestamp>/``. Then all of them change together or none does: each new
version is written beside its file in the file's own layout (JSON indentation, CSV line endings)
with the file's permissions, synced, and read back with the strict readers of :mod:`ccamap.io`
(it must give exactly the repaired content); only when every one is ready are they moved into
place. If anything fails (a full disk, a read-only file), the files already moved are put back,
``geodata/`` is as it was, and the error names the backup. A file that is a symbolic link stays
a link: the file it points to is rewritten. A unified diff of the changes is returned.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import difflib
import json
import math
import os
import secrets
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccamap import rules, settings
from ccamap.errors import CcamapError, LoadError
from ccamap.io import atomic_write, read_attribute_table, read_json
from ccamap.layers import LAYERS
from ccamap.layout import csv_rows as _csv_rows
from ccamap.layout import dump_csv_like, dump_json_like
from ccamap.report import Report

__all__ = ["BACKUP_DIR", "FixResult", "dump_csv_like", "dump_json_like", "fix", "replace_files"]

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
        report.add(rules.COORDINATE_PRECISION, file=file, feature_id=fid, field="geometry",
                   expected=f"at most {decimals} decimals", found="more",
                   message="coordinates rounded")
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
        report.add(rules.DUPLICATE_VERTEX, file=file, feature_id=fid, field="geometry",
                   expected="distinct consecutive " "vertices",
                   found=f"{keep.count(False)} repeated", message="repeated vertices removed")
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
        report.add(rules.COORDINATE_PRECISION, file=file, feature_id=fid, field="geometry",
                   expected=f"at most {decimals} decimals", found="more",
                   message="coordinates rounded")
        geom["coordinates"] = rounded


class _Unwritable(Exception):
    """A value that could not be written back as read."""

    def __init__(self, feature_id: str, member: str, found: str) -> None:
        self.feature_id, self.member, self.found = feature_id, member, found
        super().__init__(found)


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(v) for v in value)
    return False


def _check_finite(doc: dict[str, Any], literals: list[str]) -> None:
    """Raise :class:`_Unwritable` at the first number a float cannot hold (``1e400``)."""
    if not literals:
        return
    found = f"the number {literals[0][:40]}"
    for number, feat in enumerate(doc["features"], start=1):
        if not isinstance(feat, dict) or not _non_finite(feat):
            continue
        props = feat.get("properties")
        props = props if isinstance(props, dict) else {}
        fid = props.get("id", feat.get("id"))
        label = fid.strip() if isinstance(fid, str) else f"#{number}"
        holder = props if _non_finite(props) else feat
        member = next((str(k) for k, v in holder.items() if _non_finite(v)), "")
        raise _Unwritable(label, member, found)
    raise _Unwritable("", next((k for k, v in doc.items() if _non_finite(v)), ""), found)


def _fix_geojson(path: Path, text: str, report: Report) -> tuple[str, Any]:
    overflow: list[str] = []

    def parse_float(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            overflow.append(literal)
        return value

    doc = json.loads(text.removeprefix("\ufeff"), parse_float=parse_float)
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        return text, doc
    _check_finite(doc, overflow)
    original = copy.deepcopy(doc)
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
                report.add(rules.KEY_WHITESPACE, file=path, feature_id=value.strip(), field="id",
                           expected=repr(value.strip()), found=repr(value),
                           message="whitespace removed around the id")
        geom = feat.get("geometry")
        if isinstance(geom, dict):
            label = label.strip()
            _fix_line(geom, props, label, str(path), decimals, report)
            _fix_point(geom, label, str(path), decimals, report)
    if doc == original:  # nothing repaired: the text stays exactly as written
        return text, doc
    return dump_json_like(text, doc), doc


def _fix_csv(path: Path, text: str, report: Report) -> tuple[str, Any]:
    rows = _csv_rows(text.removeprefix("\ufeff"))
    if not rows or "id" not in rows[0]:
        return text, rows
    col = rows[0].index("id")
    changed = False
    for row in rows[1:]:
        if len(row) > col and row[col].strip() and row[col] != row[col].strip():
            report.add(rules.KEY_WHITESPACE, file=path, feature_id=row[col].strip(), field="id",
                       expected=repr(row[col].strip()), found=repr(row[col]),
                       message="whitespace removed around the id")
            row[col] = row[col].strip()
            changed = True
    return (dump_csv_like(text, rows) if changed else text), rows


# --------------------------------------------------------------------------- the command


@dataclass(frozen=True)
class _Change:
    """One file to rewrite: its bytes now, its new bytes, and what they must read back as."""

    old: bytes
    new: bytes
    content: Any


def _plan(geodata: Path, report: Report) -> dict[Path, _Change]:
    """Return the change of every file that a repair changes."""
    files = [geodata / f"{name}{ext}" for name in LAYERS for ext in (".geojson", ".csv")]
    files += [geodata / "sources.csv", geodata / "catalogue.csv"]
    plan: dict[Path, _Change] = {}
    for path in files:
        if not path.exists():
            continue
        try:
            old = path.read_bytes()
        except OSError as exc:
            report.add(rules.UNREADABLE, file=path, expected="a readable file",
                       found=str(exc.strerror), message="cannot read the file: left unchanged")
            continue
        check = Report()
        try:  # fix only what reads cleanly apart from the announced repairs
            if path.suffix == ".geojson":
                read_json(path, report=check)
            else:
                read_attribute_table(path, report=check)
        except LoadError as exc:
            report.add(rules.rule(exc.code), file=exc.path, expected=exc.expected, found=exc.found,
                       message="cannot read the file: left unchanged")
            continue
        text = old.decode("utf-8-sig")
        repairs = Report()
        if old.startswith(_BOM):
            repairs.add(rules.UTF8_BOM, file=path, expected="UTF-8 without BOM",
                        found="a UTF-8 BOM", message="byte-order mark removed")
        try:
            if path.suffix == ".geojson":
                text, content = _fix_geojson(path, text, repairs)
            elif path.stem in LAYERS:
                text, content = _fix_csv(path, text, repairs)
            else:
                content = _csv_rows(text)
        except _Unwritable as exc:
            report.add(rules.NUMBER_RANGE, file=path, feature_id=exc.feature_id, field=exc.member,
                       expected="numbers a 64-bit float holds (up to about 1.8e308)",
                       found=exc.found,
                       message=("it would be written back as Infinity, which no "
                                "reader accepts: file left unchanged"))
            continue
        report.extend(repairs)
        new = text.removeprefix("\ufeff").encode("utf-8")
        if new != old:
            plan[path] = _Change(old, new, content)
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


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file ``path`` and sync it (the one place fix writes data)."""
    with path.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _move(tmp: Path, target: Path) -> None:
    os.replace(tmp, target)


def _real(path: Path) -> Path:
    """Return the file to rewrite: ``path`` itself, or the file a symbolic link points to."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _reads_back(tmp: Path, kind: str, content: Any) -> str | None:
    """Read a staged file with the strict reader; return what is wrong, or ``None``."""
    try:
        if kind == ".geojson":
            got: Any = read_json(tmp)
            if got != content:
                return "content that differs from the repaired content"
        else:
            table = read_attribute_table(tmp)
            rows = [list(table.columns), *table.to_numpy().tolist()]
            if rows != [r for r in content if r]:
                return "rows that differ from the repaired rows"
    except LoadError as exc:
        where = f" (line {exc.line}, column {exc.column})" if exc.line is not None else ""
        return f"one the reader refuses{where}: {exc.reason}"
    return None


def _stage(target: Path, change: _Change, kind: str) -> Path:
    """Write the new version beside ``target`` with its permissions, and check it reads back."""
    info = target.stat()
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.fix.tmp")
    try:
        _write_bytes(tmp, change.new)
        os.chmod(tmp, stat.S_IMODE(info.st_mode))
        with contextlib.suppress(OSError):  # keep the owner where allowed (as root)
            os.chown(tmp, info.st_uid, info.st_gid)
        problem = (_reads_back(tmp, kind, change.content) if change.content is not None
                   else None)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    if problem is not None:
        tmp.unlink()
        msg = f"expected the repaired file to read back as repaired, found {problem}"
        raise _NotReadable(msg)
    return tmp


class _NotReadable(Exception):
    """A staged file did not read back as written."""


def replace_files(
    changes: Mapping[Path, _Change | bytes], *, backup: Path, what: str = "the repaired file"
) -> None:
    """Replace several files with new content, all of them or none.

    Each new version is written beside the file it replaces (beside the target of a symbolic
    link, which stays a link) with that file's permissions, synced and read back; only then
    are all moved into place. On any failure the staged files are removed, the files already
    moved get their previous bytes back, and nothing else has changed.

    Parameters
    ----------
    changes
        For each file, its change (or just its new bytes: then the previous bytes are read
        from the file and no read-back check is made).
    backup
        Where the previous versions were saved, named in the error.
    what
        What is written, for the error (``"the repaired file"``).

    Raises
    ------
    CcamapError
        Naming the file, what failed, that the data directory is unchanged, and ``backup``.
    """
    plan = {path: (c if isinstance(c, _Change) else _Change(_real(path).read_bytes(), c, None))
            for path, c in changes.items()}
    staged: dict[Path, Path] = {}
    moved: list[Path] = []
    current = next(iter(plan), backup)
    try:
        for path, change in plan.items():
            current = path
            staged[path] = _stage(_real(path), change, path.suffix)
        for path, tmp in staged.items():
            current = path
            _move(tmp, _real(path))
            moved.append(path)
    except (OSError, _NotReadable) as exc:
        for tmp in staged.values():
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        restored = _restore(moved, plan)
        failed = (f"expected to write {what}, found: {exc.strerror or exc}"
                  if isinstance(exc, OSError) else str(exc))
        state = ("no file changed" if restored else
                 "some files may hold the new version: copy them back from the backup")
        msg = (f"{current}: {failed}; {state}; the previous version of every file to change "
               f"is in {backup}")
        raise CcamapError(msg) from None


def _restore(moved: list[Path], plan: Mapping[Path, _Change]) -> bool:
    """Put back the previous bytes of files already replaced; return whether all went back."""
    ok = True
    for path in moved:
        try:
            tmp = _stage(_real(path), _Change(b"", plan[path].old, None), path.suffix)
            _move(tmp, _real(path))
        except (OSError, _NotReadable):
            ok = False
    return ok


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
        If ``geodata`` is not a directory, the backup cannot be written, or a repaired file
        cannot be written or does not read back (then nothing is changed; the message names
        the backup).
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
        for path, change in plan.items():
            with atomic_write(backup / path.name, "wb") as fh:
                fh.write(change.old)
    except OSError as exc:
        shutil.rmtree(backup, ignore_errors=True)
        msg = f"expected to write a backup to {backup}, found {exc.strerror}; nothing changed"
        raise CcamapError(msg) from None
    replace_files(plan, backup=backup)
    result.backup = backup
    for path, change in plan.items():
        result.changed.append(path)
        result.diff += _diff(path, change.old, change.new)
    return result
