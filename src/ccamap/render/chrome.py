"""The page around the map: header, card panel, dialogs, legend, and the runtime's settings."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from ccamap.layers import LAYERS, STATUS_STYLE, STATUSES
from ccamap.render.cards import PRECISION_TEXT, country_names, country_names_i18n, safe_url
from ccamap.render.elements import escape
from ccamap.render.pagedata import attribute_records, first_year, source_rows
from ccamap.style import HOLLOW, category_key, feature_style, point_radius

__all__ = ["chrome_html", "legend_html", "runtime_config"]


def legend_html(layers: dict[str, gpd.GeoDataFrame]) -> str:
    """Return the legend: each layer's colours, symbol sizes, statuses and the locality ring."""
    parts = ['<details class="ccamap-legend" open><summary data-i18n="legend">Legend</summary>']
    statuses_used: set[str] = set()
    for name, gdf in layers.items():
        layer = LAYERS[name]
        parts.append(f'<div class="ccamap-legend-layer"><i data-layer="{escape(name)}">'
                     f"{escape(layer.title)}</i>")
        records = attribute_records(gdf)
        statuses_used.update(r["status"] for r in records if r.get("status"))
        keys = sorted({k for r in records if (k := category_key(r, layer))})
        swatches = [(k, layer.category_colors.get(k, layer.color)) for k in keys] or [
            ("", layer.color)]
        for label, color in swatches:
            shape = "line" if layer.is_line else "dot"
            text = escape(label.replace("_", " ").replace(";", " + ")) if label else ""
            parts.append(f'<div><span class="ccamap-sw ccamap-sw-{shape}" aria-hidden="true" '
                         f'style="background:{escape(color)}"></span> {text}</div>')
        sized = [float(r["capacity"]) for r in records
                 if layer.size_field and r.get("capacity_unit") == "MW" and r.get("capacity")]
        if sized:
            parts.append('<div class="ccamap-legend-note">symbol area ∝ capacity:</div><div>')
            for mw in _size_steps(max(sized)):
                radius = point_radius({"capacity": mw, "capacity_unit": "MW"}, layer)
                parts.append(f'<svg width="{2 * radius + 2:g}" height="{2 * radius + 2:g}">'
                             f'<circle cx="{radius + 1:g}" cy="{radius + 1:g}" r="{radius:g}" '
                             'fill="none" stroke="#555"/></svg> '
                             f'<span class="ccamap-legend-note">{mw:,.0f} MW</span> ')
            parts.append("</div>")
        parts.append("</div>")
    lines = any(LAYERS[n].is_line for n in layers)
    points = any(not LAYERS[n].is_line for n in layers)
    parts.append('<div class="ccamap-legend-layer"><i data-i18n="status">Status</i>')
    for status in (s for s in STATUS_STYLE if s in statuses_used):
        style = STATUS_STYLE[status]
        dash = f"stroke-dasharray:{style['dash']}" if style["dash"] else ""
        color = str(style["color"] or "#333")
        dot = feature_style({"status": status}, LAYERS["power_plants"])
        sample = ""
        if lines:
            sample += (f'<svg width="34" height="10" aria-hidden="true"><line x1="0" y1="5" '
                       f'x2="34" y2="5" stroke="{escape(color)}" stroke-width="3" '
                       f'style="{escape(dash)}" opacity="{style["opacity"]}"/></svg>')
        if points:
            sample += (f'<svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" '
                       f'r="5" stroke="{escape(color)}" stroke-width="{dot["weight"]:g}" '
                       f'fill="{escape(dot["fillColor"] if status in HOLLOW else color)}"/>'
                       "</svg>")
        parts.append(f'<div>{sample} <span data-status="{escape(status)}">{escape(status)}'
                     "</span></div>")
    parts.append("</div>")
    if any(not LAYERS[name].is_line and "geometry_precision" in gdf
           and bool((gdf["geometry_precision"] == "locality").any())
           for name, gdf in layers.items()):
        parts.append('<div class="ccamap-legend-layer"><svg width="14" height="14" '
                     'aria-hidden="true"><circle cx="7" cy="7" r="5" stroke="#333" '
                     'stroke-width="2.5" stroke-dasharray="2 2" fill="#ffffff"/></svg> '
                     '<span data-i18n="locality">dashed ring: placed at the nearest named '
                     "place (the site itself is unknown)</span></div>")
    parts.append("</details>")
    return "".join(parts)


def _size_steps(largest: float) -> list[float]:
    steps: list[float] = [s for s in (10.0, 50.0, 100.0, 500.0, 1000.0) if s <= largest]
    return steps[-3:] or [largest]



def _data_date(sources: pd.DataFrame) -> str:
    """Return the newest source's date (``YYYY-MM``): the data cut-off shown in the header."""
    dates = sorted(str(d) for d in sources.get("date", pd.Series(dtype=str)) if d and str(d)[:1]
                   .isdigit())
    return dates[-1][:7] if dates else ""


