//! SCSI CDBs, response data and sense data against byte layouts written by hand from SPC-4 and
//! SBC-3.

use initiator::addr::Lun;
use initiator::scsi::cdb::{self, Direction};
use initiator::scsi::inquiry::{Association, CodeSet, DesignatorType};
use initiator::scsi::{
    Designators, ParseError, ReadCapacity10, ReadCapacity16, ReportLuns, Retry, Sense, SenseFormat,
    SenseKey, StandardInquiry, UnitSerialNumber,
};
use proptest::prelude::*;

#[test]
fn cdb_layouts() {
    assert_eq!(cdb::test_unit_ready().as_bytes(), &[0; 6]);
    assert_eq!(
        cdb::request_sense(252).as_bytes(),
        &[0x03, 0, 0, 0, 0xfc, 0]
    );
    assert_eq!(cdb::inquiry(36).as_bytes(), &[0x12, 0, 0, 0, 36, 0]);
    assert_eq!(
        cdb::inquiry(0x1234).as_bytes(),
        &[0x12, 0, 0, 0x12, 0x34, 0]
    );
    assert_eq!(
        cdb::inquiry_vpd(0x83, 255).as_bytes(),
        &[0x12, 1, 0x83, 0, 0xff, 0]
    );
    assert_eq!(
        cdb::inquiry_vpd(0x80, 64).as_bytes(),
        &[0x12, 1, 0x80, 0, 64, 0]
    );
    assert_eq!(
        cdb::read_capacity10().as_bytes(),
        &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        cdb::read_capacity16(32).as_bytes(),
        &[0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]
    );
    assert_eq!(
        cdb::read10(0x0102_0304, 0x0506).as_bytes(),
        &[0x28, 0, 1, 2, 3, 4, 0, 5, 6, 0]
    );
    assert_eq!(
        cdb::write10(0x0102_0304, 0x0506).as_bytes(),
        &[0x2a, 0, 1, 2, 3, 4, 0, 5, 6, 0]
    );
    assert_eq!(
        cdb::read16(0x0102_0304_0506_0708, 0x090a_0b0c).as_bytes(),
        &[0x88, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0, 0]
    );
    assert_eq!(
        cdb::write16(0x0102_0304_0506_0708, 0x090a_0b0c).as_bytes(),
        &[0x8a, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0, 0]
    );
    assert_eq!(
        cdb::synchronize_cache10(0, 0).as_bytes(),
        &[0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        cdb::synchronize_cache16(1 << 32, 0).as_bytes(),
        &[0x91, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        cdb::report_luns(0x1000).as_bytes(),
        &[0xa0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0]
    );
}

#[test]
fn ten_or_sixteen() {
    // READ(10) reaches LBA 2^32-1 with up to 65535 blocks.
    assert_eq!(cdb::read(u64::from(u32::MAX), 65535).opcode(), 0x28);
    assert_eq!(cdb::read(1 << 32, 1).opcode(), 0x88);
    assert_eq!(cdb::read(0, 65536).opcode(), 0x88);
    assert_eq!(cdb::write(7, 8).opcode(), 0x2a);
    assert_eq!(cdb::write(1 << 40, 8).opcode(), 0x8a);
    assert_eq!(cdb::synchronize_cache(0, 0).opcode(), 0x35);
    assert_eq!(cdb::synchronize_cache(0, 1 << 16).opcode(), 0x91);
    assert!(cdb::fits_10(u64::from(u32::MAX), 65535));
    assert!(!cdb::fits_10(1 << 32, 0));
    assert_eq!(cdb::read(0, 1).direction(), Direction::Read);
    assert_eq!(cdb::write(0, 1).direction(), Direction::Write);
    assert_eq!(cdb::test_unit_ready().direction(), Direction::None);
    assert_eq!(cdb::synchronize_cache(0, 0).direction(), Direction::None);
    assert_eq!(cdb::inquiry(36).direction(), Direction::Read);
}

/// Standard INQUIRY laid out by hand like tgtd's defaults for a disk LU: vendor "IET",
/// product "VIRTUAL-DISK", revision "0001", VERSION 5 (SPC-3), response data format 2.
fn tgtd_like_inquiry() -> Vec<u8> {
    let mut d = vec![0x00, 0x00, 0x05, 0x02, 31, 0, 0, 0];
    d.extend_from_slice(b"IET     ");
    d.extend_from_slice(b"VIRTUAL-DISK    ");
    d.extend_from_slice(b"0001");
    d.extend_from_slice(&[0; 30]);
    d
}

#[test]
fn standard_inquiry() {
    let raw = tgtd_like_inquiry();
    let inq = StandardInquiry::parse(&raw).unwrap();
    assert_eq!(inq.peripheral_qualifier(), 0);
    assert_eq!(inq.device_type(), 0);
    assert!(!inq.removable());
    assert_eq!(inq.version(), 5);
    assert_eq!(inq.vendor(), b"IET");
    assert_eq!(inq.product_str(), Some("VIRTUAL-DISK"));
    assert_eq!(inq.revision_str(), Some("0001"));
    // No LU at this LUN: qualifier 3, type 0x1f.
    let mut absent = raw.clone();
    absent[0] = 0x7f;
    let inq = StandardInquiry::parse(&absent).unwrap();
    assert_eq!((inq.peripheral_qualifier(), inq.device_type()), (3, 0x1f));
    absent[8] = 0xff;
    assert_eq!(StandardInquiry::parse(&absent).unwrap().vendor_str(), None);
    assert_eq!(
        StandardInquiry::parse(&raw[..35]),
        Err(ParseError::Truncated { got: 35, need: 36 })
    );
}

#[test]
fn vpd_unit_serial_number() {
    let raw = [
        0x00, 0x80, 0x00, 0x08, b' ', b' ', b'b', b'e', b'a', b'f', b'1', b'1',
    ];
    let s = UnitSerialNumber::parse(&raw).unwrap();
    assert_eq!(s.serial_str(), Some("beaf11"));
    // PAGE LENGTH beyond what arrived: bounded by the buffer.
    let raw = [0x00, 0x80, 0x00, 0xff, b'x', b'y'];
    assert_eq!(UnitSerialNumber::parse(&raw).unwrap().serial(), b"xy");
    assert_eq!(
        UnitSerialNumber::parse(&[0x00, 0x83, 0, 0]),
        Err(ParseError::UnexpectedCode(0x83))
    );
    assert!(UnitSerialNumber::parse(&[0x00, 0x80, 0]).is_err());
}

#[test]
fn vpd_device_identification() {
    let mut raw = vec![0x00, 0x83, 0x00, 0x00];
    // NAA IEEE Registered Extended (binary, LU, type 3), 16 bytes.
    raw.extend_from_slice(&[0x01, 0x03, 0x00, 0x10]);
    raw.extend_from_slice(&[0x60, 0x00, 0x0e, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    // SCSI name string, iSCSI (protocol 5), UTF-8, PIV, target port association.
    let name = b"iqn.2026-01.test:t1,t,0x1\0\0\0";
    raw.extend_from_slice(&[0x53, 0x98, 0x00, name.len() as u8]);
    raw.extend_from_slice(name);
    let len = (raw.len() - 4) as u16;
    raw[2..4].copy_from_slice(&len.to_be_bytes());
    let d: Vec<_> = Designators::parse(&raw).unwrap().collect();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].designator_type, DesignatorType::Naa);
    assert_eq!(d[0].code_set, CodeSet::Binary);
    assert_eq!(d[0].association, Association::LogicalUnit);
    assert!(!d[0].piv);
    assert_eq!(d[0].value.len(), 16);
    assert_eq!(d[0].value[0] >> 4, 6);
    assert_eq!(d[1].designator_type, DesignatorType::ScsiNameString);
    assert_eq!(d[1].code_set, CodeSet::Utf8);
    assert_eq!(d[1].association, Association::TargetPort);
    assert!(d[1].piv);
    assert_eq!(d[1].protocol_id, 5);
    assert_eq!(d[1].value, name);
    // A truncated second descriptor ends the iteration.
    let cut = &raw[..raw.len() - 3];
    assert_eq!(Designators::parse(cut).unwrap().count(), 1);
}

#[test]
fn read_capacity() {
    // 0x3fffff + 1 blocks of 512 bytes = 2 GiB.
    let rc = ReadCapacity10::parse(&[0x00, 0x3f, 0xff, 0xff, 0x00, 0x00, 0x02, 0x00]).unwrap();
    assert_eq!(rc.block_count(), Some(0x40_0000));
    assert_eq!(rc.block_len, 512);
    assert!(!rc.needs_16());
    let big = ReadCapacity10::parse(&[0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x02, 0x00]).unwrap();
    assert!(big.needs_16());
    assert_eq!(big.block_count(), None);
    assert!(ReadCapacity10::parse(&[0; 7]).is_err());

    let mut d = [0u8; 32];
    d[..8].copy_from_slice(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
    d[8..12].copy_from_slice(&[0, 0, 0x02, 0x00]);
    d[13] = 0x03; // 8 logical blocks per physical block
    d[14] = 0x80; // LBPME
    let rc = ReadCapacity16::parse(&d).unwrap();
    assert_eq!(rc.last_lba, 0x1_ffff_ffff);
    assert_eq!(rc.block_count(), Some(0x2_0000_0000));
    assert_eq!(rc.capacity_bytes(), Some(0x2_0000_0000 * 512)); // 4 TiB
    assert_eq!(rc.logical_per_physical_exponent, 3);
    assert!(rc.thin_provisioned);
    assert!(!rc.protection_enabled);
    assert_eq!(rc.lowest_aligned_lba, 0);
    assert!(ReadCapacity16::parse(&d[..11]).is_err());
    assert!(ReadCapacity16::parse(&d[..12]).is_ok());
}

#[test]
fn report_luns() {
    let mut d = vec![0, 0, 0, 24, 0, 0, 0, 0];
    d.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    d.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    d.extend_from_slice(&[0x41, 0x2c, 0, 0, 0, 0, 0, 0]);
    let r = ReportLuns::parse(&d).unwrap();
    assert_eq!(r.total_count(), 3);
    assert!(!r.is_truncated());
    let luns: Vec<Lun> = r.iter().collect();
    assert_eq!(
        luns.iter().map(Lun::number).collect::<Vec<_>>(),
        [Some(0), Some(1), Some(300)]
    );
    // Allocation length too small: the header tells the real size.
    let mut cut = d[..20].to_vec();
    cut[3] = 64;
    let r = ReportLuns::parse(&cut).unwrap();
    assert!(r.is_truncated());
    assert_eq!(r.total_count(), 8);
    assert_eq!(r.iter().count(), 1);
    // LUN LIST LENGTH smaller than the buffer: only that many.
    let mut short = d.clone();
    short[3] = 8;
    assert_eq!(ReportLuns::parse(&short).unwrap().iter().count(), 1);
    assert!(ReportLuns::parse(&d[..7]).is_err());
}

#[test]
fn fixed_sense() {
    // NOT READY, LOGICAL UNIT IS IN PROCESS OF BECOMING READY (04/01).
    let raw = [
        0x70, 0, 0x02, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x04, 0x01, 0, 0, 0, 0,
    ];
    let s = Sense::parse(&raw).unwrap();
    assert_eq!(s.format, SenseFormat::Fixed);
    assert!(!s.deferred);
    assert_eq!((s.key, s.asc, s.ascq), (SenseKey::NotReady, 0x04, 0x01));
    assert!(s.is_not_ready());
    assert_eq!(s.retry(), Retry::AfterDelay);
    assert_eq!(s.information, None);

    // MEDIUM ERROR, UNRECOVERED READ ERROR (11/00), VALID, INFORMATION = failing LBA.
    let raw = [
        0xf0, 0, 0x03, 0x12, 0x34, 0x56, 0x78, 0x0a, 0, 0, 0, 0, 0x11, 0x00, 0, 0, 0, 0,
    ];
    let s = Sense::parse(&raw).unwrap();
    assert_eq!(s.key, SenseKey::MediumError);
    assert_eq!(s.information, Some(0x1234_5678));
    assert_eq!(s.retry(), Retry::No);

    // ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED (25/00), deferred format code 0x71.
    let raw = [
        0x71, 0, 0x05, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x25, 0x00, 0, 0, 0, 0,
    ];
    let s = Sense::parse(&raw).unwrap();
    assert!(s.deferred);
    assert!(s.is_lun_not_supported());

    // NOT READY, MEDIUM NOT PRESENT (3A/00): not retried.
    let raw = [0x70, 0, 0x02, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x3a, 0x00];
    let s = Sense::parse(&raw).unwrap();
    assert!(s.is_medium_not_present());
    assert!(!s.is_retryable());

    // Short sense: only the key; ADDITIONAL SENSE LENGTH hides bytes 12/13.
    let s = Sense::parse(&[0x70, 0, 0x06]).unwrap();
    assert_eq!((s.key, s.asc, s.ascq), (SenseKey::UnitAttention, 0, 0));
    let raw = [0x70, 0, 0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0x29, 0x00];
    assert_eq!(Sense::parse(&raw).unwrap().asc, 0);
}

#[test]
fn descriptor_sense() {
    // UNIT ATTENTION, CAPACITY DATA HAS CHANGED (2A/09).
    let s = Sense::parse(&[0x72, 0x06, 0x2a, 0x09, 0, 0, 0, 0]).unwrap();
    assert_eq!(s.format, SenseFormat::Descriptor);
    assert!(s.is_unit_attention() && s.is_capacity_changed());
    assert_eq!(s.retry(), Retry::Immediately);
    // REPORTED LUNS DATA HAS CHANGED (3F/0E).
    assert!(
        Sense::parse(&[0x72, 0x06, 0x3f, 0x0e])
            .unwrap()
            .is_reported_luns_changed()
    );
    // MEDIUM ERROR with an information descriptor (type 0, length 0x0a, VALID).
    let raw = [
        0x73, 0x03, 0x11, 0x00, 0, 0, 0, 0x0c, 0x00, 0x0a, 0x80, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x23, 0x45, 0x67, 0x89,
    ];
    let s = Sense::parse(&raw).unwrap();
    assert!(s.deferred);
    assert_eq!(s.information, Some(0x1_2345_6789));
    // ABORTED COMMAND is retried at once.
    assert_eq!(
        Sense::parse(&[0x72, 0x0b, 0x47, 0x00]).unwrap().retry(),
        Retry::Immediately
    );
}

#[test]
fn sense_errors() {
    assert_eq!(
        Sense::parse(&[]),
        Err(ParseError::Truncated { got: 0, need: 1 })
    );
    assert_eq!(
        Sense::parse(&[0x7f, 0, 0, 0]),
        Err(ParseError::UnexpectedCode(0x7f))
    );
    assert_eq!(
        Sense::parse(&[0x72, 0x06, 0x29]),
        Err(ParseError::Truncated { got: 3, need: 4 })
    );
    assert_eq!(
        Sense::parse(&[0x70, 0]),
        Err(ParseError::Truncated { got: 2, need: 3 })
    );
    assert_eq!(SenseKey::from_code(0x0c), SenseKey::Unknown(0x0c));
}

proptest! {
    #[test]
    fn read_write_cdbs_encode_lba_and_length(lba in any::<u64>(), blocks in any::<u32>(), write in any::<bool>()) {
        let c = if write { cdb::write(lba, blocks) } else { cdb::read(lba, blocks) };
        let b = c.as_bytes();
        if lba < (1 << 32) && blocks < (1 << 16) {
            prop_assert_eq!(b.len(), 10);
            prop_assert_eq!(b[0], if write { 0x2a } else { 0x28 });
            prop_assert_eq!(u64::from(u32::from_be_bytes(b[2..6].try_into().unwrap())), lba);
            prop_assert_eq!(u32::from(u16::from_be_bytes(b[7..9].try_into().unwrap())), blocks);
        } else {
            prop_assert_eq!(b.len(), 16);
            prop_assert_eq!(b[0], if write { 0x8a } else { 0x88 });
            prop_assert_eq!(u64::from_be_bytes(b[2..10].try_into().unwrap()), lba);
            prop_assert_eq!(u32::from_be_bytes(b[10..14].try_into().unwrap()), blocks);
        }
    }

    #[test]
    fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = StandardInquiry::parse(&data).map(|i| (i.vendor_str(), i.product(), i.revision()));
        let _ = UnitSerialNumber::parse(&data).map(|s| s.serial_str());
        if let Ok(d) = Designators::parse(&data) { for _ in d {} }
        let _ = ReadCapacity10::parse(&data).map(|r| r.block_count());
        let _ = ReadCapacity16::parse(&data).map(|r| r.capacity_bytes());
        if let Ok(r) = ReportLuns::parse(&data) { let _ = r.is_truncated(); for _ in r.iter() {} }
        let _ = Sense::parse(&data).map(|s| s.retry());
    }

    #[test]
    fn sense_codes_never_panic(code in prop_oneof![Just(0x70u8), Just(0x71), Just(0x72), Just(0x73), Just(0xf0)],
                               rest in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut data = vec![code];
        data.extend(rest);
        let _ = Sense::parse(&data);
    }

    #[test]
    fn vpd_pages_never_panic(page in prop_oneof![Just(0x80u8), Just(0x83)], rest in proptest::collection::vec(any::<u8>(), 0..128)) {
        let mut data = vec![0, page];
        data.extend(rest);
        if let Ok(d) = Designators::parse(&data) { for _ in d {} }
        let _ = UnitSerialNumber::parse(&data);
    }
}
