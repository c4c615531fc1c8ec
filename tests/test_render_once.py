"""What a build computes once for all its pages gives the pages the same bytes as computing it
per page: the serialised basemap, the layers' attribute records, the tile layers, the
citations of the exports."""

from __future__ import annotations

import json

import folium
import pandas as pd
import pytest
from jinja2 import Template

from ccamap.basemap import country_labels, load_water, places_for_display
from ccamap.export.frame import citation_lookup
from ccamap.pipeline import load, load_outlines
from ccamap.render import (
    attribute_records,
    deterministic_ids,
    prepare_basemap,
    render_map,
    shared_records,
)

from conftest import REPO


@pytest.fixture(scope="module")
def bundled():
    geodata = REPO / "geodata"
    return load(geodata), load_outlines(geodata), {"water": load_water(geodata)}


def test_the_prepared_basemap_is_what_tojson_writes(bundled):
    _, outlines, basemap = bundled
    ready = prepare_basemap(outlines, basemap)
    extra = {**basemap, "places": places_for_display(), "countries": country_labels(outlines)}
    tojson = Template("{{ value|tojson }}")
    assert ready.outlines_json == tojson.render(value=outlines)
    assert ready.extra_json == tojson.render(value=extra)
    assert json.loads(ready.extra_json)["places"][0][4] == "Beijing"


def test_a_page_is_the_same_with_the_basemap_prepared_once_or_not(bundled):
    data, outlines, basemap = bundled
    ready = prepare_basemap(outlines, basemap)
    pages = []
    for prepared in (None, ready):
        with deterministic_ids():
            m = render_map(data.layers, data.sources, outlines=outlines, basemap=basemap,
                           prepared_basemap=prepared)
            pages.append(m.get_root().render())
    assert pages[0] == pages[1]
    assert ready.outlines_json in pages[1]


def test_the_tile_layers_are_what_folium_makes_of_their_name_and_url(bundled):
    data, _, _ = bundled
    m = render_map(data.layers, data.sources)
    ours = [c for c in m._children.values() if isinstance(c, folium.TileLayer)]
    osm = folium.TileLayer("OpenStreetMap", name="OpenStreetMap (online)", show=True)
    carto = folium.TileLayer("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
                             attr="&copy; OpenStreetMap contributors &copy; CARTO",
                             name="CARTO Light (online)", show=False, subdomains="abcd")
    assert len(ours) == 2
    for got, expected in zip(ours, (osm, carto), strict=True):
        assert (got.tiles, got.options, got.tile_name, got.show, got.control) == (
            expected.tiles, expected.options, expected.tile_name, expected.show,
            expected.control)


def test_records_are_shared_only_inside_the_block(bundled):
    data, _, _ = bundled
    gdf = data.layers["railways"]
    expected = gdf.drop(columns="geometry").to_dict("records")
    assert attribute_records(gdf) == expected
    assert attribute_records(gdf) is not attribute_records(gdf)
    with shared_records():
        first = attribute_records(gdf)
        assert first == expected
        with shared_records():  # nested: the outer block's records
            assert attribute_records(gdf) is first
        assert attribute_records(gdf) is first
        assert attribute_records(data.layers["sites"]) is not first
    changed = gdf.copy()
    changed["name"] = "renamed"
    assert {r["name"] for r in attribute_records(changed)} == {"renamed"}
    assert attribute_records(gdf) is not first  # the block is over: read afresh


def test_citations_read_in_one_pass_are_those_of_each_row(bundled):
    data, _, _ = bundled
    sources = data.sources
    cite = citation_lookup(sources)
    ids = [*sources.index[:5], "no-such-source"]
    expected = [{k: str(sources.loc[sid][k]) for k in ("id", "title", "publisher", "date", "url")}
                for sid in ids[:5]] + [{"id": "no-such-source"}]
    assert cite(ids) == expected
    repeated = pd.concat([sources.iloc[:2], sources.iloc[:1]])  # an id twice: looked up by row
    assert citation_lookup(repeated)([sources.index[1]]) == expected[1:2]


def test_a_build_reads_the_sources_table_once_for_every_page_and_export(tmp_path, monkeypatch):
    from ccamap import pipeline
    from ccamap.render import pagedata

    reads = []
    real = pagedata._source_rows

    def counted(sources):
        reads.append(len(sources))
        return real(sources)

    monkeypatch.setattr(pagedata, "_source_rows", counted)
    pipeline.build(REPO / "geodata", tmp_path / "maps")
    assert len(reads) == 1
    # outside a build each call reads the table as it is
    sources = load(REPO / "geodata").sources
    citation_lookup(sources)
    citation_lookup(sources)
    assert len(reads) == 3
