from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from ccamap.claims import CLAIM_COLUMNS, claim_text, claims_of
from ccamap.export import write_export
from ccamap.layers import LAYERS
from ccamap.pipeline import load
from ccamap.render import card_html
from ccamap.validate import validate

from conftest import REPO, SOURCES, write_csv

EVIL = '<img src=x onerror="alert(1)">`${x}`'


def claim(**values: str) -> dict[str, str]:
    """A valid claim on the fixture's railway, overridden by ``values``."""
    row = {"id": "rail-one", "field": "cost_usd_m", "value": "8000", "unit": "USD m",
           "as_of": "2023", "source": "web-a", "note": ""}
    row.update(values)
    return row


def write_claims(geodata, *rows: dict[str, str]) -> None:
    write_csv(geodata / "claims.csv", list(rows), list(CLAIM_COLUMNS))


def claim_problems(report):
    return [(p.severity, p.file.rsplit("/", 1)[-1], p.feature_id, p.field, p.code)
            for p in report if p.file.endswith("claims.csv")]


def test_a_valid_claim_is_attached_to_the_sources(geodata):
    write_claims(geodata, claim())
    report, _, sources = validate(geodata)
    assert report.errors == [] and claim_problems(report) == []
    (only,) = claims_of(sources)
    assert (only.layer, only.id, only.field, only.value, only.as_of) == (
        "railways", "rail-one", "cost_usd_m", 8000.0, 2023)


@pytest.mark.parametrize(
    ("values", "feature_id", "field", "code", "found"),
    [
        ({"source": "seed-999"}, "rail-one", "cost_usd_m", "claim-source", "'seed-999'"),
        ({"value": "eight billion"}, "rail-one", "cost_usd_m", "claim-type", "'eight billion'"),
        ({"field": "status", "value": "planned", "unit": ""}, "rail-one", "status",
         "claim-type", "'planned'"),
        ({"field": "completion_year", "value": "2030.5", "unit": ""}, "rail-one",
         "completion_year", "claim-type", "'2030.5'"),
        ({"id": "rail-nine"}, "rail-nine", "cost_usd_m", "claim-id", "'rail-nine'"),
        ({"field": "colour"}, "rail-one", "colour", "claim-field", "'colour'"),
        ({"field": "description", "value": "text", "unit": ""}, "rail-one", "description",
         "claim-field", "'description'"),
        ({"as_of": "around 2020"}, "rail-one", "cost_usd_m", "claim-as-of", "'around 2020'"),
        ({"unit": "EUR m"}, "rail-one", "cost_usd_m", "claim-unit", "'EUR m'"),
    ],
)
def test_a_bad_claim_names_file_id_and_field(geodata, values, feature_id, field, code, found):
    write_claims(geodata, claim(), claim(**values))
    report, _, sources = validate(geodata)
    (problem,) = [p for p in report if p.file.endswith("claims.csv")]
    assert (problem.severity, problem.feature_id, problem.field, problem.code) == (
        "error", feature_id, field, code)
    assert problem.file == str(geodata / "claims.csv")
    assert problem.found == found and problem.expected
    assert "line 3" in problem.message
    assert len(claims_of(sources)) == 1  # the bad claim is left out, the good one kept


def test_claims_of_unloaded_layers_are_not_errors(geodata):
    write_claims(geodata, claim(), claim(id="pipe-one", field="capacity", unit="bcm/y"))
    report, _, sources = validate(geodata, ["power_plants"])
    assert claim_problems(report) == [] and len(claims_of(sources)) == 0
    report, _, sources = validate(geodata, ["pipelines"])
    assert claim_problems(report) == [] and [c.id for c in claims_of(sources)] == ["pipe-one"]


def test_a_repeated_claim_is_a_warning(geodata):
    write_claims(geodata, claim(), claim(note="again"))
    report, _, sources = validate(geodata)
    assert claim_problems(report) == [
        ("warning", "claims.csv", "rail-one", "cost_usd_m", "claim-duplicate")]
    assert len(claims_of(sources)) == 1


def test_without_a_claims_file_there_are_no_claims(geodata):
    report, _, sources = validate(geodata)
    assert claim_problems(report) == [] and len(claims_of(sources)) == 0


def test_bundled_claims_validate_clean():
    report, inputs, sources = validate(REPO / "geodata")
    assert claim_problems(report) == []
    claims = claims_of(sources)
    with (REPO / "geodata" / "claims.csv").open(encoding="utf-8") as fh:
        assert len(claims) == sum(1 for _ in csv.DictReader(fh)) > 20
    ids = {fid for inp in inputs.values() for fid in inp.attributes["id"]}
    assert {c.id for c in claims} <= ids
    assert {c.source for c in claims} <= set(sources.index)
    # the contested figures of the issue are all there
    for fid, field, value in [("rail-cku", "cost_usd_m", 8000), ("rail-cku", "cost_usd_m", 4665),
                              ("rail-angren-pap", "cost_usd_m", 1680),
                              ("pipe-cac-line-d", "status", "shelved"),
                              ("road-china-tajikistan-uzbekistan", "status", "announced")]:
        assert any((c.id, c.field, c.value) == (fid, field, value) for c in claims), fid


