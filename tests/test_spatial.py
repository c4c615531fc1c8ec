"""Spatial consistency checks (``ccamap.spatial``): synthetic outlines, cases, bundled data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from shapely.geometry import LineString, MultiLineString, box

from ccamap import settings, spatial
from ccamap.report import Report
from ccamap.spatial import Boundaries, check_spatial, country_visits, distance_km
from ccamap.validate import validate

from conftest import REPO, feature, record, write_layer

CASES = Path(__file__).parent / "cases"
SPATIAL_CASES = sorted(p.name for p in CASES.iterdir()
                       if p.name.startswith("spatial-") and (p / "expected.txt").exists())


def spatial_report(geodata: Path) -> list[str]:
    """Validate ``geodata`` (which runs the spatial checks) and return the report lines."""
    report, _, _ = validate(geodata)
    return [p.format().replace(str(geodata), "geodata") for p in report]


@pytest.mark.parametrize("name", SPATIAL_CASES)
def test_spatial_case(name, geodata):
    for item in (CASES / name).iterdir():
        if item.name not in ("expected.txt", "README"):
            shutil.copy(item, geodata / item.name)
    lines = spatial_report(geodata)
    expected = [ln for ln in (CASES / name / "expected.txt").read_text("utf-8").splitlines()
                if ln.strip() and not ln.startswith("#")]
    assert [ln for ln in expected if ln not in lines] == [], lines
    assert [ln for ln in lines if ln.startswith(("error:", "warning:")) and ln not in expected
            ] == [], lines


def test_bundled_data_has_no_spatial_errors():
    geodata = REPO / "geodata"
    _, inputs, _ = validate(geodata)
    spatial_only = Report()
    check_spatial(inputs, geodata, spatial_only)
    assert spatial_only.errors == [], spatial_only.format(min_severity="error")
    # the known data gaps: no rail port at Torugart, Kyrgyz-Uzbek, Azerbaijani-Georgian and
    # Georgian-Turkish crossings (the ports layer covers Xinjiang's borders only)
    assert set(spatial_only.codes()) <= {"rail-crossing-port"}


def test_no_outlines_skips_with_a_note(geodata):
    report, inputs, _ = validate(geodata)
    check_spatial(inputs, geodata, report)
    assert report.errors == [] and report.warnings == []
    assert report.codes()[-1] == "spatial-skipped"


def test_unreadable_outlines_is_an_error(geodata):
    (geodata / "boundaries.geojson").write_text('{"type": "FeatureCollection", "features": '
                                                '[{"type": "Feature", "properties": {}, '
                                                '"geometry": null}]}', encoding="utf-8")
    report, inputs, _ = validate(geodata)
    check_spatial(inputs, geodata, report)
    assert {p.code for p in report.errors} == {"boundaries"}


# --------------------------------------------------------------------------- units

WORLD = Boundaries("world", {
    "AAA": box(0, 0, 10, 10),
    "BBB": box(10, 0, 20, 10),
    "CCC": box(30, 0, 40, 10),  # across a 10° sea from BBB
})


def test_distance_is_geodesic_km():
    # one degree of latitude is about 110.6 km at the equator
    assert distance_km(5, -1, WORLD.countries["AAA"]) == pytest.approx(110.6, abs=0.5)
    assert distance_km(5, 5, WORLD.countries["AAA"]) == 0.0
    # a degree of longitude shrinks with latitude
    assert distance_km(21, 60, box(0, 55, 20, 65)) == pytest.approx(55.8, abs=0.5)


def test_visits_are_in_route_order_with_sea_legs():
    line = LineString([(5, 5), (15, 5), (35, 5)])
    visits = country_visits(line, WORLD)
    assert [v.country for v in visits] == ["AAA", "BBB", "CCC"]
    assert visits[0].km == pytest.approx(554, rel=0.01)


def test_multilinestring_visits_keep_their_part():
    line = MultiLineString([[(5, 5), (15, 5)], [(35, 5), (36, 5)]])
    assert [(v.country, v.part) for v in country_visits(line, WORLD)] == [
        ("AAA", 0), ("BBB", 0), ("CCC", 1)]


def test_sea_leg_is_not_a_border_crossing():
    line = LineString([(15, 5), (35, 5)])
    visits = country_visits(line, WORLD)
    assert spatial._crossings(line, visits, ["BBB", "CCC"]) == []
    land = LineString([(5, 5), (15, 5)])
    [(a, b, lon, lat)] = spatial._crossings(land, country_visits(land, WORLD), ["AAA", "BBB"])
    assert (a, b) == ("AAA", "BBB") and lon == pytest.approx(10) and lat == pytest.approx(5)


def test_brief_third_country_stretch_is_tolerated(geodata, monkeypatch):
    """A short cut through KGZ passes; the same line fails once the tolerance is lower."""
    shutil.copy(CASES / "spatial-accepted" / "boundaries.geojson", geodata)
    geom = {"type": "LineString", "coordinates": [[80.0, 44.0], [78.1, 42.55], [78.0, 42.45],
                                                  [77.9, 42.55], [76.0, 43.2]]}
    write_layer(geodata, "railways", [feature("rail-one", geom)], [record("railways",
                                                                          "rail-one")])
    assert not any("line-countries" in ln for ln in spatial_report(geodata))
    monkeypatch.setattr(settings, "LINE_COUNTRY_TOLERANCE_KM", 5.0)
    assert any("[line-countries]" in ln and "KGZ" in ln for ln in spatial_report(geodata))


def test_settings_module_overrides_the_default(geodata, monkeypatch):
    from ccamap import settings

    shutil.copy(CASES / "spatial-accepted" / "boundaries.geojson", geodata)
    monkeypatch.setattr(settings, "BORDER_PORT_DISTANCE_KM", 1.0, raising=False)
    assert any("[port-border]" in ln for ln in spatial_report(geodata))


def test_outlines_are_read_once_per_version(tmp_path):
    path = tmp_path / "b.geojson"
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"iso3": "AAA"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    first = spatial.load_boundaries(path)
    assert spatial.load_boundaries(path) is first
    doc["features"][0]["properties"]["iso3"] = "BBB"
    path.write_text(json.dumps(doc) + " ", encoding="utf-8")
    assert list(spatial.load_boundaries(path).countries) == ["BBB"]


def test_outlines_read_from_two_threads_at_once_are_parsed_once(tmp_path, monkeypatch):
    # a build reads the outlines for its basemap in a thread while validation reads them too
    import threading
    import time

    from ccamap import boundaries

    path = tmp_path / "b.geojson"
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"iso3": "AAA"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    reads = []
    real = boundaries.read_feature_collection

    def slow_read(file):
        reads.append(file)
        time.sleep(0.2)  # the other thread asks meanwhile
        return real(file)

    monkeypatch.setattr(boundaries, "read_feature_collection", slow_read)
    got = []
    threads = [threading.Thread(target=lambda: got.append(boundaries.load_boundaries(path)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(reads) == 1
    assert got[0] is got[1]
