/* The NPU driver: loading its memories, running a command, reading results, over the HAL. */
#ifndef HWGEN_NPU_H
#define HWGEN_NPU_H

#include <stddef.h>
#include <stdint.h>

#include "npu_config.h"

typedef struct {
    uint32_t descriptor[NPU_DESCRIPTOR_FIELDS]; /* in the order of the DESCRIPTOR registers */
    int32_t in_h, in_w, in_c, out_h, out_w, out_c; /* the tensors in L2 (NHWC, unpadded) */
    int32_t cin_blocks, cout_blocks;
    int8_t pad_value; /* fills the channels that pad C to blocks of M */
    int32_t flip_sign; /* uint8 activations enter the array as x - 128 */
} npu_layer_t;

typedef struct {
    uint32_t busy_cycles, stall_cycles, mac_cycles;
} npu_counters_t;

/* 0 when the NPU answers with the configuration this C was generated for. */
int npu_check(void);
/* Stream `count` words of `word_bytes` (padded to whole beats) into a memory. */
void npu_load(uint32_t target, uint32_t addr, const uint8_t *words, size_t count, size_t word_bytes);
/* Run one layer: activations staged through L1 into the NPU, results back into L2. Returns the
 * NPU's error code (0 for none). */
int npu_run_layer(const npu_layer_t *layer, const int8_t *in_l2, int8_t *out_l2, uint8_t *l1,
                  size_t l1_bytes, npu_counters_t *counters);

#endif
