"""Compiler passes over the IR graph, each a named step that returns a new graph (fusion,
placement) or a plan (the NPU's, the memory's), each testable alone."""
