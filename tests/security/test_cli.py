"""The CLI: reserved column names, secrets, terminal control characters and system errors.

Each case runs the CLI in-process and asserts the exit code and the exact message: never a
password, never a raw escape sequence, never a traceback.
"""

from __future__ import annotations

import errno
import hashlib
import importlib
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccamap import cli
from ccamap.cli import app

from conftest import LINE, feature, record, write_layer

runner = CliRunner()
# where write_export looks up text_writer (ccamap.export is also a function)
export_module = importlib.import_module("ccamap.export.write")
ESC = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e"


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def assert_clean(output: str) -> None:
    """No control character but newline reaches the terminal, and no traceback."""
    assert not [c for c in output if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f
                or c in "\u202e\u2066"], repr(output)
    assert "Traceback" not in output


# --------------------------------------------------------------------------- 4. reserved columns


@pytest.mark.parametrize("column", ["geometry", "waypoints", "coordinate_sources", "layer",
                                    "length_km", "Geometry", "WKT", "fid", "bbox"])
def test_validate_refuses_reserved_column_names(geodata, column):
    row = record("railways", "rail-one")
    row[column] = "x"
    write_layer(geodata, "railways", [feature("rail-one", LINE)], [row])
    result = runner.invoke(app, ["validate", "-g", str(geodata)])
    assert result.exit_code == 1
    assert (f"error: {geodata}/railways.csv {column}: column name is reserved by ccamap: rename "
            "the column (expected a name ccamap does not set itself (not geometry, waypoints, "
            "coordinate_sources, layer, length_km, _first_year, _style, _tooltip, _card, "
            "_category, wkt, fid, geom, ogc_fid, bbox), found "
            f"'{column}') [reserved-column]") in result.output
    assert isinstance(result.exception, SystemExit)  # a message and exit 1, no traceback


@pytest.mark.parametrize("command", [["build"], ["export", "--format", "gpkg"]])
def test_build_and_export_refuse_reserved_columns_without_a_traceback(geodata, tmp_path,
                                                                      command):
    row = record("railways", "rail-one")
    row["waypoints"] = "x"
    write_layer(geodata, "railways", [feature("rail-one", LINE)], [row])
    result = runner.invoke(app, [*command, "-g", str(geodata), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "[reserved-column]" in result.output
    assert "validation failed with 1 error" in result.output


def test_validate_refuses_reserved_geojson_property_names(geodata):
    write_layer(geodata, "railways", [feature("rail-one", LINE, layer="pipelines",
                                              length_km=1)],
                [record("railways", "rail-one")])
    result = runner.invoke(app, ["validate", "-g", str(geodata)])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if "[reserved-column]" in ln]
    assert [ln.split(": ", 2)[1] for ln in lines] == [
        f"{geodata}/railways.geojson [rail-one] layer", f"{geodata}/railways.geojson [rail-one] "
                                                        "length_km"]


# --------------------------------------------------------------------------- 5. secrets


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://me:s3cretpw@127.0.0.1:notaport/gis",
     "error: expected a database URL postgresql://USER@HOST:PORT/DB, found "
     "'postgresql://me:***@127.0.0.1:notaport/gis'"),
    ("postgresql//me:s3cretpw@127.0.0.1/gis",
     "error: expected a database URL postgresql://USER@HOST:PORT/DB, found "
     "'postgresql//me:***@127.0.0.1/gis'"),
    ("postgresql://me:s3cr@t/pw@127.0.0.1:5432/gis",
     "error: expected a database URL postgresql://USER@HOST:PORT/DB with '@', '/', '?' and '#' "
     "in the user name and password written as %40, %2F, %3F and %23, found "
     "'postgresql://me:***@127.0.0.1:5432/gis'"),
])
def test_a_malformed_url_never_prints_the_password(geodata, url, shown):
    result = runner.invoke(app, ["export", "--to", url, "-g", str(geodata)])
    assert result.exit_code == 1
    assert result.output == shown + "\n"
    assert "s3cr" not in result.output


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://me@127.0.0.1:9/gis?password=s3cretpw",
     "postgresql://me@127.0.0.1:9/gis?password=***"),
    ("postgresql://me:s3cretpw@127.0.0.1:9/gis", "postgresql://me:***@127.0.0.1:9/gis"),
    ("postgresql://me@127.0.0.1:9/gis?sslmode=disable&password=s3cretpw&connect_timeout=2",
     "postgresql://me@127.0.0.1:9/gis?connect_timeout=2&password=***&sslmode=disable"),
])
def test_a_connection_error_never_prints_the_password(geodata, url, shown):
    result = runner.invoke(app, ["export", "--to", url, "-g", str(geodata)])  # port 9: refused
    assert result.exit_code == 1
    assert "s3cretpw" not in result.output
    assert result.output.startswith(
        f"error: expected to replace the ccamap tables in {shown} (schema ccamap), found: ")
    assert result.output.endswith("; the previous tables are unchanged\n")
    assert_clean(result.output)


