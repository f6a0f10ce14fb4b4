//! The TOML description `iscsi-boot ibft build` reads, and its conversion into a table.

use std::net::IpAddr;

use ibft::{
    Builder, Chap, GatewayPolicy, IpCidr, Lun, NicConfig, Origin, PciAddress, TargetConfig,
};
use serde::Deserialize;

use super::root_path;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    table: TableSection,
    initiator: InitiatorSection,
    #[serde(default)]
    nic: Vec<NicSection>,
    #[serde(default)]
    target: Vec<TargetSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableSection {
    oem_id: Option<String>,
    oem_table_id: Option<String>,
    gateway_policy: Option<PolicyName>,
    compat_two_pairs: Option<bool>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum PolicyName {
    Keep,
    OmitWhenOnLink,
    TargetAsGateway,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InitiatorSection {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NicSection {
    mac: String,
    pci: Option<String>,
    ip: String,
    gateway: Option<String>,
    #[serde(default)]
    dns: Vec<String>,
    dhcp_server: Option<String>,
    #[serde(default)]
    vlan: u16,
    hostname: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetSection {
    nic: usize,
    root_path: String,
    chap: Option<ChapSection>,
    mutual_chap: Option<ChapSection>,
    boot: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChapSection {
    user: String,
    secret: String,
}

/// Parses the TOML text; the error names the line and the key (`nic[1].vlan`).
pub fn parse(text: &str) -> Result<Config, String> {
    toml::from_str(text).map_err(|e| {
        let msg = e.message().replace('\n', " ");
        let Some(span) = e.span() else {
            return msg;
        };
        let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
        match key_at(text, line_no) {
            Some(key) => format!("line {line_no}: key `{key}`: {msg}"),
            None => format!("line {line_no}: {msg}"),
        }
    })
}

/// The dotted key defined on line `line_no` (1-based), qualified by its table header.
fn key_at(text: &str, line_no: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let line = lines.get(line_no.checked_sub(1)?)?;
    // A table header (e.g. a missing field of `[initiator]`) names the table itself.
    let (key, upto) = match line.split_once('=') {
        Some((k, _)) => (k.trim(), line_no - 1),
        None if line.trim_start().starts_with('[') => ("", line_no),
        None => return None,
    };
    let mut section = String::new();
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    for l in &lines[..upto] {
        let l = l.trim();
        if let Some(name) = l
            .strip_prefix("[[")
            .and_then(|r| r.split_once("]]"))
            .map(|r| r.0.trim())
        {
            let n = counts.entry(name).or_default();
            section = format!("{name}[{n}].");
            *n += 1;
        } else if let Some(name) = l
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .map(|r| r.0.trim())
        {
            section = format!("{name}.");
        }
    }
    if key.is_empty() {
        return Some(section.trim_end_matches('.').to_string());
    }
    Some(format!("{section}{key}"))
}

fn ip(key: &str, s: &str) -> Result<IpAddr, String> {
    s.parse()
        .map_err(|_| format!("{key}: `{s}` is not an IP address"))
}

fn mac(key: &str, s: &str) -> Result<[u8; 6], String> {
    let bad = || format!("{key}: `{s}` is not a MAC address like 52:54:00:12:34:56");
    let mut out = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for b in &mut out {
        let p = parts.next().ok_or_else(bad)?;
        if p.len() != 2 {
            return Err(bad());
        }
        *b = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(out)
}

fn pci(key: &str, s: &str) -> Result<PciAddress, String> {
    let bad =
        || format!("{key}: `{s}` is not a PCI address like 00:03.0 (bus:device.function, hex)");
    let s2 = s.strip_prefix("0000:").unwrap_or(s);
    let (bus, rest) = s2.split_once(':').ok_or_else(bad)?;
    let (dev, func) = rest.split_once('.').ok_or_else(bad)?;
    let p = PciAddress {
        bus: u8::from_str_radix(bus, 16).map_err(|_| bad())?,
        device: u8::from_str_radix(dev, 16).map_err(|_| bad())?,
        function: u8::from_str_radix(func, 16).map_err(|_| bad())?,
    };
    if !p.is_valid() {
        return Err(bad());
    }
    Ok(p)
}

fn cidr(key: &str, s: &str) -> Result<IpCidr, String> {
    let (a, p) = s
        .split_once('/')
        .ok_or_else(|| format!("{key}: `{s}` needs a prefix length, like 10.0.2.15/24"))?;
    let c = IpCidr::new(
        ip(key, a)?,
        p.parse()
            .map_err(|_| format!("{key}: prefix `{p}` is not a number"))?,
    );
    if !c.is_valid() {
        return Err(format!(
            "{key}: prefix /{p} is out of range for this address"
        ));
    }
    Ok(c)
}

impl Config {
    /// Builds the table bytes.
    pub fn build(&self) -> Result<Vec<u8>, String> {
        let mut b: Builder<'_, 64> = Builder::new(&self.initiator.name);
        let t = &self.table;
        b.set_oem(
            t.oem_id.as_deref().unwrap_or("ISBOOT"),
            t.oem_table_id.as_deref().unwrap_or("ISCSIBT"),
        )
        .map_err(|_| "table.oem_id / table.oem_table_id: at most 6 / 8 characters".to_string())?;
        b.gateway_policy = match t.gateway_policy {
            Some(PolicyName::Keep) => GatewayPolicy::Keep,
            Some(PolicyName::TargetAsGateway) => GatewayPolicy::TargetAsGateway,
            Some(PolicyName::OmitWhenOnLink) | None => GatewayPolicy::OmitWhenOnLink,
        };
        b.compat_two_pairs = t.compat_two_pairs.unwrap_or(false);

        let mut handles = Vec::new();
        for (k, n) in self.nic.iter().enumerate() {
            let key = |f: &str| format!("nic[{k}].{f}");
            if n.dns.len() > 2 {
                return Err(format!("{}: at most two servers", key("dns")));
            }
            let mut dns = [None, None];
            for (slot, s) in dns.iter_mut().zip(&n.dns) {
                *slot = Some(ip(&key("dns"), s)?);
            }
            let dhcp_server = n
                .dhcp_server
                .as_deref()
                .map(|s| ip(&key("dhcp_server"), s))
                .transpose()?;
            let cfg = NicConfig {
                mac: mac(&key("mac"), &n.mac)?,
                pci: n.pci.as_deref().map(|s| pci(&key("pci"), s)).transpose()?,
                address: Some(cidr(&key("ip"), &n.ip)?),
                gateway: n
                    .gateway
                    .as_deref()
                    .map(|s| ip(&key("gateway"), s))
                    .transpose()?,
                dns,
                dhcp_server,
                origin: if dhcp_server.is_some() {
                    Origin::Dhcp
                } else {
                    Origin::Manual
                },
                vlan: n.vlan,
                hostname: n.hostname.as_deref(),
            };
            let h = b.add_nic(cfg).map_err(|e| format!("nic[{k}]: {e}"))?;
            handles.push(h);
        }
        if self.nic.is_empty() {
            return Err("no [[nic]]: a table needs at least one NIC".into());
        }
        if self.target.is_empty() {
            return Err("no [[target]]: a table needs at least one target".into());
        }
        for (k, t) in self.target.iter().enumerate() {
            let key = |f: &str| format!("target[{k}].{f}");
            let nic = *handles.get(t.nic).ok_or_else(|| {
                format!(
                    "{}: {} but there are only {} [[nic]] entries",
                    key("nic"),
                    t.nic,
                    handles.len()
                )
            })?;
            let rp =
                root_path::parse(&t.root_path).map_err(|e| format!("{}: {e}", key("root_path")))?;
            let mut cfg = TargetConfig::new(nic, rp.server, rp.target);
            cfg.port = rp.port;
            cfg.lun = Lun(rp.lun);
            cfg.chap = t.chap.as_ref().map(|c| Chap {
                user: &c.user,
                secret: &c.secret,
            });
            cfg.mutual_chap = t.mutual_chap.as_ref().map(|c| Chap {
                user: &c.user,
                secret: &c.secret,
            });
            cfg.boot = t.boot.unwrap_or(k == 0);
            b.add_target(cfg).map_err(|e| format!("target[{k}]: {e}"))?;
        }
        let len = b.buffer_len().map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; len];
        b.emit(&mut buf).map_err(|e| e.to_string())?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[initiator]
name = "iqn.2026-11.org.example:node1"
[[nic]]
mac = "52:54:00:12:34:01"
pci = "00:03.0"
ip = "10.0.2.15/24"
[[target]]
nic = 0
root_path = "iscsi:10.0.2.2::3260:1:iqn.2026-11.org.example:disk1"
"#;

    #[test]
    fn minimal_config_builds() {
        let bytes = parse(GOOD).unwrap().build().unwrap();
        let t = ibft::Table::parse(&bytes).unwrap();
        assert_eq!(t.targets().next().unwrap().lun.0, [0, 1, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse(&GOOD.replace("nic = 0", "nic = \"zero\"")).unwrap_err();
        assert!(e.contains("key `target[0].nic`"), "{e}");
        let e = parse(&GOOD.replace("ip = ", "vlan = -1\nip = ")).unwrap_err();
        assert!(e.contains("key `nic[0].vlan`"), "{e}");
        let e = parse(&GOOD.replace("name =", "nmae =")).unwrap_err();
        assert!(e.contains("nmae"), "{e}");
        let e = parse(&GOOD.replace("[initiator]\nname = \"iqn.2026-11.org.example:node1\"", ""))
            .unwrap_err();
        assert!(e.contains("initiator"), "{e}");
        let e = parse("[initiator]\n").unwrap_err();
        assert!(e.contains("key `initiator`") && e.contains("`name`"), "{e}");
        let e = parse(&GOOD.replace("[[target]]\nnic = 0\n", "[[target]]\n")).unwrap_err();
        assert!(e.contains("key `target[0]`") && e.contains("`nic`"), "{e}");
        let e = parse(&GOOD.replace("00:03.0", "zz"))
            .unwrap()
            .build()
            .unwrap_err();
        assert!(e.starts_with("nic[0].pci:"), "{e}");
        let e = parse(&GOOD.replace("10.0.2.15/24", "10.0.2.15"))
            .unwrap()
            .build()
            .unwrap_err();
        assert!(e.starts_with("nic[0].ip:"), "{e}");
        let e = parse(&GOOD.replace("nic = 0", "nic = 3"))
            .unwrap()
            .build()
            .unwrap_err();
        assert!(e.starts_with("target[0].nic:"), "{e}");
    }

    #[test]
    fn mac_and_pci_syntax() {
        assert_eq!(
            mac("k", "52-54-00-12-34-0A").unwrap(),
            [0x52, 0x54, 0, 0x12, 0x34, 0x0a]
        );
        assert!(mac("k", "52:54:00:12:34").is_err());
        assert!(mac("k", "52:54:00:12:34:56:78").is_err());
        assert_eq!(
            pci("k", "0000:01:1f.7").unwrap(),
            PciAddress {
                bus: 1,
                device: 31,
                function: 7
            }
        );
        assert!(pci("k", "00:20.0").is_err());
        assert!(pci("k", "00:03.8").is_err());
    }
}
