//! The initiator's transport over the host's TCP stack (`std::net::TcpStream`).
//!
//! Used by the `iscsi-boot` host tool and the interop tests. The socket stays non-blocking;
//! `wait` is one `poll(2)` for readability (and writability when the driver has bytes queued)
//! with the deadline as its timeout, so no busy loop and no mode switching per wait. Send
//! buffers are left to Linux's autotuning, which grows them well past what a fixed
//! `SO_SNDBUF` would give on a fast path.
//!
//! ```no_run
//! use initiator::transport::{Connector, Transport};
//! use netstack_adapter::std_tcp::StdConnector;
//! use std::time::Duration;
//!
//! let mut connector = StdConnector::new();
//! let deadline = connector.now() + Duration::from_secs(5);
//! let mut conn = connector.connect("127.0.0.1:3260".parse().unwrap(), deadline).unwrap();
//! conn.send(&[0u8; 48]).unwrap();
//! ```

extern crate std;

use core::net::SocketAddr;
use core::time::Duration;
use initiator::time::Instant;
use initiator::transport::{Connector, Transport};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use std::io::{self, Read, Write};
use std::net::TcpStream;

/// A connected TCP stream to one portal.
#[derive(Debug)]
pub struct StdTransport {
    stream: TcpStream,
    clock: Clock,
}

impl StdTransport {
    /// Wraps an already connected stream, configured as [`StdConnector::connect`] does.
    pub fn from_stream(stream: TcpStream) -> io::Result<StdTransport> {
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        Ok(StdTransport {
            stream,
            clock: Clock::new(),
        })
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }
}

fn closed_by_peer() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection closed by the target",
    )
}

impl Transport for StdTransport {
    type Error = io::Error;

    fn send(&mut self, bytes: &[u8]) -> Result<usize, io::Error> {
        if bytes.is_empty() {
            return Ok(0);
        }
        match self.stream.write(bytes) {
            Ok(n) => Ok(n),
            Err(e) if would_block(&e) => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.stream.read(buf) {
            Ok(0) => Err(closed_by_peer()),
            Ok(n) => Ok(n),
            Err(e) if would_block(&e) => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn recv_split(&mut self, first: &mut [u8], second: &mut [u8]) -> Result<usize, io::Error> {
        if first.is_empty() && second.is_empty() {
            return Ok(0);
        }
        let mut bufs = [io::IoSliceMut::new(first), io::IoSliceMut::new(second)];
        match self.stream.read_vectored(&mut bufs) {
            Ok(0) => Err(closed_by_peer()),
            Ok(n) => Ok(n),
            Err(e) if would_block(&e) => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn wait(&mut self, want_send: bool, deadline: Instant) -> Result<(), io::Error> {
        let timeout = deadline.saturating_duration_since(self.clock.now());
        if timeout.is_zero() {
            return Ok(());
        }
        let mut events = PollFlags::IN;
        if want_send {
            events |= PollFlags::OUT;
        }
        let mut fds = [PollFd::new(&self.stream, events)];
        // Longer than any deadline the driver uses; clamped so the conversion cannot fail.
        let timeout = Timespec::try_from(timeout.min(Duration::from_secs(86_400)))
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        match poll(&mut fds, Some(&timeout)) {
            // Readable, writable, hung up or in error: `recv`/`send` report which.
            Ok(_) => Ok(()),
            Err(e) if e == Errno::INTR => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Opens [`StdTransport`]s and reads the monotonic clock (`std::time::Instant`).
#[derive(Debug, Clone, Copy)]
pub struct StdConnector {
    clock: Clock,
}

impl StdConnector {
    /// A connector whose clock starts now.
    pub fn new() -> StdConnector {
        StdConnector {
            clock: Clock::new(),
        }
    }
}

impl Default for StdConnector {
    fn default() -> Self {
        StdConnector::new()
    }
}

impl Connector for StdConnector {
    type Transport = StdTransport;

    fn connect(
        &mut self,
        portal: SocketAddr,
        deadline: Instant,
    ) -> Result<StdTransport, io::Error> {
        let timeout = deadline.saturating_duration_since(self.clock.now());
        if timeout.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connect deadline already passed",
            ));
        }
        let stream = TcpStream::connect_timeout(&portal, timeout)?;
        let mut transport = StdTransport::from_stream(stream)?;
        transport.clock = self.clock;
        Ok(transport)
    }

    fn now(&mut self) -> Instant {
        self.clock.now()
    }

    fn sleep_until(&mut self, deadline: Instant) {
        let delay = deadline.saturating_duration_since(self.clock.now());
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
    }
}

/// `std::time::Instant` mapped onto the initiator's microsecond clock.
#[derive(Debug, Clone, Copy)]
struct Clock {
    epoch: std::time::Instant,
}

impl Clock {
    fn new() -> Clock {
        // All clocks of a process share one epoch so instants from a connector and its
        // transports compare.
        static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        Clock {
            epoch: *EPOCH.get_or_init(std::time::Instant::now),
        }
    }

    fn now(&self) -> Instant {
        Instant::from_micros(initiator::time::saturating_micros(self.epoch.elapsed()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn round_trip_wait_and_close() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut connector = StdConnector::new();
        let deadline = connector.now() + Duration::from_secs(5);
        let mut t = connector.connect(addr, deadline).unwrap();
        let (mut peer, _) = listener.accept().unwrap();

        let mut buf = [0u8; 16];
        assert_eq!(t.recv(&mut buf).unwrap(), 0, "nothing yet");
        let start = connector.now();
        t.wait(false, start + Duration::from_millis(50)).unwrap();
        assert!(connector.now().saturating_duration_since(start) >= Duration::from_millis(40));

        assert_eq!(t.send(b"ping").unwrap(), 4);
        let mut got = [0u8; 4];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ping");

        peer.write_all(b"pong").unwrap();
        t.wait(false, connector.now() + Duration::from_secs(5))
            .unwrap();
        assert_eq!(t.recv(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"pong");

        drop(peer);
        t.wait(false, connector.now() + Duration::from_secs(5))
            .unwrap();
        assert!(t.recv(&mut buf).is_err(), "orderly close is an error");
    }

    #[test]
    fn wait_for_send_space_returns_while_writable() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut connector = StdConnector::new();
        let deadline = connector.now() + Duration::from_secs(5);
        let mut t = connector.connect(addr, deadline).unwrap();
        let _peer = listener.accept().unwrap();
        // Nothing to read, but the send buffer is empty: poll reports writable at once.
        let start = connector.now();
        t.wait(true, start + Duration::from_secs(30)).unwrap();
        assert!(connector.now().saturating_duration_since(start) < Duration::from_secs(10));
    }

    #[test]
    fn connect_refused_is_an_error() {
        let addr = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let mut connector = StdConnector::new();
        let deadline = connector.now() + Duration::from_secs(2);
        let err = connector.connect(addr, deadline).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn past_deadline_times_out() {
        let mut connector = StdConnector::new();
        let err = connector
            .connect("127.0.0.1:9".parse().unwrap(), Instant::ZERO)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }
}