def _sources_config(cited: set[str], sources: pd.DataFrame) -> dict[str, list[str]]:
    """Return the cited sources by id: ``[title, publisher, date, url]`` (http(s) only)."""
    wanted = [sid for sid in sorted(cited) if sid in sources.index]
    fields = ("title", "publisher", "date", "url")
    rows = source_rows(sources)  # read once a build
    out = {}
    for sid in wanted:
        src = rows[sid]
        title, publisher, date, url = (str(src.get(c) or "") for c in fields)
        out[sid] = [title, publisher, date, safe_url(url) or ""]
    return out

def runtime_config(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame | None = None,
                   cited: set[str] | None = None) -> dict[str, Any]:
    """Return the runtime's settings: countries, statuses, years, layer titles, cited sources."""
    records = [r for gdf in layers.values() for r in attribute_records(gdf)]
    codes = {c for r in records for c in (r.get("countries") or [])}
    statuses = [s for s in STATUSES if any(r.get("status") == s for r in records)]
    years = [y for r in records if (y := first_year(r)) is not None]
    last = max([*years, *(int(r["status_year"]) for r in records if r.get("status_year"))],
               default=None)
    return {
        "countries": country_names(codes),
        "countriesI18n": country_names_i18n(codes),
        "statuses": statuses,
        "years": [min(years), last] if years else [None, None],
        "layers": {name: LAYERS[name].title for name in layers},
        "sources": _sources_config(cited or set(), sources) if sources is not None else {},
        "precision": PRECISION_TEXT,
    }

#: The scope and provenance a reader sees under "About", in the three interface languages.
_ABOUT = {
    "en": ("This map shows the railways, pipelines, highways, power plants and energy sites, "
           "border ports and other sites that China and the five Central Asian states "
           "(Kazakhstan, Kyrgyzstan, Tajikistan, Turkmenistan, Uzbekistan) build or run "
           "together. The inventory starts from four documents of Chinese state media and "
           "institutes (below) and adds the public pages that confirm, date or locate each "
           "fact; it is not a complete register. Every value cites its sources; a value no "
           "source gives is shown as not reported. Geometry is exact, approximate (within "
           "about 5 km) or schematic (a line through named places)."),
    "zh": ("本图展示中国与中亚五国（哈萨克斯坦、吉尔吉斯斯坦、塔吉克斯坦、土库曼斯坦、"
           "乌兹别克斯坦）共同建设或运营的铁路、管道、公路、电站与能源设施、边境口岸及其他合作"
           "项目。清单以中国官方媒体和研究机构的四份文件为起点（见下），并补充证实、标注年代或"
           "定位每一事实的公开网页；"
           "并非完整名录。每个数值都注明来源；没有来源的数值标为“未报告”。几何位置分为精确、"
           "近似（约5公里内）和示意（经过命名地点的线）。"),
    "ru": ("Карта показывает железные дороги, трубопроводы, автодороги, электростанции и "
           "энергетические объекты, пограничные переходы и другие объекты, которые Китай и пять "
           "государств Центральной Азии (Казахстан, Кыргызстан, Таджикистан, Туркменистан, "
           "Узбекистан) строят или эксплуатируют вместе. Перечень начинается с четырёх "
           "документов китайских государственных СМИ и институтов (ниже) и дополнен "
           "открытыми страницами, которые подтверждают, датируют или локализуют каждый факт; "
           "это не полный реестр. У каждого значения указаны источники; значение без "
           "источника помечено как «нет данных». Геометрия точная, приблизительная (в "
           "пределах ~5 км) или схематичная (линия через названные пункты)."),
}