def test_tracebacks_never_show_local_variables():
    assert app.pretty_exceptions_show_locals is False  # a traceback would show the --to URL


# --------------------------------------------------------------------------- 7. terminal


def test_escape_sequences_in_column_names_are_shown_as_text(geodata):
    row = record("railways", "rail-one")
    row[f"col{ESC}"] = "x"
    write_layer(geodata, "railways", [feature("rail-one", LINE)], [row])
    result = runner.invoke(app, ["validate", "-g", str(geodata)])
    assert result.exit_code == 0
    assert (f"warning: {geodata}/railways.csv col{SHOWN}: column not in the layer schema (kept) "
            f"(expected a column of the schema, found 'col{SHOWN}') [unknown-column]\n"
            ) in result.output  # repr() alone would leave the C1 CSI and the bidi override raw
    assert_clean(result.output)


def test_escape_sequences_in_values_never_reach_the_terminal(geodata):
    row = record("railways", "rail-one", status=f"planned{ESC}", capacity=f"1{ESC}")
    write_layer(geodata, "railways", [feature(f"rail-one{ESC}", LINE)], [row])
    result = runner.invoke(app, ["validate", "-g", str(geodata)])
    assert result.exit_code == 1
    assert f"[rail-one{SHOWN}] id: malformed id" in result.output
    assert_clean(result.output)


def test_json_report_escapes_terminal_controls_and_keeps_the_text(geodata):
    write_layer(geodata, "railways", [feature(f"rail-one{ESC}", LINE)],
                [record("railways", "rail-one")])
    result = runner.invoke(app, ["validate", "-g", str(geodata), "--format", "json"])
    assert result.exit_code == 1
    assert_clean(result.stdout)
    ids = {p["feature_id"] for p in json.loads(result.stdout)["problems"]}
    assert f"rail-one{ESC}" in ids  # the data itself is unchanged


def test_fix_diff_shows_control_characters_as_escapes(geodata):
    path = geodata / "railways.csv"
    row = record("railways", " rail-one", notes=f"n{ESC}")
    write_layer(geodata, "railways", [feature("rail-one", LINE)], [row])
    result = runner.invoke(app, ["validate", "--fix", "-g", str(geodata)])
    assert result.exit_code == 0, result.output
    tail = f"route_error_km=seed-001,n{SHOWN},"  # the notes cell, shown escaped
    assert "\n- rail-one,Name of  rail-one,,,CHN;KAZ,operating,2025," in result.output
    assert "\n+rail-one,Name of  rail-one,,,CHN;KAZ,operating,2025," in result.output
    assert result.output.count(tail) == 2
    assert_clean(result.output)
    assert ESC in path.read_text(encoding="utf-8")  # the data keeps its text


