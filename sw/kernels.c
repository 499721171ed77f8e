#include "kernels.h"

#include <math.h>
#include <string.h>

size_t dtype_size(dtype_t dtype) {
    switch (dtype) {
    case DT_INT64:
        return 8;
    case DT_FLOAT32:
    case DT_INT32:
        return 4;
    default:
        return 1;
    }
}

static int32_t qmin(dtype_t dtype) { return dtype == DT_INT8 ? -128 : 0; }
static int32_t qmax(dtype_t dtype) { return dtype == DT_INT8 ? 127 : 255; }

static int32_t load(const void *base, dtype_t dtype, size_t index) {
    if (dtype == DT_INT32) {
        return ((const int32_t *)base)[index];
    }
    return dtype == DT_INT8 ? ((const int8_t *)base)[index] : ((const uint8_t *)base)[index];
}

static void store(void *base, dtype_t dtype, size_t index, int32_t value) {
    if (dtype == DT_INT32) {
        ((int32_t *)base)[index] = value;
    } else if (dtype == DT_INT8) {
        ((int8_t *)base)[index] = (int8_t)value;
    } else {
        ((uint8_t *)base)[index] = (uint8_t)value;
    }
}

/* Deeploy's RequantShift: clamp(floor((acc * mul + add) / 2^shift)); an arithmetic shift of
 * the exact 64-bit value is the floor. */
