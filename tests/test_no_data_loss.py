"""Failure injection: a failed or killed build leaves earlier outputs and geodata as they were.

The previous maps and exports come from a real build of a copy of the bundled data; then a build
is broken (an exception while rendering, a full disk while writing) or killed with SIGKILL in a
subprocess (while rendering, and while the first output's temporary file is being written).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ccamap import pipeline
from ccamap.pipeline import build

from conftest import REPO

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (temporary files included) by relative path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, dict[str, bytes], dict[str, bytes]]:
    """A copy of the bundled geodata, a finished build of it, and snapshots of both."""
    root = tmp_path_factory.mktemp("no-data-loss")
    geodata, out = root / "geodata", root / "maps"
    shutil.copytree(REPO / "geodata", geodata, ignore=shutil.ignore_patterns(".backup"))
    build(geodata, out)
    return geodata, out, tree(geodata), tree(out)


@pytest.fixture
def state(built, tmp_path):
    """A fresh copy of the built state for one test."""
    geodata, out, geo_before, out_before = built
    g, o = tmp_path / "geodata", tmp_path / "maps"
    shutil.copytree(geodata, g)
    shutil.copytree(out, o)
    assert tree(o) == out_before
    return g, o, geo_before, out_before


@pytest.mark.parametrize("stage", ["render_maps", "geojson_pieces"])
def test_exception_while_rendering(state, monkeypatch, stage):
    """The maps, or the exports, fail to render: nothing is written."""
    geodata, out, geo_before, out_before = state

    def boom(*args, **kwargs):
        msg = f"injected failure in {stage}"
        raise RuntimeError(msg)

    monkeypatch.setattr(pipeline, stage, boom)
    with pytest.raises(RuntimeError, match="injected"):
        build(geodata, out)
    assert tree(out) == out_before
    assert tree(geodata) == geo_before


def test_exception_inside_render_map_midway(state, monkeypatch):
    """The overview renders, then the third per-layer map fails."""
    geodata, out, geo_before, out_before = state
    calls = []
    real = pipeline.render_map

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            msg = "injected failure in render_map"
            raise RuntimeError(msg)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "render_map", flaky)
    with pytest.raises(RuntimeError, match="injected"):
        build(geodata, out)
    assert len(calls) == 3
    assert tree(out) == out_before
    assert tree(geodata) == geo_before


def test_disk_full_while_writing_leaves_no_partial_file(state, monkeypatch):
    """A write that fails leaves that file whole (old content) and no temporary file behind."""
    geodata, out, geo_before, out_before = state
    import ccamap.io

    real_fsync = os.fsync
    calls = []

    def full(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(ccamap.io.os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        build(geodata, out)
    assert tree(out) == out_before
    assert tree(geodata) == geo_before


_CHILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    marker = Path(sys.argv[3])
    where = sys.argv[4]

    def stall():
        marker.write_text("ready")
        time.sleep(120)

    if where == "render":
        import ccamap.pipeline as pipeline
        real = pipeline.render_map
        def slow(*args, **kwargs):
            stall()
            return real(*args, **kwargs)
        pipeline.render_map = slow
    else:  # while the first output's temporary file is written, before it is moved
        import ccamap.io
        real_fsync = os.fsync
        class SlowOs:
            def __getattr__(self, name):
                return getattr(os, name)
            @staticmethod
            def fsync(fd):
                stall()
                real_fsync(fd)
        ccamap.io.os = SlowOs()
    from ccamap.cli import app
    app(["build", "-g", sys.argv[1], "-o", sys.argv[2]])
""")


@pytest.mark.parametrize("where", ["render", "write"])
def test_killed_build(state, tmp_path, where):
    geodata, out, geo_before, out_before = state
    marker = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(geodata), str(out), str(marker),
                             where], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the build never reached the injection point"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    after = tree(out)
    # A kill cannot clean up: the temporary file being written may remain, dot-named, beside
    # its target. Every real output is exactly as before.
    leftovers = {k for k in after.keys() - out_before.keys()}
    assert all(Path(k).name.startswith(".") and ".tmp" in Path(k).name for k in leftovers), \
        leftovers
    assert {k: v for k, v in after.items() if k not in leftovers} == out_before
    if where == "render":
        assert leftovers == set()
    assert tree(geodata) == geo_before
