"""hwgen: quantized ONNX network -> network-specific NPU + host C, bit-exact at every level."""

__version__ = "0.1.0"
