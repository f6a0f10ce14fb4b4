//! Test harness shared by the integration tests: real peers (tgtd, QEMU, Linux), a fault proxy.

pub mod hostile;
pub mod linux_vm;
pub mod proxy;
pub mod tgtd;
