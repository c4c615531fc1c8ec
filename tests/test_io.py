from __future__ import annotations

from pathlib import Path

import pytest

from ccamap.errors import LoadError
from ccamap.io import atomic_write, read_attribute_table, read_feature_collection, read_json
from ccamap.report import Report


def write(tmp_path: Path, data: bytes | str, name: str = "f.json") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ('{"a": 1,\n "b": }', 2, 7, "expected valid JSON, found Expecting value"),
        ('{"a": [1, 2', 1, 12, "expected valid JSON"),
        ('{"a": 1,\n "b": NaN}', 2, 7,
         "expected a JSON number, found the non-standard literal NaN"),
        ('{"a": -Infinity}', 1, 7, "non-standard literal -Infinity"),
        ('{"a": 1,\n  "a": 2}', 2, 3, "expected unique keys in a JSON object, found 'a' twice"),
    ],
)
def test_read_json_reports_line_and_column(tmp_path, text, line, column, fragment):
    path = write(tmp_path, text)
    with pytest.raises(LoadError) as info:
        read_json(path)
    assert (info.value.line, info.value.column) == (line, column)
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"{path}:{line}:{column}: ")


def test_read_json_accepts_bom_with_warning(tmp_path):
    report = Report()
    assert read_json(write(tmp_path, b'\xef\xbb\xbf{"a": 1}'), report=report) == {"a": 1}
    assert report.codes() == ["utf8-bom"]
    assert report.problems[0].severity == "warning"


@pytest.mark.parametrize("encoding", ["gbk", "cp1251"])
def test_read_json_rejects_non_utf8(tmp_path, encoding):
    text = '{"name": "霍尔果斯"}' if encoding == "gbk" else '{"name": "Хоргос"}'
    path = write(tmp_path, text.encode(encoding))
    with pytest.raises(LoadError, match="expected UTF-8 text, found byte"):
        read_json(path)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ('{"type": "featurecollection", "features": []}', "case-sensitive"),
        ('{"type": "Feature", "geometry": null, "properties": {}}', "wrap the Feature"),
        ('[1, 2]', "found a JSON array"),
        ('{"type": "FeatureCollection"}', "expected a 'features' array, found null"),
    ],
)
def test_feature_collection_structure(tmp_path, doc, message):
    with pytest.raises(LoadError, match=message):
        read_feature_collection(write(tmp_path, doc))


def test_attribute_table_keeps_text_exactly(tmp_path):
    path = write(tmp_path, "id,countries,code\nx,NA,007\ny,,1e3\n", "t.csv")
    table = read_attribute_table(path)
    assert table.to_dict("records") == [
        {"id": "x", "countries": "NA", "code": "007"},
        {"id": "y", "countries": "", "code": "1e3"},
    ]


def test_attribute_table_ragged_row(tmp_path):
    path = write(tmp_path, "id,name\nx,a\ny,b,c\n", "t.csv")
    with pytest.raises(LoadError) as info:
        read_attribute_table(path)
    assert info.value.line == 3
    assert "expected 2 fields as in the header, found 3" in str(info.value)


def test_atomic_write_keeps_old_content_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("partial new content")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_write_replaces(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_write(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"
