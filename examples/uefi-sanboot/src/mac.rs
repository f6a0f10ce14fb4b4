//! Ethernet MAC addresses as written in the configuration (`52:54:00:12:34:56` or `52-54-…`).
//!
//! ```
//! use sanboot::mac::Mac;
//! let mac: Mac = "52:54:00:AB:cd:01".parse().unwrap();
//! assert_eq!(mac, Mac([0x52, 0x54, 0x00, 0xab, 0xcd, 0x01]));
//! assert_eq!(mac.to_string(), "52:54:00:ab:cd:01");
//! ```

/// A 48-bit Ethernet MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mac(pub [u8; 6]);

/// Why a MAC address did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacError {
    /// Not six groups separated by `:` or `-`.
    Groups,
    /// A group is not two hexadecimal digits.
    Digit,
}

impl core::fmt::Display for MacError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Groups => "MAC address needs six groups separated by ':' or '-'",
            Self::Digit => "MAC address group is not two hex digits",
        })
    }
}

impl core::error::Error for MacError {}

impl core::str::FromStr for Mac {
    type Err = MacError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut groups = text.split([':', '-']);
        for byte in &mut out {
            let group = groups.next().ok_or(MacError::Groups)?;
            if group.len() != 2 || !group.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(MacError::Digit);
            }
            *byte = u8::from_str_radix(group, 16).map_err(|_| MacError::Digit)?;
        }
        if groups.next().is_some() {
            return Err(MacError::Groups);
        }
        Ok(Self(out))
    }
}

impl core::fmt::Display for Mac {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_separators() {
        let want = Mac([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!("52:54:00:12:34:56".parse::<Mac>(), Ok(want));
        assert_eq!("52-54-00-12-34-56".parse::<Mac>(), Ok(want));
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!("52:54:00:12:34".parse::<Mac>(), Err(MacError::Groups));
        assert_eq!("52:54:00:12:34:56:78".parse::<Mac>(), Err(MacError::Groups));
        assert_eq!("52:54:00:12:34:5".parse::<Mac>(), Err(MacError::Digit));
        assert_eq!("52:54:00:12:34:+5".parse::<Mac>(), Err(MacError::Digit));
        assert_eq!("".parse::<Mac>(), Err(MacError::Digit));
    }
}
