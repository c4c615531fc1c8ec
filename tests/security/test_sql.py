"""SQL in the PostGIS schema, column names and values: refused clearly, or stored literally."""

from __future__ import annotations

import pytest

from ccamap.errors import ExportError
from ccamap.pipeline import export_postgis
from test_postgis import _engine, postgis_url  # noqa: F401  (the throwaway cluster fixture)

from conftest import LINE, feature, record, write_layer

sa = pytest.importorskip("sqlalchemy")

COLUMN = 'x"); DROP TABLE ccamap.sources; --'
VALUE = "'); DROP TABLE ccamap.railways; -- {{ 7*7 }} \\x00? no: \\ backslash"


@pytest.mark.parametrize("schema", ['ccamap"; DROP SCHEMA public CASCADE; --', "a b",
                                    "ccamap.public", "", "1abc"])
def test_hostile_schema_names_are_refused(postgis_url, geodata, schema):  # noqa: F811
    with pytest.raises(ExportError, match="expected a schema name of letters, digits"):
        export_postgis(postgis_url, geodata, schema=schema)
    with _engine(postgis_url).connect() as con:
        schemas = {r[0] for r in con.execute(sa.text(
            "SELECT schema_name FROM information_schema.schemata"))}
    assert "public" in schemas


def test_sql_in_column_names_and_values_is_stored_literally(postgis_url, geodata):  # noqa: F811
    row = record("railways", "rail-one", description=VALUE, name=VALUE)
    row[COLUMN] = VALUE
    write_layer(geodata, "railways", [feature("rail-one", LINE)], [row])
    tables = export_postgis(postgis_url, geodata, schema="hostile")
    assert "hostile.railways" in tables and "hostile.sources" in tables
    with _engine(postgis_url).connect() as con:
        got = con.execute(sa.text(
            f'SELECT name, description, "{COLUMN.replace(chr(34), chr(34) * 2)}" '
            "FROM hostile.railways")).one()
        left = {r[0] for r in con.execute(sa.text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'hostile'"))}
    assert tuple(got) == (VALUE, VALUE, VALUE)
    assert {"railways", "sources"} <= left
