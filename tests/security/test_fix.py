"""``validate --fix`` writes only what ccamap reads back, all files or none, through symlinks.

Each case asserts the exact outcome: the repaired files, or ``geodata/`` byte-identical with a
message that names the file, what failed and the backup.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccamap import fix as fix_module
from ccamap.cli import app
from ccamap.errors import CcamapError
from ccamap.fix import fix
from ccamap.io import read_json
from ccamap.validate import validate

from _files import tree
from conftest import LINE, feature, record, write_layer

runner = CliRunner()
BOM = b"\xef\xbb\xbf"
DUPLICATE = {"type": "LineString",
             "coordinates": [[80.0, 44.0], [80.0, 44.0], [79.0, 43.5], [77.0, 43.2]]}




def data_files(root: Path) -> dict[str, str]:
    return {k: v for k, v in tree(root).items() if not k.startswith(".backup")}


def add_bom(path: Path) -> None:
    path.write_bytes(BOM + path.read_bytes())


# --------------------------------------------------------------------------- numbers


def test_a_number_too_large_for_a_float_is_never_written_as_infinity(geodata):
    geo = geodata / "railways.geojson"
    write_layer(geodata, "railways", [feature("rail-one", DUPLICATE)],
                [record("railways", "rail-one")])
    geo.write_text(geo.read_text(encoding="utf-8").replace(
        '"id": "rail-one"', '"id": "rail-one", "ridership": 1e400'), encoding="utf-8")
    add_bom(geodata / "sites.csv")
    before = geo.read_bytes()
    result = fix(geodata)
    assert geo.read_bytes() == before  # left exactly as written
    assert b"Infinity" not in geo.read_bytes()
    assert [p.format() for p in result.report.errors] == [
        f"error: {geo} [rail-one] ridership: it would be written back as Infinity, which no "
        "reader accepts: file left unchanged (expected numbers a 64-bit float holds (up to "
        "about 1.8e308), found the number 1e400) [number-range]"]
    assert result.changed == [geodata / "sites.csv"]  # the other repairs still happen
    read_json(geo)  # still readable by ccamap
    assert "json-constant" not in validate(geodata)[0].codes()


def test_a_huge_coordinate_is_left_for_validation(geodata):
    geom = {"type": "LineString", "coordinates": [[80.0, 44.0], [80.0, 44.0], [79.0, 43.0]]}
    write_layer(geodata, "railways", [feature("rail-one", geom)], [record("railways",
                                                                          "rail-one")])
    path = geodata / "railways.geojson"
    path.write_text(path.read_text(encoding="utf-8").replace("43.0", "1e999"), encoding="utf-8")
    before = data_files(geodata)
    result = fix(geodata)
    assert data_files(geodata) == before and result.backup is None
    assert [(p.code, p.feature_id, p.field) for p in result.report.errors] == [
        ("number-range", "rail-one", "geometry")]


def test_a_file_that_would_not_read_back_is_never_written(geodata, monkeypatch):
    write_layer(geodata, "railways", [feature("rail-one", DUPLICATE)],
                [record("railways", "rail-one")])
    before = data_files(geodata)
    monkeypatch.setattr(fix_module, "dump_json_like",
                        lambda original, doc: json.dumps(doc).replace("80.0", "NaN"))
    with pytest.raises(CcamapError) as info:
        fix(geodata)
    message = str(info.value)
    assert re.match(
        re.escape(f"{geodata / 'railways.geojson'}: expected the repaired file to read back as "
                  "repaired, found one the reader refuses (line 1, column ") + r"\d+\): "
        + re.escape("expected a JSON number, found the non-standard literal NaN; "), message)
    assert "no file changed; the previous version of every file to change is in " \
        f"{geodata / '.backup'}/" in message
    assert data_files(geodata) == before


# --------------------------------------------------------------------------- all or nothing


def _three_files_to_fix(geodata: Path) -> None:
    for name in ("railways.csv", "sites.csv", "sources.csv"):
        add_bom(geodata / name)


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_a_full_disk_midway_leaves_geodata_unchanged(geodata, monkeypatch, fail_at):
    _three_files_to_fix(geodata)
    before = data_files(geodata)
    real_write, calls = fix_module._write_bytes, []

    def write(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == fail_at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_write(path, data)

    monkeypatch.setattr(fix_module, "_write_bytes", write)
    with pytest.raises(CcamapError) as info:
        fix(geodata)
    backups = list((geodata / ".backup").iterdir())
    assert len(backups) == 1
    failed = geodata / ["railways.csv", "sites.csv", "sources.csv"][fail_at - 1]  # plan order
    assert str(info.value) == (
        f"{failed}: expected to write the repaired file, found: No space left on device; no file "
        f"changed; the previous version of every file to change is in {backups[0]}")
    assert data_files(geodata) == before  # no file changed, no staged file left
    assert sorted(p.name for p in backups[0].iterdir()) == ["railways.csv", "sites.csv",
                                                            "sources.csv"]


def test_a_failure_while_moving_puts_back_the_files_already_moved(geodata, monkeypatch):
    _three_files_to_fix(geodata)
    before = data_files(geodata)
    real_move, moves = fix_module._move, []

    def move(tmp: Path, target: Path) -> None:
        moves.append(target)
        if len(moves) == 3:
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(target))
        real_move(tmp, target)

    monkeypatch.setattr(fix_module, "_move", move)
    with pytest.raises(CcamapError, match=f"{geodata / 'sources.csv'}: expected to write the "
                                          "repaired file, found: Input/output error; no file "
                                          "changed; the previous version"):
        fix(geodata)
    assert data_files(geodata) == before


def test_cli_reports_a_full_disk_with_the_backup_and_no_traceback(geodata, monkeypatch):
    add_bom(geodata / "railways.csv")
    before = data_files(geodata)

    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(fix_module, "_write_bytes", full)
    result = runner.invoke(app, ["validate", "--fix", "-g", str(geodata)])
    assert result.exit_code == 1
    assert not isinstance(result.exception, OSError)
    backup = next((geodata / ".backup").iterdir())
    assert result.output == (
        f"error: {geodata / 'railways.csv'}: expected to write the repaired file, found: No "
        "space left on device; no file changed; the previous version of every file to "
        f"change is in {backup}\n")
    assert data_files(geodata) == before


# --------------------------------------------------------------------------- links and modes


def test_symlinked_files_stay_links_and_files_keep_their_modes(geodata, tmp_path):
    store = geodata / "store"  # links may point within the data directory (not out of it)
    store.mkdir()
    write_layer(geodata, "railways", [feature("rail-one", DUPLICATE)],
                [record("railways", "rail-one")])
    target = store / "railways.geojson"
    (geodata / "railways.geojson").rename(target)
    (geodata / "railways.geojson").symlink_to(target)
    target.chmod(0o640)
    add_bom(geodata / "sites.csv")
    (geodata / "sites.csv").chmod(0o600)
    result = fix(geodata)
    assert sorted(p.name for p in result.changed) == ["railways.geojson", "sites.csv"]
    link = geodata / "railways.geojson"
    assert link.is_symlink() and link.readlink() == target
    assert len(json.loads(target.read_text(encoding="utf-8"))["features"][0]["geometry"][
        "coordinates"]) == 3  # the repair went through the link
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert stat.S_IMODE((geodata / "sites.csv").stat().st_mode) == 0o600
    assert not (geodata / "sites.csv").read_bytes().startswith(BOM)
    assert [p.name for p in store.iterdir()] == ["railways.geojson"]  # no staged file left
    assert validate(geodata)[0].errors == []


def test_untouched_json_is_never_reformatted(geodata):
    """A file with no repair keeps its bytes even in a layout fix cannot reproduce."""
    path = geodata / "railways.geojson"
    text = json.dumps(json.loads(path.read_text(encoding="utf-8")), indent=3)
    path.write_text(text.replace('"LineString"', '"LineString"   '), encoding="utf-8")
    before = path.read_bytes()
    assert fix(geodata).changed == []
    assert path.read_bytes() == before
    assert LINE  # the fixture's line: no repair applies to it