def test_layers_table_shows_a_hostile_directory_name_as_text(geodata, tmp_path, monkeypatch):
    monkeypatch.setattr(cli.out_console, "_width", 1000)  # no column cut short
    hostile = tmp_path / f"geo{ESC}"
    shutil.copytree(geodata, hostile)
    result = runner.invoke(app, ["layers", "-g", str(hostile)])
    assert result.exit_code == 0, result.output
    assert f"geo{SHOWN}/railways.geojson" in result.output
    assert_clean(result.output)


def test_error_messages_show_paths_as_text(geodata):
    out = geodata / f"x{ESC}"
    result = runner.invoke(app, ["export", "--out", str(out), "-g", str(geodata)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {geodata}/x{SHOWN}: expected an output directory")
    assert_clean(result.output)


# --------------------------------------------------------------------------- 8. system errors


def _failing_writer(code: int):
    def writer(text: str):
        def write(tmp: Path) -> None:
            raise OSError(code, os.strerror(code), str(tmp))

        return write

    return writer


@pytest.mark.parametrize(("code", "reason"), [(errno.ENOSPC, "No space left on device"),
                                              (errno.EROFS, "Read-only file system"),
                                              (errno.EACCES, "Permission denied")])
def test_export_write_errors_are_messages_and_keep_the_previous_files(geodata, tmp_path,
                                                                      monkeypatch, code,
                                                                      reason):
    out = tmp_path / "out"
    assert runner.invoke(app, ["export", "-f", "csv", "-o", str(out), "-g",
                               str(geodata)]).exit_code == 0
    before = snapshot(out)
    monkeypatch.setattr(export_module, "text_writer", _failing_writer(code))
    result = runner.invoke(app, ["export", "-f", "csv", "-o", str(out), "-g", str(geodata)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.output.startswith(f"error: {out}/.railways.")
    assert result.output.endswith(
        f".tmp.csv: expected to write the csv export into {out}, found: {reason}; the previous "
        "files there are unchanged\n")
    assert snapshot(out) == before


def test_export_to_a_file_instead_of_a_directory_is_a_message(geodata, tmp_path):
    out = tmp_path / "not-a-dir"
    out.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["export", "-f", "geojson", "-o", str(out), "-g", str(geodata)])
    assert result.exit_code == 1
    assert result.output == (f"error: {out}: expected to write the geojson export into {out}, "
                             "found: File exists; the previous files there are unchanged\n")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_export_into_a_read_only_directory_is_a_message(geodata, tmp_path):  # pragma: no cover
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        result = runner.invoke(app, ["export", "-f", "csv", "-o", str(out), "-g",
                                     str(geodata)])
    finally:
        out.chmod(0o755)
    assert result.exit_code == 1
    assert "found: Permission denied; the previous files there are unchanged" in result.output


@pytest.mark.parametrize("fmt", ["gpkg", "parquet", "fgb"])
def test_binary_export_on_a_full_disk_is_a_message(geodata, tmp_path, monkeypatch, fmt):
    import ccamap.io as io_module

    def full(path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(io_module, "_fsync", full)  # the data reached the disk: sync fails
    result = runner.invoke(app, ["export", "-f", fmt, "-o", str(tmp_path / "out"), "-g",
                                 str(geodata)])
    assert result.exit_code == 1
    assert "found: No space left on device; the previous files there are unchanged" \
        in result.output
    assert [p.name for p in (tmp_path / "out").iterdir()] == []
    assert isinstance(result.exception, SystemExit)


def test_build_on_a_full_disk_is_a_message(geodata, tmp_path, monkeypatch):
    def full(out, writers):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out))

    monkeypatch.setattr("ccamap.pipeline.publish_tree", full)
    out = tmp_path / "maps"
    result = runner.invoke(app, ["build", "-g", str(geodata), "-o", str(out)])
    assert result.exit_code == 1
    assert result.output == (f"error: {out}: expected to write the maps into {out}, found: No "
                             "space left on device\n")
