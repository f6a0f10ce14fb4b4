//! Human-readable dump of a decoded table (`core::fmt`, so firmware can print it too).

use core::fmt;
use core::net::IpAddr;

use crate::parse::{Table, flags};

/// Bytes shown as text when printable, `\xNN` otherwise.
struct Ascii<'a>(&'a [u8]);

impl fmt::Display for Ascii<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0 {
            if b.is_ascii_graphic() || b == b' ' {
                fmt::Write::write_char(f, char::from(b))?;
            } else if b == 0 {
                // Zero padding of OEM ids.
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

struct Ip(Option<IpAddr>);

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("-"),
        }
    }
}

/// The flags of a structure, named.
pub(crate) struct Flags(pub u8, pub bool);

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#04x}", self.0)?;
        if self.0 & flags::VALID != 0 {
            f.write_str(" valid")?;
        }
        if self.0 & flags::BOOT_SELECTED != 0 {
            f.write_str(" boot-selected")?;
        }
        if self.1 && self.0 & flags::GLOBAL != 0 {
            f.write_str(" global")?;
        }
        Ok(())
    }
}

/// A secret is shown only by its length.
struct Secret<'a>(&'a str);

impl fmt::Display for Secret<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("-")
        } else {
            write!(f, "({} chars)", self.0.chars().count())
        }
    }
}

fn mac(f: &mut fmt::Formatter<'_>, m: [u8; 6]) -> fmt::Result {
    fmt::Display::fmt(&HexBytes(&m), f)
}

/// Bytes as lower-case hex pairs joined by `:` (`52:54:00:12:34:56`), for MAC addresses and
/// signatures in messages. Written by hand: `{:02x?}` on an array pulls in `Debug` list
/// formatting, about 1 KB in a firmware image.
pub(crate) struct HexBytes<'a>(pub(crate) &'a [u8]);

impl fmt::Display for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for (i, &b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            let pair = [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]];
            // Both bytes are ASCII digits, so the pair is valid UTF-8.
            f.write_str(core::str::from_utf8(&pair).unwrap_or("??"))?;
        }
        Ok(())
    }
}

impl fmt::Display for Table<'_> {
    /// A multi-line dump; CHAP secrets are shown by length only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.header();
        writeln!(
            f,
            "{} length {} revision {} checksum {:#04x} oem \"{}\" \"{}\"",
            Ascii(&h.signature),
            h.length,
            h.revision,
            h.checksum,
            Ascii(&h.oem_id),
            Ascii(&h.oem_table_id)
        )?;
        writeln!(
            f,
            "control flags {:#04x} slots {}",
            self.control_flags(),
            self.slot_pairs()
        )?;
        if let Some(i) = self.initiator() {
            writeln!(
                f,
                "initiator flags {} name {}",
                Flags(i.flags, false),
                i.name
            )?;
            if i.isns.is_some() || i.slp.is_some() || i.radius.iter().any(Option::is_some) {
                writeln!(
                    f,
                    "  isns {} slp {} radius {} {}",
                    Ip(i.isns),
                    Ip(i.slp),
                    Ip(i.radius[0]),
                    Ip(i.radius[1])
                )?;
            }
        }
        for n in self.nics() {
            let c = &n.config;
            writeln!(
                f,
                "nic{} @{:#x} index {} flags {}",
                n.slot,
                n.offset,
                n.index,
                Flags(n.flags, true)
            )?;
            f.write_str("  mac ")?;
            mac(f, c.mac)?;
            match c.pci {
                Some(p) => write!(f, " pci {p}")?,
                None => f.write_str(" pci -")?,
            }
            writeln!(f, " vlan {} hostname {}", c.vlan, c.hostname.unwrap_or("-"))?;
            writeln!(
                f,
                "  ip {}/{} origin {} gateway {} dns {} {} dhcp {}",
                Ip(c.address.map(|a| a.addr)),
                n.prefix,
                c.origin,
                Ip(c.gateway),
                Ip(c.dns[0]),
                Ip(c.dns[1]),
                Ip(c.dhcp_server)
            )?;
        }
        for t in self.targets() {
            writeln!(
                f,
                "target{} @{:#x} index {} flags {}",
                t.slot,
                t.offset,
                t.index,
                Flags(t.flags, false)
            )?;
            writeln!(f, "  name {}", t.name)?;
            writeln!(
                f,
                "  address {} port {} lun {} nic {}",
                Ip(t.address),
                t.port,
                t.lun,
                t.nic
            )?;
            writeln!(
                f,
                "  chap type {} name {} secret {} reverse name {} secret {}",
                u8::from(t.chap_type),
                if t.chap_name.is_empty() {
                    "-"
                } else {
                    t.chap_name
                },
                Secret(t.chap_secret),
                if t.reverse_chap_name.is_empty() {
                    "-"
                } else {
                    t.reverse_chap_name
                },
                Secret(t.reverse_chap_secret)
            )?;
        }
        Ok(())
    }
}
