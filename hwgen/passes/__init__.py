"""Compiler passes: small named steps over a Compilation, each testable alone."""
