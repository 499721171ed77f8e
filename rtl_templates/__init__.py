"""Jinja2 templates of the thin SystemVerilog wrappers around the generated NPU.

Package data only: hwgen.resources finds these files."""
