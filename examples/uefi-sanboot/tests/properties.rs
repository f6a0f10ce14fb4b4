//! Properties of the configuration parsers: round trips, and typed errors (never panics) on
//! arbitrary input.

use proptest::prelude::*;
use sanboot::config::Config;
use sanboot::mac::Mac;
use sanboot::root_path::RootPath;
use std::net::Ipv4Addr;

proptest! {
    #[test]
    fn mac_display_parse_round_trip(bytes in any::<[u8; 6]>()) {
        let mac = Mac(bytes);
        prop_assert_eq!(mac.to_string().parse::<Mac>(), Ok(mac));
        prop_assert_eq!(mac.to_string().replace(':', "-").parse::<Mac>(), Ok(mac));
    }

    #[test]
    fn root_path_fields_survive_formatting(
        ip in any::<u32>(),
        port in 1u16..,
        lun in 0u64..0x4000,
        target in "[a-z0-9.:-]{1,40}",
    ) {
        let ip = Ipv4Addr::from(ip);
        // The LUN field as iPXE writes it: the first 16-bit SAM group in hex (peripheral
        // addressing below 256, flat space 0x4000 | n above).
        let group = if lun < 256 { lun } else { 0x4000 | lun };
        let text = format!("iscsi:{ip}:6:{port}:{group:x}:{target}");
        let rp = RootPath::parse(&text).unwrap();
        prop_assert_eq!(rp.server, std::net::IpAddr::V4(ip));
        prop_assert_eq!(rp.port, port);
        prop_assert_eq!(rp.lun, lun);
        prop_assert_eq!(rp.target, target.as_str());
    }

    #[test]
    fn parsers_never_panic(text in ".{0,200}") {
        let _ = Config::from_file(&text);
        let _ = Config::from_args(&text);
        let _ = RootPath::parse(&text);
        let _ = text.parse::<Mac>();
    }

    #[test]
    fn smbios_walk_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = sanboot::smbios::system_uuid(&bytes);
    }
}
