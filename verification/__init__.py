"""cocotb testbenches of the NPU blocks and their pytest runners."""
