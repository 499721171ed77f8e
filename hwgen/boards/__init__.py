"""FPGA boards: the UART bridge, the board tops, the build flow and the host side of the bridge."""
