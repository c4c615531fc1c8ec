"""Reader notes of the bundled data: plain language, with the editors' detail kept apart."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from ccamap.layers import LAYERS

GEODATA = Path(__file__).resolve().parents[1] / "geodata"


def _rows(layer: str) -> list[dict[str, str]]:
    with (GEODATA / f"{layer}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _ids() -> list[str]:
    with (GEODATA / "sources.csv").open(encoding="utf-8", newline="") as f:
        ids = [r["id"] for r in csv.DictReader(f)]
    return ids + [r["id"] for layer in LAYERS for r in _rows(layer)]


@pytest.mark.parametrize("layer", list(LAYERS))
def test_editor_notes_column_follows_notes(layer: str) -> None:
    with (GEODATA / f"{layer}.csv").open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header.index("editor_notes") == header.index("notes") + 1


@pytest.mark.parametrize("layer", list(LAYERS))
def test_reader_notes_have_no_ids_or_column_names(layer: str) -> None:
    ids = sorted(set(_ids()), key=len, reverse=True)
    columns = {c for lay in LAYERS.values() for c in lay.columns if "_" in c}
    columns |= {"claims.csv", "catalogue.csv", "sources.csv", "waypoints"}
    id_pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-])")
    bad = []
    for row in _rows(layer):
        text = row["notes"]
        found = id_pattern.findall(text) + [c for c in columns if c in text]
        found += re.findall(r"geonames:\d+|GeoNames \d+|\bvalidat\w*|\brail3\b", text)
        if found:
            bad.append((row["id"], sorted(set(found))))
    assert not bad


def test_technical_detail_kept_for_editors() -> None:
    row = next(r for r in _rows("railways") if r["id"] == "rail-cku")
    assert "24kg-2025-12-cku" in row["editor_notes"]
    assert "24kg" not in row["notes"]
    assert "up to about 40 km" in row["notes"]


def test_card_shows_reader_notes_not_editors_notes() -> None:
    from ccamap.pipeline import load
    from ccamap.render import card_html

    data = load(GEODATA)
    frame = data.layers["railways"]
    rec = frame[frame["id"] == "rail-cku"].drop(columns="geometry").iloc[0].to_dict()
    html = card_html(rec, LAYERS["railways"], data.sources)
    assert "up to about 40 km" in html
    assert "Editors" not in html
    assert "24kg-2025-12-cku" not in html
