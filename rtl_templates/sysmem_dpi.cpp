// The DPI side of hwgen_sysmem_dpi.sv: system memory is a buffer of the host program's,
// attached from Python (hwgen.sim.sysmem) through the exported symbols below, so that the host C
// and the NPU's DMA share it as they share L2 on a chip, and no bulk data passes through Python.
#include <cstdint>
#include <cstring>

namespace {
uint8_t *base = nullptr;
uint64_t size = 0;
uint64_t first_fault = UINT64_MAX;  // the first byte address outside the buffer

bool inside(uint64_t addr, uint32_t bytes) {
    if (base != nullptr && addr + bytes <= size) {
        return true;
    }
    if (first_fault == UINT64_MAX) {
        first_fault = addr;
    }
    return false;
}
}  // namespace

extern "C" {

void hwgen_sysmem_attach(void *buffer, uint64_t bytes) {
    base = static_cast<uint8_t *>(buffer);
    size = bytes;
    first_fault = UINT64_MAX;
}

// The first address the NPU used outside the buffer since it was attached, or all ones.
uint64_t hwgen_sysmem_fault(void) { return first_fault; }

uint64_t hwgen_sysmem_read(uint64_t addr, uint32_t bytes) {
    uint64_t word = 0;
    if (inside(addr, bytes)) {
        std::memcpy(&word, base + addr, bytes);
    }
    return word;
}

void hwgen_sysmem_write(uint64_t addr, uint32_t bytes, uint64_t data, uint32_t strobes) {
    if (!inside(addr, bytes)) {
        return;
    }
    for (uint32_t k = 0; k < bytes; k++) {
        if (strobes >> k & 1) {
            base[addr + k] = static_cast<uint8_t>(data >> (8 * k));
        }
    }
}
}
