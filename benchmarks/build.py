"""Time ``ccamap build`` on the bundled geodata/ and compare it with its imports alone.

Prints, side by side from one run:
- imports: a fresh interpreter importing what the build needs (the baseline);
- cold build: a fresh interpreter running the whole ``ccamap build``;
- repeated build: ``ccamap.build`` called again in a warm process;
and the ratio of the cold build to the baseline.

Usage: python benchmarks/build.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMPORTS = ("import geopandas, shapely, pyproj, folium, branca, pandas, pandera.pandas, "
           "pycountry, typer, rich")


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "maps")
        imports, cold = [], []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            imports.append(timed([sys.executable, "-c", IMPORTS]))
            cold.append(timed([sys.executable, "-m", "ccamap", "build", "-o", out]))
        sys.path.insert(0, str(REPO / "src"))
        import ccamap

        ccamap.build(REPO / "geodata", out)  # warm up
        warm = []
        for _ in range(args.runs):
            start = time.perf_counter()
            ccamap.build(REPO / "geodata", out)
            warm.append(time.perf_counter() - start)
    med = statistics.median
    print(f"runs: {args.runs} (median, seconds)")
    print(f"imports only (baseline): {med(imports):.3f}")
    print(f"cold build (new process): {med(cold):.3f}")
    print(f"repeated build (warm):    {med(warm):.3f}")
    print(f"cold build / imports:     {med(cold) / med(imports):.2f}x")


if __name__ == "__main__":
    main()
