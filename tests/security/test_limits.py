"""Stated ceilings: one past each is refused at once, with the file, the limit and the value found.

The ceilings live in :mod:`ccamap.settings`. Cheap ones are fed at their default value plus one;
the file-size and feature-count ceilings are lowered first (feeding a 1 GiB file or a million
features would only test the disk). A million-column table, the case that used to run for
minutes, is fed as it is, in a subprocess with a time-out, through the CLI.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ccamap import settings
from ccamap.errors import LoadError, ValidationError
from ccamap.io import read_attribute_table, read_feature_collection
from ccamap.pipeline import build

from conftest import LINE, feature, record, write_layer


def _line(n: int) -> dict:
    return {"type": "LineString",
            "coordinates": [[70 + 10 * i / n, 40 + (i % 2) * 1e-4] for i in range(n)]}


def _refused(geodata: Path, tmp_path: Path) -> str:
    with pytest.raises(ValidationError) as info:
        build(geodata, tmp_path / "maps")
    assert not (tmp_path / "maps").exists()
    return str(info.value)


def test_vertices_per_feature(geodata, tmp_path):
    n = settings.MAX_VERTICES + 1
    write_layer(geodata, "railways", [feature("rail-one", _line(n))], [record("railways",
                                                                               "rail-one")])
    message = _refused(geodata, tmp_path)
    assert "railways.geojson" in message
    assert (f"expected at most {settings.MAX_VERTICES:,} vertices in one feature, feature 0 "
            f"(id 'rail-one') (limit ccamap.settings.MAX_VERTICES), found {n:,}") in message
    assert "[limit]" in message


def test_characters_in_a_csv_cell(geodata, tmp_path):
    n = settings.MAX_FIELD_CHARS + 1
    write_layer(geodata, "railways", [feature("rail-one", LINE)],
                [record("railways", "rail-one", name="N" * n)])
    message = _refused(geodata, tmp_path)
    assert "railways.csv" in message and "line 2" in message
    assert (f"expected at most {settings.MAX_FIELD_CHARS:,} characters in one cell "
            f"(limit ccamap.settings.MAX_FIELD_CHARS), found {n:,}") in message


def test_characters_in_a_geojson_string(geodata, tmp_path):
    n = settings.MAX_FIELD_CHARS + 1
    feat = feature("rail-one", LINE)
    feat["properties"]["waypoints"][0] = "W" * n
    write_layer(geodata, "railways", [feat], [record("railways", "rail-one")])
    message = _refused(geodata, tmp_path)
    assert "characters in property 'waypoints' of feature 0 (id 'rail-one')" in message
    assert f"found {n:,}" in message


def test_columns_in_a_table(geodata, tmp_path):
    row = record("railways", "rail-one")
    row.update({f"extra_{i}": "x" for i in range(settings.MAX_COLUMNS + 1 - len(row))})
    assert len(row) == settings.MAX_COLUMNS + 1
    write_layer(geodata, "railways", [feature("rail-one", LINE)], [row])
    message = _refused(geodata, tmp_path)
    assert (f"expected at most {settings.MAX_COLUMNS:,} columns in a table "
            f"(limit ccamap.settings.MAX_COLUMNS), found {settings.MAX_COLUMNS + 1:,}") in message


def test_nesting_in_properties(geodata, tmp_path):
    deep: object = "leaf"
    for _ in range(settings.MAX_NESTING + 1):
        deep = [deep]
    write_layer(geodata, "railways", [feature("rail-one", LINE, extra=deep)],
                [record("railways", "rail-one")])
    message = _refused(geodata, tmp_path)
    assert "levels of nesting in the properties of feature 0" in message
    assert f"found {settings.MAX_NESTING + 1}" in message


def test_nesting_past_the_json_parser(tmp_path):
    path = tmp_path / "deep.geojson"
    path.write_text('{"type": "FeatureCollection", "features": ' + "[" * 100_000
                    + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        read_feature_collection(path)
    assert info.value.code == "limit"
    assert "MAX_NESTING" in str(info.value) and "found 100,001" in str(info.value)


def test_features_per_file_and_rows_per_table(geodata, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "MAX_FEATURES", 3)
    features = [feature(f"rail-{i}", LINE) for i in range(4)]
    write_layer(geodata, "railways", features, [record("railways", f"rail-{i}")
                                                for i in range(4)])
    message = _refused(geodata, tmp_path)
    assert ("expected at most 3 features in a file (limit ccamap.settings.MAX_FEATURES), "
            "found 4") in message
    assert "expected at most 3 rows in a table (limit ccamap.settings.MAX_FEATURES), found 4" \
        in message


def test_file_size(geodata, tmp_path, monkeypatch):
    size = (geodata / "railways.geojson").stat().st_size
    monkeypatch.setattr(settings, "MAX_FILE_BYTES", size - 1)
    with pytest.raises(LoadError) as info:
        read_feature_collection(geodata / "railways.geojson")
    assert str(info.value) == (
        f"{geodata / 'railways.geojson'}: expected at most {size - 1:,} bytes in a file "
        f"(limit ccamap.settings.MAX_FILE_BYTES), found {size:,} (raise "
        "ccamap.settings.MAX_FILE_BYTES if this input is genuine)")


def test_limits_restore_the_csv_module_state(tmp_path):
    import csv

    before = csv.field_size_limit()
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert read_attribute_table(path).shape == (1, 2)
    assert csv.field_size_limit() == before


def test_a_million_columns_is_refused_promptly(geodata, tmp_path):
    header = ",".join(f"c{i}" for i in range(1_000_000))
    (geodata / "railways.csv").write_text(header + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "ccamap", "validate", "--geodata", str(geodata)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 1
    assert "expected at most 500 columns in a table" in result.stdout + result.stderr
    assert "found 1,000,000" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_bundled_data_is_under_every_ceiling():
    """The ceilings leave room for the real data: every bundled file reads."""
    from conftest import REPO

    for path in sorted((REPO / "geodata").glob("*.geojson")):
        assert read_feature_collection(path)["features"], path
    for path in sorted((REPO / "geodata").glob("*.csv")):
        assert len(read_attribute_table(path)), path


def test_a_link_out_of_the_data_directory_is_refused_without_reading_it(geodata, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("id,SECRET-TOKEN-1234\n", encoding="utf-8")
    (geodata / "railways.csv").unlink()
    (geodata / "railways.csv").symlink_to(secret)
    message = _refused(geodata, tmp_path)
    assert "railways.csv" in message and "[outside-link]" in message
    assert "SECRET-TOKEN" not in message


def test_a_link_inside_the_data_directory_is_read(geodata, tmp_path):
    (geodata / "railways-copy.csv").write_bytes((geodata / "railways.csv").read_bytes())
    (geodata / "railways.csv").unlink()
    (geodata / "railways.csv").symlink_to(geodata / "railways-copy.csv")
    build(geodata, tmp_path / "maps")
    assert (tmp_path / "maps" / "railways.html").is_file()
