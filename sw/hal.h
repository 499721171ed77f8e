/* The only seam between the generated host C and hardware.
 *
 * NPU: 32-bit register access over AXI4-Lite, and a wait for its interrupt.
 * System memory: the memory the NPU's DMA sees from bus address 0. The generated C keeps its
 * NPU image (weights, parameters, programs) and its L2 there, attaches it once, and keeps it
 * coherent as any non-coherent DMA master needs: flush what the CPU wrote before the NPU reads
 * it, invalidate what the NPU wrote before the CPU reads it.
 * DMA: L2 <-> L1 copies with start / wait, so that host layers can double-buffer their tiles.
 * Each backend (functional model, RTL co-simulation, board) provides these. */
#ifndef HWGEN_HAL_H
#define HWGEN_HAL_H

#include <stddef.h>
#include <stdint.h>

uint32_t hal_npu_read32(uint32_t offset);
void hal_npu_write32(uint32_t offset, uint32_t value);
/* Return once the NPU has raised its interrupt (it stays raised until DONE is cleared). */
void hal_npu_wait(void);

/* `bytes` of system memory from `base` are what the NPU sees from bus address 0. */
void hal_sysmem_attach(void *base, size_t bytes);
/* The CPU wrote [offset, offset + bytes): make it visible to the NPU. */
void hal_sysmem_flush(size_t offset, size_t bytes);
/* The NPU wrote [offset, offset + bytes): make the CPU see it. */
void hal_sysmem_invalidate(size_t offset, size_t bytes);

/* DMA between L2 and L1. `channel` 0 or 1: a wait returns once that channel's copy is done. */
void hal_dma_start(int channel, void *dst, const void *src, size_t bytes);
void hal_dma_wait(int channel);

/* Called after every layer with its output, for per-layer checking; may be a no-op. */
void hal_trace_layer(int layer, const void *data, size_t bytes);

#endif
