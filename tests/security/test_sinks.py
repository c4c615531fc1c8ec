"""Script and markup in every reader-facing sink, link schemes, URL fragments and SQL names.

Sinks: cards, tooltips, search results, the table, the URL fragment (pages, in Chromium with the
network blocked), source links in cards, and PostGIS schema, column names and values. Each case
asserts the exact outcome: the literal text is shown and nothing runs, or a clear error.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ccamap.errors import ValidationError
from ccamap.layers import LAYERS
from ccamap.pipeline import build, load
from ccamap.render import card_html
from ccamap.validate import validate

from _browser import Page
from conftest import LINE, POINT, SOURCES, feature, record, write_csv, write_layer

EVIL = ('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
        '`${window.__pwned=3}`\\" onmouseover="window.__pwned=4')

#: Source URLs that must never become links, and the ones that must.
NOT_LINKS = [
    "javascript:window.__pwned=5",
    "JaVaScRiPt:window.__pwned=5",
    " javascript:window.__pwned=5",
    "\tjavascript:window.__pwned=5",
    "java\nscript:window.__pwned=5",
    "&#106;avascript:window.__pwned=5",
    "&#x6A;avascript:window.__pwned=5",
    "data:text/html,<script>window.__pwned=5</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "file:///etc/passwd",
    "https:/\\evil.example",
    "",
]
LINKS = ["https://example.org/a?b=1&c=2", "http://example.org/\" onmouseover=\"x"]


def _sources(urls: list[str]) -> pd.DataFrame:
    rows = [{"id": f"s{i}", "title": f"Title {i}", "publisher": "", "date": "", "url": u,
             "kind": "web"} for i, u in enumerate(urls)]
    return pd.DataFrame(rows).set_index("id", drop=False)


@pytest.mark.parametrize("url", NOT_LINKS)
def test_only_http_and_https_sources_become_links(url):
    rec = {"id": "rail-one", "name": "R", "status": "operating", "sources": ["s0"]}
    card = card_html(rec, LAYERS["railways"], _sources([url]))
    assert "<a " not in card and "href" not in card
    assert "<li>Title 0</li>" in card


@pytest.mark.parametrize("url", [u for u in NOT_LINKS if u])
def test_validation_refuses_a_web_source_without_an_http_address(geodata, url):
    sources = [*SOURCES[:2], dict(SOURCES[2], url=url)]
    write_csv(geodata / "sources.csv", sources, list(SOURCES[0]))
    report, _, _ = validate(geodata)
    assert [(p.code, p.feature_id, p.field) for p in report.errors] == [
        ("source-url", "web-a", "url")]


@pytest.mark.parametrize("url", LINKS)
def test_http_links_are_escaped_attributes(url):
    rec = {"id": "rail-one", "name": "R", "status": "operating", "sources": ["s0"]}
    card = card_html(rec, LAYERS["railways"], _sources([url]))
    assert card.count("<a ") == 1
    assert 'rel="noopener"' in card
    assert '" onmouseover="' not in card


def test_injected_html_stays_inert(browser, geodata, tmp_path):
    row = record("railways", "rail-one", name=EVIL, name_zh=EVIL, name_ru=EVIL,
                 description=EVIL, tunnels=EVIL, notes=EVIL,
                 field_sources="status=seed-001; status_year=seed-001; tunnels=seed-001")
    write_layer(geodata, "railways", [feature("rail-one", LINE, waypoints=[EVIL] * 3)], [row])
    port = record("border_ports", "bord-one", name=EVIL, name_a=EVIL, name_b=EVIL)
    write_layer(geodata, "border_ports", [feature("bord-one", POINT)], [port])
    sources = [dict(s, title=EVIL, publisher=EVIL) for s in SOURCES]
    write_csv(geodata / "sources.csv", sources, list(SOURCES[0]))
    out = tmp_path / "maps"
    build(geodata, out, offline=True)
    for name in ("index.html", "railways.html", "table.html"):
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.goto((out / name).as_uri())
        if name != "table.html":
            page.wait_for_selector("html[data-ccamap-ready]")
            page.evaluate("() => ccamap.focusId('rail-one')")
            card = page.locator("#ccamap-side .ccamap-card")
            card.wait_for(timeout=5000)
            assert card.locator("h4").inner_text() == EVIL
            hrefs = card.locator("a").evaluate_all("as => as.map(a => a.href)")
            assert all(h.startswith(("https://", "http://")) for h in hrefs), hrefs
            assert EVIL in card.locator(".ccamap-sources").inner_text()
            page.get_by_placeholder("Search: English, 中文, русский").fill("onerror")
            results = page.locator(".ccamap-result")
            assert results.count() == (2 if name == "index.html" else 1)
            assert results.first.inner_text() == EVIL
            page.evaluate("() => ccamap.closeCard()")
            page.locator(".leaflet-overlay-pane .leaflet-interactive").first.dispatch_event(
                "mouseover")
            assert page.locator(".leaflet-tooltip").inner_text() == EVIL
        else:
            assert EVIL in page.locator("#ccamap-table").inner_text()
        assert page.evaluate("() => window.__pwned") is None, name
        assert page.locator("img[src=x]").count() == 0
        assert errors == []
        page.close()


FRAGMENTS = ["#id=%", "#id=%E0%A4%A", "#id=%ZZ", "#id=", "#id=__proto__", "#id=constructor",
             "#id=<img src=x onerror=window.__pwned=6>", "#id=%3Cscript%3E", "#&id=&id=%",
             "#" + "%" * 5000]


def test_any_fragment_is_survived(browser, geodata, tmp_path):
    out = tmp_path / "maps"
    build(geodata, out, offline=True)
    base = (out / "index.html").as_uri()
    for fragment in FRAGMENTS:
        page = Page(browser, base + fragment)
        try:
            assert page.js("() => window.__pwned") is None, fragment
            assert page.page.locator(".ccamap-card").count() == 0, fragment
            assert [e for e in page.errors if "Failed to load resource" not in e] == [], fragment
        finally:
            page.close()
    page = Page(browser, base + "#id=rail%2Done")  # an encoded id still opens its card
    try:
        page.page.wait_for_selector(".ccamap-card", timeout=5000)
        page.page.evaluate("() => { location.hash = '#id=%'; }")
        page.page.wait_for_timeout(100)
        assert [e for e in page.errors if "Failed to load resource" not in e] == []
    finally:
        page.close()


def test_markup_in_kml_descriptions_is_escaped(geodata, tmp_path):
    import xml.etree.ElementTree as ET

    from ccamap.export import write_export

    write_layer(geodata, "railways", [feature("rail-one", LINE)],
                [record("railways", "rail-one", name=EVIL, description=EVIL)])
    data = load(geodata)
    write_export(data.layers, data.sources, "kml", tmp_path)
    root = ET.parse(tmp_path / "ccamap.kml").getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    placemark = next(p for p in root.iterfind(".//k:Placemark", ns)
                     if p.findtext("k:name", namespaces=ns) == EVIL)
    description = placemark.findtext("k:description", namespaces=ns)
    # the description is the card's HTML: the value inside it is escaped, never markup
    assert "<script>" not in description and "<img" not in description
    assert "&lt;script&gt;window.__pwned=2&lt;/script&gt;" in description


@pytest.mark.parametrize("fid", ["../../etc/passwd", "rail-one/../../x", "..", "rail-one\x00",
                                 "/abs/rail"])
def test_ids_cannot_traverse_paths(geodata, tmp_path, fid):
    write_layer(geodata, "railways", [feature(fid, LINE)], [record("railways", fid)])
    out = tmp_path / "site" / "maps"
    with pytest.raises(ValidationError) as info:
        build(geodata, out)
    assert "[id-format]" in str(info.value)
    assert sorted(p.name for p in tmp_path.rglob("*") if "geodata" not in p.parts) == []
