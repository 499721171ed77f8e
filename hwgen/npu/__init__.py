"""Amaranth components of the NPU."""
