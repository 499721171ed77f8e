"""User-facing errors: one clear message (what, where, why), never a traceback."""

from __future__ import annotations


class HwgenError(Exception):
    """An error caused by the user's input, reported as one line by the CLI."""

    def __init__(self, reason: str, *, node: str | None = None, op: str | None = None) -> None:
        self.reason = reason
        self.node = node
        self.op = op
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = ""
        if self.node is not None:
            where = f"node '{self.node}'"
            if self.op is not None:
                where += f" ({self.op})"
            where += ": "
        # Names come from the user's file: a newline or escape code in one must not break
        # the one-line message or reach the terminal.
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in where + self.reason)


class UnsupportedError(HwgenError):
    """A node that hwgen cannot turn into an integer op."""


class DownstreamError(UnsupportedError):
    """A node refused only because an input comes from a node that was refused before it."""


class ModelError(HwgenError):
    """A model that is malformed, or outside what hwgen accepts (float-only, dynamic shapes)."""
