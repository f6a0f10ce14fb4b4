//! A scripted malicious iSCSI target: a std TCP listener on 127.0.0.1 that speaks raw PDUs.
//!
//! Each accepted connection runs the caller's script. [`Conn::login`] completes a valid login
//! (no digests, no CHAP) so that a script can attack the full feature phase; scripts that attack
//! the login itself read requests with [`Conn::read_pdu`] and answer with [`login_response`].
//! PDUs are built by hand from RFC 7143 §11 offsets, so they can be as wrong as a test wants.
//!
//! ```no_run
//! use iscsi_boot_tests::hostile::HostileTarget;
//! let target = HostileTarget::start(|conn| {
//!     conn.login()?;
//!     conn.hold() // read and discard until the initiator goes away
//! })
//! .unwrap();
//! println!("attack me at {}", target.addr());
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Opcodes (RFC 7143 §11.1.1), target to initiator and back.
pub mod op {
    /// NOP-Out.
    pub const NOP_OUT: u8 = 0x00;
    /// SCSI Command.
    pub const SCSI_COMMAND: u8 = 0x01;
    /// Login Request.
    pub const LOGIN_REQUEST: u8 = 0x03;
    /// SCSI Data-Out.
    pub const DATA_OUT: u8 = 0x05;
    /// Logout Request.
    pub const LOGOUT_REQUEST: u8 = 0x06;
    /// NOP-In.
    pub const NOP_IN: u8 = 0x20;
    /// SCSI Response.
    pub const SCSI_RESPONSE: u8 = 0x21;
    /// Login Response.
    pub const LOGIN_RESPONSE: u8 = 0x23;
    /// SCSI Data-In.
    pub const DATA_IN: u8 = 0x25;
    /// Logout Response.
    pub const LOGOUT_RESPONSE: u8 = 0x26;
    /// Ready To Transfer.
    pub const R2T: u8 = 0x31;
}

/// Longest data segment the hostile target accepts from the initiator (it is a test peer).
const MAX_INBOUND_SEGMENT: usize = 1 << 20;

/// One PDU as received: the 48-byte BHS and its data segment (AHS skipped, padding removed).
#[derive(Debug, Clone)]
pub struct Pdu {
    /// Basic header segment.
    pub bhs: [u8; 48],
    /// Data segment without padding.
    pub data: Vec<u8>,
}

impl Pdu {
    /// The opcode (low 6 bits of byte 0).
    pub fn opcode(&self) -> u8 {
        self.bhs[0] & 0x3f
    }

    /// A big-endian u32 of the BHS at `offset`.
    pub fn u32_at(&self, offset: usize) -> u32 {
        u32::from_be_bytes(self.bhs[offset..offset + 4].try_into().expect("4 bytes"))
    }

    /// Initiator Task Tag.
    pub fn itt(&self) -> u32 {
        self.u32_at(16)
    }

    /// CmdSN (requests).
    pub fn cmd_sn(&self) -> u32 {
        self.u32_at(24)
    }

    /// Expected Data Transfer Length (SCSI Command).
    pub fn expected_len(&self) -> u32 {
        self.u32_at(20)
    }

    /// Whether a SCSI Command reads (R bit).
    pub fn is_read(&self) -> bool {
        self.bhs[1] & 0x40 != 0
    }

    /// Whether a SCSI Command writes (W bit).
    pub fn is_write(&self) -> bool {
        self.bhs[1] & 0x20 != 0
    }

    /// The data segment as key=value pairs (login and text PDUs).
    pub fn keys(&self) -> Vec<(String, String)> {
        self.data
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .filter_map(|s| {
                let s = String::from_utf8_lossy(s);
                s.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect()
    }
}

/// Sequence numbers the target keeps for a connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Numbers {
    /// The next StatSN to send.
    pub stat_sn: u32,
    /// The next CmdSN expected from the initiator.
    pub exp_cmd_sn: u32,
    /// How far ahead of `exp_cmd_sn` the window reaches.
    pub window: u32,
}

impl Numbers {
    /// MaxCmdSN for the current window.
    pub fn max_cmd_sn(&self) -> u32 {
        self.exp_cmd_sn.wrapping_add(self.window).wrapping_sub(1)
    }
}

/// One accepted connection, handed to the script.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    /// Sequence numbers; scripts may set them to anything.
    pub numbers: Numbers,
    /// The ISID the initiator logged in with.
    pub isid: [u8; 6],
    stop: Arc<AtomicBool>,
}

