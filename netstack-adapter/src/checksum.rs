//! Receive-side checksum checks (IPv4 header, TCP and UDP over IPv4 and IPv6) done eight bytes at
//! a time, for devices that hand smoltcp frames it then need not verify again.
//!
//! smoltcp sums 16 bits per step; summing 64-bit words takes about a quarter of the steps. On a
//! boot path where the CPU is slow or emulated that shows: reading 64 MiB through
//! `uefi-sanboot` under QEMU/TCG cost QEMU less CPU time in each of 6 alternating pairs of runs
//! (median about 3.0 s → 2.9 s; the frames themselves, one queue notification and one pass
//! through QEMU's network code each, are most of the rest).
//!
//! ```
//! use netstack_adapter::checksum::ones_complement_sum;
//! // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to 0xddf2.
//! assert_eq!(ones_complement_sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0xddf2);
//! ```

/// The 16-bit one's complement sum (RFC 1071) of `data` as big-endian words, an odd last byte
/// padded with zero. Not complemented: a block holding its own correct checksum sums to 0xffff.
pub fn ones_complement_sum(data: &[u8]) -> u16 {
    fold(sum_le(data)).swap_bytes()
}

/// The sum of `data` read as little-endian 16-bit words, not folded. One's complement sums do
/// not depend on byte order (RFC 1071 §2 B): the big-endian sum is this one, folded, with its
/// bytes swapped. Eight bytes per step: the two 32-bit halves of each word go into a 64-bit
/// accumulator, which cannot overflow for any slice shorter than 2^32 words.
fn sum_le(data: &[u8]) -> u64 {
    let mut acc = 0u64;
    let mut words = data.chunks_exact(8);
    for word in words.by_ref() {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let w = u64::from_le_bytes(w);
        acc += (w & 0xffff_ffff) + (w >> 32);
    }
    let mut pairs = words.remainder().chunks_exact(2);
    for pair in pairs.by_ref() {
        acc += u64::from(u16::from_le_bytes([pair[0], pair[1]]));
    }
    if let [last] = pairs.remainder() {
        acc += u64::from(*last);
    }
    acc
}

