//! IP address literals: the forms `core::net`'s `FromStr` accepts (dotted-quad IPv4 without
//! leading zeros; IPv6 groups of one to four hex digits, one `::`, a dotted IPv4 tail), read by a
//! routine a fraction of the size of `core::net`'s parser, which is about 3 KB of a firmware
//! image. The tests hold the two to the same answers.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses an IPv4 or IPv6 literal (no brackets, no zone), as `s.parse::<IpAddr>()` does.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    match parse_v4(s.as_bytes()) {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => parse_v6(s).map(IpAddr::V6),
    }
}

/// Parses a dotted-quad IPv4 literal: four decimal octets, none with a leading zero.
fn parse_v4(s: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split(|&b| b == b'.');
    for octet in &mut octets {
        *octet = parse_octet(parts.next()?)?;
    }
    match parts.next() {
        None => Some(Ipv4Addr::from(octets)),
        Some(_) => None,
    }
}

fn parse_octet(digits: &[u8]) -> Option<u8> {
    if digits.is_empty() || digits.len() > 3 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    let mut value = 0u16;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u16::from(d - b'0');
    }
    u8::try_from(value).ok()
}

/// Parses an IPv6 literal (RFC 4291 §2.2).
pub(crate) fn parse_v6(s: &str) -> Option<Ipv6Addr> {
    let s = s.as_bytes();
    let mut groups = [0u16; 8];
    // A byte scan rather than `str::split_once("::")`, whose substring searcher is 0.7 KB.
    match s.windows(2).position(|pair| pair == b"::") {
        None => {
            (read_groups(s, &mut groups)? == 8).then_some(())?;
        }
        Some(at) => {
            let (head, tail) = (&s[..at], &s[at + 2..]);
            let in_head = read_groups(head, &mut groups[..7])?;
            // A dotted IPv4 part may only end the address.
            if head.contains(&b'.') {
                return None;
            }
            // `::` stands for at least one zero group.
            let mut back = [0u16; 7];
            let in_tail = read_groups(tail, &mut back[..7 - in_head])?;
            groups[8 - in_tail..].copy_from_slice(&back[..in_tail]);
        }
    }
    Some(Ipv6Addr::from(groups))
}

/// Reads `:`-separated hex groups, the last of which may be a dotted IPv4 address (two groups),
/// into `out`; returns how many it filled. Empty text is no groups.
fn read_groups(s: &[u8], out: &mut [u16]) -> Option<usize> {
    if s.is_empty() {
        return Some(0);
    }
    let mut filled = 0;
    let mut parts = s.split(|&b| b == b':').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() && part.contains(&b'.') {
            let [a, b, c, d] = parse_v4(part)?.octets();
            let pair = out.get_mut(filled..filled + 2)?;
            pair.copy_from_slice(&[u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])]);
            return Some(filled + 2);
        }
        *out.get_mut(filled)? = parse_group(part)?;
        filled += 1;
    }
    Some(filled)
}

fn parse_group(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 4 {
        return None;
    }
    let mut value = 0u16;
    for &d in digits {
        let nibble = char::from(d).to_digit(16)?;
        value = (value << 4) | nibble as u16;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use proptest::prelude::*;

    /// What `core::net` makes of `s`, the reference.
    fn reference(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn hand_written_cases() {
        for s in [
            "0.0.0.0",
            "10.0.3.2",
            "255.255.255.255",
            "256.0.0.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "",
            "::",
            ":::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7::",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7",
            "::1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7",
            "fe80::1",
            "FE80::ABCD:1",
            "1::2::3",
            "12345::",
            "0000:0000::",
            "::ffff:10.0.3.2",
            "::10.0.3.2",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1:2:3:4:5::1.2.3.4",
            "1:2:3:4:5:6::1.2.3.4",
            "1.2.3.4::",
            "1.2.3.4::1",
            "::1.2.3.4:1",
            "::1.2.3.04",
            "+1::",
            "1:+2::",
            "[::1]",
            "fe80::1%eth0",
        ] {
            assert_eq!(parse_ip(s), reference(s), "{s:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// Text built from the characters of IP literals: accepted exactly when `core::net`
        /// accepts it, as the same address.
        #[test]
        fn agrees_with_core_on_ip_like_text(s in "[0-9a-fA-F:.]{0,24}") {
            prop_assert_eq!(parse_ip(&s), reference(&s));
        }

        /// Text shaped like IPv6 with `::` and an IPv4 tail.
        #[test]
        fn agrees_with_core_on_ipv6_shapes(
            head in proptest::collection::vec("[0-9a-f]{0,5}", 0..9),
            compressed in any::<bool>(),
            tail in proptest::collection::vec("[0-9a-f]{0,5}", 0..9),
            v4 in proptest::option::of((0u16..300, 0u16..300, 0u16..300, 0u16..300)),
        ) {
            let mut s = head.join(":");
            if compressed {
                s.push_str("::");
                s.push_str(&tail.join(":"));
            }
            if let Some((a, b, c, d)) = v4 {
                if !s.is_empty() && !s.ends_with(':') {
                    s.push(':');
                }
                s.push_str(&std::format!("{a}.{b}.{c}.{d}"));
            }
            prop_assert_eq!(parse_ip(&s), reference(&s));
        }

        /// Every address, written by `core::net`, reads back.
        #[test]
        fn reads_what_core_writes(
            v4 in any::<u32>(),
            v6 in any::<u128>(),
            start in 0u32..8,
            len in 0u32..=8,
        ) {
            // A run of zero groups, so that `::` turns up anywhere.
            let run = (start..(start + len).min(8)).fold(0u128, |m, g| m | 0xffff << (16 * g));
            let v6 = v6 & !run;
            let v4 = IpAddr::V4(Ipv4Addr::from(v4));
            let v6 = IpAddr::V6(Ipv6Addr::from(v6));
            prop_assert_eq!(parse_ip(&std::format!("{v4}")), Some(v4));
            prop_assert_eq!(parse_ip(&std::format!("{v6}")), Some(v6));
        }
    }
}
