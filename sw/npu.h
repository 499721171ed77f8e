/* The NPU driver: checking the NPU is the one the C was generated for, and running a program
 * from system memory, over the HAL. */
#ifndef HWGEN_NPU_H
#define HWGEN_NPU_H

#include <stddef.h>
#include <stdint.h>

#include "npu_config.h"

typedef struct {
    uint32_t busy_cycles, load_cycles, core_cycles, store_cycles, mac_cycles;
} npu_counters_t;

/* 0 when the NPU answers with the identity and configuration this C was generated for. */
int npu_check(void);
/* Run the program of `commands` commands at system-memory address `address`, adding its
 * cycles to `counters` (if given). Returns the NPU's error code (0 for none); `failed`, if
 * given, gets the index of the command that failed. */
int npu_run(uint32_t address, uint32_t commands, npu_counters_t *counters, uint32_t *failed);

#endif