/// Folds a wide sum to 16 bits with end-around carry.
fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// A big-endian 16-bit value in the little-endian summing of [`sum_le`].
fn be16(value: u16) -> u64 {
    u64::from(value.swap_bytes())
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
/// IPv6 extension headers that chain with (next header, length in 8-octet units − 1).
const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_DESTINATION: u8 = 60;
/// At most this many IPv6 extension headers are walked.
const MAX_IPV6_EXTENSIONS: usize = 4;

/// Whether an Ethernet II frame's IPv4 header checksum and its TCP or UDP checksum (IPv4 or
/// IPv6) are right. Frames of other types, other IP protocols (ICMP: smoltcp still checks those)
/// and IPv4 fragments pass unchecked; a frame too short for the lengths it declares fails.
///
/// ```
/// use netstack_adapter::checksum::frame_checksums_ok;
/// // An ARP frame is not checked here.
/// let mut arp = [0u8; 42];
/// arp[12..14].copy_from_slice(&[0x08, 0x06]);
/// assert!(frame_checksums_ok(&arp));
/// // A truncated IPv4 frame fails.
/// assert!(!frame_checksums_ok(&[0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, 0x45]));
/// ```
pub fn frame_checksums_ok(frame: &[u8]) -> bool {
    let (Some(&[t0, t1]), Some(ip)) = (frame.get(12..14), frame.get(14..)) else {
        return frame.len() < 14;
    };
    match u16::from_be_bytes([t0, t1]) {
        ETHERTYPE_IPV4 => ipv4_ok(ip),
        ETHERTYPE_IPV6 => ipv6_ok(ip),
        _ => true,
    }
}

fn ipv4_ok(ip: &[u8]) -> bool {
    let Some(&first) = ip.first() else {
        return false;
    };
    let header_len = usize::from(first & 0x0f) * 4;
    let (Some(header), Some(&[l0, l1])) = (ip.get(..header_len), ip.get(2..4)) else {
        return false;
    };
    let total = usize::from(u16::from_be_bytes([l0, l1]));
    if first >> 4 != 4 || header_len < 20 || total < header_len || fold(sum_le(header)) != 0xffff {
        return false;
    }
    let Some(payload) = ip.get(header_len..total) else {
        return false;
    };
    // Flags and fragment offset: a fragment's transport checksum covers the whole datagram.
    let fragment = u16::from_be_bytes([header[6], header[7]]) & 0x3fff != 0;
    let protocol = header[9];
    if fragment || (protocol != PROTO_TCP && protocol != PROTO_UDP) {
        return true;
    }
    // UDP over IPv4 may carry no checksum.
    if protocol == PROTO_UDP && payload.get(6..8) == Some(&[0, 0]) {
        return true;
    }
    let pseudo = sum_le(&header[12..20]) + be16(u16::from(protocol)) + be16(payload.len() as u16);
    transport_ok(protocol, payload, pseudo)
}

fn ipv6_ok(ip: &[u8]) -> bool {
    let (Some(header), Some(&[l0, l1])) = (ip.get(..40), ip.get(4..6)) else {
        return false;
    };
    let payload_len = usize::from(u16::from_be_bytes([l0, l1]));
    let Some(mut rest) = ip.get(40..40 + payload_len) else {
        return false;
    };
    let mut next = header[6];
    for _ in 0..MAX_IPV6_EXTENSIONS {
        if next != IPV6_HOP_BY_HOP && next != IPV6_ROUTING && next != IPV6_DESTINATION {
            break;
        }
        let Some(&[following, units]) = rest.get(..2) else {
            return false;
        };
        let Some(after) = rest.get((usize::from(units) + 1) * 8..) else {
            return false;
        };
        next = following;
        rest = after;
    }
    if next != PROTO_TCP && next != PROTO_UDP {
        return true;
    }
    let pseudo = sum_le(&header[8..40])
        + be16((rest.len() >> 16) as u16)
        + be16(rest.len() as u16)
        + be16(u16::from(next));
    transport_ok(next, rest, pseudo)
}

/// The segment or datagram, summed with its pseudo-header, must come to 0xffff.
fn transport_ok(protocol: u8, segment: &[u8], pseudo: u64) -> bool {
    let min = if protocol == PROTO_TCP { 20 } else { 8 };
    segment.len() >= min && fold(pseudo + sum_le(segment)) == 0xffff
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use smoltcp::phy::ChecksumCapabilities;
    use smoltcp::wire::{
        EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, IpProtocol, Ipv4Address,
        Ipv4Packet, Ipv4Repr, Ipv6Address, Ipv6Packet, Ipv6Repr, TcpPacket, TcpRepr, TcpSeqNumber,
        UdpPacket, UdpRepr,
    };
    use std::vec;
    use std::vec::Vec;

    /// The sum the way RFC 1071 states it: big-endian 16-bit words, one at a time.
    fn reference_sum(data: &[u8]) -> u16 {
        let mut acc = 0u32;
        for pair in data.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            acc += hi | pair.get(1).copied().map(u32::from).unwrap_or(0);
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    #[test]
    fn rfc1071_example_and_edges() {
        // RFC 1071 §3 numerical example.
        assert_eq!(
            ones_complement_sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
        assert_eq!(ones_complement_sum(&[]), 0);
        // An odd last byte is the high byte of a zero-padded word.
        assert_eq!(ones_complement_sum(&[0xab]), 0xab00);
        // End-around carry: ffff + 0001 = 0001 (one's complement), not 0000.
        assert_eq!(ones_complement_sum(&[0xff, 0xff, 0x00, 0x01]), 0x0001);
    }

    const SRC_MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0, 0, 2]);
    const DST_MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);

    /// An Ethernet frame with an IPv4 TCP segment carrying `payload`, built and checksummed by
    /// smoltcp.
    fn tcp4_frame(payload: &[u8]) -> Vec<u8> {
        let tcp = TcpRepr {
            src_port: 3260,
            dst_port: 49152,
            control: smoltcp::wire::TcpControl::Psh,
            seq_number: TcpSeqNumber(0x1234_5678),
            ack_number: Some(TcpSeqNumber(0x0bad_cafe)),
            window_len: 4096,
            window_scale: None,
            max_seg_size: None,
            sack_permitted: false,
            sack_ranges: [None, None, None],
            timestamp: None,
            payload,
        };
        let ip = Ipv4Repr {
            src_addr: Ipv4Address::new(10, 0, 3, 2),
            dst_addr: Ipv4Address::new(10, 0, 3, 15),
            next_header: IpProtocol::Tcp,
            payload_len: tcp.buffer_len(),
            hop_limit: 64,
        };
        let eth = EthernetRepr {
            src_addr: SRC_MAC,
            dst_addr: DST_MAC,
            ethertype: EthernetProtocol::Ipv4,
        };
        let mut buf = vec![0u8; eth.buffer_len() + ip.buffer_len() + tcp.buffer_len()];
        let caps = ChecksumCapabilities::default();
        let mut frame = EthernetFrame::new_unchecked(&mut buf);
        eth.emit(&mut frame);
        let mut packet = Ipv4Packet::new_unchecked(frame.payload_mut());
        ip.emit(&mut packet, &caps);
        let mut segment = TcpPacket::new_unchecked(packet.payload_mut());
        tcp.emit(
            &mut segment,
            &ip.src_addr.into(),
            &ip.dst_addr.into(),
            &caps,
        );
        buf
    }

    /// An Ethernet frame with an IPv6 UDP datagram carrying `payload`, built by smoltcp.
    fn udp6_frame(payload: &[u8]) -> Vec<u8> {
        let udp = UdpRepr {
            src_port: 547,
            dst_port: 546,
        };
        let src = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        let dst = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
        let ip = Ipv6Repr {
            src_addr: src,
            dst_addr: dst,
            next_header: IpProtocol::Udp,
            payload_len: udp.header_len() + payload.len(),
            hop_limit: 64,
        };
        let eth = EthernetRepr {
            src_addr: SRC_MAC,
            dst_addr: DST_MAC,
            ethertype: EthernetProtocol::Ipv6,
        };
        let mut buf = vec![0u8; eth.buffer_len() + ip.buffer_len() + ip.payload_len];
        let caps = ChecksumCapabilities::default();
        let mut frame = EthernetFrame::new_unchecked(&mut buf);
        eth.emit(&mut frame);
        let mut packet = Ipv6Packet::new_unchecked(frame.payload_mut());
        ip.emit(&mut packet);
        let mut datagram = UdpPacket::new_unchecked(packet.payload_mut());
        udp.emit(
            &mut datagram,
            &src.into(),
            &dst.into(),
            payload.len(),
            |buf| buf.copy_from_slice(payload),
            &caps,
        );
        buf
    }

    #[test]
    fn smoltcp_frames_pass_and_flipped_bits_fail() {
        let frame = tcp4_frame(b"Data-In");
        assert!(frame_checksums_ok(&frame));
        // Ethernet padding after the IPv4 datagram is not part of the segment.
        let mut padded = frame.clone();
        padded.extend_from_slice(&[0xaa; 6]);
        assert!(frame_checksums_ok(&padded));
        // IPv4 header (TTL), TCP header (window) and payload.
        for at in [14 + 8, 14 + 20 + 14, frame.len() - 1] {
            let mut bad = frame.clone();
            bad[at] ^= 0x40;
            assert!(!frame_checksums_ok(&bad), "byte {at}");
        }
        let frame = udp6_frame(b"reply");
        assert!(frame_checksums_ok(&frame));
        let mut bad = frame.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(!frame_checksums_ok(&bad));
        // Truncated below the declared lengths.
        assert!(!frame_checksums_ok(&frame[..frame.len() - 1]));
    }

    proptest! {
        #[test]
        fn sum_matches_the_rfc_loop(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
            prop_assert_eq!(ones_complement_sum(&data), reference_sum(&data));
        }

        #[test]
        fn agrees_with_smoltcp_on_tcp_frames(
            payload in proptest::collection::vec(any::<u8>(), 0..1460),
            flip in any::<Option<(prop::sample::Index, u8)>>(),
        ) {
            let mut frame = tcp4_frame(&payload);
            if let Some((at, bits)) = flip {
                // Any change inside the IPv4 datagram (addresses, ports, data, lengths aside).
                let i = 14 + 12 + at.index(frame.len() - 14 - 12);
                frame[i] ^= bits;
            }
            let ip = Ipv4Packet::new_checked(&frame[14..]);
            let smoltcp_ok = ip.as_ref().is_ok_and(|p| {
                p.verify_checksum()
                    && TcpPacket::new_checked(p.payload()).is_ok_and(|t| {
                        t.verify_checksum(&p.src_addr().into(), &p.dst_addr().into())
                    })
            });
            prop_assert_eq!(frame_checksums_ok(&frame), smoltcp_ok);
        }

        #[test]
        fn never_panics(frame in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = frame_checksums_ok(&frame);
        }
    }
}
