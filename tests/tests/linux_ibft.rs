//! Linux accepts our iBFT tables: boot Debian's kernel in QEMU with a table and compare what its
//! `iscsi_ibft` driver exposes under `/sys/firmware/ibft` with values written by hand.
//!
//! Formats are the kernel's (`drivers/firmware/iscsi_ibft.c`): IPv4-mapped addresses print as
//! dotted quads, MACs as `aa:bb:..`, and the LUN as each of its 8 bytes in `%x` without padding
//! (SAM LUN 1 = `00 01 00 00 00 00 00 00` prints as `01000000`).

use iscsi_boot_tests::linux_vm;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn expected(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The 3-NIC/3-target table from LKML (see `fixtures/README.md`); values read off its hexdump.
#[test]
fn linux_exposes_every_record_of_the_lkml_3nic_3target_table() {
    if !linux_vm::available_or_skip("linux_exposes_every_record_of_the_lkml_3nic_3target_table") {
        return;
    }
    let sysfs = linux_vm::read_ibft_sysfs(&fixture("lkml-3nic-3target.bin")).unwrap();
    let want = expected(&[
        // Table header at 0x00: OEM id "TESTIN", OEM table id "TEST".
        ("acpi_header/signature", "iBFT"),
        ("acpi_header/oem_id", "TESTIN"),
        ("acpi_header/oem_table_id", "TEST"),
        // Initiator at 0x48: flags 3, name (34 bytes at 0x278).
        ("initiator/index", "0"),
        ("initiator/flags", "3"),
        (
            "initiator/initiator-name",
            "iqn.1994-05.com.redhat:633114aacf2",
        ),
        // NIC 0 at 0x98: 192.168.50.101/24, origin 3 (DHCP), gw/dns/dhcp 192.168.50.1.
        ("ethernet0/index", "0"),
        ("ethernet0/flags", "3"),
        ("ethernet0/ip-addr", "192.168.50.101"),
        ("ethernet0/prefix-len", "24"),
        ("ethernet0/subnet-mask", "255.255.255.0"),
        ("ethernet0/origin", "3"),
        ("ethernet0/gateway", "192.168.50.1"),
        ("ethernet0/primary-dns", "192.168.50.1"),
        ("ethernet0/dhcp", "192.168.50.1"),
        ("ethernet0/vlan", "0"),
        ("ethernet0/mac", "52:54:00:12:34:00"),
        ("ethernet0/hostname", "client"),
        // NIC 1 at 0x100: 192.168.51.101/24.
        ("ethernet1/index", "1"),
        ("ethernet1/flags", "3"),
        ("ethernet1/ip-addr", "192.168.51.101"),
        ("ethernet1/prefix-len", "24"),
        ("ethernet1/subnet-mask", "255.255.255.0"),
        ("ethernet1/origin", "3"),
        ("ethernet1/gateway", "192.168.51.1"),
        ("ethernet1/primary-dns", "192.168.51.1"),
        ("ethernet1/dhcp", "192.168.51.1"),
        ("ethernet1/vlan", "0"),
        ("ethernet1/mac", "52:54:00:12:34:01"),
        ("ethernet1/hostname", "client"),
        // NIC 2 at 0x168: 192.168.52.101/24, same MAC as NIC 1 (a defect of the vector).
        ("ethernet2/index", "2"),
        ("ethernet2/flags", "3"),
        ("ethernet2/ip-addr", "192.168.52.101"),
        ("ethernet2/prefix-len", "24"),
        ("ethernet2/subnet-mask", "255.255.255.0"),
        ("ethernet2/origin", "3"),
        ("ethernet2/gateway", "192.168.52.1"),
        ("ethernet2/primary-dns", "192.168.52.1"),
        ("ethernet2/dhcp", "192.168.52.1"),
        ("ethernet2/vlan", "0"),
        ("ethernet2/mac", "52:54:00:12:34:01"),
        ("ethernet2/hostname", "client"),
        // Target 0 at 0x1d0: 192.168.50.1:3260 LUN 1, no CHAP, NIC 0.
        ("target0/index", "0"),
        ("target0/flags", "3"),
        ("target0/ip-addr", "192.168.50.1"),
        ("target0/port", "3260"),
        ("target0/lun", "01000000"),
        ("target0/chap-type", "0"),
        ("target0/nic-assoc", "0"),
        ("target0/target-name", "iqn.2009-06.test:target0"),
        // Target 1 at 0x208: 192.168.51.1:3260 LUN 2, NIC 0.
        ("target1/index", "1"),
        ("target1/flags", "3"),
        ("target1/ip-addr", "192.168.51.1"),
        ("target1/port", "3260"),
        ("target1/lun", "02000000"),
        ("target1/chap-type", "0"),
        ("target1/nic-assoc", "0"),
        ("target1/target-name", "iqn.2009-06.test:target1"),
        // Target 2 at 0x240: 192.168.52.1:3260 LUN 3, NIC 0.
        ("target2/index", "2"),
        ("target2/flags", "3"),
        ("target2/ip-addr", "192.168.52.1"),
        ("target2/port", "3260"),
        ("target2/lun", "03000000"),
        ("target2/chap-type", "0"),
        ("target2/nic-assoc", "0"),
        ("target2/target-name", "iqn.2009-06.test:target2"),
    ]);
    assert_eq!(sysfs, want);
}
