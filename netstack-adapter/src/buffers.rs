//! TCP socket buffer sizing from the bandwidth-delay product.
//!
//! A TCP receiver can have at most one window of data in flight, so throughput is capped at
//! `window / RTT`. A 64 KiB buffer at 0.3 ms RTT caps a 10 GbE link at ~200 MB/s; filling
//! 10 Gbit/s at 0.3 ms needs `10e9 / 8 * 0.0003` ≈ 375 KB, and WAN-ish round trips (a few ms)
//! need megabytes. iPXE raised its window to 2 MiB for the same reason.
//!
//! smoltcp offers the TCP window-scale option on every SYN, with the shift derived from the
//! receive buffer's capacity, so a buffer larger than 64 KiB is actually advertised. The receive
//! buffer is what matters for reads (a boot loader mostly reads); the send buffer only bounds
//! writes and command PDUs.
//!
//! A device whose `DeviceCapabilities::max_burst_size` is set caps every advertised window at
//! that many segments, whatever the buffer; the devices here leave it unset. (With 8 it turned
//! a 256 KiB buffer into an 11,792-byte window and cost the sanboot read 20 %.)

/// Receive buffer that fills 10 GbE at up to ~1.6 ms RTT (and 1 GbE at ~16 ms), as iPXE does.
pub const RECOMMENDED_RX_BUFFER: usize = 2 * 1024 * 1024;

/// Send buffer for writes: fills 1 GbE at ~2 ms RTT; reads need only a few command PDUs.
pub const RECOMMENDED_TX_BUFFER: usize = 256 * 1024;

/// The largest receive buffer TCP window scaling can advertise (shift 14, RFC 7323).
pub const MAX_RX_BUFFER: usize = 1 << 30;

/// The buffer (bytes) that keeps a link of `bits_per_second` busy at `rtt_micros` round-trip
/// time: the bandwidth-delay product, rounded up to a power of two and clamped to
/// 64 KiB..=[`MAX_RX_BUFFER`].
///
/// ```
/// use netstack_adapter::buffers::bdp_buffer_len;
/// // 10 Gbit/s at 0.3 ms: 375 000 bytes -> 512 KiB.
/// assert_eq!(bdp_buffer_len(10_000_000_000, 300), 512 * 1024);
/// // 1 Gbit/s at 0.1 ms is below the 64 KiB floor.
/// assert_eq!(bdp_buffer_len(1_000_000_000, 100), 64 * 1024);
/// ```
pub fn bdp_buffer_len(bits_per_second: u64, rtt_micros: u64) -> usize {
    let bytes = u128::from(bits_per_second) * u128::from(rtt_micros) / 8 / 1_000_000;
    let bytes = usize::try_from(bytes).unwrap_or(MAX_RX_BUFFER);
    bytes
        .checked_next_power_of_two()
        .unwrap_or(MAX_RX_BUFFER)
        .clamp(64 * 1024, MAX_RX_BUFFER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommended_buffer_fills_ten_gigabit_at_a_millisecond() {
        // 10e9 bit/s * 1 ms / 8 = 1.25 MB, which fits in 2 MiB.
        assert!(bdp_buffer_len(10_000_000_000, 1000) <= RECOMMENDED_RX_BUFFER);
    }

    #[test]
    fn clamps_huge_products() {
        assert_eq!(bdp_buffer_len(u64::MAX, u64::MAX), MAX_RX_BUFFER);
    }
}