def chrome_html(title: str, sources: pd.DataFrame, *, site: bool) -> str:
    """Return the page around the map: skip link, header bar, card panel, dialogs and stats strip.

    Every string is our own text or escaped data; the runtime (``assets/runtime/``) translates the
    elements marked ``data-i18n`` and fills the panels with text nodes.
    """
    date = _data_date(sources)
    seeds = sources[sources["kind"] == "seed"] if "kind" in sources else sources.iloc[0:0]
    seed_items = "".join(
        f"<li>{escape(r['title'])} — {escape(r['publisher'])}, {escape(r['date'])}</li>"
        for _, r in seeds.iterrows())
    about = "".join(f'<p lang="{k}" class="ccamap-about-{k}"{"" if k == "en" else " hidden"}>'
                    f"{escape(v)}</p>" for k, v in _ABOUT.items())
    cite = (f"ccamap contributors ({date[:4] or '2026'}). ccamap: an open map of China–Central "
            f"Asia cooperation infrastructure, version 0.1.0, data as of {date or 'n.d.'}. "
            "Code MIT; database ODbL 1.0, contents CC BY 4.0.")
    links = ('<a class="ccamap-navlink" href="table.html" data-i18n="table">Table</a>'
             if site else "")
    exports = "".join(
        f'<a href="export/{escape(name)}.geojson" download>{escape(layer.title)} (GeoJSON)</a>'
        for name, layer in LAYERS.items()) if site else ""
    return (
        '<a class="ccamap-skip" href="#ccamap-search" data-i18n="skip">Skip to search</a>'
        '<header class="ccamap-header">'
        f'<h1 class="ccamap-title"><span class="ccamap-title-long">{escape(title)}</span>'
        '<span class="ccamap-title-short">ccamap</span></h1>'
        f'<span class="ccamap-date"><span data-i18n="asof">data as of</span> {escape(date)}'
        "</span>"
        '<div class="ccamap-searchbox" role="search">'
        '<input id="ccamap-search" class="ccamap-search" type="search" autocomplete="off" '
        'role="combobox" aria-expanded="false" aria-controls="ccamap-results" '
        'aria-autocomplete="list" placeholder="Search: English, 中文, русский" '
        'aria-label="Search features by name">'
        '<ul id="ccamap-results" class="ccamap-results" role="listbox" '
        'aria-label="Search results" hidden></ul></div>'
        '<button type="button" class="ccamap-menu-button" aria-expanded="false" '
        'aria-controls="ccamap-nav" data-i18n="menu">Menu</button>'
        '<nav id="ccamap-nav" class="ccamap-nav" aria-label="About the map">'
        '<button type="button" data-dialog="ccamap-about" data-i18n="about">About</button>'
        '<button type="button" data-dialog="ccamap-cite" data-i18n="cite">Cite</button>'
        '<button type="button" data-dialog="ccamap-licence" data-i18n="licence">Licence</button>'
        f"{links}"
        '<details class="ccamap-downloads"><summary data-i18n="download">Download</summary>'
        '<div class="ccamap-downloads-menu">'
        '<button type="button" class="ccamap-dl" data-format="geojson" data-i18n="dlgeojson">'
        "What I see (GeoJSON)</button>"
        '<button type="button" class="ccamap-dl" data-format="csv" data-i18n="dlcsv">'
        "What I see (CSV)</button>"
        f"{exports}</div></details>"
        '<label class="ccamap-lang"><span class="ccamap-sr" data-i18n="language">Language'
        '</span><select id="ccamap-lang"><option value="en">English</option>'
        '<option value="zh" lang="zh">中文</option><option value="ru" lang="ru">Русский</option>'
        "</select></label></nav></header>"
        '<aside id="ccamap-side" class="ccamap-side" aria-labelledby="ccamap-side-title" hidden>'
        '<div class="ccamap-side-bar"><h2 id="ccamap-side-title" class="ccamap-sr" '
        'data-i18n="details">Feature details</h2>'
        '<button type="button" class="ccamap-expand" aria-expanded="false" data-i18n="more">'
        "More</button>"
        '<button type="button" class="ccamap-close" aria-label="Close the card">×</button>'
        '</div><div id="ccamap-card" class="ccamap-card-body"></div></aside>'
        '<div id="ccamap-stats" class="ccamap-stats" aria-live="polite"></div>'
        '<dialog id="ccamap-about" class="ccamap-dialog" aria-labelledby="ccamap-about-h">'
        '<h2 id="ccamap-about-h" data-i18n="about">About</h2>'
        f"{about}"
        f'<p><b data-i18n="cutoff">Data cut-off</b>: {escape(date)}</p>'
        f'<p><b data-i18n="seeds">Seed documents</b></p><ol>{seed_items}</ol>'
        '<p data-i18n="contribute">To report an error or propose a source, see CONTRIBUTING.md '
        "in the repository.</p>"
        '<form method="dialog"><button data-i18n="close">Close</button></form></dialog>'
        '<dialog id="ccamap-cite" class="ccamap-dialog" aria-labelledby="ccamap-cite-h">'
        '<h2 id="ccamap-cite-h" data-i18n="cite">Cite</h2>'
        f'<p class="ccamap-citation">{escape(cite)}</p>'
        '<p data-i18n="citecff">The repository\'s CITATION.cff has the same in machine-readable '
        "form.</p>"
        '<form method="dialog"><button data-i18n="close">Close</button></form></dialog>'
        '<dialog id="ccamap-licence" class="ccamap-dialog" aria-labelledby="ccamap-licence-h">'
        '<h2 id="ccamap-licence-h" data-i18n="licence">Licence</h2><ul>'
        "<li>Data: the database under the Open Database License (ODbL) 1.0, as it holds "
        "geometry derived from OpenStreetMap; its contents (descriptions, compiled tables) "
        "CC BY 4.0, ccamap contributors; facts © the cited sources.</li>"
        "<li>Routes and locations: © OpenStreetMap contributors (ODbL 1.0); pipeline routes "
        "from Global Energy Monitor (CC BY 4.0).</li>"
        "<li>Country outlines, lakes: Natural Earth (public domain).</li>"
        "<li>Place names: GeoNames (CC BY 4.0).</li>"
        "<li>Code: MIT.</li>"
        "<li>Online tiles, when chosen: © OpenStreetMap contributors, © CARTO.</li></ul>"
        '<form method="dialog"><button data-i18n="close">Close</button></form></dialog>'
    )


