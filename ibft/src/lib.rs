//! Build, parse, locate and lint iSCSI Boot Firmware Tables (iBFT).
#![no_std]
#![forbid(unsafe_code)]
