"""Files hwgen reads at run time, inside its own package: the C runtime and its templates, the
RTL templates, the board catalogue, the report template. In a checkout they are the top-level
folders the build maps into the package (pyproject.toml), found through the same names."""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def _package_dir(package: str) -> Path:
    # Every one of these packages is a plain folder on disk (a wheel unpacked into
    # site-packages, or a checkout through the editable finder), so the traversable is a Path.
    return Path(str(importlib.resources.files(package)))


def c_runtime() -> Path:
    """sw/: the hand-written host runtime (hal.h, the NPU driver, the kernels)."""
    return _package_dir("hwgen.sw")


def c_templates() -> Path:
    return c_runtime() / "templates"


def rtl_templates() -> Path:
    return _package_dir("hwgen.rtl_templates")


def board_catalog() -> Path:
    """boards/: one folder per board, each with its board.toml."""
    return _package_dir("hwgen.boards.catalog")


def report_templates() -> Path:
    return _package_dir("hwgen") / "templates"