impl Conn {
    /// The raw stream (e.g. to stop reading or to send half a PDU).
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Reads one whole PDU (no digests). Errors on close, on timeout (5 s) or when stopped.
    pub fn read_pdu(&mut self) -> io::Result<Pdu> {
        let mut bhs = [0u8; 48];
        self.read_exact(&mut bhs)?;
        let ahs = usize::from(bhs[4]) * 4;
        let dsl = usize::from(bhs[5]) << 16 | usize::from(bhs[6]) << 8 | usize::from(bhs[7]);
        if dsl > MAX_INBOUND_SEGMENT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "segment too long",
            ));
        }
        let mut rest = vec![0u8; ahs + dsl.div_ceil(4) * 4];
        self.read_exact(&mut rest)?;
        let data = rest[ahs..ahs + dsl].to_vec();
        Ok(Pdu { bhs, data })
    }

    fn read_exact(&mut self, mut buf: &mut [u8]) -> io::Result<()> {
        let started = Instant::now();
        while !buf.is_empty() {
            if self.stop.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(5) {
                return Err(io::ErrorKind::TimedOut.into());
            }
            match self.stream.read(buf) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => buf = &mut buf[n..],
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Sends bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Completes a valid login (security stage with AuthMethod=None, then operational) and
    /// returns once the initiator is in the full feature phase.
    pub fn login(&mut self) -> io::Result<()> {
        loop {
            let req = self.read_pdu()?;
            if req.opcode() != op::LOGIN_REQUEST {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "not a login"));
            }
            self.isid.copy_from_slice(&req.bhs[8..14]);
            self.numbers.exp_cmd_sn = req.cmd_sn();
            let transit = req.bhs[1] & 0x80 != 0;
            let csg = (req.bhs[1] >> 2) & 3;
            let nsg = req.bhs[1] & 3;
            let text: &[&str] = if csg == 0 {
                &["AuthMethod=None"]
            } else {
                &[
                    "HeaderDigest=None",
                    "DataDigest=None",
                    "MaxRecvDataSegmentLength=8192",
                    "InitialR2T=No",
                    "ImmediateData=Yes",
                    "MaxBurstLength=262144",
                    "FirstBurstLength=65536",
                    "MaxOutstandingR2T=1",
                    "ErrorRecoveryLevel=0",
                ]
            };
            let pdu = login_response(
                &req,
                &self.numbers,
                LoginFlags {
                    transit,
                    cont: false,
                    csg,
                    nsg,
                },
                0,
                &keys(text),
            );
            self.numbers.stat_sn = self.numbers.stat_sn.wrapping_add(1);
            self.send(&pdu)?;
            if transit && nsg == 3 {
                return Ok(());
            }
        }
    }

    /// Reads PDUs until a SCSI Command arrives, answering NOP-Outs that want an answer.
    pub fn next_command(&mut self) -> io::Result<Pdu> {
        loop {
            let pdu = self.read_pdu()?;
            match pdu.opcode() {
                op::SCSI_COMMAND => {
                    self.numbers.exp_cmd_sn = pdu.cmd_sn().wrapping_add(1);
                    return Ok(pdu);
                }
                op::NOP_OUT if pdu.itt() != 0xffff_ffff => {
                    let mut nop = header(op::NOP_IN, 0x80);
                    put(&mut nop, 16, pdu.itt());
                    put(&mut nop, 20, 0xffff_ffff);
                    self.stamp(&mut nop, true);
                    self.send(&nop)?;
                }
                _ => {}
            }
        }
    }

    /// Writes StatSN (advancing it when `status`), ExpCmdSN and MaxCmdSN into a response BHS.
    pub fn stamp(&mut self, bhs: &mut [u8; 48], status: bool) {
        put(bhs, 24, if status { self.numbers.stat_sn } else { 0 });
        if status {
            self.numbers.stat_sn = self.numbers.stat_sn.wrapping_add(1);
        }
        put(bhs, 28, self.numbers.exp_cmd_sn);
        put(bhs, 32, self.numbers.max_cmd_sn());
    }

    /// A good SCSI Response for `cmd` (status GOOD, no sense).
    pub fn good_response(&mut self, cmd: &Pdu) -> Vec<u8> {
        let mut bhs = header(op::SCSI_RESPONSE, 0x80);
        put(&mut bhs, 16, cmd.itt());
        self.stamp(&mut bhs, true);
        bhs.to_vec()
    }

    /// One Data-In PDU for `itt` at `offset` with `data`; with `status`, it carries GOOD
    /// status and ends the command (F and S bits).
    pub fn data_in(
        &mut self,
        itt: u32,
        data_sn: u32,
        offset: u32,
        data: &[u8],
        status: bool,
    ) -> Vec<u8> {
        let flags = if status { 0x81 } else { 0 };
        let mut bhs = header(op::DATA_IN, flags);
        set_dsl(&mut bhs, data.len());
        put(&mut bhs, 16, itt);
        put(&mut bhs, 20, 0xffff_ffff);
        self.stamp(&mut bhs, status);
        put(&mut bhs, 36, data_sn);
        put(&mut bhs, 40, offset);
        with_data(&bhs, data)
    }

    /// An R2T for `itt` asking for `len` bytes at `offset`.
    pub fn r2t(&mut self, itt: u32, ttt: u32, r2t_sn: u32, offset: u32, len: u32) -> Vec<u8> {
        let mut bhs = header(op::R2T, 0x80);
        put(&mut bhs, 16, itt);
        put(&mut bhs, 20, ttt);
        self.stamp(&mut bhs, false);
        put(&mut bhs, 36, r2t_sn);
        put(&mut bhs, 40, offset);
        put(&mut bhs, 44, len);
        bhs.to_vec()
    }

    /// Reads and discards until the initiator closes (or 5 s of silence, or the target stops).
    pub fn hold(&mut self) -> io::Result<()> {
        let mut sink = [0u8; 4096];
        let started = Instant::now();
        loop {
            if self.stop.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(20) {
                return Ok(());
            }
            match self.stream.read(&mut sink) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return Ok(()),
            }
        }
    }

    /// Neither reads nor writes until the initiator gives up (its close is seen only once we
    /// read, so this just waits `for_at_most` or until the target stops).
    pub fn stall(&mut self, for_at_most: Duration) {
        let started = Instant::now();
        while started.elapsed() < for_at_most && !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Login response flag bits (byte 1).
#[derive(Debug, Clone, Copy)]
pub struct LoginFlags {
    /// T: transit to `nsg`.
    pub transit: bool,
    /// C: more text follows in the next response.
    pub cont: bool,
    /// Current stage.
    pub csg: u8,
    /// Next stage.
    pub nsg: u8,
}

/// A Login Response to `req` with `status` (class << 8 | detail) and data `text`.
pub fn login_response(
    req: &Pdu,
    numbers: &Numbers,
    flags: LoginFlags,
    status: u16,
    text: &[u8],
) -> Vec<u8> {
    let mut byte1 = (flags.csg & 3) << 2 | (flags.nsg & 3);
    if flags.transit {
        byte1 |= 0x80;
    }
    if flags.cont {
        byte1 |= 0x40;
    }
    let mut bhs = header(op::LOGIN_RESPONSE, byte1);
    set_dsl(&mut bhs, text.len());
    bhs[8..14].copy_from_slice(&req.bhs[8..14]);
    bhs[14..16].copy_from_slice(&0x0101u16.to_be_bytes()); // TSIH
    put(&mut bhs, 16, req.itt());
    put(&mut bhs, 24, numbers.stat_sn);
    put(&mut bhs, 28, numbers.exp_cmd_sn);
    put(&mut bhs, 32, numbers.max_cmd_sn());
    bhs[36..38].copy_from_slice(&status.to_be_bytes());
    with_data(&bhs, text)
}

/// `key=value` strings as a NUL-separated text segment.
pub fn keys(pairs: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in pairs {
        out.extend_from_slice(p.as_bytes());
        out.push(0);
    }
    out
}

/// A zeroed BHS with `opcode` and flag byte 1.
pub fn header(opcode: u8, flags: u8) -> [u8; 48] {
    let mut bhs = [0u8; 48];
    bhs[0] = opcode;
    bhs[1] = flags;
    bhs
}

/// Stores a big-endian u32 at `offset`.
pub fn put(bhs: &mut [u8; 48], offset: usize, value: u32) {
    bhs[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}

/// Sets DataSegmentLength (24 bits; larger values are truncated on purpose by the caller).
pub fn set_dsl(bhs: &mut [u8; 48], len: usize) {
    bhs[5] = (len >> 16) as u8;
    bhs[6] = (len >> 8) as u8;
    bhs[7] = len as u8;
}

/// BHS followed by `data` padded to 4 bytes.
pub fn with_data(bhs: &[u8; 48], data: &[u8]) -> Vec<u8> {
    let mut out = bhs.to_vec();
    out.extend_from_slice(data);
    out.resize(48 + data.len().div_ceil(4) * 4, 0);
    out
}

/// The script each connection runs.
type Script = dyn Fn(&mut Conn) -> io::Result<()> + Send + Sync;

/// A listener on 127.0.0.1:0 running a script per connection, one connection at a time.
/// Dropping it stops the script (within its next read) and joins the thread.
#[derive(Debug)]
pub struct HostileTarget {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl HostileTarget {
    /// Starts listening; every accepted connection runs `script`.
    pub fn start(
        script: impl Fn(&mut Conn) -> io::Result<()> + Send + Sync + 'static,
    ) -> io::Result<HostileTarget> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let script: Arc<Script> = Arc::new(script);
        let thread = {
            let (stop, accepted) = (stop.clone(), accepted.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    accepted.fetch_add(1, Ordering::Relaxed);
                    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
                    let _ = stream.set_nodelay(true);
                    let mut conn = Conn {
                        stream,
                        numbers: Numbers {
                            stat_sn: 0x1000,
                            exp_cmd_sn: 0,
                            window: 16,
                        },
                        isid: [0; 6],
                        stop: stop.clone(),
                    };
                    let _ = script(&mut conn);
                }
            })
        };
        Ok(HostileTarget {
            addr,
            stop,
            accepted,
            thread: Some(thread),
        })
    }

    /// Where the initiator should connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for HostileTarget {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A plain TCP relay on 127.0.0.1:0 whose backend can be switched while it runs (e.g. to a
/// restarted target on a new port). Each connection goes to the backend current at accept time.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    backend: Arc<std::sync::Mutex<SocketAddr>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// Starts relaying to `backend`.
    pub fn start(backend: SocketAddr) -> io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let backend = Arc::new(std::sync::Mutex::new(backend));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (backend, stop) = (backend.clone(), stop.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let Ok(client) = client else { continue };
                    let to = *backend.lock().unwrap_or_else(|e| e.into_inner());
                    let Ok(server) = TcpStream::connect_timeout(&to, Duration::from_secs(1)) else {
                        continue; // the initiator sees a close and retries
                    };
                    let _ = (client.set_nodelay(true), server.set_nodelay(true));
                    for (mut from, mut into) in [
                        (client.try_clone(), server.try_clone()),
                        (server.try_clone(), client.try_clone()),
                    ]
                    .into_iter()
                    .filter_map(|(a, b)| Some((a.ok()?, b.ok()?)))
                    {
                        std::thread::spawn(move || {
                            let _ = io::copy(&mut from, &mut into);
                            let _ = from.shutdown(std::net::Shutdown::Both);
                            let _ = into.shutdown(std::net::Shutdown::Both);
                        });
                    }
                }
            })
        };
        Ok(Relay {
            addr,
            backend,
            stop,
            thread: Some(thread),
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends new connections to `backend` from now on.
    pub fn set_backend(&self, backend: SocketAddr) {
        *self.backend.lock().unwrap_or_else(|e| e.into_inner()) = backend;
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
