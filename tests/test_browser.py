"""The offline maps in a real browser: Debian's Chromium driven by Playwright, network blocked."""

from __future__ import annotations

import pytest

from ccamap.layers import LAYERS
from ccamap.render import first_year

from _browser import Page
from conftest import REPO

ARTIFACTS = REPO / "test-artifacts"

def test_every_layer_renders_every_feature(index, bundled_data):
    drawn = index.js("""() => Object.fromEntries(Object.entries(ccamap.groups).map(
        ([k, g]) => [k, g.getLayers().filter(l => ccamap.map.hasLayer(l) && l._path
                                                  && document.contains(l._path)).length]))""")
    assert drawn == {name: len(gdf) for name, gdf in bundled_data.layers.items()}
    assert index.count() == sum(len(g) for g in bundled_data.layers.values())
    assert index.paths() == index.count()
    ARTIFACTS.mkdir(exist_ok=True)
    index.page.screenshot(path=str(ARTIFACTS / "overview.png"))


def test_status_filter_changes_visible_count(index, bundled_data):
    records = [r for g in bundled_data.layers.values() for r in g.to_dict("records")]
    not_operating = sum(r["status"] != "operating" for r in records)
    index.page.get_by_role("checkbox", name="operating").uncheck()
    assert index.count() == not_operating
    assert index.paths() == not_operating
    index.page.get_by_role("checkbox", name="operating").check()
    assert index.count() == len(records)


def test_country_filter(index, bundled_data):
    records = [r for g in bundled_data.layers.values() for r in g.to_dict("records")]
    tajik = sum("TJK" in r["countries"] for r in records)
    index.page.get_by_label("Country", exact=True).select_option("TJK")
    assert index.count() == tajik > 0
    index.page.get_by_label("Country", exact=True).select_option("")
    assert index.count() == len(records)


@pytest.mark.parametrize("year", [2000, 2012, 2020])
def test_year_slider_hides_what_was_not_built(index, bundled_data, year):
    records = [r for g in bundled_data.layers.values() for r in g.to_dict("records")]
    expected = sum(1 for r in records if (y := first_year(r)) is None or y <= year)
    slider = index.page.get_by_label("Year")
    slider.fill(str(year))
    assert index.page.locator(".ccamap-year-value").inner_text() == str(year)
    assert index.count() == expected < len(records)
    hidden = index.js("(y) => ccamap.entries.filter(e => !e.visible).every("
                      "e => e.feature.properties._first_year > y)", year)
    assert hidden


def test_search_finds_horgos_and_opens_its_card(index):
    box = index.page.get_by_placeholder("Search: English, 中文, русский")
    box.fill("Horgos")
    results = index.page.locator(".ccamap-result")
    assert results.count() >= 2
    box.press("Enter")
    card = index.page.locator("#ccamap-side .ccamap-card")
    card.wait_for(timeout=5000)
    assert "Horgos" in card.locator("h4").inner_text()


@pytest.mark.parametrize("query", ["霍尔果斯", "Хоргос"])
def test_search_in_chinese_and_russian(index, query):
    index.page.get_by_placeholder("Search: English, 中文, русский").fill(query)
    assert index.page.locator(".ccamap-result").count() >= 1


def test_card_shows_sources_with_links(index):
    index.js("() => ccamap.focusId('pipe-cac-line-a')")
    card = index.page.locator("#ccamap-side .ccamap-card")
    card.wait_for(timeout=5000)
    items = card.locator(".ccamap-sources li")
    assert items.count() >= 3
    assert card.locator(".ccamap-sources a[href^='http']").count() >= 1
    text = card.inner_text()
    for label in ("Precision", "Owners", "Builders", "Drawn length (geodesic)", "Capacity"):
        assert label in text


def test_standard_controls(index):
    assert index.page.locator(".leaflet-control-scale").count() == 1
    assert index.page.locator(".leaflet-control-layers").count() == 1
    assert index.page.locator(".ccamap-minimap .leaflet-pane").count() >= 1
    assert index.page.get_by_role("button", name="Full screen").count() == 1
    index.page.get_by_role("button", name="Measure a distance").first.click()
    index.page.mouse.click(700, 450)
    index.page.mouse.click(900, 450)
    km = index.js("() => ccamap.measuredKm")
    assert km > 100
    assert index.page.locator(".ccamap-measure-readout").inner_text() == f"{km:.1f} km"


def test_table_view_sorts_and_links_to_the_map(browser, bundled_site, bundled_data):
    page = browser.new_page()
    page.goto((bundled_site / "table.html").as_uri())
    rows = page.locator("#ccamap-table tbody tr")
    assert rows.count() == sum(len(g) for g in bundled_data.layers.values())
    page.locator("th", has_text="Name").first.click()
    names = page.locator("#ccamap-table tbody tr td:nth-child(2)").all_inner_texts()
    assert names == sorted(names, key=str.lower)
    href = page.locator("#ccamap-table tbody tr td:nth-child(2) a").first.get_attribute("href")
    assert href.startswith("index.html#id=")
    page.close()
    target = Page(browser, (bundled_site / "index.html").as_uri() + href[len("index.html"):])
    card = target.page.locator("#ccamap-side .ccamap-card")
    card.wait_for(timeout=5000)
    assert card.get_attribute("data-id") == href.split("=", 1)[1]
    assert target.errors == []
    target.close()


def test_layer_names_are_escaped_in_the_control(index):
    labels = index.page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [label.strip() for label in labels] == [layer.title for layer in LAYERS.values()]


def test_route_uncertainty_halo(index, bundled_data):
    lines = sum(len(gdf) for name, gdf in bundled_data.layers.items() if LAYERS[name].is_line)
    halos = ".leaflet-ccamap-halos-pane path.ccamap-halo"
    assert index.page.locator(halos).count() == 0  # off by default
    toggle = index.page.get_by_role("checkbox", name="Route uncertainty")
    assert not toggle.is_checked()
    toggle.check()
    assert index.page.locator(halos).count() == lines == index.js("() => ccamap.halo.drawn")
    assert index.paths() == index.count()  # halos are not interactive features

    def widths():
        return index.js(f"""() => Array.from(document.querySelectorAll('{halos}'))
            .map(p => parseFloat(p.getAttribute('stroke-width')))""")

    before = widths()
    index.js("() => ccamap.map.setZoom(ccamap.map.getZoom() + 1, {animate: false})")
    index.page.wait_for_function("() => !ccamap.map._animatingZoom")
    after = widths()
    # the halo is a width on the ground: one zoom level doubles its width in pixels (halos
    # narrower than the 1 px minimum at either zoom stay at that minimum)
    wide = [(b, a) for b, a in zip(before, after, strict=True) if b > 1]
    assert wide and [a for _, a in wide] == pytest.approx([2 * b for b, _ in wide], rel=0.05)
    assert all(a >= 1 for a in after)
    index.page.get_by_role("checkbox", name="operating").uncheck()
    assert index.page.locator(halos).count() == sum(
        (gdf["status"] != "operating").sum()
        for name, gdf in bundled_data.layers.items() if LAYERS[name].is_line)
    index.page.get_by_role("checkbox", name="operating").check()
    ARTIFACTS.mkdir(exist_ok=True)
    index.page.screenshot(path=str(ARTIFACTS / "route-uncertainty.png"))
    toggle.uncheck()
    assert index.page.locator(halos).count() == 0