static int32_t requantize_shift(int32_t acc, int32_t mul, int32_t add, int32_t shift, int32_t lo,
                                int32_t hi) {
    int64_t v = (int64_t)acc * (int64_t)mul + (int64_t)add;
    int64_t q = v >= 0 ? v >> shift : -((-v + ((int64_t)1 << shift) - 1) >> shift);
    return q < lo ? lo : (q > hi ? hi : (int32_t)q);
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

static int32_t clampi(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* onnxruntime's requantization: f32(acc) * M in float32, clamp to [lo - zp, hi - zp], round
 * half to even (nearbyintf in the default rounding mode), add zp. */
static int32_t requantize(int32_t acc, float multiplier, int32_t zp, int32_t lo, int32_t hi) {
    float f = (float)acc * multiplier;
    f = clampf(f, (float)(lo - zp), (float)(hi - zp));
    return (int32_t)nearbyintf(f) + zp;
}

void kernel_quantize(const quant_layer_t *l, const void *in, void *out, int32_t rows) {
    const float *x = in;
    int32_t c = l->out.c;
    size_t count = (size_t)rows * (size_t)l->out.w * (size_t)c;
    int32_t lo = qmin(l->out.dtype), hi = qmax(l->out.dtype);
    for (size_t i = 0; i < count; i++) {
        size_t ch = l->per_channel ? i % (size_t)c : 0;
        int32_t zp = l->zero_point[ch];
        float v = x[i] / l->scale[ch]; /* a true division, as onnxruntime */
        /* NaN becomes the lowest value, as in onnxruntime's MLAS kernels */
        v = isnan(v) ? (float)(lo - zp) : clampf(v, (float)(lo - zp), (float)(hi - zp));
        store(out, l->out.dtype, i, (int32_t)nearbyintf(v) + zp);
    }
}

void kernel_dequantize(const quant_layer_t *l, const void *in, void *out, int32_t rows) {
    float *y = out;
    int32_t c = l->in.c;
    size_t count = (size_t)rows * (size_t)l->in.w * (size_t)c;
    for (size_t i = 0; i < count; i++) {
        size_t ch = l->per_channel ? i % (size_t)c : 0;
        y[i] = (float)(load(in, l->in.dtype, i) - l->zero_point[ch]) * l->scale[ch];
    }
}

void kernel_maxpool(const pool_layer_t *l, const void *in, int32_t in_row0, int32_t in_rows,
                    void *out, int32_t out_row0, int32_t out_rows) {
    int32_t w = l->in.w, c = l->in.c;
    for (int32_t r = 0; r < out_rows; r++) {
        int32_t oh = out_row0 + r;
        for (int32_t ow = 0; ow < l->out.w; ow++) {
            for (int32_t ch = 0; ch < c; ch++) {
                int32_t best = INT32_MIN;
                for (int32_t ky = 0; ky < l->kernel_h; ky++) {
                    int32_t ih = oh * l->stride_h - l->pad_top + ky * l->dilation_h;
                    if (ih < 0 || ih >= l->in.h || ih < in_row0 || ih >= in_row0 + in_rows) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < l->kernel_w; kx++) {
                        int32_t iw = ow * l->stride_w - l->pad_left + kx * l->dilation_w;
                        if (iw < 0 || iw >= w) {
                            continue;
                        }
                        size_t idx = ((size_t)(ih - in_row0) * (size_t)w + (size_t)iw) * (size_t)c + (size_t)ch;
                        int32_t v = load(in, l->in.dtype, idx);
                        best = v > best ? v : best;
                    }
                }
                store(out, l->out.dtype, ((size_t)r * (size_t)l->out.w + (size_t)ow) * (size_t)c + (size_t)ch, best);
            }
        }
    }
}

typedef struct {
    int32_t h0, h1, w0, w1; /* input rows [h0, h1) and columns [w0, w1) under the window */
    int32_t count;          /* what the sum is divided by */
} pool_window_t;

/* The whole kernel with count_include_pad (even where ceil_mode runs past the padding), the
 * input elements under the window otherwise: onnxruntime's rule, and the integer dialects'. */
static pool_window_t pool_window(const pool_layer_t *l, int32_t oh, int32_t ow) {
    pool_window_t win;
    int32_t h0 = oh * l->stride_h - l->pad_top, w0 = ow * l->stride_w - l->pad_left;
    win.h1 = h0 + l->kernel_h < l->in.h ? h0 + l->kernel_h : l->in.h;
    win.w1 = w0 + l->kernel_w < l->in.w ? w0 + l->kernel_w : l->in.w;
    win.h0 = h0 > 0 ? h0 : 0;
    win.w0 = w0 > 0 ? w0 : 0;
    win.count = l->count_include_pad ? l->kernel_h * l->kernel_w
                                     : (win.h1 - win.h0) * (win.w1 - win.w0);
    return win;
}

/* com.microsoft QLinearAveragePool: dequantize, sum the window in (h, w) order in float32,
 * divide by the count (the whole kernel with count_include_pad, the taps inside the image
 * otherwise), then nearbyintf(y / ys + yzp), saturated. */
void kernel_avgpool(const pool_layer_t *l, const void *in, int32_t in_row0, int32_t in_rows,
                    void *out, int32_t out_row0, int32_t out_rows) {
    int32_t w = l->in.w, c = l->in.c;
    int32_t lo = qmin(l->out.dtype), hi = qmax(l->out.dtype);
    (void)in_rows;
    for (int32_t r = 0; r < out_rows; r++) {
        for (int32_t ow = 0; ow < l->out.w; ow++) {
            pool_window_t win = pool_window(l, out_row0 + r, ow);
            for (int32_t ch = 0; ch < c; ch++) {
                float sum = 0.0f;
                for (int32_t ih = win.h0; ih < win.h1; ih++) {
                    for (int32_t iw = win.w0; iw < win.w1; iw++) {
                        size_t idx = ((size_t)(ih - in_row0) * (size_t)w + (size_t)iw) * (size_t)c + (size_t)ch;
                        sum += l->x_scale * (float)(load(in, l->in.dtype, idx) - l->x_zero_point);
                    }
                }
                float mean = sum / (float)win.count;
                float y = nearbyintf(mean / l->y_scale + (float)l->y_zero_point);
                int32_t q = (int32_t)clampf(y, (float)lo, (float)hi);
                store(out, l->out.dtype, ((size_t)r * (size_t)l->out.w + (size_t)ow) * (size_t)c + (size_t)ch, q);
            }
        }
    }
}

/* Integer average pooling (Deeploy, NEMO/DORY): the exact window sum over the count, rounded
 * down (floor) or as Deeploy's kernel does, (sum + count / 2) / count truncated; saturated. */
void kernel_int_avgpool(const pool_layer_t *l, const void *in, int32_t in_row0, int32_t in_rows,
                        void *out, int32_t out_row0, int32_t out_rows) {
    int32_t w = l->in.w, c = l->in.c;
    int32_t lo = qmin(l->out.dtype), hi = qmax(l->out.dtype);
    (void)in_rows;
    for (int32_t r = 0; r < out_rows; r++) {
        for (int32_t ow = 0; ow < l->out.w; ow++) {
            pool_window_t win = pool_window(l, out_row0 + r, ow);
            for (int32_t ch = 0; ch < c; ch++) {
                int32_t sum = 0;
                for (int32_t ih = win.h0; ih < win.h1; ih++) {
                    for (int32_t iw = win.w0; iw < win.w1; iw++) {
                        size_t idx = ((size_t)(ih - in_row0) * (size_t)w + (size_t)iw) * (size_t)c + (size_t)ch;
                        sum += load(in, l->in.dtype, idx);
                    }
                }
                int32_t mean;
                if (l->half_up) {
                    mean = (sum + win.count / 2) / win.count;
                } else {
                    mean = sum / win.count - (sum % win.count != 0 && sum < 0);
                }
                store(out, l->out.dtype, ((size_t)r * (size_t)l->out.w + (size_t)ow) * (size_t)c + (size_t)ch,
                      clampi(mean, lo, hi));
            }
        }
    }
}

void kernel_global_avgpool_accumulate(const global_pool_layer_t *l, const void *in, int32_t rows,
                                      int32_t *sums) {
    int32_t c = l->in.c;
    size_t pixels = (size_t)rows * (size_t)l->in.w;
    for (size_t p = 0; p < pixels; p++) {
        for (int32_t ch = 0; ch < c; ch++) {
            sums[ch] += load(in, l->in.dtype, p * (size_t)c + (size_t)ch) - l->x_zero_point;
        }
    }
}

/* MLAS's rule: the exact int32 sum times f32(xs / f32(ys * N)), then as requantize. */
void kernel_global_avgpool_finish(const global_pool_layer_t *l, const int32_t *sums, void *out) {
    float count = (float)(l->in.h * l->in.w);
    float scale = l->x_scale / (l->y_scale * count);
    for (int32_t ch = 0; ch < l->in.c; ch++) {
        store(out, l->out.dtype, (size_t)ch,
              requantize(sums[ch], scale, l->y_zero_point, qmin(l->out.dtype), qmax(l->out.dtype)));
    }
}

/* com.microsoft QLinearAdd with MLAS's single-rounding fused multiply-adds. */
/* com.microsoft QLinearAdd: Rac = f32(sa/sc), Rbc = f32(sb/sc), K = zc - fma(Rac, za, Rbc*zb),
 * y = rne(fma(a, Rac, fma(b, Rbc, K))), saturated. */
typedef struct {
    float rac, rbc, k, lo, hi;
} qlinear_add_t;

static qlinear_add_t qlinear_add(float a_scale, int32_t a_zp, float b_scale, int32_t b_zp,
                                 float y_scale, int32_t y_zp, dtype_t out) {
    qlinear_add_t q;
    q.rac = a_scale / y_scale;
    q.rbc = b_scale / y_scale;
    q.k = (float)y_zp - fmaf(q.rac, (float)a_zp, q.rbc * (float)b_zp);
    q.lo = (float)qmin(out);
    q.hi = (float)qmax(out);
    return q;
}

static int32_t qlinear_add_one(const qlinear_add_t *q, int32_t a, int32_t b) {
    float y = nearbyintf(fmaf((float)a, q->rac, fmaf((float)b, q->rbc, q->k)));
    return (int32_t)clampf(y, q->lo, q->hi);
}

void kernel_add(const add_layer_t *l, const void *a, const void *b, void *out, int32_t rows) {
    qlinear_add_t q = qlinear_add(l->a_scale, l->a_zero_point, l->b_scale, l->b_zero_point,
                                  l->y_scale, l->y_zero_point, l->out.dtype);
    size_t count = (size_t)rows * (size_t)l->out.w * (size_t)l->out.c;
    for (size_t i = 0; i < count; i++) {
        int32_t y = qlinear_add_one(&q, load(a, l->a.dtype, i), load(b, l->b.dtype, i));
        store(out, l->out.dtype, i, y);
    }
}

void kernel_clamp(const clamp_layer_t *l, const void *in, void *out, int32_t rows) {
    size_t count = (size_t)rows * (size_t)l->out.w * (size_t)l->out.c;
    for (size_t i = 0; i < count; i++) {
        store(out, l->out.dtype, i, clampi(load(in, l->in.dtype, i), l->lower, l->upper));
    }
}

void kernel_conv(const conv_layer_t *l, const void *in, int32_t in_row0, int32_t in_rows,
                 void *out, int32_t out_row0, int32_t out_rows) {
    int32_t w = l->in.w, c = l->in.c, o = l->out.c;
    int32_t cg = c / l->group, og = o / l->group;
    (void)in_rows;
    for (int32_t r = 0; r < out_rows; r++) {
        int32_t oh = out_row0 + r;
        for (int32_t ow = 0; ow < l->out.w; ow++) {
            for (int32_t oc = 0; oc < o; oc++) {
                int32_t g = oc / og;
                int32_t acc = l->bias ? l->bias[oc] : 0;
                for (int32_t ky = 0; ky < l->kernel_h; ky++) {
                    int32_t ih = oh * l->stride_h - l->pad_top + ky * l->dilation_h;
                    if (ih < 0 || ih >= l->in.h) {
                        continue; /* padding holds the zero point: no contribution */
                    }
                    for (int32_t kx = 0; kx < l->kernel_w; kx++) {
                        int32_t iw = ow * l->stride_w - l->pad_left + kx * l->dilation_w;
                        if (iw < 0 || iw >= w) {
                            continue;
                        }
                        size_t base = ((size_t)(ih - in_row0) * (size_t)w + (size_t)iw) * (size_t)c + (size_t)(g * cg);
                        const int8_t *wk = l->weights + (((size_t)oc * (size_t)l->kernel_h + (size_t)ky) * (size_t)l->kernel_w + (size_t)kx) * (size_t)cg;
                        for (int32_t i = 0; i < cg; i++) {
                            int32_t xv = load(in, l->in.dtype, base + (size_t)i) - l->x_zero_point;
                            int32_t wv = (int32_t)wk[i] - l->w_zero_point[oc];
                            /* int32 arithmetic wraps like onnxruntime's, through unsigned */
                            acc = (int32_t)((uint32_t)acc + (uint32_t)(xv * wv));
                        }
                    }
                }
                int32_t y = l->shift_mode
                                ? requantize_shift(acc, l->mul[oc], l->add[oc], l->shift, l->lower, l->upper)
                                : requantize(acc, l->multiplier[oc], l->y_zero_point, l->lower, l->upper);
                store(out, l->out.dtype, ((size_t)r * (size_t)l->out.w + (size_t)ow) * (size_t)o + (size_t)oc, y);
            }
        }
    }
}

/* Flatten of an NCHW tensor, stored NHWC: the output follows the NCHW order. */
void flatten_nhwc_to_nchw(const flatten_layer_t *l, const void *in, void *out) {
    size_t elem = dtype_size(l->in.dtype);
    size_t hw = (size_t)l->in.h * (size_t)l->in.w;
    const uint8_t *src = in;
    uint8_t *dst = out;
    for (size_t ch = 0; ch < (size_t)l->in.c; ch++) {
        for (size_t p = 0; p < hw; p++) {
            memcpy(dst + (ch * hw + p) * elem, src + (p * (size_t)l->in.c + ch) * elem, elem);
        }
    }
}

void rows_quantize(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                   uint8_t *out, int32_t out_row0, int32_t out_rows) {
    (void)in_row0, (void)in_rows, (void)out_row0;
    kernel_quantize(layer, in[0], out, out_rows);
}

void rows_dequantize(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                     uint8_t *out, int32_t out_row0, int32_t out_rows) {
    (void)in_row0, (void)in_rows, (void)out_row0;
    kernel_dequantize(layer, in[0], out, out_rows);
}

void rows_maxpool(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                  uint8_t *out, int32_t out_row0, int32_t out_rows) {
    kernel_maxpool(layer, in[0], in_row0, in_rows, out, out_row0, out_rows);
}

void rows_avgpool(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                  uint8_t *out, int32_t out_row0, int32_t out_rows) {
    kernel_avgpool(layer, in[0], in_row0, in_rows, out, out_row0, out_rows);
}

void rows_int_avgpool(const void *layer, const uint8_t *const *in, int32_t in_row0,
                      int32_t in_rows, uint8_t *out, int32_t out_row0, int32_t out_rows) {
    kernel_int_avgpool(layer, in[0], in_row0, in_rows, out, out_row0, out_rows);
}

void rows_add(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
              uint8_t *out, int32_t out_row0, int32_t out_rows) {
    (void)in_row0, (void)in_rows, (void)out_row0;
    kernel_add(layer, in[0], in[1], out, out_rows);
}

void rows_clamp(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                uint8_t *out, int32_t out_row0, int32_t out_rows) {
    (void)in_row0, (void)in_rows, (void)out_row0;
    kernel_clamp(layer, in[0], out, out_rows);
}

void rows_conv(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
               uint8_t *out, int32_t out_row0, int32_t out_rows) {
    kernel_conv(layer, in[0], in_row0, in_rows, out, out_row0, out_rows);
}

void concat_copy(const concat_layer_t *l, const uint8_t *const *in, uint8_t *out) {
    for (int32_t o = 0; o < l->outer; o++) {
        for (int32_t i = 0; i < l->n_inputs; i++) {
            size_t chunk = (size_t)l->chunk_bytes[i];
            memcpy(out, in[i] + (size_t)o * chunk, chunk);
            out += chunk;
        }
    }
}

void permute_copy(const permute_layer_t *l, const uint8_t *in, uint8_t *out) {
    size_t elem = (size_t)l->elem_bytes;
    for (int32_t a = 0; a < l->out_dims[0]; a++) {
        for (int32_t b = 0; b < l->out_dims[1]; b++) {
            for (int32_t c = 0; c < l->out_dims[2]; c++) {
                for (int32_t d = 0; d < l->out_dims[3]; d++) {
                    /* signed: a slice with a negative step walks backwards from its offset */
                    int64_t src = (int64_t)l->src_offset + (int64_t)a * l->src_strides[0] + (int64_t)b * l->src_strides[1]
                                  + (int64_t)c * l->src_strides[2] + (int64_t)d * l->src_strides[3];
                    memcpy(out, in + (size_t)src * elem, elem);
                    out += elem;
                }
            }
        }
    }
}

/* com.microsoft QLinearMul as MLAS's x86 kernel (lib/qlmul.cpp) computes it: the exact
 * product of the operands less their zero points, times the ratio, plus zc, each rounded to
 * float32 (no fused multiply-add: -ffp-contract=off); cvtps: round half to even, INT32_MIN
 * outside int32; then saturated. Broadcasting by strides. */
void qlinear_mul(const mul_layer_t *l, const void *a, const void *b, void *out) {
    size_t index = 0;
    int32_t lo = qmin(l->dtype), hi = qmax(l->dtype);
    for (int32_t i0 = 0; i0 < l->out_dims[0]; i0++) {
        for (int32_t i1 = 0; i1 < l->out_dims[1]; i1++) {
            for (int32_t i2 = 0; i2 < l->out_dims[2]; i2++) {
                for (int32_t i3 = 0; i3 < l->out_dims[3]; i3++) {
                    size_t ia = (size_t)i0 * (size_t)l->a_strides[0] + (size_t)i1 * (size_t)l->a_strides[1]
                                + (size_t)i2 * (size_t)l->a_strides[2] + (size_t)i3 * (size_t)l->a_strides[3];
                    size_t ib = (size_t)i0 * (size_t)l->b_strides[0] + (size_t)i1 * (size_t)l->b_strides[1]
                                + (size_t)i2 * (size_t)l->b_strides[2] + (size_t)i3 * (size_t)l->b_strides[3];
                    int32_t p = (load(a, l->dtype, ia) - l->a_zero_point) * (load(b, l->dtype, ib) - l->b_zero_point);
                    float v = (float)p * l->ratio;
                    v = v + (float)l->y_zero_point;
                    int32_t r = (v >= -2147483648.0f && v < 2147483648.0f) ? (int32_t)nearbyintf(v) : INT32_MIN;
                    store(out, l->dtype, index++, clampi(r, lo, hi));
                }
            }
        }
    }
}

/* com.microsoft QLinearSoftmax as onnxruntime's kernel computes it
 * (contrib_ops/cpu/quantization/qlinear_softmax.cc): each row shifted so that its largest
 * value reads entry 255 of the table, the entries summed in order in float32, rne(entry *
 * scale / sum) + zp, saturated to the type's largest value (never below zp). */
void qlinear_softmax(const softmax_layer_t *l, const void *in, void *out) {
    int32_t is_signed = l->dtype == DT_INT8;
    for (int32_t r = 0; r < l->rows; r++) {
        size_t base = (size_t)r * (size_t)l->length;
        int32_t top = load(in, l->dtype, base);
        for (int32_t j = 1; j < l->length; j++) {
            int32_t v = load(in, l->dtype, base + (size_t)j);
            top = v > top ? v : top;
        }
        float sum = 0.0f;
        for (int32_t j = 0; j < l->length; j++) {
            int32_t v = load(in, l->dtype, base + (size_t)j);
            sum += l->table[is_signed ? (uint8_t)(127 - top + v) : v + 255 - top];
        }
        for (int32_t j = 0; j < l->length; j++) {
            int32_t v = load(in, l->dtype, base + (size_t)j);
            float entry = l->table[is_signed ? (uint8_t)(127 - top + v) : v + 255 - top];
            float y = entry * l->scale / sum;
            /* x86's conversions where the value does not fit (a short row overflows): int32's
             * INT32_MIN for int8; for uint8, through int64, whose INT64_MIN has low word 0 */
            uint32_t whole;
            if (is_signed) {
                whole = (y >= -2147483648.0f && y < 2147483648.0f) ? (uint32_t)(int32_t)nearbyintf(y) : 0x80000000u;
            } else {
                whole = (y >= -9223372036854775808.0f && y < 9223372036854775808.0f) ? (uint32_t)(uint64_t)(int64_t)nearbyintf(y) : 0u;
            }
            uint32_t q = whole + (uint32_t)l->y_zero_point;
            if (is_signed) {
                int32_t s = (int32_t)q > 127 ? 127 : (int32_t)q;
                ((uint8_t *)out)[base + (size_t)j] = (uint8_t)s;
            } else {
                ((uint8_t *)out)[base + (size_t)j] = (uint8_t)(q > 255 ? 255 : q);
            }
        }
    }
}

/* A matrix product of two runtime integer tensors, batched, to int32 (wrapping through
 * unsigned, as the golden model's). */
void int_matmul(const int_matmul_layer_t *l, const void *a, const void *b, void *out) {
    size_t index = 0;
    for (int32_t i0 = 0; i0 < l->out_dims[0]; i0++) {
        for (int32_t i1 = 0; i1 < l->out_dims[1]; i1++) {
            for (int32_t i2 = 0; i2 < l->out_dims[2]; i2++) {
                for (int32_t i3 = 0; i3 < l->out_dims[3]; i3++) {
                    size_t ra = (size_t)i0 * (size_t)l->a_strides[0] + (size_t)i1 * (size_t)l->a_strides[1]
                                + (size_t)i2 * (size_t)l->a_strides[2] + (size_t)i3 * (size_t)l->a_strides[3];
                    size_t cb = (size_t)i0 * (size_t)l->b_strides[0] + (size_t)i1 * (size_t)l->b_strides[1]
                                + (size_t)i2 * (size_t)l->b_strides[2] + (size_t)i3 * (size_t)l->b_strides[3];
                    uint32_t sum = 0;
                    for (int32_t k = 0; k < l->k; k++) {
                        int32_t x = load(a, l->a_dtype, ra + (size_t)k * (size_t)l->a_step);
                        int32_t w = load(b, l->b_dtype, cb + (size_t)k * (size_t)l->b_step);
                        sum += (uint32_t)(x * w);
                    }
                    store(out, DT_INT32, index++, (int32_t)sum);
                }
            }
        }
    }
}

/* Deeploy's integer ReduceSum and ReduceMean (Generic templates ReduceSumTemplate.py and
 * ReduceMeanTemplate.py): the int32 sum; the mean as (s + n/2) >> log2(n) where the count n is a
 * power of two, else (s + sgn(s) * (n >> 1)) / n, truncated. */
void reduce_sum_mean(const reduce_layer_t *l, const void *in, void *out) {
    int32_t shift = -1;
    for (int32_t s = 1; s < 31; s++) {
        if (l->count == (1 << s)) {
            shift = s;
        }
    }
    size_t index = 0;
    for (int32_t a = 0; a < l->out_dims[0]; a++) {
        for (int32_t b = 0; b < l->out_dims[1]; b++) {
            for (int32_t c = 0; c < l->out_dims[2]; c++) {
                for (int32_t d = 0; d < l->out_dims[3]; d++) {
                    size_t base = (size_t)a * (size_t)l->src_strides[0] + (size_t)b * (size_t)l->src_strides[1]
                                  + (size_t)c * (size_t)l->src_strides[2] + (size_t)d * (size_t)l->src_strides[3];
                    int32_t sum = 0;
                    for (int32_t p = 0; p < l->red_dims[0]; p++) {
                        for (int32_t q = 0; q < l->red_dims[1]; q++) {
                            for (int32_t r = 0; r < l->red_dims[2]; r++) {
                                for (int32_t s = 0; s < l->red_dims[3]; s++) {
                                    size_t at = base + (size_t)p * (size_t)l->red_strides[0]
                                                + (size_t)q * (size_t)l->red_strides[1]
                                                + (size_t)r * (size_t)l->red_strides[2]
                                                + (size_t)s * (size_t)l->red_strides[3];
                                    /* int32 wraps like the golden model's, through unsigned */
                                    sum = (int32_t)((uint32_t)sum + (uint32_t)load(in, l->in_dtype, at));
                                }
                            }
                        }
                    }
                    int32_t y = sum;
                    if (l->mean && shift > 0) {
                        y = (int32_t)(((int64_t)sum + (1 << (shift - 1))) >> shift);
                    } else if (l->mean) {
                        int64_t sign = sum < 0 ? -1 : 1;
                        y = (int32_t)(((int64_t)sum + sign * (l->count >> 1)) / l->count);
                    }
                    store(out, l->out_dtype, index++, y);
                }
            }
        }
    }
}

/* A value of an ARITH chain in its current ONNX type. */
typedef struct {
    int is_float;
    float f;
    int64_t i;
} arith_value_t;

static arith_value_t arith_load(const void *base, dtype_t dtype, size_t index) {
    arith_value_t v = {0, 0.0f, 0};
    if (dtype == DT_FLOAT32) {
        v.is_float = 1;
        v.f = ((const float *)base)[index];
    } else if (dtype == DT_INT64) {
        v.i = ((const int64_t *)base)[index];
    } else {
        v.i = load(base, dtype, index);
    }
    return v;
}

/* The value in `container`: exact, since the compiler proved the values whole and in range
 * wherever a step changes type without a Cast. A Cast truncates a float, as C does. */
static arith_value_t arith_convert(arith_value_t v, dtype_t container) {
    if (container == DT_FLOAT32) {
        if (!v.is_float) {
            v.f = (float)v.i;
            v.is_float = 1;
        }
    } else {
        if (v.is_float) {
            v.i = (int64_t)v.f;
            v.is_float = 0;
        }
        if (container == DT_INT32) {
            v.i = (int32_t)v.i;
        }
    }
    return v;
}

/* onnxruntime's float Sigmoid on x86 with AVX2 (mlas/lib/x86_64/LogisticKernelFma3.S):
 * Eigen's rational polynomial, by fused multiply-adds. */
static float mlas_logistic(float x) {
    x = x < -18.0f ? -18.0f : x;
    x = x > 18.0f ? 18.0f : x;
    float x2 = x * x;
    float p = fmaf(x2, 4.37031012579801e-11f, 1.15627324459942e-07f);
    p = fmaf(x2, p, 6.08574864600143e-05f);
    p = fmaf(x2, p, 8.51377133304701e-03f);
    p = fmaf(x2, p, 2.48287947061529e-01f);
    float q = fmaf(x2, 6.10247389755681e-13f, 5.76102136993427e-09f);
    q = fmaf(x2, q, 6.29106785017040e-06f);
    q = fmaf(x2, q, 1.70198817374094e-03f);
    q = fmaf(x2, q, 1.16817656904453e-01f);
    q = fmaf(x2, q, 9.93151921023180e-01f);
    float r = (x * p) / q + 0.5f;
    return r < 0.0f ? 0.0f : r;
}

static arith_value_t arith_step(const arith_step_t *s, arith_value_t v, arith_value_t other,
                                size_t channel) {
    v = arith_convert(v, s->container);
    if (s->kind == ARITH_CAST) {
        return v;
    }
    int is_float = s->container == DT_FLOAT32;
    if (s->kind == ARITH_FLOOR || s->kind == ARITH_CEIL || s->kind == ARITH_ROUND) {
        v.f = s->kind == ARITH_FLOOR ? floorf(v.f) : s->kind == ARITH_CEIL ? ceilf(v.f) : rintf(v.f);
        return v;
    }
    if (s->kind == ARITH_SIGMOID) {
        v.f = mlas_logistic(v.f);
        return v;
    }
    if (s->kind == ARITH_CLIP) {
        if (is_float) {
            v.f = v.f < s->f[0] ? s->f[0] : v.f;
            v.f = v.f > s->f[1] ? s->f[1] : v.f;
        } else {
            v.i = v.i < s->i[0] ? s->i[0] : v.i;
            v.i = v.i > s->i[1] ? s->i[1] : v.i;
        }
        return v;
    }
    arith_value_t c = other;
    if (s->count > 0) {
        size_t at = s->count == 1 ? 0 : channel;
        c.is_float = is_float;
        c.f = is_float ? s->f[at] : 0.0f;
        c.i = is_float ? 0 : s->i[at];
    }
    c = arith_convert(c, s->container);
    arith_value_t x = s->operand_first ? c : v, y = s->operand_first ? v : c;
    if (is_float) {
        float r = s->kind == ARITH_MUL   ? x.f * y.f
                  : s->kind == ARITH_ADD ? x.f + y.f
                  : s->kind == ARITH_SUB ? x.f - y.f
                                         : x.f / y.f;
        v.f = r;
    } else {
        int64_t r = s->kind == ARITH_MUL   ? x.i * y.i
                    : s->kind == ARITH_ADD ? x.i + y.i
                    : s->kind == ARITH_SUB ? x.i - y.i
                                           : x.i / y.i;
        v.i = s->container == DT_INT32 ? (int32_t)r : r;
    }
    return v;
}

void arith_chain(const arith_layer_t *l, const void *a, const void *b, void *out) {
    size_t c = (size_t)l->out.c;
    size_t count = (size_t)l->out.h * (size_t)l->out.w * c;
    for (size_t k = 0; k < count; k++) {
        arith_value_t v = arith_load(a, l->a.dtype, k);
        arith_value_t other = {0, 0.0f, 0};
        if (l->b.c) {
            other = arith_load(b, l->b.dtype, k);
        }
        for (int32_t s = 0; s < l->n_steps; s++) {
            v = arith_step(&l->steps[s], v, other, k % c);
        }
        if (l->out.dtype == DT_FLOAT32) {
            ((float *)out)[k] = arith_convert(v, DT_FLOAT32).f;
        } else if (l->out.dtype == DT_INT64) {
            ((int64_t *)out)[k] = arith_convert(v, DT_INT64).i;
        } else {
            store(out, l->out.dtype, k, (int32_t)arith_convert(v, DT_INT64).i);
        }
    }
}

/* MLAS's exp of x - max (mlas/lib/x86_64/TransKernelAvx512F.S): a range reduction by ln 2 in
 * two parts and a degree-6 polynomial, by fused multiply-adds, scaled by 2^m. */
static float mlas_exp_biased(float x, float negative_maximum) {
    static const float poly[7] = {0x1.694000p-10f, 0x1.125edcp-7f, 0x1.555b5ap-5f,
                                  0x1.555450p-3f,  0x1.fffff6p-2f, 0x1.000000p+0f,
                                  0x1.000000p+0f};
    float v = x + negative_maximum;
    v = v < -103.9720840454f ? -103.9720840454f : v;
    float m = fmaf(v, 1.44269504088896341f, 12582912.0f) - 12582912.0f;
    v = fmaf(m, -6.93145752e-1f, v);
    v = fmaf(m, -1.42860677e-6f, v);
    float p = poly[0];
    for (int i = 1; i < 7; i++) {
        p = fmaf(v, p, poly[i]);
    }
    return ldexpf(p, (int)m);
}

/* MlasComputeSumExpF32KernelAvx512F's sum: exp of element i into lane i mod 16, in order,
 * then the lanes folded as its reduction folds them; `store` keeps each exp where not NULL. */
static float mlas_sum_exp(const float *row, int32_t n, float negative_maximum, float *store) {
    float lanes[16] = {0};
    for (int32_t i = 0; i < n; i++) {
        float e = mlas_exp_biased(row[i], negative_maximum);
        lanes[i % 16] += e;
        if (store) {
            store[i] = e;
        }
    }
    float a[8];
    for (int i = 0; i < 8; i++) {
        a[i] = lanes[i] + lanes[i + 8];
    }
    float low = (a[0] + a[1]) + (a[2] + a[3]);
    float high = (a[4] + a[5]) + (a[6] + a[7]);
    return low + high;
}

void float_softmax(const float_softmax_layer_t *l, const void *in, float *out) {
    for (int32_t r = 0; r < l->rows; r++) {
        float *row = out + (size_t)r * (size_t)l->length;
        for (int32_t i = 0; i < l->length; i++) {
            size_t at = (size_t)r * (size_t)l->length + (size_t)i;
            row[i] = l->dtype == DT_FLOAT32 ? ((const float *)in)[at] : (float)load(in, l->dtype, at);
        }
        float maximum = row[0];
        for (int32_t i = 1; i < l->length; i++) {
            maximum = row[i] > maximum ? row[i] : maximum;
        }
        float negative_maximum = -maximum;
        if (l->log) {
            float logarithm = logf(mlas_sum_exp(row, l->length, negative_maximum, NULL));
            for (int32_t i = 0; i < l->length; i++) {
                row[i] = (row[i] + negative_maximum) - logarithm;
            }
        } else {
            float scale = 1.0f / mlas_sum_exp(row, l->length, negative_maximum, row);
            for (int32_t i = 0; i < l->length; i++) {
                row[i] *= scale;
            }
        }
    }
}

/* onnxruntime's UpsampleBilinear (NCHW: float32 weights, the sum in this order, truncated) and
 * NhwcUpsampleBilinearInteger (channels-last: products of 2^-10 weights, the int32 sum divided
 * by 2^20 with C's truncation), for output index r of the first axis and q of the second. */
static float weigh(const resize_layer_t *l, float x11, float x21, float x12, float x22, int32_t r,
                   int32_t q) {
    float dy1 = l->row_wf[2 * r], dy2 = l->row_wf[2 * r + 1];
    float dx1 = l->col_wf[2 * q], dx2 = l->col_wf[2 * q + 1];
    return dx2 * dy2 * x11 + dx1 * dy2 * x21 + dx2 * dy1 * x12 + dx1 * dy1 * x22;
}

static int32_t bilinear(const resize_layer_t *l, const void *in, const size_t at[4], int32_t r,
                        int32_t q) {
    dtype_t t = l->in.dtype;
    int32_t x11 = load(in, t, at[0]), x21 = load(in, t, at[1]);
    int32_t x12 = load(in, t, at[2]), x22 = load(in, t, at[3]);
    if (l->kind == RESIZE_LINEAR_FIXED) {
        int32_t dy1 = l->row_wi[2 * r], dy2 = l->row_wi[2 * r + 1];
        int32_t dx1 = l->col_wi[2 * q], dx2 = l->col_wi[2 * q + 1];
        return (dx2 * dy2 * x11 + dx1 * dy2 * x21 + dx2 * dy1 * x12 + dx1 * dy1 * x22) / (1 << 20);
    }
    return (int32_t)weigh(l, (float)x11, (float)x21, (float)x12, (float)x22, r, q);
}

/* A float32 tensor's neighbours (a linear Resize between DQ and Q). */
static float bilinear_f32(const resize_layer_t *l, const float *in, const size_t at[4], int32_t r,
                          int32_t q) {
    return weigh(l, in[at[0]], in[at[1]], in[at[2]], in[at[3]], r, q);
}

static void resize_store(const resize_layer_t *l, const void *in, void *out, size_t index,
                         const size_t at[4], int32_t r, int32_t q) {
    if (l->in.dtype == DT_FLOAT32) {
        ((float *)out)[index] = bilinear_f32(l, (const float *)in, at, r, q);
    } else {
        store(out, l->out.dtype, index, bilinear(l, in, at, r, q));
    }
}

/* Where onnxruntime keeps H and runs channels-last, its float kernel reads the NHWC tensor as
 * an NCHW one: it interpolates (W, C), C at scale 1. */
static void resize_wc(const resize_layer_t *l, const void *in, void *out) {
    size_t c = (size_t)l->in.c;
    for (int32_t h = 0; h < l->in.h; h++) {
        for (int32_t ow = 0; ow < l->out.w; ow++) {
            size_t w1 = (size_t)l->rows[2 * ow], w2 = (size_t)l->rows[2 * ow + 1];
            size_t row1 = ((size_t)h * (size_t)l->in.w + w1) * c;
            size_t row2 = ((size_t)h * (size_t)l->in.w + w2) * c;
            size_t dst = ((size_t)h * (size_t)l->out.w + (size_t)ow) * c;
            for (int32_t k = 0; k < l->in.c; k++) {
                size_t c1 = (size_t)l->cols[2 * k], c2 = (size_t)l->cols[2 * k + 1];
                size_t at[4] = {row1 + c1, row1 + c2, row2 + c1, row2 + c2};
                resize_store(l, in, out, dst + (size_t)k, at, ow, k);
            }
        }
    }
}

void resize_image(const resize_layer_t *l, const void *in, void *out) {
    if (l->kind == RESIZE_LINEAR_FLOAT_WC) {
        resize_wc(l, in, out);
        return;
    }
    size_t c = (size_t)l->in.c, w = (size_t)l->in.w;
    for (int32_t oy = 0; oy < l->out.h; oy++) {
        size_t y1 = (size_t)l->rows[2 * oy], y2 = (size_t)l->rows[2 * oy + 1];
        for (int32_t ox = 0; ox < l->out.w; ox++) {
            size_t x1 = (size_t)l->cols[2 * ox], x2 = (size_t)l->cols[2 * ox + 1];
            size_t dst = ((size_t)oy * (size_t)l->out.w + (size_t)ox) * c;
            size_t at[4] = {(y1 * w + x1) * c, (y1 * w + x2) * c, (y2 * w + x1) * c,
                            (y2 * w + x2) * c};
            if (l->kind == RESIZE_NEAREST) {
                size_t elem = l->in.dtype == DT_FLOAT32 ? sizeof(float) : 1;
                memcpy((uint8_t *)out + dst * elem, (const uint8_t *)in + at[0] * elem, c * elem);
                continue;
            }
            for (size_t k = 0; k < c; k++) {
                size_t here[4] = {at[0] + k, at[1] + k, at[2] + k, at[3] + k};
                resize_store(l, in, out, dst + k, here, oy, ox);
            }
        }
    }
}

void pad_copy(const pad_layer_t *l, const void *in, void *out) {
    size_t count = (size_t)l->out.h * (size_t)l->out.w * (size_t)l->out.c;
    for (size_t i = 0; i < count; i++) {
        store(out, l->out.dtype, i, l->value);
    }
    for (int32_t h = 0; h < l->in.h; h++) {
        for (int32_t w = 0; w < l->in.w; w++) {
            size_t src = ((size_t)h * (size_t)l->in.w + (size_t)w) * (size_t)l->in.c;
            size_t dst = ((size_t)(h + l->top) * (size_t)l->out.w + (size_t)(w + l->left)) * (size_t)l->out.c + (size_t)l->front;
            memcpy((uint8_t *)out + dst, (const uint8_t *)in + src, (size_t)l->in.c);
        }
    }
}

void im2col_copy(const im2col_layer_t *l, const uint8_t *in, uint8_t *out) {
    size_t c = (size_t)l->in.c;
    uint8_t *dst = out;
    for (int32_t oy = 0; oy < l->out.h; oy++) {
        for (int32_t ox = 0; ox < l->out.w; ox++) {
            for (int32_t ky = 0; ky < l->kernel_h; ky++) {
                int32_t iy = oy * l->stride_h - l->pad_top + ky * l->dilation_h;
                for (int32_t kx = 0; kx < l->kernel_w; kx++, dst += c) {
                    int32_t ix = ox * l->stride_w - l->pad_left + kx * l->dilation_w;
                    if (iy < 0 || iy >= l->in.h || ix < 0 || ix >= l->in.w) {
                        memset(dst, (uint8_t)l->pad_value, c);
                    } else {
                        memcpy(dst, in + ((size_t)iy * (size_t)l->in.w + (size_t)ix) * c, c);
                    }
                }
            }
        }
    }
}

void kernel_int_add(const add_layer_t *l, const void *a, const void *b, void *out, int32_t rows) {
    size_t count = (size_t)rows * (size_t)l->out.w * (size_t)l->out.c;
    for (size_t i = 0; i < count; i++) {
        store(out, DT_INT32, i, load(a, l->a.dtype, i) + load(b, l->b.dtype, i));
    }
}

void kernel_requant_shift(const requant_shift_layer_t *l, const void *in, void *out, int32_t row0,
                          int32_t rows) {
    int32_t c = l->in.c;
    size_t count = (size_t)rows * (size_t)l->in.w * (size_t)c;
    for (size_t i = 0; i < count; i++) {
        size_t ch = l->per_channel == 1   ? i % (size_t)c
                    : l->per_channel == 2 ? (size_t)row0 + i / (size_t)c
                                          : 0;
        store(out, l->out.dtype, i,
              requantize_shift(load(in, l->in.dtype, i), l->mul[ch], l->add[ch], l->shift, l->lower, l->upper));
    }
}

/* Integer values in float32 <-> integer tensors: exact (the values are integers). */
void kernel_cast(const cast_layer_t *l, const void *in, void *out, int32_t rows) {
    size_t count = (size_t)rows * (size_t)l->in.w * (size_t)l->in.c;
    for (size_t i = 0; i < count; i++) {
        /* The containers hold integers the compiler checked; only the type changes. */
        if (l->in.dtype == DT_FLOAT32) {
            store(out, l->out.dtype, i, (int32_t)((const float *)in)[i]);
        } else if (l->in.dtype == DT_INT64) {
            store(out, l->out.dtype, i, (int32_t)((const int64_t *)in)[i]);
        } else if (l->out.dtype == DT_INT64) {
            ((int64_t *)out)[i] = load(in, l->in.dtype, i);
        } else if (l->out.dtype == DT_FLOAT32) {
            ((float *)out)[i] = (float)load(in, l->in.dtype, i);
        } else { /* between integer types: int32 containers of 8-bit values, and back */
            store(out, l->out.dtype, i, load(in, l->in.dtype, i));
        }
    }
}

void rows_int_add(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                  uint8_t *out, int32_t out_row0, int32_t out_rows) {
    (void)in_row0, (void)in_rows, (void)out_row0;
    kernel_int_add(layer, in[0], in[1], out, out_rows);
}

/* An 8-bit tensor through a table of its 256 values (onnxruntime's lookup-table kernels). */
void rows_lookup(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                 uint8_t *out, int32_t out_row0, int32_t out_rows) {
    const lookup_layer_t *l = layer;
    (void)in_row0, (void)in_rows, (void)out_row0;
    size_t count = (size_t)out_rows * (size_t)l->out.w * (size_t)l->out.c;
    for (size_t i = 0; i < count; i++) {
        store(out, l->out.dtype, i, l->table[load(in[0], l->in.dtype, i) - l->qmin]);
    }
}

/* Deeploy's iHardswish (TargetLibraries/Generic/src/Hardswish_s8.c): x * (clamp(x + three, 0,
 * six) * one_over_six), int32 wrapping as the golden model's. */
void rows_int_hardswish(const void *layer, const uint8_t *const *in, int32_t in_row0,
                        int32_t in_rows, uint8_t *out, int32_t out_row0, int32_t out_rows) {
    const hardswish_layer_t *l = layer;
    (void)in_row0, (void)in_rows, (void)out_row0;
    size_t count = (size_t)out_rows * (size_t)l->out.w * (size_t)l->out.c;
    for (size_t i = 0; i < count; i++) {
        int64_t x = load(in[0], l->in.dtype, i);
        int64_t gate = x + l->three < 0 ? 0 : (x + l->three > l->six ? l->six : x + l->three);
        store(out, DT_INT32, i, (int32_t)(uint32_t)(uint64_t)(x * (gate * l->one_over_six)));
    }
}

/* QLinearAdd of a runtime tensor and a constant broadcast to the output, indexed from the
 * output's `out_row0` as the integer addend below. */
void rows_add_const(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                    uint8_t *out, int32_t out_row0, int32_t out_rows) {
    const add_const_layer_t *l = layer;
    (void)in_row0, (void)in_rows;
    qlinear_add_t q = qlinear_add(l->a_scale, l->a_zero_point, l->b_scale, l->b_zero_point,
                                  l->y_scale, l->y_zero_point, l->out.dtype);
    size_t row = (size_t)l->out.w * (size_t)l->out.c;
    size_t first = (size_t)out_row0 * row;
    for (size_t i = 0; i < (size_t)out_rows * row; i++) {
        int32_t x = load(in[0], l->x.dtype, i), c = l->constant[first + i];
        int32_t y = l->constant_is_a ? qlinear_add_one(&q, c, x) : qlinear_add_one(&q, x, c);
        store(out, l->out.dtype, i, y);
    }
}

/* A constant added to an integer tensor, int32 wrapping as the golden model's. The rows given
 * are the output's, from `out_row0`: the addend is indexed from there. */
void rows_int_add_const(const void *layer, const uint8_t *const *in, int32_t in_row0,
                        int32_t in_rows, uint8_t *out, int32_t out_row0, int32_t out_rows) {
    const int_add_const_layer_t *l = layer;
    (void)in_row0, (void)in_rows;
    size_t row = (size_t)l->out.w * (size_t)l->out.c;
    size_t first = (size_t)out_row0 * row;
    for (size_t i = 0; i < (size_t)out_rows * row; i++) {
        uint32_t sum = (uint32_t)load(in[0], l->a.dtype, i) + (uint32_t)l->addend[first + i];
        store(out, DT_INT32, i, (int32_t)sum);
    }
}

void rows_requant_shift(const void *layer, const uint8_t *const *in, int32_t in_row0,
                        int32_t in_rows, uint8_t *out, int32_t out_row0, int32_t out_rows) {
    (void)in_row0, (void)in_rows;
    kernel_requant_shift(layer, in[0], out, out_row0, out_rows);
}

void rows_cast(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
               uint8_t *out, int32_t out_row0, int32_t out_rows) {
    (void)in_row0, (void)in_rows, (void)out_row0;
    kernel_cast(layer, in[0], out, out_rows);
}
