//! A Linux guest in QEMU that reports what its `iscsi_ibft` driver exposes (to be written).
