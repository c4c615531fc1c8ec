"""The PostGIS export against a real, throwaway PostgreSQL + PostGIS cluster."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from _gis_tools import require
from ccamap.errors import ExportError
from ccamap.layers import LAYERS
from ccamap.pipeline import export_postgis, load

from conftest import feature, record, write_layer

sa = pytest.importorskip("sqlalchemy")


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgis_url():
    """A throwaway cluster on a loopback port, with a database that has PostGIS."""
    bindir = _pg_bin()
    require(bindir is not None, "PostgreSQL server (apt-get install postgresql)")
    assert bindir is not None
    require(bool(glob.glob("/usr/share/postgresql/*/extension/postgis.control")),
            "PostGIS (apt-get install postgresql-15-postgis-3)")
    root = Path(tempfile.mkdtemp(prefix="ccamap-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", _free_port()
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", user,
                                 "-A", "trust", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True)
    subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l",
                                 str(root / "log"), "-o",
                                 f"-p {port} -k {root} -c listen_addresses=127.0.0.1 "
                                 "-c fsync=off", "start"]),
                   check=True, capture_output=True)
    try:
        base = f"postgresql://{user}@127.0.0.1:{port}"
        engine = sa.create_engine(f"{base.replace('postgresql', 'postgresql+psycopg')}/postgres",
                                  isolation_level="AUTOCOMMIT")
        with engine.connect() as con:
            con.execute(sa.text("CREATE DATABASE gis"))
            con.execute(sa.text("CREATE DATABASE plain"))
        engine.dispose()
        engine = sa.create_engine(f"{base.replace('postgresql', 'postgresql+psycopg')}/gis")
        with engine.begin() as con:
            con.execute(sa.text("CREATE EXTENSION postgis"))
        engine.dispose()
        yield f"{base}/gis"
    finally:
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                     "stop"]), check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _engine(url: str):
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


@pytest.fixture
def port_geodata(geodata):
    """Two railways, and three ports: one on a railway, one 30 km off, one 200 km off."""
    line = {"type": "LineString", "coordinates": [[80.0, 44.0], [82.0, 44.0]]}
    write_layer(geodata, "railways", [feature("rail-one", line)], [record("railways", "rail-one")])
    ports = [("bord-on", [81.0, 44.0]), ("bord-near", [81.0, 44.27]),
             ("bord-far", [81.0, 45.8])]
    write_layer(geodata, "border_ports",
                [feature(fid, {"type": "Point", "coordinates": xy}) for fid, xy in ports],
                [record("border_ports", fid) for fid, _ in ports])
    return geodata


def test_export_tables_srid_index_and_spatial_query(postgis_url, port_geodata):
    tables = export_postgis(postgis_url, port_geodata, schema="ccamap")
    assert tables == [f"ccamap.{n}" for n in LAYERS] + ["ccamap.sources", "ccamap.claims"]
    engine = _engine(postgis_url)
    with engine.connect() as con:
        counts = {n: con.execute(sa.text(f"SELECT count(*) FROM ccamap.{n}")).scalar()
                  for n in [*LAYERS, "sources", "claims"]}
        columns = "FROM geometry_columns WHERE f_table_schema = 'ccamap'"
        srids = dict(con.execute(sa.text(f"SELECT f_table_name, srid {columns}")).all())
        types = dict(con.execute(sa.text(f"SELECT f_table_name, type {columns}")).all())
        indexes = {r[0] for r in con.execute(sa.text(
            "SELECT tablename FROM pg_indexes WHERE schemaname = 'ccamap' "
            "AND indexdef ILIKE '%USING gist%'"))}
        near = [r[0] for r in con.execute(sa.text(
            "SELECT p.id FROM ccamap.border_ports p WHERE EXISTS (SELECT 1 FROM "
            "ccamap.railways r WHERE ST_DWithin(p.geometry::geography, "
            "r.geometry::geography, 50000)) ORDER BY p.id"))]
        countries = con.execute(sa.text(
            "SELECT countries FROM ccamap.railways WHERE id = 'rail-one'")).scalar()
        year = con.execute(sa.text(
            "SELECT pg_typeof(status_year)::text FROM ccamap.railways")).scalar()
    engine.dispose()
    assert counts == {**{n: 1 for n in LAYERS}, "border_ports": 3, "sources": 3, "claims": 0}
    assert set(srids.values()) == {4326} and set(srids) == set(LAYERS)
    assert types["railways"] == "MULTILINESTRING" and types["border_ports"] == "POINT"
    assert indexes == set(LAYERS)
    assert near == ["bord-near", "bord-on"]
    assert countries == ["CHN", "KAZ"]
    assert year == "bigint"


def test_rerun_replaces_and_failure_keeps_previous_tables(postgis_url, port_geodata,
                                                          monkeypatch):
    export_postgis(postgis_url, port_geodata, schema="rerun")
    export_postgis(postgis_url, port_geodata, schema="rerun")  # replaces, no duplicates
    data = load(port_geodata)
    data.layers["railways"] = data.layers["railways"].iloc[0:0]
    real = type(data.layers["sites"]).to_postgis
    calls = {"n": 0}

    def failing(self, name, *args, **kwargs):
        calls["n"] += 1
        if name == "sites":
            raise sa.exc.OperationalError("INSERT", {}, Exception("connection lost"))
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(type(data.layers["sites"]), "to_postgis", failing)
    from ccamap.export import to_postgis

    with pytest.raises(ExportError, match=r"expected to replace the ccamap tables .* found: "
                                          r"connection lost; the previous tables are "
                                          "unchanged"):
        to_postgis(data.layers, data.sources, postgis_url, "rerun")
    assert calls["n"] == len(LAYERS)
    engine = _engine(postgis_url)
    with engine.connect() as con:
        assert con.execute(sa.text("SELECT count(*) FROM rerun.railways")).scalar() == 1
        assert con.execute(sa.text("SELECT count(*) FROM rerun.border_ports")).scalar() == 3
    engine.dispose()


def test_database_without_postgis_is_refused(postgis_url, geodata):
    url = postgis_url.rsplit("/", 1)[0] + "/plain"
    with pytest.raises(ExportError, match=r"expected the postgis extension in .*plain, found "
                                          "it not installed"):
        export_postgis(url, geodata)


def test_unreachable_server_and_bad_url(geodata):
    with pytest.raises(ExportError, match="expected a postgresql:// URL, found mysql"):
        export_postgis("mysql://me@localhost/db", geodata)
    with pytest.raises(ExportError, match="expected to replace the ccamap tables"):
        export_postgis(f"postgresql://nobody@127.0.0.1:{_free_port()}/none", geodata)
