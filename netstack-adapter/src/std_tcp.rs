//! The initiator's transport over the host's TCP stack (`std::net::TcpStream`).
//!
//! Used by the `iscsi-boot` host tool and the interop tests. The socket stays non-blocking;
//! `wait` is one `epoll_wait(2)` on an epoll set that holds the socket (readable, and writable
//! when the driver has bytes queued) and a `timerfd` armed at the deadline, so no busy loop and
//! no mode switching per wait. Both are registered once, so a wait costs the kernel no per-call
//! set-up (`poll` adds and removes a wait on each descriptor every time: about 1–3 % of the CPU
//! per 128 KiB read at queue depth 1). The timer is re-armed only when a deadline comes earlier
//! than the one it holds: most waits then have no timeout, and the kernel sets up no timer for
//! them (a poll timeout costs one per wait). Send buffers are left to Linux's autotuning, which
//! grows them well past what a fixed `SO_SNDBUF` would give on a fast path.
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
use rustix::event::Timespec;
use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, timerfd_create, timerfd_settime,
};
use std::io::{self, Read, Write};
use std::net::TcpStream;

/// A connected TCP stream to one portal.
#[derive(Debug)]
pub struct StdTransport {
    stream: TcpStream,
    clock: Clock,
    /// Wakes `wait` at a deadline (see the module documentation).
    timer: OwnedFd,
    /// The deadline `timer` is armed for, until it has fired.
    armed: Option<Instant>,
    /// The socket and `timer`, registered once: `epoll_wait` then costs the kernel no
    /// per-call set-up, where `poll` adds and removes a wait for each descriptor every time.
    epoll: OwnedFd,
    /// Whether `epoll` also watches the socket for room to send.
    watching_send: bool,
}

/// `epoll` event data of the socket and of the timer.
const SOCKET: u64 = 0;
const TIMER: u64 = 1;

impl StdTransport {
    /// Wraps an already connected stream, configured as [`StdConnector::connect`] does.
    pub fn from_stream(stream: TcpStream) -> io::Result<StdTransport> {
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        let timer = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        let watcher = epoll::create(CreateFlags::CLOEXEC)?;
        epoll::add(
            &watcher,
            &stream,
            EventData::new_u64(SOCKET),
            EventFlags::IN,
        )?;
        epoll::add(&watcher, &timer, EventData::new_u64(TIMER), EventFlags::IN)?;
        Ok(StdTransport {
            stream,
            clock: Clock::new(),
            timer,
            armed: None,
            epoll: watcher,
            watching_send: false,
        })
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }
}

