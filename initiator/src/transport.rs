//! The byte transport the blocking driver runs over, and the connector that opens it.
//!
//! Implementations live outside the protocol core: `netstack-adapter` provides them over smoltcp,
//! `std::net::TcpStream` and UEFI SNP. Any connection error (reset, refused, orderly close by the
//! peer) is an `Err`; the driver treats it as connection loss and recovers.

use crate::time::Instant;
use core::net::SocketAddr;

/// A connected, reliable, ordered byte stream to one target portal (TCP).
pub trait Transport {
    /// Why the connection failed or ended.
    type Error: core::fmt::Debug + core::fmt::Display;

    /// Queues bytes for sending; returns how many were accepted (`Ok(0)` when the send buffer is full).
    fn send(&mut self, bytes: &[u8]) -> Result<usize, Self::Error>;

    /// Moves received bytes into `buf`; `Ok(0)` means nothing is available right now.
    /// A peer's orderly close is an `Err`.
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error>;

    /// Like [`recv`](Self::recv) into `first` and then `second`, as if they were one buffer
    /// (`readv(2)`): the driver takes the rest of a Data-In payload and the next PDU's header in
    /// one call. The default fills `first` only, which is always correct.
    fn recv_split(&mut self, first: &mut [u8], second: &mut [u8]) -> Result<usize, Self::Error> {
        let _ = second;
        self.recv(first)
    }

    /// Blocks, driving the underlying stack, until `recv` may return data, `send` may accept data
    /// (only when `want_send`), or `deadline` passes. Returning early without progress is allowed.
    fn wait(&mut self, want_send: bool, deadline: Instant) -> Result<(), Self::Error>;
}

/// Opens transports and tells time: everything the blocking driver needs from its environment.
pub trait Connector {
    /// The transport it opens.
    type Transport: Transport;

    /// Opens a connection to `portal`, giving up at `deadline`.
    fn connect(
        &mut self,
        portal: SocketAddr,
        deadline: Instant,
    ) -> Result<Self::Transport, <Self::Transport as Transport>::Error>;

    /// The current time on a monotonic clock.
    fn now(&mut self) -> Instant;

    /// Waits until `deadline` (used for reconnect back-off), driving the stack meanwhile if it has one.
    fn sleep_until(&mut self, deadline: Instant);
}
