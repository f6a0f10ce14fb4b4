//! What goes into a NIC record's gateway field, per `gateway-policy`.
//!
//! The Microsoft initiator adds a permanent route to each target through the NIC's gateway
//! (KB960104). When the target is on the port's own subnet and the gateway does not route back
//! to it, the boot dies at the hand-off. sanbootconf's workaround is `target-on-link`: one
//! on-link target → the gateway becomes the target's own address; several → no gateway.
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! use sanboot::config::GatewayPolicy;
//! use sanboot::gateway::ibft_gateway;
//! let ip = |d| IpAddr::V4(Ipv4Addr::new(10, 0, 3, d));
//! // Port 10.0.3.15/24, DHCP gateway 10.0.3.1, target 10.0.3.2 on-link.
//! let gw = ibft_gateway(GatewayPolicy::TargetOnLink, (ip(15), 24), Some(ip(1)), &[ip(2)]);
//! assert_eq!(gw, Some(ip(2)));
//! ```

use crate::config::GatewayPolicy;
use core::net::IpAddr;

/// Whether `other` is in the subnet `address/prefix`.
pub fn on_link(address: IpAddr, prefix: u8, other: IpAddr) -> bool {
    match (address, other) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let prefix = u32::from(prefix.min(32));
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let prefix = u32::from(prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The gateway to write for a port with `address/prefix` and DHCP `gateway`, given the
/// addresses of the targets reached through it.
pub fn ibft_gateway(
    policy: GatewayPolicy,
    (address, prefix): (IpAddr, u8),
    gateway: Option<IpAddr>,
    targets: &[IpAddr],
) -> Option<IpAddr> {
    let mut on_link_targets = targets.iter().filter(|&&t| on_link(address, prefix, t));
    let first = on_link_targets.next();
    let several = on_link_targets.next().is_some();
    match (policy, first, several) {
        (GatewayPolicy::Keep, _, _) | (_, None, _) => gateway,
        (GatewayPolicy::OmitOnLink, Some(_), _) => None,
        (GatewayPolicy::TargetOnLink, Some(&t), false) => Some(t),
        (GatewayPolicy::TargetOnLink, Some(_), true) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    #[test]
    fn on_link_by_prefix() {
        assert!(on_link(v4(10, 0, 3, 15), 24, v4(10, 0, 3, 2)));
        assert!(!on_link(v4(10, 0, 3, 15), 24, v4(10, 0, 4, 2)));
        assert!(on_link(v4(10, 0, 3, 15), 16, v4(10, 0, 4, 2)));
        assert!(on_link(v4(10, 0, 3, 15), 0, v4(192, 168, 1, 1)));
        assert!(!on_link(v4(10, 0, 3, 15), 32, v4(10, 0, 3, 16)));
        let a = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 3, 0, 0, 0, 15));
        let b = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 3, 0, 0, 0, 2));
        let c = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 4, 0, 0, 0, 2));
        assert!(on_link(a, 64, b));
        assert!(!on_link(a, 64, c));
        assert!(!on_link(a, 64, v4(10, 0, 3, 2)));
    }

    #[test]
    fn policies() {
        let port = (v4(10, 0, 3, 15), 24);
        let gw = Some(v4(10, 0, 3, 1));
        let near = v4(10, 0, 3, 2);
        let near2 = v4(10, 0, 3, 3);
        let far = v4(192, 168, 9, 9);
        use GatewayPolicy::*;
        assert_eq!(ibft_gateway(Keep, port, gw, &[near]), gw);
        assert_eq!(ibft_gateway(TargetOnLink, port, gw, &[near]), Some(near));
        assert_eq!(ibft_gateway(TargetOnLink, port, gw, &[near, near2]), None);
        assert_eq!(ibft_gateway(TargetOnLink, port, gw, &[far]), gw);
        assert_eq!(
            ibft_gateway(TargetOnLink, port, gw, &[far, near]),
            Some(near)
        );
        assert_eq!(ibft_gateway(OmitOnLink, port, gw, &[near]), None);
        assert_eq!(ibft_gateway(OmitOnLink, port, gw, &[far]), gw);
        assert_eq!(ibft_gateway(TargetOnLink, port, None, &[]), None);
    }
}