/// A read's result as `Transport::recv` reports it: nothing available is `Ok(0)`, and the
/// peer's orderly close (a read of 0 bytes) an error.
fn received(read: io::Result<usize>) -> io::Result<usize> {
    match read {
        Ok(0) => Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "connection closed by the target",
        )),
        Ok(n) => Ok(n),
        Err(e) if would_block(&e) => Ok(0),
        Err(e) => Err(e),
    }
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
        received(self.stream.read(buf))
    }

    fn recv_split(&mut self, first: &mut [u8], second: &mut [u8]) -> Result<usize, io::Error> {
        if first.is_empty() && second.is_empty() {
            return Ok(0);
        }
        let mut bufs = [io::IoSliceMut::new(first), io::IoSliceMut::new(second)];
        received(self.stream.read_vectored(&mut bufs))
    }

    fn wait(&mut self, want_send: bool, deadline: Instant) -> Result<(), io::Error> {
        let timeout = deadline.saturating_duration_since(self.clock.now());
        if timeout.is_zero() {
            return Ok(());
        }
        // A timer armed for an earlier deadline stays: it wakes this wait early, which the
        // contract allows, and the command deadline moves later with every completion.
        if self.armed.is_none_or(|at| at > deadline) {
            // Longer than any deadline the driver uses; clamped so the conversion cannot fail.
            let value = Timespec::try_from(timeout.min(Duration::from_secs(86_400)))
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            let once = Itimerspec {
                it_interval: Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: value,
            };
            timerfd_settime(&self.timer, TimerfdTimerFlags::empty(), &once)?;
            self.armed = Some(deadline);
        }
        if want_send != self.watching_send {
            let mut interest = EventFlags::IN;
            if want_send {
                interest |= EventFlags::OUT;
            }
            epoll::modify(
                &self.epoll,
                &self.stream,
                EventData::new_u64(SOCKET),
                interest,
            )?;
            self.watching_send = want_send;
        }
        let none = Event {
            flags: EventFlags::empty(),
            data: EventData::new_u64(SOCKET),
        };
        let mut events = [none; 2];
        let ready = match epoll::wait(&self.epoll, &mut events[..], None) {
            // Readable, writable, hung up or in error: `recv`/`send` report which.
            Ok(n) => n,
            Err(Errno::INTR) => 0,
            Err(e) => return Err(e.into()),
        };
        if events[..ready].iter().any(|e| e.data.u64() == TIMER) {
            // Fired: take its expiry count, so that the timer polls quiet until armed again.
            let mut expirations = [0u8; 8];
            match rustix::io::read(&self.timer, &mut expirations) {
                Ok(_) | Err(Errno::AGAIN) => self.armed = None,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
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

    /// A transport connected to a peer socket on 127.0.0.1, and its connector (the clock).
    fn connected() -> (StdConnector, StdTransport, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut connector = StdConnector::new();
        let deadline = connector.now() + Duration::from_secs(5);
        let t = connector.connect(addr, deadline).unwrap();
        let (peer, _) = listener.accept().unwrap();
        (connector, t, peer)
    }

    #[test]
    fn round_trip_wait_and_close() {
        let (mut connector, mut t, mut peer) = connected();

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

    /// The deadline timer: a nearer deadline re-arms it, and once fired it is disarmed, so the
    /// next wait blocks until its own deadline instead of returning again and again.
    #[test]
    fn waits_end_at_their_deadlines() {
        let (mut connector, mut t, mut peer) = connected();
        let mut buf = [0u8; 4];

        // Armed for a far deadline (the wait returns at once: a byte is waiting) ...
        peer.write_all(b"x").unwrap();
        t.wait(false, connector.now() + Duration::from_secs(30))
            .unwrap();
        assert_eq!(t.recv(&mut buf).unwrap(), 1);
        // ... then a nearer deadline must re-arm it, or this wait would last 30 s.
        let start = connector.now();
        t.wait(false, start + Duration::from_millis(50)).unwrap();
        let waited = connector.now().saturating_duration_since(start);
        assert!(waited >= Duration::from_millis(40), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");

        // Fired and read: the next deadline is waited for, not returned from at once.
        let rounds = wake_ups_for_data(&mut connector, &mut t);
        assert!(rounds <= 3, "{rounds} wake-ups for one deadline");
    }

    /// How many waits for data (no send space asked for) end before a deadline 50 ms away,
    /// with nothing arriving: 1 when the wait lasts until the deadline.
    fn wake_ups_for_data(connector: &mut StdConnector, t: &mut StdTransport) -> usize {
        let end = connector.now() + Duration::from_millis(50);
        let mut rounds = 0;
        while connector.now() < end {
            t.wait(false, end).unwrap();
            rounds += 1;
        }
        rounds
    }

    #[test]
    fn send_space_ends_a_wait_only_when_asked_for() {
        let (mut connector, mut t, _peer) = connected();
        // Nothing to read, but the send buffer is empty: the wait reports writable at once.
        let start = connector.now();
        t.wait(true, start + Duration::from_secs(30)).unwrap();
        assert!(connector.now().saturating_duration_since(start) < Duration::from_secs(10));

        // Not asking for send space any more: the writable socket must not end the wait
        // early, or every wait for data would return at once and the driver would spin.
        let rounds = wake_ups_for_data(&mut connector, &mut t);
        assert!(
            rounds <= 3,
            "{rounds} wake-ups while only readability was asked for"
        );
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
