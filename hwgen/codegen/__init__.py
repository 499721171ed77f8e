"""What a build is written as: the NPU's SystemVerilog (Amaranth through yosys, and thin
wrappers), the network's host C and the description of its ABI."""
