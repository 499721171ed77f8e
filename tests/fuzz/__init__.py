"""A fuzzer of the hwgen command: valid example models with one thing damaged, damaged inputs
and unusable command lines, each judged against onnxruntime (`python -m tests.fuzz --help`)."""
