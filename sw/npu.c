#include "npu.h"

#include "hal.h"

int npu_check(void) {
    if (hal_npu_read32(NPU_REG_ID) != NPU_MAGIC) {
        return -1;
    }
    if (hal_npu_read32(NPU_REG_HW_CONFIG) != NPU_HW_CONFIG) {
        return -2;
    }
    return hal_npu_read32(NPU_REG_CONFIG_ID) == NPU_CONFIG_ID ? 0 : -3;
}

int npu_run(uint32_t address, uint32_t commands, npu_counters_t *counters, uint32_t *failed) {
    hal_npu_write32(NPU_REG_PROG_ADDR, address);
    hal_npu_write32(NPU_REG_PROG_COUNT, commands);
    hal_npu_write32(NPU_REG_CTRL, NPU_CTRL_START | NPU_CTRL_IRQ_ENABLE);
    hal_npu_wait();
    uint32_t status = hal_npu_read32(NPU_REG_STATUS);
    hal_npu_write32(NPU_REG_STATUS, NPU_STATUS_DONE);
    int error = (int)((status >> NPU_STATUS_ERROR_SHIFT) & 0xFu);
    if (error && failed) {
        *failed = hal_npu_read32(NPU_REG_ERROR_COMMAND);
    }
    if (counters) {
        counters->busy_cycles += hal_npu_read32(NPU_REG_BUSY_CYCLES);
        counters->load_cycles += hal_npu_read32(NPU_REG_LOAD_CYCLES);
        counters->core_cycles += hal_npu_read32(NPU_REG_CORE_CYCLES);
        counters->store_cycles += hal_npu_read32(NPU_REG_STORE_CYCLES);
        counters->mac_cycles += hal_npu_read32(NPU_REG_MAC_CYCLES);
    }
    return error;
}
