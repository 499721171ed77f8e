#include "tiling.h"

#include "hal.h"
#include "kernels.h"

#define OUTPUT_CHANNEL 2

static size_t row_bytes(const tensor_shape_t *t) {
    return (size_t)t->w * (size_t)t->c * dtype_size(t->dtype);
}

static int32_t max_input_rows(const row_tiling_t *t) {
    return (t->rows_per_tile - 1) * t->stride_h + t->dilation_h * (t->kernel_h - 1) + 1;
}

size_t row_job_l1_bytes(const row_job_t *job) {
    size_t total = (size_t)job->tiling.rows_per_tile * row_bytes(&job->out);
    for (int32_t i = 0; i < job->n_inputs; i++) {
        total += 2 * (size_t)max_input_rows(&job->tiling) * row_bytes(&job->in[i]);
    }
    return total;
}

/* Input rows [first, first + count) that output rows [row0, row0 + rows) read. */
static void input_rows(const row_job_t *job, int32_t row0, int32_t rows, int32_t *first,
                       int32_t *count) {
    const row_tiling_t *t = &job->tiling;
    int32_t lo = row0 * t->stride_h - t->pad_top;
    int32_t hi = (row0 + rows - 1) * t->stride_h - t->pad_top + t->dilation_h * (t->kernel_h - 1) + 1;
    lo = lo < 0 ? 0 : lo;
    hi = hi > job->in[0].h ? job->in[0].h : hi;
    *first = lo;
    *count = hi > lo ? hi - lo : 0;
}

static void fetch(const row_job_t *job, int32_t tile, uint8_t *const *buffers,
                  const uint8_t *const *in_l2) {
    int32_t row0 = tile * job->tiling.rows_per_tile;
    int32_t rows = job->out.h - row0 < job->tiling.rows_per_tile ? job->out.h - row0
                                                                 : job->tiling.rows_per_tile;
    int32_t first, count;
    input_rows(job, row0, rows, &first, &count);
    for (int32_t i = 0; i < job->n_inputs; i++) {
        size_t bytes = row_bytes(&job->in[i]);
        hal_dma_start(tile & 1, buffers[i], in_l2[i] + (size_t)first * bytes, (size_t)count * bytes);
    }
}

void run_row_tiled(const row_job_t *job, const void *layer, row_kernel_fn kernel,
                   const uint8_t *const *in_l2, uint8_t *out_l2, uint8_t *l1) {
    int32_t per_tile = job->tiling.rows_per_tile;
    int32_t tiles = (job->out.h + per_tile - 1) / per_tile;
    size_t in_tile[2];
    uint8_t *buffers[2][2];
    uint8_t *cursor = l1;
    for (int32_t i = 0; i < job->n_inputs; i++) {
        in_tile[i] = (size_t)max_input_rows(&job->tiling) * row_bytes(&job->in[i]);
        buffers[0][i] = cursor;
        buffers[1][i] = cursor + in_tile[i];
        cursor += 2 * in_tile[i];
    }
    uint8_t *out_buffer = cursor;
    size_t out_row = row_bytes(&job->out);
    fetch(job, 0, buffers[0], in_l2);
    for (int32_t tile = 0; tile < tiles; tile++) {
        hal_dma_wait(tile & 1);
        if (tile + 1 < tiles) {
            fetch(job, tile + 1, buffers[(tile + 1) & 1], in_l2);
        }
        int32_t row0 = tile * per_tile;
        int32_t rows = job->out.h - row0 < per_tile ? job->out.h - row0 : per_tile;
        int32_t first, count;
        input_rows(job, row0, rows, &first, &count);
        const uint8_t *in[2] = {buffers[tile & 1][0], buffers[tile & 1][1]};
        kernel(layer, in, first, count, out_buffer, row0, rows);
        hal_dma_start(OUTPUT_CHANNEL, out_l2 + (size_t)row0 * out_row, out_buffer, (size_t)rows * out_row);
        hal_dma_wait(OUTPUT_CHANNEL);
    }
}

void run_global_pool_tiled(const global_pool_layer_t *layer, int32_t rows_per_tile,
                           const uint8_t *in_l2, uint8_t *out_l2, uint8_t *l1) {
    size_t row = row_bytes(&layer->in);
    int32_t *sums = (int32_t *)(void *)l1;
    uint8_t *buffers[2];
    buffers[0] = l1 + (size_t)layer->in.c * sizeof(int32_t);
    buffers[1] = buffers[0] + (size_t)rows_per_tile * row;
    for (int32_t ch = 0; ch < layer->in.c; ch++) {
        sums[ch] = 0;
    }
    int32_t tiles = (layer->in.h + rows_per_tile - 1) / rows_per_tile;
    int32_t first_rows = layer->in.h < rows_per_tile ? layer->in.h : rows_per_tile;
    hal_dma_start(0, buffers[0], in_l2, (size_t)first_rows * row);
    for (int32_t tile = 0; tile < tiles; tile++) {
        hal_dma_wait(tile & 1);
        int32_t row0 = tile * rows_per_tile;
        int32_t rows = layer->in.h - row0 < rows_per_tile ? layer->in.h - row0 : rows_per_tile;
        if (tile + 1 < tiles) {
            int32_t next0 = row0 + rows;
            int32_t next = layer->in.h - next0 < rows_per_tile ? layer->in.h - next0 : rows_per_tile;
            hal_dma_start((tile + 1) & 1, buffers[(tile + 1) & 1], in_l2 + (size_t)next0 * row, (size_t)next * row);
        }
        kernel_global_avgpool_accumulate(layer, buffers[tile & 1], rows, sums);
    }
    kernel_global_avgpool_finish(layer, sums, out_l2);
}
