/* A HAL whose calls forward to callbacks installed at run time (hal_callbacks.h). L2 <-> L1
 * DMA is a memory copy. */
#include <string.h>

#include "hal.h"
#include "hal_callbacks.h"

static hal_callbacks_t callbacks;

void hal_install(const hal_callbacks_t *installed) { callbacks = *installed; }

uint32_t hal_npu_read32(uint32_t offset) { return callbacks.read32(offset); }

void hal_npu_write32(uint32_t offset, uint32_t value) { callbacks.write32(offset, value); }

void hal_npu_wait(void) { callbacks.wait(); }

void hal_sysmem_attach(void *base, size_t bytes) { callbacks.sysmem_attach(base, bytes); }

void hal_sysmem_flush(size_t offset, size_t bytes) { callbacks.sysmem_flush(offset, bytes); }

void hal_sysmem_invalidate(size_t offset, size_t bytes) {
    callbacks.sysmem_invalidate(offset, bytes);
}

void hal_dma_start(int channel, void *dst, const void *src, size_t bytes) {
    (void)channel;
    memcpy(dst, src, bytes);
}

void hal_dma_wait(int channel) { (void)channel; }

void hal_trace_layer(int layer, const void *data, size_t bytes) {
    if (callbacks.trace_layer) {
        callbacks.trace_layer(layer, data, bytes);
    }
}
