"""The package as pyproject.toml lays it out: every folder of Python code inside hwgen is listed
(a package left out would be missing from the wheel only), and every folder mapped in exists."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setuptools() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return dict(config["tool"]["setuptools"])


def test_every_package_folder_is_listed() -> None:
    config = _setuptools()
    listed = set(config["packages"])  # type: ignore[call-overload]
    mapped = dict(config["package-dir"])  # type: ignore[call-overload]
    found = set()
    for init in (ROOT / "hwgen").rglob("__init__.py"):
        parts = init.parent.relative_to(ROOT).parts
        found.add(".".join(parts))
    for package, folder in mapped.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            inner = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *inner)))
    assert found == listed


def test_mapped_folders_exist() -> None:
    for package, folder in dict(_setuptools()["package-dir"]).items():  # type: ignore[call-overload]
        assert (ROOT / folder / "__init__.py").is_file(), (package, folder)


def test_runtime_files_are_package_data() -> None:
    from hwgen import resources

    assert (resources.c_runtime() / "hal.h").is_file()
    assert (resources.c_templates() / "network.c.j2").is_file()
    assert (resources.rtl_templates() / "npu_top.sv.j2").is_file()
    assert (resources.report_templates() / "report.html.j2").is_file()
    assert sorted(p.name for p in resources.board_catalog().glob("*/board.toml"))
