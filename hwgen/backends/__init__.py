"""Executors of a build, one interface (hwgen.backends.base.Backend): golden, c, cosim,
board."""

from __future__ import annotations

from typing import Any

from hwgen.backends.base import Backend
from hwgen.errors import HwgenError

NAMES = ("golden", "c", "cosim", "board")


def make_backend(name: str, **settings: Any) -> Backend:
    """The backend called `name`; `settings` go to its constructor (board: port, baud)."""
    if name == "golden":
        from hwgen.backends.golden import GoldenBackend

        return GoldenBackend()
    if name == "c":
        from hwgen.backends.c import CBackend

        return CBackend(**settings)
    if name == "cosim":
        from hwgen.backends.cosim import CosimBackend

        return CosimBackend(**settings)
    if name == "board":
        from hwgen.backends.board import BoardBackend

        return BoardBackend(**settings)
    raise HwgenError(f"no backend '{name}': the backends are {', '.join(NAMES)}")
