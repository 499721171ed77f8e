"""Output files and directories that appear whole or not at all, with the user's umask."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hwgen.errors import HwgenError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def give_user_mode(path: Path, directory: bool) -> None:
    """mkdtemp and mkstemp create private entries (0700, 0600); the finished output gets the
    mode any other file the user creates would."""
    path.chmod((0o777 if directory else 0o666) & ~_umask())


def unusable(path: Path, exc: OSError) -> HwgenError:
    """A file-system refusal as one line naming the path."""
    return HwgenError(f"cannot write '{path}': {exc.strerror or exc}")


@contextmanager
def atomic_directory(target: str | Path, *, force: bool) -> Iterator[Path]:
    """Yield a fresh staging directory beside `target`; on success it replaces `target`, on any
    failure (an error, Ctrl-C) it is removed and `target` is left as it was."""
    dest = Path(target)
    if dest.exists() and not dest.is_dir():
        raise HwgenError(f"'{dest}' exists and is not a directory")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise HwgenError(f"'{dest}' exists and is not empty; pass --force to replace it")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.partial-"))
    except OSError as exc:
        raise unusable(dest, exc) from None
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        give_user_mode(staging, directory=True)
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise unusable(dest, exc) from None
