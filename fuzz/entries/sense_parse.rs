//! Sense data and the other SCSI response parsers on arbitrary bytes.
//!
//! Shared by the cargo-fuzz target and the stable corpus replay (`tests/tests/fuzz_replay.rs`).

use initiator::scsi::{
    Designators, ReadCapacity10, ReadCapacity16, ReportLuns, Sense, StandardInquiry,
    UnitSerialNumber,
};

/// Runs one fuzz input.
pub fn run(data: &[u8]) {
    if let Ok(s) = Sense::parse(data) {
        let _ = (s.retry(), s.is_unit_attention(), s.is_not_ready());
    }
    let _ = StandardInquiry::parse(data).map(|i| (i.vendor_str(), i.product_str()));
    let _ = UnitSerialNumber::parse(data).map(|s| s.serial_str());
    if let Ok(d) = Designators::parse(data) {
        for _ in d {}
    }
    let _ = ReadCapacity10::parse(data).map(|r| r.block_count());
    let _ = ReadCapacity16::parse(data).map(|r| r.capacity_bytes());
    if let Ok(r) = ReportLuns::parse(data) {
        for _ in r.iter() {}
    }
}
