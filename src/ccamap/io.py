"""Writing outputs atomically (and, re-exported, the strict readers of :mod:`ccamap.readers`)."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from ccamap.readers import read_attribute_table, read_feature_collection, read_json

__all__ = [
    "atomic_write",
    "pieces_writer",
    "publish_tree",
    "read_attribute_table",
    "read_feature_collection",
    "read_json",
    "temp_path",
    "text_writer",
    "write_files_atomic",
    "write_text_atomic",
]


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8"
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; move it into place only if the block succeeds.

    The temporary file is flushed and synced before the rename, so ``path`` holds either the
    old content or the complete new content, never a partial write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": encoding, "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_path(target: Path) -> Path:
    """Return a fresh temporary path beside ``target``, keeping its suffix (GDAL checks it)."""
    return target.with_name(f".{target.stem}.{secrets.token_hex(6)}.tmp{target.suffix}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def text_writer(text: str) -> Callable[[Path], None]:
    """Return a writer for :func:`write_files_atomic` that writes ``text`` as UTF-8."""
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8", newline="")

    return write


def pieces_writer(pieces: Callable[[], Iterable[str]]) -> Callable[[Path], None]:
    """Return a writer for :func:`write_files_atomic` that writes text piece by piece (UTF-8).

    ``pieces`` is called when the file is written; each piece is written as it comes, so the
    whole text never needs to be in memory. The bytes are those of :func:`text_writer` given
    the pieces joined.
    """
    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            for piece in pieces():
                fh.write(piece)

    return write


def write_files_atomic(writers: Mapping[Path, Callable[[Path], None]]) -> list[Path]:
    """Write several files so that they change together, or not at all.

    Each writer writes its file's complete content to a temporary path beside the target; the
    temporary files are synced, and only when every one is complete are they all moved into
    place. On any failure the temporary files (and SQLite side files) are removed and every
    target keeps its previous content.

    Parameters
    ----------
    writers
        For each target path, a function that writes the content to the path it is given.

    Returns
    -------
    list of Path
        The targets, in order.
    """
    staged: dict[Path, Path] = {}
    try:
        for target, write in writers.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = temp_path(target)
            staged[target] = tmp
            write(tmp)
            _fsync(tmp)
        for target, tmp in staged.items():
            os.replace(tmp, target)
    except BaseException:
        for tmp in staged.values():
            for leftover in (tmp, *(tmp.with_name(tmp.name + s)
                                    for s in ("-wal", "-shm", "-journal"))):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
        raise
    return list(staged)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_write(path) as fh:
        fh.write(text)


_STAGE = "ccamap-new"
_OLD = "ccamap-old"


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directory entries in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns ``False`` where the system cannot (no such call, or a file system that does not
    support it), so the caller can fall back to two renames.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (one build at a time publishes beside it)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot sync a directory
        _fsync(path)


def _clean_leftovers(out: Path) -> None:
    """Remove the staging and old directories that a killed build left beside ``out``.

    If a build was killed between the two renames of the fallback switch, ``out`` is missing
    and the previous complete set waits under its old name: it is put back.
    """
    parent, name = out.parent, out.name
    olds = sorted(parent.glob(f".{name}.{_OLD}-*"))
    if not out.exists() and not out.is_symlink() and olds:
        os.rename(olds.pop(), out)
    for leftover in (*parent.glob(f".{name}.{_STAGE}-*"), *olds):
        shutil.rmtree(leftover, ignore_errors=True)


def _carry_over(old: Path, stage: Path, skip: set[Path]) -> None:
    """Hard-link (or copy) every regular file of ``old`` that the new set does not replace."""
    for root, dirs, files in os.walk(old):
        rel_root = Path(root).relative_to(old)
        dirs[:] = [d for d in dirs if not (Path(root) / d).is_symlink()]
        for name in files:
            source = Path(root) / name
            rel = rel_root / name
            if rel in skip or source.is_symlink() or not source.is_file():
                continue  # links are not carried: a link could lead the new set elsewhere
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)


def publish_tree(
    out: str | os.PathLike[str], writers: Mapping[Path, Callable[[Path], None]]
) -> list[Path]:
    """Write a whole set of files into directory ``out`` so that it switches in one step.

    Every file is written into a new hidden directory beside ``out`` (``.<out>.ccamap-new-…``),
    together with the files of the previous set that are not replaced (hard links), then synced;
    only then does the new directory take the place of ``out``, in one atomic exchange of the two
    directory entries. A reader, or a build killed at any moment, sees exactly the old set or
    exactly the new one. The next build removes whatever a killed build left beside ``out``.

    Parameters
    ----------
    out
        The directory to publish (created if missing; a symlink to a directory is followed).
    writers
        For each path relative to ``out``, a function that writes the file's complete content
        to the path it is given.

    Returns
    -------
    list of Path
        The files written, as paths under ``out``.
    """
    out = Path(out)
    if out.is_symlink():
        out = out.resolve()
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    rels = [Path(rel) for rel in writers]
    for rel in rels:
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            msg = f"expected a path inside {out}, found {str(rel)!r}"
            raise ValueError(msg)
    with _locked(out.parent):
        _clean_leftovers(out)
        stage = out.parent / f".{out.name}.{_STAGE}-{secrets.token_hex(6)}"
        stage.mkdir()
        try:
            for rel, write in zip(rels, writers.values(), strict=True):
                target = stage / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                write(target)
                _fsync(target)
            if out.is_dir():
                _carry_over(out, stage, set(rels))
                shutil.copymode(out, stage)
            for directory in {(stage / rel).parent for rel in rels} | {stage}:
                _fsync_dir(directory)
            if not out.exists():
                os.rename(stage, out)
            elif _exchange(stage, out):
                shutil.rmtree(stage, ignore_errors=True)  # ``stage`` now holds the old set
            else:
                old = out.parent / f".{out.name}.{_OLD}-{secrets.token_hex(6)}"
                os.rename(out, old)
                os.rename(stage, out)
                shutil.rmtree(old, ignore_errors=True)
            _fsync_dir(out.parent)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
    return [out / rel for rel in rels]
