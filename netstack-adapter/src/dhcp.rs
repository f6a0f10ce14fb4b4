//! DHCPv4 lease → [`PortConfig`], including the options a sanboot needs.
//!
//! smoltcp's DHCP client does the protocol; this module only asks for the right options and
//! copies the answer out of the received packet.

use crate::config::{OptionString, PortConfig};
use crate::nic::{IpCidr, Origin, PciAddress};
use core::net::IpAddr;
use smoltcp::socket::dhcpv4;

/// DHCP option 12: host name.
pub const OPT_HOST_NAME: u8 = 12;
/// DHCP option 17: root path (RFC 2132 §3.19; RFC 4173 gives its iSCSI form).
pub const OPT_ROOT_PATH: u8 = 17;
/// DHCP option 61: client identifier.
pub const OPT_CLIENT_ID: u8 = 61;

/// The parameter request list (option 55) a sanboot sends: subnet mask (1), router (3),
/// DNS (6), host name (12), domain name (15), root path (17). Servers such as dnsmasq only
/// return options the client asked for.
pub const PARAMETER_REQUEST_LIST: &[u8] = &[1, 3, 6, OPT_HOST_NAME, 15, OPT_ROOT_PATH];

/// Size of the buffer that keeps the last DHCP packet, so options beyond smoltcp's own can be
/// read (an Ethernet-sized DHCP message fits).
pub const PACKET_BUFFER_LEN: usize = 1500;

/// The client identifier smoltcp's DHCP client sends (option 61): hardware type 1 (Ethernet,
/// RFC 2132 §9.14) followed by the MAC. smoltcp always sends this one, so it cannot be replaced
/// by another identifier (adding a second option 61 would be malformed).
///
/// ```
/// assert_eq!(netstack_adapter::dhcp::client_identifier([2, 0, 0, 0, 0, 9]), [1, 2, 0, 0, 0, 0, 9]);
/// ```
pub fn client_identifier(mac: [u8; 6]) -> [u8; 7] {
    let mut id = [1u8; 7];
    id[1..].copy_from_slice(&mac);
    id
}

/// What the port knows about itself apart from the lease.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PortIdentity {
    pub(crate) mac: [u8; 6],
    pub(crate) nic_mac: [u8; 6],
    pub(crate) pci: Option<PciAddress>,
    pub(crate) vlan: u16,
}

/// Builds the port's configuration from a lease.
pub(crate) fn lease_to_config(id: PortIdentity, lease: &dhcpv4::Config<'_>) -> PortConfig {
    let mut hostname = OptionString::new();
    let mut root_path = OptionString::new();
    if let Some(packet) = &lease.packet {
        for option in packet.options() {
            let target = match option.kind {
                OPT_HOST_NAME => &mut hostname,
                OPT_ROOT_PATH => &mut root_path,
                _ => continue,
            };
            copy_option_string(target, option.data);
        }
    }
    let mut dns = [None, None];
    for (slot, server) in dns.iter_mut().zip(lease.dns_servers.iter()) {
        *slot = Some(IpAddr::V4(*server));
    }
    PortConfig {
        mac: id.nic_mac,
        pci: id.pci,
        address: IpCidr {
            addr: IpAddr::V4(lease.address.address()),
            prefix: lease.address.prefix_len(),
        },
        gateway: lease.router.map(IpAddr::V4),
        dns,
        dhcp_server: Some(IpAddr::V4(lease.server.identifier)),
        origin: Origin::Dhcp,
        vlan: id.vlan,
        hostname,
        root_path,
        client_identifier: Some(client_identifier(id.mac)),
    }
}

