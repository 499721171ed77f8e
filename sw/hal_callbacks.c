/* A HAL whose NPU side forwards to callbacks installed at run time: the functional model and
 * the RTL co-simulation install theirs (from Python). DMA is a memory copy. */
#include <string.h>

#include "hal.h"
#include "hal_callbacks.h"

static hal_callbacks_t callbacks;

void hal_install(const hal_callbacks_t *installed) { callbacks = *installed; }

uint32_t hal_npu_read32(uint32_t offset) { return callbacks.read32(offset); }

void hal_npu_write32(uint32_t offset, uint32_t value) { callbacks.write32(offset, value); }

void hal_npu_stream_write(const void *data, size_t bytes) { callbacks.stream_write(data, bytes); }

void hal_npu_stream_read(void *data, size_t bytes) { callbacks.stream_read(data, bytes); }

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
