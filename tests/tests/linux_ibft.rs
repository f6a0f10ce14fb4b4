//! Linux accepts our iBFT tables: boot Debian's kernel in QEMU with a table and compare what its
//! `iscsi_ibft` driver exposes under `/sys/firmware/ibft` with values written by hand.
//!
//! Formats are the kernel's (`drivers/firmware/iscsi_ibft.c`): IPv4-mapped addresses print as
//! dotted quads, MACs as `aa:bb:..`, and the LUN as each of its 8 bytes in `%x` without padding
//! (SAM LUN 1 = `00 01 00 00 00 00 00 00` prints as `01000000`).

use iscsi_boot_tests::linux_vm::{self, PciNic, VmError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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

/// The `iscsi-boot` binary, built (or found up to date) with the cargo that runs this test.
///
/// A nested `cargo build` is the robust way to get another package's binary: it works for
/// `cargo test -p iscsi-boot-tests` alone, never uses a stale binary, and reports the path.
fn iscsi_boot_binary() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "-p", "cli", "--bin", "iscsi-boot"])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build -p cli");
    assert!(out.status.success(), "cargo build -p cli failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(r#""name":"iscsi-boot""#))
        .find_map(|l| {
            let (_, rest) = l.split_once(r#""executable":""#)?;
            rest.split_once('"').map(|(path, _)| PathBuf::from(path))
        })
        .expect("cargo reported no iscsi-boot executable")
}

/// Builds `fixtures/<config>` with `iscsi-boot ibft build` into `<output>.bin` (one name per
/// test: tests run in parallel) and returns the table's path.
fn build_table(config: &str, output: &str) -> PathBuf {
    let output = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{output}.bin"));
    let status = Command::new(iscsi_boot_binary())
        .args(["ibft", "build", "--config"])
        .arg(fixture(config))
        .arg("--output")
        .arg(&output)
        .status()
        .expect("run iscsi-boot");
    assert!(status.success(), "iscsi-boot ibft build {config} failed");
    output
}

/// An emulated card at `00:slot.0` with `mac`, matching a `[[nic]]` of a fixture.
fn card(slot: u8, mac: [u8; 6]) -> PciNic {
    PciNic { slot, mac }
}

/// Boots Linux with the table and compares sysfs with `want`.
///
/// The OEM table id is not part of the configuration, so it only has to be there. For IPv6 NICs
/// the kernel derives `subnet-mask` from a prefix longer than 32 bits (meaningless), so those
/// entries are left out of the comparison.
fn assert_linux_sees(table: &Path, cards: &[PciNic], ipv6_nics: &[&str], want: &[(&str, &str)]) {
    let mut sysfs = linux_vm::read_ibft_sysfs_with_nics(table, cards).unwrap();
    assert!(
        sysfs.remove("acpi_header/oem_table_id").is_some(),
        "no OEM table id in {sysfs:#?}"
    );
    for nic in ipv6_nics {
        sysfs.remove(&format!("{nic}/subnet-mask"));
    }
    assert_eq!(sysfs, expected(want));
}

/// `fixtures/two-nics-two-targets.toml`: every value of the file, as Linux prints it.
#[test]
fn linux_exposes_everything_of_a_two_nic_two_target_table() {
    if !linux_vm::available_or_skip("linux_exposes_everything_of_a_two_nic_two_target_table") {
        return;
    }
    let table = build_table("two-nics-two-targets.toml", "two-nics-two-targets");
    let cards = [
        card(3, [0x52, 0x54, 0x00, 0x12, 0x34, 0x01]),
        card(4, [0x52, 0x54, 0x00, 0x12, 0x34, 0x02]),
    ];
    assert_linux_sees(
        &table,
        &cards,
        &[],
        &[
            ("acpi_header/signature", "iBFT"),
            ("acpi_header/oem_id", "ISBOOT"),
            ("initiator/index", "0"),
            ("initiator/flags", "3"), // valid | boot-selected
            ("initiator/initiator-name", "iqn.2026-11.org.example:node1"),
            // NIC 0: valid | boot-selected (target 0 boots through it) | global.
            ("ethernet0/index", "0"),
            ("ethernet0/flags", "7"),
            ("ethernet0/ip-addr", "10.0.2.15"),
            ("ethernet0/prefix-len", "24"),
            ("ethernet0/subnet-mask", "255.255.255.0"),
            ("ethernet0/origin", "3"), // DHCP: a DHCP server is given
            ("ethernet0/gateway", "10.0.2.2"),
            ("ethernet0/primary-dns", "10.0.2.3"),
            ("ethernet0/secondary-dns", "10.0.2.4"),
            ("ethernet0/dhcp", "10.0.2.2"),
            ("ethernet0/vlan", "0"),
            ("ethernet0/mac", "52:54:00:12:34:01"),
            ("ethernet0/hostname", "node1"),
            ("ethernet0/device", "0000:00:03.0"), // pci = "00:03.0"
            // NIC 1: valid | global; static (manual origin), VLAN 42, /25.
            ("ethernet1/index", "1"),
            ("ethernet1/flags", "5"),
            ("ethernet1/ip-addr", "192.168.7.20"),
            ("ethernet1/prefix-len", "25"),
            ("ethernet1/subnet-mask", "255.255.255.128"),
            ("ethernet1/origin", "1"),
            ("ethernet1/vlan", "42"),
            ("ethernet1/mac", "52:54:00:12:34:02"),
            ("ethernet1/device", "0000:00:04.0"), // pci = "00:04.0"
            // Target 0: valid | boot-selected, CHAP.
            ("target0/index", "0"),
            ("target0/flags", "3"),
            ("target0/ip-addr", "10.0.2.2"),
            ("target0/port", "3260"),
            ("target0/lun", "01000000"),
            ("target0/chap-type", "1"),
            ("target0/nic-assoc", "0"),
            ("target0/target-name", "iqn.2026-11.org.example:disk1"),
            ("target0/chap-name", "node1-user"),
            ("target0/chap-secret", "node1-secret-1"),
            // Target 1: valid, mutual CHAP, through NIC 1.
            ("target1/index", "1"),
            ("target1/flags", "1"),
            ("target1/ip-addr", "192.168.7.1"),
            ("target1/port", "3261"),
            ("target1/lun", "02000000"),
            ("target1/chap-type", "2"),
            ("target1/nic-assoc", "1"),
            ("target1/target-name", "iqn.2026-11.org.example:disk2"),
            ("target1/chap-name", "node1-out"),
            ("target1/chap-secret", "outgoing-secret"),
            ("target1/rev-chap-name", "disk2-target"),
            ("target1/rev-chap-name-secret", "incoming-secret"),
        ],
    );
}

/// `fixtures/four-nics-four-targets.toml`: every value of the file, as Linux prints it.
///
/// The kernel prints IPv6 addresses with `%pI6`: eight groups of four hex digits, no `::`.
#[test]
fn linux_exposes_everything_of_a_four_nic_four_target_table() {
    if !linux_vm::available_or_skip("linux_exposes_everything_of_a_four_nic_four_target_table") {
        return;
    }
    let table = build_table("four-nics-four-targets.toml", "four-nics-four-targets");
    let cards = [
        card(3, [0x52, 0x54, 0x00, 0xab, 0xcd, 0x01]),
        card(4, [0x52, 0x54, 0x00, 0xab, 0xcd, 0x02]),
        card(5, [0x52, 0x54, 0x00, 0xab, 0xcd, 0x03]),
        card(6, [0x52, 0x54, 0x00, 0xab, 0xcd, 0x04]),
    ];
    assert_linux_sees(
        &table,
        &cards,
        &["ethernet1", "ethernet3"],
        &[
            ("acpi_header/signature", "iBFT"),
            ("acpi_header/oem_id", "ISB4X4"),
            ("initiator/index", "0"),
            ("initiator/flags", "3"),
            (
                "initiator/initiator-name",
                "iqn.2026-11.org.example:rack7-node42",
            ),
            // NIC 0: static IPv4 /16, valid | global (no boot target through it).
            ("ethernet0/index", "0"),
            ("ethernet0/flags", "5"),
            ("ethernet0/ip-addr", "172.16.10.42"),
            ("ethernet0/prefix-len", "16"),
            ("ethernet0/subnet-mask", "255.255.0.0"),
            ("ethernet0/origin", "1"),
            ("ethernet0/gateway", "172.16.0.1"),
            ("ethernet0/primary-dns", "172.16.0.53"),
            ("ethernet0/vlan", "0"),
            ("ethernet0/mac", "52:54:00:ab:cd:01"),
            ("ethernet0/device", "0000:00:03.0"),
            // NIC 1: IPv6 by DHCPv6, VLAN 100; boot-selected (target 0 boots through it).
            ("ethernet1/index", "1"),
            ("ethernet1/flags", "7"),
            (
                "ethernet1/ip-addr",
                "fd00:0001:0000:0000:0000:0000:0000:0042",
            ),
            ("ethernet1/prefix-len", "64"),
            ("ethernet1/origin", "3"),
            (
                "ethernet1/gateway",
                "fd00:0001:0000:0000:0000:0000:0000:0001",
            ),
            (
                "ethernet1/primary-dns",
                "fd00:0001:0000:0000:0000:0000:0000:0053",
            ),
            (
                "ethernet1/secondary-dns",
                "fd00:0001:0000:0000:0000:0000:0000:0054",
            ),
            ("ethernet1/dhcp", "fd00:0001:0000:0000:0000:0000:0000:0002"),
            ("ethernet1/vlan", "100"),
            ("ethernet1/mac", "52:54:00:ab:cd:02"),
            ("ethernet1/hostname", "rack7-node42"),
            ("ethernet1/device", "0000:00:04.0"),
            // NIC 2: DHCP IPv4 /30 on VLAN 4094, no gateway.
            ("ethernet2/index", "2"),
            ("ethernet2/flags", "5"),
            ("ethernet2/ip-addr", "10.9.8.7"),
            ("ethernet2/prefix-len", "30"),
            ("ethernet2/subnet-mask", "255.255.255.252"),
            ("ethernet2/origin", "3"),
            ("ethernet2/dhcp", "10.9.8.5"),
            ("ethernet2/vlan", "4094"),
            ("ethernet2/mac", "52:54:00:ab:cd:03"),
            ("ethernet2/device", "0000:00:05.0"),
            // NIC 3: static IPv6 /48.
            ("ethernet3/index", "3"),
            ("ethernet3/flags", "5"),
            (
                "ethernet3/ip-addr",
                "2001:0db8:0004:0000:0000:0000:0000:0004",
            ),
            ("ethernet3/prefix-len", "48"),
            ("ethernet3/origin", "1"),
            ("ethernet3/vlan", "0"),
            ("ethernet3/mac", "52:54:00:ab:cd:04"),
            ("ethernet3/device", "0000:00:06.0"),
            // Target 0: the boot target, IPv6, mutual CHAP, through NIC 1.
            ("target0/index", "0"),
            ("target0/flags", "3"),
            ("target0/ip-addr", "fd00:0001:0000:0000:0000:0000:0000:0002"),
            ("target0/port", "3262"),
            ("target0/lun", "04000000"),
            ("target0/chap-type", "2"),
            ("target0/nic-assoc", "1"),
            ("target0/target-name", "iqn.2026-11.org.example:boot-disk"),
            ("target0/chap-name", "rack7-node42"),
            ("target0/chap-secret", "initiator-secret-42"),
            ("target0/rev-chap-name", "boot-disk"),
            ("target0/rev-chap-name-secret", "target-secret-42"),
            // Target 1: no CHAP, LUN 0, through NIC 0.
            ("target1/index", "1"),
            ("target1/flags", "1"),
            ("target1/ip-addr", "172.16.0.10"),
            ("target1/port", "3260"),
            ("target1/lun", "00000000"),
            ("target1/chap-type", "0"),
            ("target1/nic-assoc", "0"),
            ("target1/target-name", "iqn.2026-11.org.example:scratch"),
            // Target 2: one-way CHAP, port 860, LUN 7, through NIC 2.
            ("target2/index", "2"),
            ("target2/flags", "1"),
            ("target2/ip-addr", "10.9.8.6"),
            ("target2/port", "860"),
            ("target2/lun", "07000000"),
            ("target2/chap-type", "1"),
            ("target2/nic-assoc", "2"),
            ("target2/target-name", "iqn.2026-11.org.example:data"),
            ("target2/chap-name", "data-user"),
            ("target2/chap-secret", "data-secret-0007"),
            // Target 3: IPv6, port 3263, LUN 3, through NIC 3.
            ("target3/index", "3"),
            ("target3/flags", "1"),
            ("target3/ip-addr", "2001:0db8:0004:0000:0000:0000:0000:0010"),
            ("target3/port", "3263"),
            ("target3/lun", "03000000"),
            ("target3/chap-type", "0"),
            ("target3/nic-assoc", "3"),
            ("target3/target-name", "iqn.2026-11.org.example:logs"),
        ],
    );
}

/// Field failure 4 of the iBFT design notes: two targets with the same index make sysfs
/// registration fail, and Linux drops the whole iBFT (the module does not even load), not just
/// the duplicate. The builder never
/// writes such a table, so this patches one built from a fixture: by the spec's layout, the
/// control structure at 0x30 holds target 1's offset at +16, and a structure's index is at +4.
#[test]
fn linux_drops_the_whole_ibft_when_two_targets_share_an_index() {
    if !linux_vm::available_or_skip("linux_drops_the_whole_ibft_when_two_targets_share_an_index") {
        return;
    }
    let mut table = std::fs::read(build_table(
        "two-nics-two-targets.toml",
        "before-duplicate-index",
    ))
    .unwrap();
    let target1 = usize::from(u16::from_le_bytes([table[0x30 + 16], table[0x30 + 17]]));
    assert_eq!(table[target1], 4, "target 1 is a target structure");
    assert_eq!(table[target1 + 4], 1, "target 1 has index 1");
    table[target1 + 4] = 0;
    let patched = Path::new(env!("CARGO_TARGET_TMPDIR")).join("duplicate-target-index.bin");
    std::fs::write(&patched, &table).unwrap();

    // iscsi_ibft's init fails (ENOMEM after the sysfs clash) and nothing stays registered.
    match linux_vm::read_ibft_sysfs(&patched) {
        Err(VmError::ModuleFailed { module, log }) => {
            assert_eq!(module, "iscsi_ibft");
            assert!(
                log.contains("cannot create duplicate filename '/firmware/ibft/target0'"),
                "{log}"
            );
        }
        other => panic!("expected iscsi_ibft to refuse the table, got {other:?}"),
    }
}
