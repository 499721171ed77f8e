"""The per-user cache: simulator builds and built host libraries, keyed by what determines
them, never inside the package or a checkout."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

VARIABLE = "HWGEN_CACHE_DIR"


def cache_root() -> Path:
    """$HWGEN_CACHE_DIR, else $XDG_CACHE_HOME/hwgen, else ~/.cache/hwgen."""
    explicit = os.environ.get(VARIABLE)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hwgen"


def cache_dir(kind: str) -> Path:
    path = cache_root() / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def content_key(parts: Iterable[bytes | str], length: int = 16) -> str:
    """A hash of everything that determines a cached item."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:length]


def files_key(paths: Iterable[Path], *extra: str) -> str:
    """A hash of files' names and contents (in the order given) and of `extra` strings."""
    parts: list[bytes | str] = list(extra)
    for path in paths:
        parts += [path.name, path.read_bytes()]
    return content_key(parts)
