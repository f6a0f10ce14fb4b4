//! The RAM one session takes: the sans-IO `Session`, the blocking `Client` around it, and the
//! receive and transmit buffers the caller lends, for the configuration the UEFI sanboot app
//! uses (queue depth 8, the default MaxRecvDataSegmentLength, a 64 KiB + 64 transmit buffer).
//!
//! ```sh
//! cargo run --release -p initiator --example footprint
//! ```
//!
//! Prints one `name bytes` pair per line, `total` last; `cargo xtask bench` reads it.

use core::net::SocketAddr;
use initiator::driver::Client;
use initiator::session::{Session, SessionConfig};
use initiator::time::Instant;
use initiator::transport::{Connector, Transport};

/// The transmit buffer the sanboot app lends (`examples/uefi-sanboot/src/efi/iscsi.rs`).
const APP_TX: usize = 64 * 1024 + 64;

/// A connector that never connects: only its size matters here, and it has none.
struct Unconnected;

impl Transport for Unconnected {
    type Error = core::convert::Infallible;
    fn send(&mut self, _: &[u8]) -> Result<usize, Self::Error> {
        Ok(0)
    }
    fn recv(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> {
        Ok(0)
    }
    fn wait(&mut self, _: bool, _: Instant) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl Connector for Unconnected {
    type Transport = Unconnected;
    fn connect(
        &mut self,
        _: SocketAddr,
        _: Instant,
    ) -> Result<Unconnected, core::convert::Infallible> {
        Ok(Unconnected)
    }
    fn now(&mut self) -> Instant {
        Instant::ZERO
    }
    fn sleep_until(&mut self, _: Instant) {}
}

fn main() {
    let mut config = SessionConfig::new(
        "iqn.2026-11.org.example:host",
        "iqn.2026-11.org.example:disk",
        [0x80, 0, 0, 0, 0, 1],
    );
    config.queue_depth = 8;
    let session = Session::new(config);
    // The client embeds its session; count the session once.
    let client_only = size_of::<Client<'static, 'static, Unconnected>>() - size_of::<Session>();
    let rows = [
        ("queue_depth", usize::from(config.queue_depth)),
        (
            "max_recv_data_segment_length",
            config.params.max_recv_data_segment_length as usize,
        ),
        ("session", size_of::<Session>()),
        ("client", client_only),
        ("rx_buffer", session.max_pdu_len()),
        ("tx_buffer", APP_TX),
    ];
    for (name, bytes) in rows {
        println!("{name} {bytes}");
    }
    let total: usize = rows[2..].iter().map(|(_, b)| b).sum();
    println!("total {total}");
}
