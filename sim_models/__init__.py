"""Bit-exact numpy semantics of every integer op hwgen supports.

These are the deliberately naive, obviously-right models that the host C and the RTL are checked
against. Each rule matches onnxruntime on x86 (see the tests that measure it).
"""
