"""Progress of long work: a stage's name shown while it runs (a rich status line in the
command), or nothing (in tests and libraries)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

Status = Callable[[str], AbstractContextManager[Any]]


def quiet(_: str) -> AbstractContextManager[Any]:
    return nullcontext()
