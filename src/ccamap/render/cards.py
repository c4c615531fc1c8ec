"""The card of a feature: every attribute with its sources, as HTML (KML) or as page data.

:func:`card_html` builds the card as escaped HTML (the KML export's descriptions use it);
:func:`card_extras` gives what the map page needs besides the attribute table to build the same
card in the browser with text nodes (``assets/runtime/card.js``, ``buildCard``).
"""

from __future__ import annotations

import gettext
import math
from typing import Any

import pandas as pd
import pycountry

from ccamap.claims import Claim, claim_text, claims_of
from ccamap.layers import Layer
from ccamap.render.elements import escape
from ccamap.validate import parse_field_sources

__all__ = [
    "CARD_SKIP",
    "MISSING",
    "PRECISION_TEXT",
    "card_extras",
    "card_html",
    "country_names",
    "country_names_i18n",
    "format_value",
    "named_waypoints",
    "safe_url",
]

#: Fields the card shows in its header and key-figure rows rather than in the table.
CARD_SKIP = frozenset({"id", "name", "name_zh", "name_ru", "status", "status_year", "countries",
                       "sources", "field_sources", "description", "layer", "geometry",
                       "coordinate_sources", "editor_notes"})
MISSING = "not reported"
#: What each geometry precision means, shown after its value.
PRECISION_TEXT = {
    "exact": "the site or track itself",
    "approximate": "within about 5 km",
    "schematic": "a line through named waypoints",
    "locality": "placed at the nearest named place; the site is unknown",
}


