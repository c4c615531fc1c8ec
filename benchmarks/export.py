"""Export the bundled geodata/ in every format: file sizes and the time to write each.

Loads (validates and joins) once, then times each format's export from the loaded layers, and
also the whole ``ccamap export`` command per format in a new process (load included).

Usage: python benchmarks/export.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import ccamap  # noqa: E402
from ccamap.export import FORMATS, write_export  # noqa: E402


def main() -> None:
    data = ccamap.load(REPO / "geodata")
    print(f"{'format':<9}{'files':>6}{'bytes':>12}{'write (s)':>11}{'command (s)':>13}")
    total_write = total_cmd = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in FORMATS:
            out = Path(tmp) / fmt
            start = time.perf_counter()
            paths = write_export(data.layers, data.sources, fmt, out)
            write_s = time.perf_counter() - start
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "ccamap", "export", "--format", fmt,
                            "--out", str(Path(tmp) / f"cmd-{fmt}"), "-g",
                            str(REPO / "geodata")], check=True, capture_output=True)
            cmd_s = time.perf_counter() - start
            size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
            total_write += write_s
            total_cmd += cmd_s
            print(f"{fmt:<9}{len(paths):>6}{size:>12,}{write_s:>11.2f}{cmd_s:>13.2f}")
    print(f"{'all':<9}{'':>6}{'':>12}{total_write:>11.2f}{total_cmd:>13.2f}")


if __name__ == "__main__":
    main()
