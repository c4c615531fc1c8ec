"""Importing better geometry for one feature from any file GDAL reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ccamap.errors import CcamapError

__all__ = ["ImportPreview", "ImportResult", "import_geometry"]


@dataclass(frozen=True)
class ImportPreview:
    """What an import would change."""

    layer: str
    feature_id: str
    old_length_km: float | None
    new_length_km: float | None
    old_vertices: int
    new_vertices: int
    max_distance_km: float

    def format(self) -> str:
        """Return the preview as text for the terminal."""
        def km(value: float | None) -> str:
            return "-" if value is None else f"{value:,.1f} km"

        return (f"{self.layer}/{self.feature_id}: length {km(self.old_length_km)} -> "
                f"{km(self.new_length_km)}, vertices {self.old_vertices} -> "
                f"{self.new_vertices}, max distance between old and new "
                f"{self.max_distance_km:,.1f} km")


@dataclass(frozen=True)
class ImportResult:
    """The preview, whether the geometry was replaced, and the backup written."""

    preview: ImportPreview
    applied: bool
    backup: Path | None


def import_geometry(
    layer: str,
    feature_id: str,
    file: Path,
    *,
    source_id: str,
    geodata: Path,
    feature_index: int | None = None,
    where: str | None = None,
    precision: str | None = None,
    confirm: Callable[[ImportPreview], bool] | None = None,
) -> ImportResult:
    """Replace one feature's geometry in ``geodata/`` with geometry read from ``file``."""
    msg = f"expected a supported import, found {file}; import is not available yet"
    raise CcamapError(msg)
