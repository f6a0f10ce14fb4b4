//! Machine-readable forms of a decoded table and of findings (`--json`).

use ibft::{Finding, Table};
use serde_json::{Value, json};

fn text(b: &[u8]) -> String {
    b.iter().filter(|c| **c != 0).map(|c| *c as char).collect()
}

fn ip(a: Option<std::net::IpAddr>) -> Value {
    a.map_or(Value::Null, |a| Value::String(a.to_string()))
}

fn opt_str(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.into())
    }
}

/// The table as JSON; CHAP secrets appear only as their length.
pub fn table(t: &Table<'_>, problems: &[Finding]) -> Value {
    let h = t.header();
    let initiator = t.initiator().map(|i| {
        json!({
            "flags": i.flags, "index": i.index, "name": i.name,
            "isns": ip(i.isns), "slp": ip(i.slp), "radius": [ip(i.radius[0]), ip(i.radius[1])],
        })
    });
    let nics: Vec<Value> = t
        .nics()
        .map(|n| {
            let c = &n.config;
            json!({
                "slot": n.slot, "offset": n.offset, "index": n.index, "flags": n.flags,
                "mac": c.mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
                "pci": c.pci.map(|p| p.to_string()),
                "ip": ip(c.address.map(|a| a.addr)), "prefix": n.prefix,
                "origin": u8::from(c.origin), "gateway": ip(c.gateway),
                "dns": [ip(c.dns[0]), ip(c.dns[1])], "dhcp_server": ip(c.dhcp_server),
                "vlan": c.vlan, "hostname": c.hostname,
            })
        })
        .collect();
    let targets: Vec<Value> = t
        .targets()
        .map(|g| {
            json!({
                "slot": g.slot, "offset": g.offset, "index": g.index, "flags": g.flags,
                "ip": ip(g.address), "port": g.port, "lun": g.lun.to_string(),
                "lun_bytes": g.lun.0.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                "chap_type": u8::from(g.chap_type), "nic": g.nic, "name": g.name,
                "chap_name": opt_str(g.chap_name), "chap_secret_length": g.chap_secret.len(),
                "reverse_chap_name": opt_str(g.reverse_chap_name),
                "reverse_chap_secret_length": g.reverse_chap_secret.len(),
            })
        })
        .collect();
    json!({
        "header": {
            "signature": text(&h.signature), "length": h.length, "revision": h.revision,
            "checksum": h.checksum, "oem_id": text(&h.oem_id), "oem_table_id": text(&h.oem_table_id),
        },
        "control": { "flags": t.control_flags(), "slots": t.slot_pairs() },
        "initiator": initiator,
        "nics": nics,
        "targets": targets,
        "problems": findings(problems),
    })
}

/// Findings as a JSON array.
pub fn findings(f: &[Finding]) -> Value {
    f.iter()
        .map(|f| {
            json!({
                "code": f.code.as_str(), "severity": f.severity().to_string(),
                "where": f.slot.to_string(), "related": f.related.map(|r| r.to_string()),
                "field": f.field.map(|r| r.to_string()),
                "message": match &f.problem { Some(p) => p.to_string(), None => f.code.title().to_string() },
                "explanation": f.code.explanation(),
            })
        })
        .collect()
}
