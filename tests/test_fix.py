"""``ccamap.fix``: only announced repairs, a backup first, atomic writes and a diff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccamap import fix as fix_module
from ccamap.errors import CcamapError
from ccamap.fix import dump_csv_like, dump_json_like, fix
from ccamap.validate import validate

from conftest import REPO, feature, record, write_layer


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in root.iterdir() if p.is_file()}


def test_clean_data_is_left_alone(geodata):
    before = snapshot(geodata)
    result = fix(geodata)
    assert (result.changed, result.backup, result.diff) == ([], None, "")
    assert snapshot(geodata) == before
    assert not (geodata / ".backup").exists()


def test_bom_is_removed_with_a_backup_and_a_diff(geodata):
    path = geodata / "railways.geojson"
    original = path.read_bytes()
    path.write_bytes(b"\xef\xbb\xbf" + original)
    result = fix(geodata)
    assert path.read_bytes() == original
    assert result.changed == [path]
    assert result.backup is not None and result.backup.parent == geodata / ".backup"
    assert (result.backup / "railways.geojson").read_bytes() == b"\xef\xbb\xbf" + original
    assert "-<BOM>{" in result.diff and "+{" in result.diff
    assert result.report.codes() == ["utf8-bom"]
    report, _, _ = validate(geodata)
    assert "utf8-bom" not in report.codes()


def test_duplicate_vertices_go_with_their_waypoints(geodata):
    geom = {"type": "LineString", "coordinates": [[80.0, 44.0], [79.0, 43.5], [79.0, 43.5],
                                                  [77.0, 43.2]]}
    write_layer(geodata, "railways", [feature("rail-one", geom)], [record("railways",
                                                                          "rail-one")])
    result = fix(geodata)
    doc = json.loads((geodata / "railways.geojson").read_text("utf-8"))
    props = doc["features"][0]["properties"]
    assert doc["features"][0]["geometry"]["coordinates"] == [[80.0, 44.0], [79.0, 43.5],
                                                             [77.0, 43.2]]
    assert props["waypoints"] == ["P0", "P1", "P3"]
    assert len(props["coordinate_sources"]) == 3
    assert result.report.codes() == ["duplicate-vertex"]
    report, _, _ = validate(geodata)
    assert report.errors == [] and "duplicate-vertex" not in report.codes()


def test_a_degenerate_line_is_never_repaired(geodata):
    geom = {"type": "LineString", "coordinates": [[80.0, 44.0], [80.0, 44.0]]}
    write_layer(geodata, "railways", [feature("rail-one", geom)], [record("railways",
                                                                          "rail-one")])
    before = snapshot(geodata)
    assert fix(geodata).changed == []
    assert snapshot(geodata) == before


def test_coordinates_are_rounded_unless_a_line_collapses(geodata):
    line = {"type": "LineString", "coordinates": [[80.12345678, 44.0], [77.0, 43.2]]}
    tiny = {"type": "LineString", "coordinates": [[80.0000001, 44.0], [80.0000002, 44.0]]}
    write_layer(geodata, "railways",
                [feature("rail-one", line), feature("rail-two", tiny)],
                [record("railways", "rail-one"), record("railways", "rail-two")])
    point = {"type": "Point", "coordinates": [80.3000004, 44.2]}
    write_layer(geodata, "sites", [feature("site-one", point)], [record("sites", "site-one")])
    result = fix(geodata)
    rail = json.loads((geodata / "railways.geojson").read_text("utf-8"))["features"]
    assert rail[0]["geometry"]["coordinates"][0] == [80.123457, 44.0]
    assert rail[1]["geometry"] == tiny  # rounding would collapse it: left for validation
    site = json.loads((geodata / "sites.geojson").read_text("utf-8"))["features"][0]
    assert site["geometry"]["coordinates"] == [80.3, 44.2]
    assert result.report.codes() == ["coordinate-precision", "coordinate-precision"]


def test_key_whitespace_is_trimmed_on_both_sides(geodata):
    write_layer(geodata, "highways", [feature(" road-one", {
        "type": "LineString", "coordinates": [[80.0, 44.0], [77.0, 43.2]]})],
        [record("highways", "road-one ")])
    assert "id-format" in validate(geodata)[0].codes()
    result = fix(geodata)
    assert result.report.codes() == ["key-whitespace", "key-whitespace"]
    report, _, _ = validate(geodata)
    assert report.errors == [], report.format()


def test_unreadable_file_is_left_alone_and_reported(geodata):
    (geodata / "pipelines.geojson").write_text('{"type": "FeatureCollection", "features": [',
                                               encoding="utf-8")
    (geodata / "sites.csv").write_bytes(b"\xef\xbb\xbf" + (geodata / "sites.csv").read_bytes())
    before = (geodata / "pipelines.geojson").read_bytes()
    result = fix(geodata)
    assert (geodata / "pipelines.geojson").read_bytes() == before
    assert [p.code for p in result.report.errors] == ["json-syntax"]
    assert result.changed == [geodata / "sites.csv"]


def test_failed_backup_changes_nothing(geodata, monkeypatch):
    (geodata / "sites.csv").write_bytes(b"\xef\xbb\xbf" + (geodata / "sites.csv").read_bytes())
    before = snapshot(geodata)

    def broken(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fix_module, "atomic_write", broken)
    with pytest.raises(CcamapError, match="backup"):
        fix(geodata)
    assert snapshot(geodata) == before


def test_two_fixes_get_two_backups(geodata):
    path = geodata / "sites.csv"
    raw = path.read_bytes()
    path.write_bytes(b"\xef\xbb\xbf" + raw)
    first = fix(geodata).backup
    path.write_bytes(b"\xef\xbb\xbf" + raw)
    second = fix(geodata).backup
    assert first is not None and second is not None and first != second


def test_missing_directory_is_an_error(tmp_path):
    with pytest.raises(CcamapError, match="geodata directory"):
        fix(tmp_path / "nope")


@pytest.mark.parametrize("name", ["railways", "pipelines", "highways", "power_plants",
                                  "border_ports", "sites"])
def test_bundled_files_keep_their_layout(name):
    """Re-serialising a bundled file in its own layout gives back the same bytes."""
    for suffix in (".geojson", ".csv"):
        text = (REPO / "geodata" / f"{name}{suffix}").read_bytes().decode("utf-8")
        if suffix == ".geojson":
            assert dump_json_like(text, json.loads(text)) == text
        else:
            rows = fix_module._csv_rows(text)
            assert dump_csv_like(text, rows) == text


def test_bundled_data_needs_no_fix(tmp_path):
    import shutil

    copy = tmp_path / "geodata"
    shutil.copytree(REPO / "geodata", copy, ignore=shutil.ignore_patterns(".backup"))
    assert fix(copy).changed == []
