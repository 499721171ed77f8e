#ifndef HWGEN_HAL_CALLBACKS_H
#define HWGEN_HAL_CALLBACKS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t (*read32)(uint32_t offset);
    void (*write32)(uint32_t offset, uint32_t value);
    void (*stream_write)(const void *data, size_t bytes);
    void (*stream_read)(void *data, size_t bytes);
    void (*trace_layer)(int layer, const void *data, size_t bytes);
} hal_callbacks_t;

void hal_install(const hal_callbacks_t *installed);

#endif
