"""PostGIS export: every layer, the sources and the claims replaced in one transaction.

SQLAlchemy, GeoAlchemy2 and psycopg are the optional extra ``ccamap[postgis]``: they are imported
when a PostGIS export runs (not when ccamap starts), and their absence is an
:class:`~ccamap.errors.ExportError` that says what to install.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from ccamap.errors import ExportError
from ccamap.export.frame import claims_gdal, export_frame, layer_of, list_columns, sources_frame
from ccamap.export.gdal import gdal_frame, refuse_nul
from ccamap.safety import redact, secrets_in_url

__all__ = ["to_postgis"]

_MISSING_EXTRA = ("expected SQLAlchemy, GeoAlchemy2 and psycopg for a PostGIS export, found "
                  "{name} not installed (pip install 'ccamap[postgis]')")


def _engine_url(url: str) -> Any:
    try:  # optional extra ccamap[postgis]: imported only for a PostGIS export
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError
    except ImportError as exc:
        raise ExportError(_MISSING_EXTRA.format(name=exc.name)) from None

    expected = "a database URL postgresql://USER@HOST:PORT/DB"
    userinfo = url.partition("://")[2].rpartition("@")[0]
    if any(c in userinfo for c in "@/?#"):  # which '@' ends the password is anyone's guess
        msg = redact(f"expected {expected} with '@', '/', '?' and '#' in the user name and "
                     f"password written as %40, %2F, %3F and %23, found {url!r}",
                     known=secrets_in_url(url))
        raise ExportError(msg)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        msg = redact(f"expected {expected}, found {url!r}", known=secrets_in_url(url))
        raise ExportError(msg) from None
    if parsed.get_backend_name() != "postgresql":
        msg = redact(f"expected a postgresql:// URL, found {parsed.drivername}://")
        raise ExportError(msg)
    return parsed.set(drivername="postgresql+psycopg")


def to_postgis(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, url: str, schema: str
) -> list[str]:
    """Write every layer and the sources table into PostGIS; return the tables written.

    Each layer becomes ``schema.<layer>`` with typed columns (lists as ``text[]``), a
    ``geometry`` column in EPSG:4326 (lines as MultiLineString) with a GiST index and ``id`` as
    primary key; ``schema.sources`` holds the sources table and ``schema.claims`` the contested
    values (:func:`claims_table`). All tables are replaced inside one transaction: if anything
    fails, the previous tables stay as they were.

    Parameters
    ----------
    layers
        Joined layers by name.
    sources
        The sources table.
    url
        ``postgresql://USER[:PASSWORD]@HOST:PORT/DB``.
    schema
        The schema to write into (created if missing).

    Raises
    ------
    ExportError
        If the URL is malformed, the database cannot be reached, lacks PostGIS, a value holds a
        NUL character, or a write fails. No message shows a password (:func:`ccamap.safety.redact`).
    """
    try:  # optional extra ccamap[postgis]: imported only for a PostGIS export
        import psycopg
        import sqlalchemy as sa
        from sqlalchemy.dialects.postgresql import ARRAY
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError as exc:
        raise ExportError(_MISSING_EXTRA.format(name=exc.name)) from None


    engine_url = _engine_url(url)
    known = secrets_in_url(url)
    shown = redact(engine_url.set(drivername="postgresql").render_as_string(hide_password=True),
                   known=known)
    if not schema.isidentifier():
        msg = f"expected a schema name of letters, digits and underscores, found {schema!r}"
        raise ExportError(msg)
    frames = {name: gdal_frame(name, gdf) for name, gdf in layers.items()}
    for name, gdf in layers.items():
        array = export_frame(gdf, name)
        for col in list_columns(layer_of(name, gdf)):
            if col in array.columns:  # geopandas writes with COPY: PostgreSQL array literals
                frames[name][col] = [None if v is None else _pg_array(v) for v in array[col]]
    table = sources_frame(sources)
    for name, frame in {**frames, "sources": table}.items():
        refuse_nul(frame, name, "PostgreSQL text")
    engine = sa.create_engine(engine_url)
    written: list[str] = []
    try:
        with engine.begin() as con:
            _require_postgis(con, shown)
            con.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            for name, frame in frames.items():
                dtype = {c: ARRAY(sa.Text) for c in list_columns(layer_of(name, frame))
                         if c in frame.columns}
                frame.to_postgis(name, con, schema=schema, if_exists="replace", index=False,
                                 dtype=dtype)
                con.execute(sa.text(f'ALTER TABLE "{schema}"."{name}" ADD PRIMARY KEY (id)'))
                con.execute(sa.text(
                    f'CREATE INDEX IF NOT EXISTS "idx_{name}_geometry" '
                    f'ON "{schema}"."{name}" USING GIST (geometry)'))
                written.append(f"{schema}.{name}")
            table.to_sql("sources", con, schema=schema, if_exists="replace", index=False)
            con.execute(sa.text(f'ALTER TABLE "{schema}"."sources" ADD PRIMARY KEY (id)'))
            written.append(f"{schema}.sources")
            claims_gdal(layers, sources).to_sql("claims", con, schema=schema,
                                                 if_exists="replace", index=False)
            written.append(f"{schema}.claims")
    except (SQLAlchemyError, psycopg.Error) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        msg = redact(f"expected to replace the ccamap tables in {shown} (schema {schema}), "
                     f"found: {reason}; the previous tables are unchanged", known=known)
        raise ExportError(msg) from None
    finally:
        engine.dispose()
    return written


def _pg_array(items: list[str]) -> str:
    """Return a PostgreSQL ``text[]`` literal, quoting every element."""
    quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in items)
    return "{" + ",".join(quoted) + "}"


def _require_postgis(con: Any, shown: str) -> None:
    import sqlalchemy as sa  # optional extra ccamap[postgis]; already imported by to_postgis

    installed = con.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first()
    if installed is None:
        msg = (f"expected the postgis extension in {shown}, found it not installed "
               "(run CREATE EXTENSION postgis as a superuser)")
        raise ExportError(msg)
