"""Output directories that appear whole or not at all."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hwgen.errors import HwgenError


@contextmanager
def atomic_directory(target: str | Path, *, force: bool) -> Iterator[Path]:
    """Yield a fresh staging directory beside `target`; on success it replaces `target`, on any
    failure (an error, Ctrl-C) it is removed and `target` is left as it was."""
    dest = Path(target)
    if dest.exists() and not dest.is_dir():
        raise HwgenError(f"'{dest}' exists and is not a directory")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise HwgenError(f"'{dest}' exists and is not empty; pass --force to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.partial-"))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if dest.exists():
        shutil.rmtree(dest)
    staging.rename(dest)
