"""torchvision architectures as exported and pre-processed for quantization, without their weights
(examples/torchvision_export.py --skeleton; hwgen.examples.skeletons fills them)."""
