//! Builds the iBFT from the configuration and the ports as they were actually configured.
//!
//! Every NIC record is one port's own [`ibft::NicConfig`] (MAC, PCI, addresses), taken whole;
//! `ibft-nics` decides which ports are listed; every target is tied to the SAN port's record,
//! the port that carries the session.
//!
//! ```
//! use ibft::NicConfig;
//! use sanboot::config::Config;
//! use sanboot::ibft_table::build;
//! let cfg = Config::from_file(
//!     "root-path = iscsi:10.0.3.2::::iqn.2026-11.org.example:disk\nibft-nics = all\n",
//! ).unwrap();
//! let ports = [
//!     NicConfig { mac: [2, 0, 0, 0, 0, 1], ..Default::default() },
//!     NicConfig { mac: [2, 0, 0, 0, 0, 2], ..Default::default() },
//! ];
//! let mut buf = [0u8; 1024];
//! let built = build(&cfg, "iqn.2026-11.org.example:host", &ports, 1, 0, &mut buf).unwrap();
//! let table = ibft::Table::parse(&buf[..built.len]).unwrap();
//! assert_eq!(table.nics().count(), 2);
//! assert_eq!(table.targets().next().unwrap().nic, 1);
//! ```

use crate::config::{Config, IbftNics};
use ibft::{Builder, Chap, Lun, NicConfig, TargetConfig};

/// Why no table was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableError {
    /// The SAN port index is not one of the ports.
    SanPort,
    /// The configuration has no root path.
    NoTarget,
    /// The booted target index is not one of the root paths.
    BootTarget,
    /// The builder refused the contents (duplicate MAC/PCI, string too long, buffer too small…).
    Build(ibft::BuildError),
}

impl core::fmt::Display for TableError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::SanPort => f.write_str("the SAN port is not among the ports"),
            Self::NoTarget => f.write_str("no root-path"),
            Self::BootTarget => f.write_str("the booted target is not among the root paths"),
            Self::Build(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for TableError {}

impl From<ibft::BuildError> for TableError {
    fn from(e: ibft::BuildError) -> Self {
        Self::Build(e)
    }
}

/// What was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Built {
    /// The table's length in bytes (the start of the buffer).
    pub len: usize,
    /// The NIC record index of the SAN port.
    pub san_record: u8,
}