def format_value(value: Any, *, integer: bool = False) -> str:
    """Format a value for display; ``integer`` values (years) have no thousands separator."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if integer:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,}"
    return str(value)


def _countries_text(codes: list[str] | None) -> str:
    names = country_names(set(codes or []))
    return " → ".join(f"{names[c]} ({c})" for c in codes or [])


def safe_url(url: str) -> str | None:
    """Return ``url`` if it is an http(s) address (the only ones that become links)."""
    return url if url.startswith(("https://", "http://")) else None




def named_waypoints(value: Any) -> list[str]:
    """Return the waypoints that have a name (``ccamap import`` writes unnamed ones)."""
    if not isinstance(value, list | tuple):
        return []
    return [str(v) for v in value if v is not None and str(v).strip()]


def card_html(record: dict[str, Any], layer: Layer, sources: pd.DataFrame) -> str:
    """Return the popup card of one feature: every attribute, escaped, with numbered sources.

    Parameters
    ----------
    record
        One row of a joined layer, as a dict.
    layer
        Its layer.
    sources
        The sources table, indexed by id.
    """
    cited: list[str] = list(record.get("sources") or [])
    coord_sources = [str(s).split(":", 1)[0] for s in record.get("coordinate_sources") or []]
    claims: dict[str, list[Claim]] = {}
    for claim in claims_of(sources).for_feature(layer.name, record.get("id")):
        claims.setdefault(claim.field, []).append(claim)
    for sid in [*coord_sources, *(c.source for cs in claims.values() for c in cs)]:
        if sid not in cited:
            cited.append(sid)
    number = {sid: i for i, sid in enumerate(cited, start=1)}
    backed, _ = parse_field_sources(record.get("field_sources"))

    def sup(sids: list[str]) -> str:
        nums = sorted({number[s] for s in sids if s in number})
        return "".join(f'<sup class="ccamap-ref">[{n}]</sup>' for n in nums)

    def refs(field_name: str) -> str:
        return sup(backed.get(field_name, []))

    def also(*field_names: str) -> str:
        """Return the other values sources give for these fields, a line per value and year."""
        lines: dict[tuple[str, int | None], list[Claim]] = {}
        for name in field_names:
            for claim in claims.get(name, []):
                lines.setdefault((claim_text(claim, record), claim.as_of), []).append(claim)
        out = []
        for (text, year), same in lines.items():
            when = f" ({year})" if year is not None else ""
            notes = "; ".join(dict.fromkeys(c.note for c in same if c.note))
            out.append(f'<div class="ccamap-claim">also reported: {escape(text)} '
                       f"{sup([c.source for c in same])}{when}"
                       + (f' <span class="ccamap-claim-note">— {escape(notes)}</span>'
                          if notes else "") + "</div>")
        return "".join(out)

    names = " · ".join(escape(record.get(k)) for k in ("name_zh", "name_ru") if record.get(k))
    status = escape(str(record.get("status") or "").capitalize())
    if record.get("status_year"):
        status += (' <span class="ccamap-status-year">(status as of '
                   f"{escape(format_value(record['status_year'], integer=True))})</span>")
    rows = []
    missing: list[str] = []  # titles of unknown fields: one "not reported: …" line
    for f in layer.all_fields:
        if f.name in CARD_SKIP:
            continue
        value = format_value(record.get(f.name), integer=f.kind == "int")
        if not value and f.name != "capacity_unit" and not claims.get(f.name):
            missing.append(f.title)
            continue
        # a field no kept value fills, but that sources dispute, keeps its row for the claims
        shown = escape(value) if value else f'<span class="ccamap-missing">{MISSING}</span>'
        if f.name == "capacity_unit":
            continue
        if f.name == "capacity" and value and record.get("capacity_unit"):
            shown += " " + escape(record["capacity_unit"])
        if f.name == "route_error_km" and value:
            shown = f"drawing within ~{escape(value)} km of the real route"
        if f.name == "geometry_precision" and value in PRECISION_TEXT:
            shown += f' <span class="ccamap-hint">({escape(PRECISION_TEXT[value])})</span>'
        rows.append(f"<tr><th>{escape(f.title)}</th><td>{shown}{refs(f.name)}"
                    f"{also(f.name)}</td></tr>")
    internal = {*layer.columns, "waypoints", "coordinate_sources", "layer", "length_km"}
    for key in (k for k in record if k not in internal and k != "geometry"):
        value = format_value(record.get(key))
        if not value:
            missing.append(key)
            continue
        rows.append(f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>")
    if "length_km" in record and record["length_km"] is not None:
        length = escape(format_value(record["length_km"]))
        rows.append(f"<tr><th>Drawn length (geodesic)</th><td>{length} km</td></tr>")
    waypoints = named_waypoints(record.get("waypoints"))
    if waypoints:
        rows.append(f"<tr><th>Waypoints</th><td>{escape('; '.join(waypoints))}</td></tr>")
    items = []
    for sid in cited:
        if sid in sources.index:
            src = sources.loc[sid]
            title = escape(src["title"])
            meta = ", ".join(escape(src[k]) for k in ("publisher", "date") if src[k])
            url = safe_url(str(src["url"]))
            link = f'<a href="{escape(url)}" target="_blank" rel="noopener">{title}</a>' if url \
                else title
            items.append(f"<li>{link}{' — ' + meta if meta else ''}</li>")
        else:
            items.append(f"<li>{escape(sid)} (unknown source)</li>")
    return (
        f'<div class="ccamap-card" data-id="{escape(record.get("id"))}">'
        f"<h4>{escape(record.get('name'))}</h4>"
        + (f'<div class="ccamap-names">{names}</div>' if names else "")
        + f'<div class="ccamap-status ccamap-status-{escape(record.get("status"))}">'
        f"{status}{refs('status')}{also('status', 'status_year')}</div>"
        f'<div class="ccamap-countries">{escape(_countries_text(record.get("countries")))}</div>'
        f'<p class="ccamap-description">{escape(record.get("description"))}</p>'
        f'<table class="ccamap-attrs">{"".join(rows)}</table>'
        + (f'<p class="ccamap-missing">{MISSING}: {escape(", ".join(missing))}</p>'
           if missing else "")
        +
        f'<div class="ccamap-sources"><b>Sources</b><ol>{"".join(items)}</ol></div>'
        f'<div class="ccamap-id">{escape(layer.name)} / {escape(record.get("id"))}</div>'
        "</div>"
    )


def card_extras(record: dict[str, Any], layer: Layer, sources: pd.DataFrame
                ) -> tuple[dict[str, list[str]] | None, list[list[Any]] | None, list[str] | None]:
    """Return what the page needs, besides the attributes, to build a feature's card.

    Returns
    -------
    tuple
        The source ids backing each field (parsed ``field_sources``), the claims on the feature
        as ``[field, text as shown, year or None, source id, note]``, and the distinct source ids
        of its coordinates, in order; each ``None`` when empty.
    """
    backed, _ = parse_field_sources(record.get("field_sources"))
    claims = [[c.field, claim_text(c, record), c.as_of, c.source, c.note]
              for c in claims_of(sources).for_feature(layer.name, record.get("id"))]
    coords = list(dict.fromkeys(str(s).split(":", 1)[0]
                                for s in record.get("coordinate_sources") or []))
    return backed or None, claims or None, coords or None


def country_names(codes: set[str]) -> dict[str, str]:
    """Map ISO 3166-1 alpha-3 codes to country names, sorted by name."""
    names = {}
    for code in codes:
        country = pycountry.countries.get(alpha_3=code)
        names[code] = getattr(country, "common_name", None) or (country.name if country else code)
    return dict(sorted(names.items(), key=lambda kv: kv[1]))


def country_names_i18n(codes: set[str]) -> dict[str, dict[str, str]]:
    """Country names in Chinese and Russian (pycountry's translations), by alpha-3 code."""
    out: dict[str, dict[str, str]] = {"zh": {}, "ru": {}}
    for lang, locale in (("zh", "zh_CN"), ("ru", "ru")):
        tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale],
                                 fallback=True)
        for code in codes:
            country = pycountry.countries.get(alpha_3=code)
            out[lang][code] = tr.gettext(country.name) if country else code
    return out

