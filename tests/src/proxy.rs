//! A TCP relay in front of a target that drops, stalls, black-holes, splits, delays and corrupts
//! traffic on command, so failure cases become deterministic tests.
//!
//! ```no_run
//! use iscsi_boot_tests::proxy::FaultProxy;
//! # let backend: std::net::SocketAddr = "127.0.0.1:3260".parse().unwrap();
//! let proxy = FaultProxy::start(backend).unwrap();
//! // point the initiator at proxy.addr(), then:
//! proxy.drop_all();
//! assert!(proxy.connections() >= 1);
//! ```

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often blocked threads look at the controls.
const TICK: Duration = Duration::from_millis(10);

/// What the relay does with the bytes it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flow {
    /// Forward everything.
    #[default]
    Forward,
    /// Hold bytes back (connections stay open); they flow again when set back to `Forward`.
    Stall,
    /// Read and discard everything, both ways; connections stay open.
    BlackHole,
}

/// A one-shot corruption of the target→initiator stream (one bit flipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// The byte at this offset of the next accepted connection's target→initiator stream.
    AtOffset(u64),
    /// The first byte of the next SCSI Data-In data segment after login, on any connection.
    /// Set [`FaultProxy::set_digests`] first when digests are negotiated.
    NextDataIn,
}

#[derive(Debug, Default)]
struct Controls {
    flow: Flow,
    split: bool,
    delay: Duration,
    corruption: Option<Corruption>,
    refuse: bool,
    /// Header and data digests in force after login (for finding PDU boundaries).
    digests: (bool, bool),
    record: bool,
}

/// One PDU header seen by the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PduRecord {
    /// Which relay connection (1, 2, ... in accept order) carried it.
    pub connection: u64,
    /// Sent by the initiator (else by the target).
    pub from_initiator: bool,
    /// The 48-byte Basic Header Segment.
    pub header: [u8; 48],
}

impl PduRecord {
    /// Opcode without the immediate bit.
    pub fn opcode(&self) -> u8 {
        self.header[0] & 0x3f
    }

    /// The big-endian u32 at `offset` of the header.
    pub fn u32_at(&self, offset: usize) -> u32 {
        u32::from_be_bytes([
            self.header[offset],
            self.header[offset + 1],
            self.header[offset + 2],
            self.header[offset + 3],
        ])
    }

    /// DataSegmentLength.
    pub fn data_len(&self) -> u32 {
        u32::from_be_bytes([0, self.header[5], self.header[6], self.header[7]])
    }
}

#[derive(Debug, Default)]
struct Shared {
    controls: Mutex<Controls>,
    stop: AtomicBool,
    /// Bumped by `drop_all`: pumps of an older epoch end.
    epoch: AtomicU64,
    accepted: AtomicUsize,
    corrupted: AtomicUsize,
    open: Mutex<Vec<(u64, TcpStream)>>,
    records: Mutex<Vec<PduRecord>>,
}