/// Builds the table into `buf`. `ports` are all the machine's ports in firmware order, each
/// exactly as configured; `san_port` indexes the one carrying the session; `boot_target`
/// indexes the root path that was logged in to (0 = primary), whose record is boot-selected.
pub fn build(
    cfg: &Config<'_>,
    initiator_name: &str,
    ports: &[NicConfig<'_>],
    san_port: usize,
    boot_target: usize,
    buf: &mut [u8],
) -> Result<Built, TableError> {
    let san = ports.get(san_port).ok_or(TableError::SanPort)?;
    let mut builder: Builder<'_> = Builder::new(initiator_name);
    builder.gateway_policy = cfg.gateway_policy;
    let san_handle = match cfg.ibft_nics {
        IbftNics::San => builder.add_nic(*san)?,
        IbftNics::All => {
            let mut san_handle = None;
            for (i, port) in ports.iter().enumerate() {
                let handle = builder.add_nic(*port)?;
                if i == san_port {
                    san_handle = Some(handle);
                }
            }
            san_handle.ok_or(TableError::SanPort)?
        }
    };
    let chap = cfg.chap.secret.map(|secret| Chap {
        user: cfg.chap.user.unwrap_or(initiator_name),
        secret,
    });
    let mut any = false;
    for (i, rp) in cfg.root_paths().enumerate() {
        let mut target = TargetConfig::new(san_handle, rp.server, rp.target);
        target.port = rp.port;
        target.lun = Lun(rp.sam_lun());
        target.chap = chap;
        target.mutual_chap = cfg.mutual_chap.secret.map(|secret| Chap {
            user: cfg.mutual_chap.user.unwrap_or(rp.target),
            secret,
        });
        target.boot = i == boot_target;
        builder.add_target(target)?;
        any = true;
    }
    if !any {
        return Err(TableError::NoTarget);
    }
    if boot_target >= cfg.root_paths().count() {
        return Err(TableError::BootTarget);
    }
    let len = builder.emit(buf)?;
    Ok(Built {
        len,
        san_record: san_handle.index(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{IpAddr, Ipv4Addr};
    use ibft::{IpCidr, Origin, PciAddress, Table};

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    /// The report's machine: port 0 on the LAN, port 1 on the SAN network.
    fn ports() -> [NicConfig<'static>; 2] {
        [
            NicConfig {
                mac: [0x52, 0x54, 0, 0, 0, 1],
                pci: Some(PciAddress {
                    bus: 0,
                    device: 8,
                    function: 0,
                }),
                address: Some(IpCidr::new(v4(10, 0, 2, 15), 24)),
                gateway: Some(v4(10, 0, 2, 2)),
                dhcp_server: Some(v4(10, 0, 2, 2)),
                origin: Origin::Dhcp,
                ..Default::default()
            },
            NicConfig {
                mac: [0x52, 0x54, 0, 0, 0, 2],
                pci: Some(PciAddress {
                    bus: 0,
                    device: 9,
                    function: 0,
                }),
                address: Some(IpCidr::new(v4(10, 0, 3, 15), 24)),
                gateway: Some(v4(10, 0, 3, 1)),
                dhcp_server: Some(v4(10, 0, 3, 2)),
                origin: Origin::Dhcp,
                ..Default::default()
            },
        ]
    }

    const CONF: &str = "root-path = iscsi:10.0.3.2::3261:1:iqn.2026-11.org.example:disk\n\
                        chap-user = host\nchap-secret = twelve-chars!\n";

    #[test]
    fn san_only_lists_the_san_port_with_its_own_values() {
        let cfg = Config::from_file(CONF).unwrap();
        let mut buf = [0u8; 2048];
        let built = build(&cfg, "iqn.i", &ports(), 1, 0, &mut buf).unwrap();
        assert_eq!(built.san_record, 0);
        let t = Table::parse(&buf[..built.len]).unwrap();
        let nics: Vec<_> = t.nics().collect();
        assert_eq!(nics.len(), 1);
        assert_eq!(nics[0].config.mac, [0x52, 0x54, 0, 0, 0, 2]);
        assert_eq!(
            nics[0].config.address,
            Some(IpCidr::new(v4(10, 0, 3, 15), 24))
        );
        // Default policy: the target is on-link, so no gateway (KB960104).
        assert_eq!(nics[0].config.gateway, None);
        let target = t.targets().next().unwrap();
        assert_eq!(target.nic, 0);
        assert_eq!(target.port, 3261);
        assert_eq!(target.lun, Lun([0, 1, 0, 0, 0, 0, 0, 0]));
        assert_eq!(target.name, "iqn.2026-11.org.example:disk");
        assert_eq!(target.chap_type, ibft::ChapType::Chap);
        assert_eq!(
            (target.chap_name, target.chap_secret),
            ("host", "twelve-chars!")
        );
    }

    #[test]
    fn all_lists_every_port_and_ties_the_target_to_the_san_port() {
        let text = format!(
            "{CONF}ibft-nics = all\ngateway-policy = keep\n\
             root-path = iscsi:10.0.3.3::::iqn.2026-11.org.example:mirror\n"
        );
        let cfg = Config::from_file(&text).unwrap();
        let mut buf = [0u8; 2048];
        let built = build(&cfg, "iqn.i", &ports(), 1, 0, &mut buf).unwrap();
        assert_eq!(built.san_record, 1);
        let t = Table::parse(&buf[..built.len]).unwrap();
        let nics: Vec<_> = t.nics().collect();
        assert_eq!(nics.len(), 2);
        assert_eq!(nics[0].config, ports()[0]);
        assert_eq!(nics[1].config.gateway, Some(v4(10, 0, 3, 1)), "keep");
        let targets: Vec<_> = t.targets().collect();
        assert_eq!(targets.len(), 2);
        assert!(targets.iter().all(|t| t.nic == 1));
        assert_eq!(targets[1].name, "iqn.2026-11.org.example:mirror");
        assert_ne!(targets[0].flags & ibft::flags::BOOT_SELECTED, 0);
        assert_eq!(targets[1].flags & ibft::flags::BOOT_SELECTED, 0);

        // Booted from the secondary after the primary failed: only it is boot-selected.
        let built = build(&cfg, "iqn.i", &ports(), 1, 1, &mut buf).unwrap();
        let t = Table::parse(&buf[..built.len]).unwrap();
        let targets: Vec<_> = t.targets().collect();
        assert_eq!(targets[0].flags & ibft::flags::BOOT_SELECTED, 0);
        assert_ne!(targets[1].flags & ibft::flags::BOOT_SELECTED, 0);
        assert_eq!(
            build(&cfg, "iqn.i", &ports(), 1, 2, &mut buf),
            Err(TableError::BootTarget)
        );
    }

    #[test]
    fn errors() {
        let cfg = Config::from_file(CONF).unwrap();
        let mut buf = [0u8; 2048];
        assert_eq!(
            build(&cfg, "iqn.i", &ports(), 2, 0, &mut buf),
            Err(TableError::SanPort)
        );
        let empty = Config::from_file("").unwrap();
        assert_eq!(
            build(&empty, "iqn.i", &ports(), 0, 0, &mut buf),
            Err(TableError::NoTarget)
        );
        let same_mac = [ports()[0], ports()[0]];
        let text = format!("{CONF}ibft-nics = all\n");
        let all = Config::from_file(&text).unwrap();
        assert!(matches!(
            build(&all, "iqn.i", &same_mac, 0, 0, &mut buf),
            Err(TableError::Build(_))
        ));
        assert!(matches!(
            build(&cfg, "iqn.i", &ports(), 0, 0, &mut buf[..100]),
            Err(TableError::Build(_))
        ));
    }
}
