"""What the platform's device is and has, for the generator's choices of primitives: none of it
in simulation, where there is no platform."""

from __future__ import annotations

# ECP5 devices as amaranth names them: LFE5U-25F, LFE5UM5G-85F, ...
ECP5_DEVICE_PREFIX = "LFE5"
ICE40_DEVICE_PREFIX = "iCE40"
# SB_MAC16 blocks per iCE40 device.
ICE40_MAC16 = {"iCE40UP5K": 8, "iCE40UP3K": 4}


def device_name(platform: object) -> str:
    return str(getattr(platform, "device", ""))


def is_ecp5(platform: object) -> bool:
    return device_name(platform).startswith(ECP5_DEVICE_PREFIX)


def is_ice40(platform: object) -> bool:
    return device_name(platform).startswith(ICE40_DEVICE_PREFIX)


def ice40_mac16_blocks(platform: object) -> int:
    """The SB_MAC16 blocks of the platform's device: 0 but on an iCE40 with DSPs."""
    return ICE40_MAC16.get(device_name(platform), 0)
