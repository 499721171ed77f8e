#ifndef HWGEN_HAL_CALLBACKS_H
#define HWGEN_HAL_CALLBACKS_H

#include <stddef.h>
#include <stdint.h>

/* A HAL whose every call goes to a function installed at run time: the functional model, the
 * RTL co-simulation and the board backend install theirs (from Python). */
typedef struct {
    uint32_t (*read32)(uint32_t offset);
    void (*write32)(uint32_t offset, uint32_t value);
    void (*wait)(void);
    void (*sysmem_attach)(void *base, size_t bytes);
    void (*sysmem_flush)(size_t offset, size_t bytes);
    void (*sysmem_invalidate)(size_t offset, size_t bytes);
    void (*trace_layer)(int layer, const void *data, size_t bytes);
} hal_callbacks_t;

void hal_install(const hal_callbacks_t *installed);

#endif
