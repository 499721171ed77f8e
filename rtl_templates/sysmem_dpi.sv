// System memory for co-simulation: the word port of hwgen.npu.axi_memory.AxiMemory answered
// from the host's own memory through DPI (sysmem_dpi.cpp), which the testbench attaches. Only
// for simulation; a board has block RAM in its place.
`default_nettype none

module hwgen_sysmem_dpi #(
    parameter int ADDR_WIDTH = 30,  // word address bits
    parameter int DATA_WIDTH = 32,
    parameter int LATENCY = 3  // hwgen.npu.axi_memory.PORT_LATENCY, 2 at least
) (
    input  wire                    clk,
    input  wire                    rd_en,
    input  wire [ADDR_WIDTH-1:0]   rd_addr,
    output wire [DATA_WIDTH-1:0]   rd_data,  // LATENCY cycles after rd_en, as a board's block RAM
    input  wire                    wr_en,
    input  wire [ADDR_WIDTH-1:0]   wr_addr,
    input  wire [DATA_WIDTH-1:0]   wr_data,
    input  wire [DATA_WIDTH/8-1:0] wr_strb
);

    import "DPI-C" function longint unsigned hwgen_sysmem_read(
        input longint unsigned byte_addr, input int unsigned bytes);
    import "DPI-C" function void hwgen_sysmem_write(
        input longint unsigned byte_addr, input int unsigned bytes,
        input longint unsigned data, input int unsigned strobes);

    localparam int BYTES = DATA_WIDTH / 8;

    // The word read, then registered as often again as a board's block RAM registers it
    // (hwgen.npu.axi_memory.PORT_LATENCY).
    reg [DATA_WIDTH-1:0] word;
    reg [DATA_WIDTH-1:0] staged [LATENCY-1];
    assign rd_data = staged[LATENCY-2];
    always @(posedge clk) begin
        if (rd_en)
            word <= DATA_WIDTH'(hwgen_sysmem_read(64'(rd_addr) * BYTES, BYTES));
        staged[0] <= word;
        for (int k = 1; k < LATENCY - 1; k++)
            staged[k] <= staged[k - 1];
        if (wr_en)
            hwgen_sysmem_write(64'(wr_addr) * BYTES, BYTES, 64'(wr_data), 32'(wr_strb));
    end

endmodule

`default_nettype wire