@pytest.mark.parametrize(
    ("field", "value", "unit", "shown"),
    [
        ("cost_usd_m", "8000", "USD m", "US$8 bn"),
        ("cost_usd_m", "4665", "", "US$4.665 bn"),
        ("cost_usd_m", "455", "", "US$455 m"),
        ("length_km_reported", "1833", "", "1,833 km"),
        ("capacity", "400000", "bbl/d", "400,000 bbl/d"),
        ("capacity", "15", "", "15 Mt/y"),
        ("completion_year", "1994", "", "1994"),
        ("status", "shelved", "", "shelved"),
    ],
)
def test_claim_text(geodata, field, value, unit, shown):
    write_claims(geodata, claim(field=field, value=value, unit=unit))
    _, _, sources = validate(geodata)
    (only,) = claims_of(sources)
    assert claim_text(only, {"capacity_unit": "Mt/y"}) == shown


def test_card_lists_claims_under_their_field_with_numbered_sources(geodata):
    write_claims(geodata, claim(note=EVIL), claim(field="status", value="shelved", unit="",
                                                    as_of="", source="seed-001"))
    data = load(geodata)
    rec = data.layers["railways"].drop(columns="geometry").iloc[0].to_dict()
    html = card_html(rec, LAYERS["railways"], data.sources)
    # web-a is not among the record's sources: it is added to the card's numbered list
    sources = html.split('class="ccamap-sources"')[1]
    assert sources.count("<li>") == 3 and "A page" in sources.split("<li>")[3]
    row = html.split("<th>Cost (USD million)</th>")[1].split("</tr>")[0]
    assert ('also reported: US&#36;8 bn <sup class="ccamap-ref">[3]</sup> (2023)') in row
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#96;&#36;{x}&#96;" in row
    assert "<img" not in html
    status = html.split('class="ccamap-countries"')[0].split('class="ccamap-status ', 1)[1]
    assert ('<div class="ccamap-claim">also reported: shelved <sup class="ccamap-ref">[1]</sup>'
            "</div>") in status


def test_exports_carry_the_claims_table(geodata, tmp_path):
    import pyogrio

    write_claims(geodata, claim(), claim(field="status", value="shelved", unit="", as_of=""))
    data = load(geodata)
    write_export(data.layers, data.sources, "gpkg", tmp_path / "gpkg")
    table = pyogrio.read_dataframe(tmp_path / "gpkg" / "ccamap.gpkg", layer="claims")
    assert list(table.columns) == ["layer", "id", "field", "value", "unit", "as_of", "source",
                                   "note"]
    assert table[["id", "field", "value"]].values.tolist() == [
        ["rail-one", "cost_usd_m", "8000"], ["rail-one", "status", "shelved"]]
    with sqlite3.connect(tmp_path / "gpkg" / "ccamap.gpkg") as con:
        kind = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'claims'")
        assert kind.fetchone() == ("attributes",)
        columns = dict(row[1:3] for row in con.execute("PRAGMA table_info(claims)"))
        assert columns["as_of"] in ("INTEGER", "MEDIUMINT", "INT")
    write_export(data.layers, data.sources, "csv", tmp_path / "csv")
    with (tmp_path / "csv" / "claims.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0] == {"layer": "railways", "id": "rail-one", "field": "cost_usd_m",
                       "value": "8000", "unit": "USD m", "as_of": "2023", "source": "web-a",
                       "note": ""}
    write_export(data.layers, data.sources, "geojson", tmp_path / "geojson")
    doc = json.loads((tmp_path / "geojson" / "railways.geojson").read_text(encoding="utf-8"))
    claims = doc["features"][0]["properties"]["claims"]
    assert claims[0]["value"] == 8000 and claims[0]["as_of"] == 2023
    assert claims[0]["source"]["url"] == SOURCES[2]["url"]
    assert claims[1] == {"field": "status", "value": "shelved", "unit": None, "as_of": None,
                         "source": claims[1]["source"], "note": None}
    other = json.loads((tmp_path / "geojson" / "sites.geojson").read_text(encoding="utf-8"))
    assert other["features"][0]["properties"]["claims"] == []


@pytest.mark.parametrize("fmt", ["gpkg", "csv"])
def test_claims_table_is_empty_without_claims(geodata, tmp_path, fmt):
    import pyogrio

    data = load(geodata)
    write_export(data.layers, data.sources, fmt, tmp_path)
    path = tmp_path / ("ccamap.gpkg" if fmt == "gpkg" else "claims.csv")
    table = pyogrio.read_dataframe(path, layer="claims" if fmt == "gpkg" else None)
    assert len(table) == 0