impl Shared {
    fn controls(&self) -> MutexGuard<'_, Controls> {
        self.controls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The relay: listens on 127.0.0.1:0 and forwards each connection to the backend.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts relaying to `backend`.
    pub fn start(backend: SocketAddr) -> io::Result<FaultProxy> {
        let bind_ip: std::net::IpAddr = if backend.is_ipv6() {
            std::net::Ipv6Addr::LOCALHOST.into()
        } else {
            std::net::Ipv4Addr::LOCALHOST.into()
        };
        let listener = TcpListener::bind(SocketAddr::new(bind_ip, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || accept_loop(listener, backend, shared))
        };
        Ok(FaultProxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// Where initiators connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections the relay has accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// How many corruptions have been applied so far.
    pub fn corruptions_applied(&self) -> usize {
        self.shared.corrupted.load(Ordering::SeqCst)
    }

    /// Closes every open connection now (both directions, both sides).
    pub fn drop_all(&self) {
        self.shared.epoch.fetch_add(1, Ordering::SeqCst);
        let open = std::mem::take(&mut *lock(&self.shared.open));
        for (_, stream) in open {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Sets what happens to bytes from now on.
    pub fn set_flow(&self, flow: Flow) {
        self.shared.controls().flow = flow;
    }

    /// Forwards every byte as its own write when `on`.
    pub fn set_split(&self, on: bool) {
        self.shared.controls().split = on;
    }

    /// Waits `delay` before forwarding each chunk read.
    pub fn set_delay(&self, delay: Duration) {
        self.shared.controls().delay = delay;
    }

    /// Closes new connections right after accepting them when `on`.
    pub fn set_refuse(&self, on: bool) {
        self.shared.controls().refuse = on;
    }

    /// Tells the relay which digests the session negotiates, so it can follow PDU boundaries.
    pub fn set_digests(&self, header: bool, data: bool) {
        self.shared.controls().digests = (header, data);
    }

    /// Records every PDU header in both directions while `on`.
    pub fn set_recording(&self, on: bool) {
        self.shared.controls().record = on;
    }

    /// The PDU headers recorded so far, in the order each direction saw them.
    pub fn recorded(&self) -> Vec<PduRecord> {
        lock(&self.shared.records).clone()
    }

    /// Arms a one-shot corruption.
    pub fn corrupt(&self, corruption: Corruption) {
        self.shared.controls().corruption = Some(corruption);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.drop_all();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accept_loop(listener: TcpListener, backend: SocketAddr, shared: Arc<Shared>) {
    let mut pumps = Vec::new();
    let mut next_conn_id = 0u64;
    while !shared.stop.load(Ordering::SeqCst) {
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(TICK);
                continue;
            }
            Err(_) => continue,
        };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        if shared.controls().refuse {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(server) = TcpStream::connect(backend) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        next_conn_id += 1;
        if let Ok(p) = start_pumps(next_conn_id, client, server, &shared) {
            pumps.extend(p);
        }
        pumps.retain(|p: &JoinHandle<()>| !p.is_finished());
    }
    for pump in pumps {
        let _ = pump.join();
    }
}

fn start_pumps(
    conn_id: u64,
    client: TcpStream,
    server: TcpStream,
    shared: &Arc<Shared>,
) -> io::Result<[JoinHandle<()>; 2]> {
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    client.set_nonblocking(false)?;
    {
        let mut open = lock(&shared.open);
        open.push((conn_id, client.try_clone()?));
        open.push((conn_id, server.try_clone()?));
    }
    // A corruption at an offset applies to the first connection accepted after it was armed.
    let at_offset = {
        let mut controls = shared.controls();
        match controls.corruption {
            Some(Corruption::AtOffset(offset)) => {
                controls.corruption = None;
                Some(offset)
            }
            _ => None,
        }
    };
    let epoch = shared.epoch.load(Ordering::SeqCst);
    let full_feature = Arc::new(AtomicBool::new(false));
    let up = {
        let (from, to, shared) = (client.try_clone()?, server.try_clone()?, Arc::clone(shared));
        let watcher = Watcher {
            at_offset: None,
            tracker: PduTracker::new(conn_id, true, Arc::clone(&full_feature)),
            offset: 0,
        };
        std::thread::spawn(move || pump(from, to, &shared, epoch, watcher))
    };
    let down = {
        let shared = Arc::clone(shared);
        let watcher = Watcher {
            at_offset,
            tracker: PduTracker::new(conn_id, false, full_feature),
            offset: 0,
        };
        std::thread::spawn(move || pump(server, client, &shared, epoch, watcher))
    };
    Ok([up, down])
}

/// Per-connection, per-direction state: PDU boundaries, stream offset, pending corruption.
#[derive(Debug)]
struct Watcher {
    at_offset: Option<u64>,
    tracker: PduTracker,
    offset: u64,
}

impl Watcher {
    /// Records headers and applies any armed corruption to `chunk`, which starts at
    /// `self.offset` of the stream.
    fn process(&mut self, chunk: &mut [u8], shared: &Shared) {
        if let Some(target) = self.at_offset {
            let end = self.offset + chunk.len() as u64;
            if (self.offset..end).contains(&target) {
                chunk[(target - self.offset) as usize] ^= 0x01;
                self.at_offset = None;
                shared.corrupted.fetch_add(1, Ordering::SeqCst);
            }
        }
        let (digests, record, armed) = {
            let c = shared.controls();
            let armed = !self.tracker.from_initiator
                && matches!(c.corruption, Some(Corruption::NextDataIn));
            (c.digests, c.record, armed)
        };
        self.tracker.digests = digests;
        self.tracker.want_data_in = armed;
        let mut headers = Vec::new();
        let hit = self.tracker.feed(chunk, &mut headers);
        if record && !headers.is_empty() {
            lock(&shared.records).extend(headers);
        }
        if let Some(index) = hit {
            let mut controls = shared.controls();
            if matches!(controls.corruption, Some(Corruption::NextDataIn)) {
                controls.corruption = None;
                chunk[index] ^= 0x01;
                shared.corrupted.fetch_add(1, Ordering::SeqCst);
            }
        }
        self.offset += chunk.len() as u64;
    }
}

/// Follows PDU boundaries in one direction of a connection: collects headers and finds the
/// first byte of a SCSI Data-In data segment.
#[derive(Debug)]
struct PduTracker {
    connection: u64,
    from_initiator: bool,
    header: [u8; 48],
    header_len: usize,
    /// Bytes to pass over before the data segment (AHS, header digest).
    skip_before_data: u64,
    data_left: u64,
    data_is_data_in: bool,
    /// Bytes after the data (padding, data digest).
    skip_after_data: u64,
    /// Set once the target's final Login Response has passed: digests apply from then on.
    full_feature: Arc<AtomicBool>,
    /// Digests negotiated for the full-feature phase.
    digests: (bool, bool),
    /// Report the next Data-In data segment.
    want_data_in: bool,
}

impl PduTracker {
    fn new(connection: u64, from_initiator: bool, full_feature: Arc<AtomicBool>) -> PduTracker {
        PduTracker {
            connection,
            from_initiator,
            header: [0; 48],
            header_len: 0,
            skip_before_data: 0,
            data_left: 0,
            data_is_data_in: false,
            skip_after_data: 0,
            full_feature,
            digests: (false, false),
            want_data_in: false,
        }
    }

    /// Consumes `chunk`, pushing each completed header; returns the index in `chunk` of the
    /// first byte of a Data-In data segment when one starts here and one is wanted.
    fn feed(&mut self, chunk: &[u8], headers: &mut Vec<PduRecord>) -> Option<usize> {
        let mut hit = None;
        let mut i = 0;
        while i < chunk.len() {
            if self.header_len < 48 {
                let take = (48 - self.header_len).min(chunk.len() - i);
                self.header[self.header_len..self.header_len + take]
                    .copy_from_slice(&chunk[i..i + take]);
                self.header_len += take;
                i += take;
                if self.header_len == 48 {
                    self.start_pdu();
                    headers.push(PduRecord {
                        connection: self.connection,
                        from_initiator: self.from_initiator,
                        header: self.header,
                    });
                }
                continue;
            }
            let left = (chunk.len() - i) as u64;
            if self.skip_before_data > 0 {
                let n = self.skip_before_data.min(left);
                self.skip_before_data -= n;
                i += n as usize;
                continue;
            }
            if self.data_left > 0 {
                if hit.is_none() && self.data_is_data_in && self.want_data_in {
                    hit = Some(i);
                    self.want_data_in = false;
                }
                let n = self.data_left.min(left);
                self.data_left -= n;
                i += n as usize;
                continue;
            }
            if self.skip_after_data > 0 {
                let n = self.skip_after_data.min(left);
                self.skip_after_data -= n;
                i += n as usize;
                continue;
            }
            self.header_len = 0;
        }
        if self.header_len == 48
            && self.skip_before_data == 0
            && self.data_left == 0
            && self.skip_after_data == 0
        {
            self.header_len = 0;
        }
        hit
    }

    fn start_pdu(&mut self) {
        let h = &self.header;
        let opcode = h[0] & 0x3f;
        let ahs = u64::from(h[4]) * 4;
        let dsl = u64::from(h[5]) << 16 | u64::from(h[6]) << 8 | u64::from(h[7]);
        let padded = dsl.div_ceil(4) * 4;
        let (hd, dd) = if self.full_feature.load(Ordering::SeqCst) {
            self.digests
        } else {
            (false, false)
        };
        self.skip_before_data = ahs + if hd { 4 } else { 0 };
        self.data_left = dsl;
        self.data_is_data_in = opcode == 0x25 && dsl > 0;
        self.skip_after_data = padded - dsl + if dd && dsl > 0 { 4 } else { 0 };
        // Login Response with Transit to NSG=3: full-feature phase starts after this PDU.
        if !self.from_initiator && opcode == 0x23 && h[1] & 0x80 != 0 && h[1] & 0x03 == 0x03 {
            self.full_feature.store(true, Ordering::SeqCst);
        }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared, epoch: u64, mut watcher: Watcher) {
    let _ = from.set_read_timeout(Some(TICK));
    let mut buf = vec![0u8; 64 * 1024];
    let alive = |shared: &Shared| {
        !shared.stop.load(Ordering::SeqCst) && shared.epoch.load(Ordering::SeqCst) == epoch
    };
    'relay: while alive(shared) {
        // While stalled, leave bytes in the kernel so TCP flow control pushes back.
        let flow = shared.controls().flow;
        if flow == Flow::Stall {
            std::thread::sleep(TICK);
            continue;
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(_) => break,
        };
        let (flow, split, delay) = {
            let c = shared.controls();
            (c.flow, c.split, c.delay)
        };
        if flow == Flow::BlackHole {
            continue;
        }
        let chunk = &mut buf[..n];
        watcher.process(chunk, shared);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        if split {
            for byte in chunk.chunks(1) {
                if !alive(shared) || to.write_all(byte).is_err() {
                    break 'relay;
                }
            }
        } else if to.write_all(chunk).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn echo_server() -> (SocketAddr, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            for stream in listener.incoming().take(2) {
                let mut stream = stream.unwrap();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (addr, handle)
    }

    #[test]
    fn relays_splits_corrupts_and_drops() {
        let (backend, _server) = echo_server();
        let proxy = FaultProxy::start(backend).unwrap();
        proxy.set_split(true);
        proxy.corrupt(Corruption::AtOffset(3));
        let mut client = TcpStream::connect(proxy.addr()).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        client.write_all(b"hello").unwrap();
        let mut got = [0u8; 5];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"helmo", "bit 0 of byte 3 flipped on the way back");
        assert_eq!(proxy.connections(), 1);
        assert_eq!(proxy.corruptions_applied(), 1);
        proxy.drop_all();
        let mut rest = [0u8; 1];
        assert!(matches!(client.read(&mut rest), Ok(0) | Err(_)));
    }

    #[test]
    fn stall_holds_black_hole_discards_refuse_closes() {
        let (backend, _server) = echo_server();
        let proxy = FaultProxy::start(backend).unwrap();
        let mut client = TcpStream::connect(proxy.addr()).unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut got = [0u8; 3];

        proxy.set_flow(Flow::Stall);
        client.write_all(b"one").unwrap();
        assert!(client.read_exact(&mut got).is_err(), "held while stalled");
        proxy.set_flow(Flow::Forward);
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"one", "released when forwarding again");

        proxy.set_flow(Flow::BlackHole);
        client.write_all(b"two").unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        assert!(client.read_exact(&mut got).is_err(), "discarded");
        proxy.set_flow(Flow::Forward);

        proxy.set_refuse(true);
        let mut refused = TcpStream::connect(proxy.addr()).unwrap();
        refused
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        assert!(
            matches!(refused.read(&mut got), Ok(0) | Err(_)),
            "closed at once"
        );
        assert_eq!(proxy.connections(), 2);
    }

    #[test]
    fn tracker_finds_data_in_after_login() {
        let mut t = PduTracker::new(1, false, Arc::new(AtomicBool::new(false)));
        t.digests = (false, true);
        t.want_data_in = true;
        let mut headers = Vec::new();
        // Final Login Response (0x23, T=1, NSG=3), no data.
        let mut login = [0u8; 48];
        login[0] = 0x23;
        login[1] = 0x83;
        assert_eq!(t.feed(&login, &mut headers), None);
        // Data-In with 5 data bytes: 48 header + 5 data + 3 pad + 4 digest.
        let mut pdu = vec![0u8; 48];
        pdu[0] = 0x25;
        pdu[7] = 5;
        pdu.extend_from_slice(&[9; 12]);
        assert_eq!(t.feed(&pdu[..50], &mut headers), Some(48));
        assert_eq!(t.feed(&pdu[50..], &mut headers), None);
        assert_eq!(t.header_len, 0, "back at a PDU boundary");
        assert_eq!(headers.len(), 2);
        assert_eq!(headers[1].opcode(), 0x25);
        assert_eq!(headers[1].data_len(), 5);
    }
}
