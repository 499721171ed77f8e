"""Jinja2 environments for every generated text: a missing value is an error, never a blank."""

from __future__ import annotations

import enum
from pathlib import Path

import jinja2


class Flavour(enum.Enum):
    # Generated C: block tags on lines of their own leave no blank lines behind.
    C = "c"
    # The SystemVerilog wrappers put their loops inside lines, and keep every newline.
    VERILOG = "verilog"
    HTML = "html"  # values escaped


def environment(directory: Path, flavour: Flavour) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=flavour is not Flavour.HTML,
        trim_blocks=flavour is Flavour.C,
        lstrip_blocks=flavour is Flavour.C,
        autoescape=flavour is Flavour.HTML,
    )
