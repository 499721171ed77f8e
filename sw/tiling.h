/* Row tiling with double-buffered DMA: a layer's output rows are computed a tile at a time in
 * L1, the next tile's input rows arriving (DMA channel of the other buffer) while the current
 * tile is computed. */
#ifndef HWGEN_TILING_H
#define HWGEN_TILING_H

#include <stddef.h>
#include <stdint.h>

#include "layers.h"

typedef void (*row_kernel_fn)(const void *layer, const uint8_t *const *in, int32_t in_row0,
                              int32_t in_rows, uint8_t *out, int32_t out_row0, int32_t out_rows);

typedef struct {
    int32_t n_inputs;
    tensor_shape_t in[2];
    tensor_shape_t out;
    row_tiling_t tiling;
} row_job_t;

/* Bytes of L1 the job needs: two input buffers per input and one output buffer. */
size_t row_job_l1_bytes(const row_job_t *job);
void run_row_tiled(const row_job_t *job, const void *layer, row_kernel_fn kernel,
                   const uint8_t *const *in_l2, uint8_t *out_l2, uint8_t *l1);

/* Global average pooling: input rows in tiles, per-channel int32 sums in L1. */
void run_global_pool_tiled(const global_pool_layer_t *layer, int32_t rows_per_tile,
                           const uint8_t *in_l2, uint8_t *out_l2, uint8_t *l1);

#endif
