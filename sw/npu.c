#include "npu.h"

#include <string.h>

#include "hal.h"

int npu_check(void) {
    if (hal_npu_read32(NPU_REG_ID) != NPU_MAGIC) {
        return -1;
    }
    return hal_npu_read32(NPU_REG_HW_CONFIG) == NPU_HW_CONFIG ? 0 : -2;
}

void npu_load(uint32_t target, uint32_t addr, const uint8_t *words, size_t count, size_t word_bytes) {
    hal_npu_write32(NPU_REG_DMA_TARGET, target);
    hal_npu_write32(NPU_REG_DMA_ADDR, addr);
    hal_npu_stream_write(words, count * word_bytes);
}

/* Activation words: per pixel, C channels then pad_value up to cin_blocks * M, each M-byte
 * word padded with zeros to whole beats. Staged through L1 a chunk of pixels at a time. */
static void send_activations(const npu_layer_t *layer, const int8_t *in_l2, uint8_t *l1, size_t l1_bytes) {
    size_t pixel_bytes = (size_t)layer->cin_blocks * NPU_ACT_WORD_BYTES;
    size_t pixels = (size_t)layer->in_h * (size_t)layer->in_w;
    size_t chunk = l1_bytes / pixel_bytes;
    hal_npu_write32(NPU_REG_DMA_TARGET, NPU_DMA_ACT_BANK0);
    hal_npu_write32(NPU_REG_DMA_ADDR, 0);
    for (size_t p0 = 0; p0 < pixels; p0 += chunk) {
        size_t n = pixels - p0 < chunk ? pixels - p0 : chunk;
        memset(l1, 0, n * pixel_bytes);
        for (size_t p = 0; p < n; p++) {
            const int8_t *src = in_l2 + (p0 + p) * (size_t)layer->in_c;
            uint8_t *dst = l1 + p * pixel_bytes;
            for (int32_t ch = 0; ch < layer->cin_blocks * NPU_ARRAY; ch++) {
                int8_t v = layer->pad_value;
                if (ch < layer->in_c) {
                    v = layer->flip_sign ? (int8_t)((uint8_t)src[ch] ^ 0x80u) : src[ch];
                }
                dst[(size_t)(ch / NPU_ARRAY) * NPU_ACT_WORD_BYTES + (size_t)(ch % NPU_ARRAY)] = (uint8_t)v;
            }
        }
        hal_npu_stream_write(l1, n * pixel_bytes);
    }
}

static void receive_outputs(const npu_layer_t *layer, int8_t *out_l2, uint8_t *l1, size_t l1_bytes) {
    size_t pixel_bytes = (size_t)layer->cout_blocks * NPU_ACT_WORD_BYTES;
    size_t pixels = (size_t)layer->out_h * (size_t)layer->out_w;
    size_t chunk = l1_bytes / pixel_bytes;
    hal_npu_write32(NPU_REG_DMA_ADDR, 0);
    hal_npu_write32(NPU_REG_DMA_COUNT, (uint32_t)(pixels * (size_t)layer->cout_blocks));
    hal_npu_write32(NPU_REG_DMA_CTRL, NPU_DMA_READ);
    for (size_t p0 = 0; p0 < pixels; p0 += chunk) {
        size_t n = pixels - p0 < chunk ? pixels - p0 : chunk;
        hal_npu_stream_read(l1, n * pixel_bytes);
        for (size_t p = 0; p < n; p++) {
            int8_t *dst = out_l2 + (p0 + p) * (size_t)layer->out_c;
            const uint8_t *src = l1 + p * pixel_bytes;
            for (int32_t ch = 0; ch < layer->out_c; ch++) {
                dst[ch] = (int8_t)src[(size_t)(ch / NPU_ARRAY) * NPU_ACT_WORD_BYTES + (size_t)(ch % NPU_ARRAY)];
            }
        }
    }
}

int npu_run_layer(const npu_layer_t *layer, const int8_t *in_l2, int8_t *out_l2, uint8_t *l1,
                  size_t l1_bytes, npu_counters_t *counters) {
    send_activations(layer, in_l2, l1, l1_bytes);
    for (uint32_t k = 0; k < NPU_DESCRIPTOR_FIELDS; k++) {
        hal_npu_write32(NPU_REG_DESCRIPTOR + 4 * k, layer->descriptor[k]);
    }
    hal_npu_write32(NPU_REG_CTRL, NPU_CTRL_START);
    uint32_t status;
    do {
        status = hal_npu_read32(NPU_REG_STATUS);
    } while (!(status & NPU_STATUS_DONE));
    hal_npu_write32(NPU_REG_STATUS, NPU_STATUS_DONE);
    int error = (int)((status >> NPU_STATUS_ERROR_SHIFT) & 0xF);
    if (error) {
        return error;
    }
    if (counters) {
        counters->busy_cycles += hal_npu_read32(NPU_REG_BUSY_CYCLES);
        counters->stall_cycles += hal_npu_read32(NPU_REG_STALL_CYCLES);
        counters->mac_cycles += hal_npu_read32(NPU_REG_MAC_CYCLES);
    }
    receive_outputs(layer, out_l2, l1, l1_bytes);
    return 0;
}
