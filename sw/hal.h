/* The only seam between the generated host C and hardware.
 *
 * NPU: 32-bit register access over AXI4-Lite, and its AXI4-Stream data port.
 * DMA: L2 <-> L1 copies with start / wait, so that tiles can be double-buffered.
 * Each backend (functional model, RTL co-simulation, board) provides these. */
#ifndef HWGEN_HAL_H
#define HWGEN_HAL_H

#include <stddef.h>
#include <stdint.h>

uint32_t hal_npu_read32(uint32_t offset);
void hal_npu_write32(uint32_t offset, uint32_t value);
/* Send `bytes` (a whole number of stream beats) to the NPU's input stream. */
void hal_npu_stream_write(const void *data, size_t bytes);
/* Receive `bytes` from the NPU's output stream. */
void hal_npu_stream_read(void *data, size_t bytes);

/* DMA between L2 and L1. `channel` 0 or 1: a wait returns once that channel's copy is done. */
void hal_dma_start(int channel, void *dst, const void *src, size_t bytes);
void hal_dma_wait(int channel);

/* Called after every layer with its output in L2, for per-layer checking; may be a no-op. */
void hal_trace_layer(int layer, const void *data, size_t bytes);

#endif
