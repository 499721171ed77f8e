"""Example networks, built from scratch with onnx.helper and quantized with onnxruntime."""
