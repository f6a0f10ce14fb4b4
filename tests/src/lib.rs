//! Test harness shared by the integration tests: real peers (tgtd, QEMU), a fault proxy.
