//! Root paths, libiscsi URLs, portals and SendTargets addresses from arbitrary text.
//!
//! Shared by the cargo-fuzz target and the stable corpus replay (`tests/tests/fuzz_replay.rs`).

use initiator::addr::{Host, Lun, Portal, TargetAddress, percent_decode};

/// Runs one fuzz input.
pub fn run(data: &[u8]) {
    let Ok(s) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(a) = TargetAddress::parse(s) {
        // Whatever parses must display and parse back to the same value.
        let shown = a.to_string();
        assert_eq!(
            TargetAddress::parse(&shown).map(|b| (b.host, b.port, b.lun, b.target_name)),
            Ok((a.host, a.port, a.lun, a.target_name))
        );
        let _ = a.url().to_string();
        if let Some(c) = a.credentials {
            let _ = percent_decode(c.password.unwrap_or(""), &mut [0u8; 64]);
        }
    }
    // The initiator reads IP literals with its own parser: it must agree with `core::net`.
    match (s.parse::<core::net::IpAddr>(), Host::parse(s)) {
        (Ok(ip), host) => assert_eq!(host, Ok(Host::Ip(ip))),
        (Err(_), Ok(Host::Ip(ip))) => panic!("{s:?} read as {ip}, core::net refuses it"),
        (Err(_), _) => {}
    }
    let _ = Portal::parse(s);
    let _ = Portal::parse_target_address(s);
    let _ = Lun::parse_root_path(s);
}