/// Copies an option's text, dropping a trailing NUL some servers add; non-UTF-8 text is ignored.
fn copy_option_string(target: &mut OptionString, data: &[u8]) {
    let data = data.strip_suffix(&[0]).unwrap_or(data);
    target.clear();
    if let Ok(text) = core::str::from_utf8(data) {
        // At most 255 bytes by construction of a DHCP option, which is the capacity.
        let _ = target.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;
    use smoltcp::wire::{DhcpPacket, Ipv4Cidr};

    /// A DHCPACK written by hand from RFC 2131 §2 / RFC 2132: fixed header (236 bytes), magic
    /// cookie, then options 53 (ACK), 54, 12 "node1", 17 "iscsi:10.1.0.1::3260:0:iqn.x", 255.
    fn ack() -> [u8; 300] {
        let mut p = [0u8; 300];
        p[0] = 2; // op BOOTREPLY
        p[1] = 1; // htype Ethernet
        p[2] = 6; // hlen
        p[16..20].copy_from_slice(&[10, 1, 0, 50]); // yiaddr
        p[236..240].copy_from_slice(&[99, 130, 83, 99]); // magic cookie
        let opts: &[u8] = &[
            53, 1, 5, // DHCPACK
            54, 4, 10, 1, 0, 1, // server id
            12, 5, b'n', b'o', b'd', b'e', b'1', // host name
            17, 28, b'i', b's', b'c', b's', b'i', b':', b'1', b'0', b'.', b'1', b'.', b'0', b'.',
            b'1', b':', b':', b'3', b'2', b'6', b'0', b':', b'0', b':', b'i', b'q', b'n', b'.',
            b'x', // root path
            255,
        ];
        p[240..240 + opts.len()].copy_from_slice(opts);
        p
    }

    #[test]
    fn options_come_out_of_the_packet() {
        let bytes = ack();
        let lease = dhcpv4::Config {
            server: dhcpv4::ServerInfo {
                address: Ipv4Addr::new(10, 1, 0, 1),
                identifier: Ipv4Addr::new(10, 1, 0, 1),
            },
            address: Ipv4Cidr::new(Ipv4Addr::new(10, 1, 0, 50), 24),
            router: None,
            dns_servers: heapless::Vec::new(),
            packet: Some(DhcpPacket::new_checked(&bytes[..]).unwrap()),
        };
        let id = PortIdentity {
            mac: [2, 0, 0, 0, 0, 9],
            nic_mac: [2, 0, 0, 0, 0, 9],
            pci: None,
            vlan: 0,
        };
        let cfg = lease_to_config(id, &lease);
        assert_eq!(cfg.hostname.as_str(), "node1");
        assert_eq!(cfg.root_path(), Some("iscsi:10.1.0.1::3260:0:iqn.x"));
        assert_eq!(cfg.origin, Origin::Dhcp);
        assert_eq!(
            cfg.dhcp_server,
            Some(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1)))
        );
        assert_eq!(cfg.client_identifier, Some([1, 2, 0, 0, 0, 0, 9]));
    }

    proptest::proptest! {
        /// Any packet smoltcp accepts yields a configuration without panicking, and text
        /// options come through unchanged when they are UTF-8 without a trailing NUL.
        #[test]
        fn any_packet_any_option(
            options in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            name in "[a-z0-9.-]{1,60}",
        ) {
            let mut bytes = ack().to_vec();
            bytes.truncate(240);
            bytes.extend_from_slice(&options);
            if let Ok(packet) = DhcpPacket::new_checked(&bytes[..]) {
                let lease = dhcpv4::Config {
                    server: dhcpv4::ServerInfo {
                        address: Ipv4Addr::new(10, 1, 0, 1),
                        identifier: Ipv4Addr::new(10, 1, 0, 1),
                    },
                    address: Ipv4Cidr::new(Ipv4Addr::new(10, 1, 0, 50), 24),
                    router: None,
                    dns_servers: heapless::Vec::new(),
                    packet: Some(packet),
                };
                let id = PortIdentity { mac: [2, 0, 0, 0, 0, 9], nic_mac: [2, 0, 0, 0, 0, 9], pci: None, vlan: 0 };
                let _ = lease_to_config(id, &lease);
            }
            let mut s = OptionString::new();
            copy_option_string(&mut s, name.as_bytes());
            proptest::prop_assert_eq!(s.as_str(), name.as_str());
        }
    }

    #[test]
    fn trailing_nul_and_bad_utf8() {
        let mut s = OptionString::new();
        copy_option_string(&mut s, b"abc\0");
        assert_eq!(s.as_str(), "abc");
        copy_option_string(&mut s, &[0xff, 0xfe]);
        assert_eq!(s.as_str(), "");
    }
}
