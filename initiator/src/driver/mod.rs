//! A blocking iSCSI client over any [`Connector`]: connect, log in, read, write, recover.
//!
//! Still `no_std` and allocation-free: the caller lends the receive and transmit buffers.
//!
//! ```no_run
//! use initiator::driver::{Buffers, Client, ClientConfig};
//! use initiator::session::SessionConfig;
//! # fn demo<C: initiator::transport::Connector>(connector: C) -> Result<(), initiator::error::Error> {
//! let session = SessionConfig::new("iqn.2024-01.org.example:host", "iqn.2024-01.org.example:disk", [0x80, 0, 0, 0, 0, 1]);
//! let config = ClientConfig::new("127.0.0.1:3260".parse().unwrap(), session);
//! let (mut rx, mut tx) = ([0u8; 70_000], [0u8; 70_000]);
//! let mut client = Client::connect(connector, &config, Buffers { rx: &mut rx, tx: &mut tx })?;
//! let capacity = client.read_capacity()?;
//! let mut first = [0u8; 4096];
//! client.read(0, &mut first[..capacity.block_size as usize])?;
//! client.logout()?;
//! # Ok(()) }
//! ```

mod info;
mod job;

pub use info::{Capacity, Inquiry};

use crate::error::{ConnectionFailure, Error, LoginError};
use crate::pdu::{BHS_LEN, TmfResponse};
use crate::scsi::{ReadCapacity10, ReadCapacity16, ReportLuns, cdb};
use crate::session::{DataSink, DataSource, Event, Session, SessionConfig, TaskTag, lun_field};
use crate::time::Instant;
use crate::transport::{Connector, Transport};
use core::net::SocketAddr;
use core::time::Duration;
use job::{BlockJob, Blocks, BufferJob, Job};
pub use job::{CommandStatus, DataBuffer};

/// How the client connects, retries and splits transfers.
#[derive(Debug, Clone, Copy)]
pub struct ClientConfig<'a> {
    /// The target portal.
    pub portal: SocketAddr,
    /// Names, ISID, CHAP, operational keys, queue depth and session timeouts.
    pub session: SessionConfig<'a>,
    /// The logical unit commands address (0..=16383).
    pub lun: u16,
    /// Largest READ/WRITE request in bytes; larger transfers are split and pipelined.
    pub max_request_bytes: u32,
    /// How long one TCP connect may take.
    pub connect_timeout: Duration,
    /// Longest wait for any command of an operation to complete before the connection is
    /// dropped and the commands re-issued on a new one (a bounded number of times).
    pub command_timeout: Duration,
    /// Reconnect attempts after a connection failure before giving up.
    pub max_reconnects: u32,
    /// First reconnect back-off; doubles per attempt up to `max_backoff`.
    pub initial_backoff: Duration,
    /// Longest back-off between reconnect attempts.
    pub max_backoff: Duration,
    /// Redirects followed per login before [`LoginError::RedirectLoop`].
    pub max_redirects: u8,
    /// UNIT ATTENTION conditions absorbed per command.
    pub unit_attention_retries: u8,
    /// NOT READY retries per command, `not_ready_delay` apart.
    pub not_ready_retries: u8,
    /// Pause between NOT READY retries.
    pub not_ready_delay: Duration,
}

impl<'a> ClientConfig<'a> {
    /// Defaults: LUN 0, 256 KiB requests, 5 s connect timeout, 30 s command timeout, 5 reconnects with back-off from
    /// 100 ms to 5 s, 5 redirects, 8 UNIT ATTENTIONs, 5 NOT READY retries 500 ms apart.
    #[must_use]
    pub fn new(portal: SocketAddr, session: SessionConfig<'a>) -> Self {
        ClientConfig {
            portal,
            session,
            lun: 0,
            max_request_bytes: 256 * 1024,
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(30),
            max_reconnects: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_redirects: 5,
            unit_attention_retries: 8,
            not_ready_retries: 5,
            not_ready_delay: Duration::from_millis(500),
        }
    }
}

/// The caller's I/O buffers. `rx` must hold one whole PDU
/// ([`Session::max_pdu_len`]: MaxRecvDataSegmentLength + about 1.1 KiB); `tx` at least
/// 2 KiB + 64 bytes; Data-Out PDUs are cut to fit `tx`, so `MaxRecvDataSegmentLength` of the
/// target + 64 is the useful size.
#[derive(Debug)]
pub struct Buffers<'b> {
    /// Receive buffer.
    pub rx: &'b mut [u8],
    /// Transmit buffer.
    pub tx: &'b mut [u8],
}

/// Header digest, padding and data digest a PDU adds beyond its BHS and data, rounded up.
const GATHER_SLACK: usize = 16;

/// Smallest transmit buffer: a login PDU with 2 KiB of text.
const MIN_TX: usize = 2048 + 64;

/// A logged-in iSCSI session over a blocking transport.
pub struct Client<'a, 'b, C: Connector> {
    connector: C,
    transport: Option<C::Transport>,
    session: Session<'a>,
    config: ClientConfig<'a>,
    /// The portal to (re)connect to: updated by permanent redirects.
    home: SocketAddr,
    rx: &'b mut [u8],
    /// Received bytes not yet consumed by the session: `rx[rx_start..rx_len]`.
    rx_start: usize,
    rx_len: usize,
    tx: &'b mut [u8],
    tx_pos: usize,
    tx_len: usize,
    /// No `recv` can find anything before the next `wait`: the last receive round found the
    /// transport empty (a short or empty read), or drained `rx` and left no command in flight.
    /// The next round then waits at once instead of trying a `recv` that fails.
    rx_quiet: bool,
    block_size: Option<u32>,
    /// CHAP_A=7 has been dropped from the offer after a failed login (see
    /// [`Session::set_chap_algorithms`]).
    chap_fallback: bool,
}

impl<C: Connector> core::fmt::Debug for Client<'_, '_, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("portal", &self.home)
            .field("connected", &self.transport.is_some())
            .field("block_size", &self.block_size)
            .finish_non_exhaustive()
    }
}

impl<'a, 'b, C: Connector> Client<'a, 'b, C> {
    /// Connects to `config.portal`, follows redirects and logs in.
    pub fn connect(
        connector: C,
        config: &ClientConfig<'a>,
        buffers: Buffers<'b>,
    ) -> Result<Self, Error> {
        let mut client = Self::new(connector, config, buffers);
        client.login()?;
        Ok(client)
    }

    /// A client that has not connected yet: [`Client::login`] connects and logs in.
    /// [`Client::connect`] does both; this split lets firmware build the client (22 KiB of
    /// session state) straight into a heap allocation, `Box::new(Client::new(…))`, instead
    /// of moving it through its stack.
    pub fn new(connector: C, config: &ClientConfig<'a>, buffers: Buffers<'b>) -> Self {
        Client {
            connector,
            transport: None,
            session: Session::new(config.session),
            config: *config,
            home: config.portal,
            rx: buffers.rx,
            rx_start: 0,
            rx_len: 0,
            tx: buffers.tx,
            tx_pos: 0,
            tx_len: 0,
            rx_quiet: false,
            block_size: None,
            chap_fallback: false,
        }
    }

    /// Checks the buffers against the session's needs, then connects to the portal, follows
    /// redirects and logs in (retrying as [`ClientConfig`] says).
    pub fn login(&mut self) -> Result<(), Error> {
        let needed = self.session.max_pdu_len();
        if self.rx.len() < needed {
            return Err(Error::BufferTooSmall { needed });
        }
        if self.tx.len() < MIN_TX {
            return Err(Error::BufferTooSmall { needed: MIN_TX });
        }
        self.establish()
    }

    /// The underlying session (negotiated values, TSIH, …).
    #[must_use]
    pub fn session(&self) -> &Session<'a> {
        &self.session
    }

    /// Changes the largest READ/WRITE request ([`ClientConfig::max_request_bytes`]) for the
    /// following reads and writes; a benchmark issues commands of exactly its block size.
    pub fn set_max_request_bytes(&mut self, bytes: u32) {
        self.config.max_request_bytes = bytes.max(1);
    }

    /// The portal the client connects to (changed by a permanent redirect).
    #[must_use]
    pub fn portal(&self) -> SocketAddr {
        self.home
    }

    /// The block size from the last [`Client::read_capacity`], if any.
    #[must_use]
    pub fn block_size(&self) -> Option<u32> {
        self.block_size
    }

    /// Sets the block size used by [`Client::read`] / [`Client::write`] without READ CAPACITY.
    pub fn set_block_size(&mut self, block_size: u32) {
        self.block_size = Some(block_size);
    }

    /// Sends TEST UNIT READY (UNIT ATTENTION absorbed, NOT READY retried).
    pub fn test_unit_ready(&mut self) -> Result<(), Error> {
        self.command(cdb::test_unit_ready(), DataBuffer::None)
            .map(|_| ())
    }

    /// Sends INQUIRY and parses the standard data.
    pub fn inquiry(&mut self) -> Result<Inquiry, Error> {
        let mut data = [0u8; 96];
        let got = self.command(cdb::inquiry(96), DataBuffer::In(&mut data))?;
        Inquiry::parse(&data[..got]).map_err(|_| Error::ShortResponse)
    }

    /// INQUIRY for VPD page `page` (EVPD = 1) into `buf` (at most 65535 bytes are asked for);
    /// returns the bytes received. Parse them with [`scsi::UnitSerialNumber`] (page 0x80) or
    /// [`scsi::Designators`] (page 0x83).
    ///
    /// [`scsi::UnitSerialNumber`]: crate::scsi::UnitSerialNumber
    /// [`scsi::Designators`]: crate::scsi::Designators
    pub fn inquiry_vpd(&mut self, page: u8, buf: &mut [u8]) -> Result<usize, Error> {
        let alloc = u16::try_from(buf.len()).unwrap_or(u16::MAX);
        let buf = &mut buf[..usize::from(alloc)];
        self.command(cdb::inquiry_vpd(page, alloc), DataBuffer::In(buf))
    }

    /// Sends any CDB with `data` as its Data-In or Data-Out buffer and reports the SCSI
    /// status, sense and residual as they came: no status is retried or turned into an
    /// error (a lost connection is still recovered and the command re-issued).
    ///
    /// ```no_run
    /// # fn demo<C: initiator::transport::Connector>(client: &mut initiator::driver::Client<'_, '_, C>) -> Result<(), initiator::error::Error> {
    /// use initiator::driver::DataBuffer;
    /// use initiator::scsi::cdb;
    /// let mut page = [0u8; 255];
    /// let done = client.execute(&cdb::inquiry_vpd(0x80, 255), DataBuffer::In(&mut page))?;
    /// assert!(done.is_good());
    /// # Ok(()) }
    /// ```
    pub fn execute(
        &mut self,
        cdb: &cdb::Cdb,
        data: DataBuffer<'_>,
    ) -> Result<CommandStatus, Error> {
        let mut job = BufferJob::raw(*cdb, data);
        self.run(&mut job, &mut |_| {})?;
        job.status().ok_or(Error::ShortResponse)
    }

    /// READ CAPACITY(10), then (16) when the LU has 2³² blocks or more. Remembers the block size.
    pub fn read_capacity(&mut self) -> Result<Capacity, Error> {
        let mut data = [0u8; ReadCapacity10::LEN];
        let got = self.command(cdb::read_capacity10(), DataBuffer::In(&mut data))?;
        let short = |_| Error::ShortResponse;
        let rc10 = ReadCapacity10::parse(&data[..got]).map_err(short)?;
        let capacity = if rc10.needs_16() {
            let mut data = [0u8; 32];
            let got = self.command(cdb::read_capacity16(32), DataBuffer::In(&mut data))?;
            let rc16 = ReadCapacity16::parse(&data[..got]).map_err(short)?;
            Capacity {
                last_lba: rc16.last_lba,
                block_size: rc16.block_len,
            }
        } else {
            Capacity {
                last_lba: u64::from(rc10.last_lba),
                block_size: rc10.block_len,
            }
        };
        if capacity.block_size == 0 {
            return Err(Error::ShortResponse);
        }
        self.block_size = Some(capacity.block_size);
        Ok(capacity)
    }

    /// REPORT LUNS: writes the 8-byte LUN fields into `out` and returns how many the target
    /// has (which may exceed `out.len()`; at most 64 are fetched). The LUN number of a
    /// flat/peripheral field is `(field >> 48) & 0x3fff`.
    pub fn report_luns(&mut self, out: &mut [u64]) -> Result<usize, Error> {
        let mut data = [0u8; 8 + 64 * 8];
        let alloc = data.len() as u32;
        let got = self.command(cdb::report_luns(alloc), DataBuffer::In(&mut data))?;
        let luns = ReportLuns::parse(&data[..got]).map_err(|_| Error::ShortResponse)?;
        for (slot, lun) in out.iter_mut().zip(luns.iter()) {
            *slot = u64::from_be_bytes(lun.0);
        }
        Ok(luns.total_count() as usize)
    }

    /// SYNCHRONIZE CACHE(10) over the whole LU.
    pub fn sync_cache(&mut self) -> Result<(), Error> {
        self.command(cdb::synchronize_cache(0, 0), DataBuffer::None)
            .map(|_| ())
    }

    /// LOGICAL UNIT RESET of the client's LUN (a task management function); commands of this
    /// LUN still in flight are aborted by the target.
    pub fn lun_reset(&mut self) -> Result<TmfResponse, Error> {
        let tag = self.session.lun_reset(self.lun())?;
        let deadline = self.connector.now() + self.config.command_timeout;
        loop {
            self.pump_once(&mut crate::session::NoData, deadline);
            while let Some(ev) = self.session.poll_event() {
                match ev {
                    Event::TmfComplete { tag: t, response } if t == tag => return Ok(response),
                    Event::ConnectionFailed(why) => {
                        // A reset that lost its connection is moot: the new session starts clean.
                        self.recover(why)?;
                        return Ok(TmfResponse::FunctionComplete);
                    }
                    _ => {}
                }
            }
            if self.connector.now() >= deadline {
                return Err(Error::Timeout);
            }
        }
    }

    /// Reads `buf.len()` bytes (a multiple of the block size) from `lba`.
    pub fn read(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), Error> {
        self.read_with_progress(lba, buf, &mut |_| {})
    }

    /// [`Client::read`], calling `progress` with the bytes completed so far.
    pub fn read_with_progress(
        &mut self,
        lba: u64,
        buf: &mut [u8],
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), Error> {
        let bs = self.require_block_size()?;
        let mut job = BlockJob::read(lba, bs, self.config.max_request_bytes, buf)?;
        self.run(&mut job, progress)
    }

    /// Writes `data` (a multiple of the block size) at `lba`.
    pub fn write(&mut self, lba: u64, data: &[u8]) -> Result<(), Error> {
        self.write_with_progress(lba, data, &mut |_| {})
    }

    /// [`Client::write`], calling `progress` with the bytes completed so far.
    pub fn write_with_progress(
        &mut self,
        lba: u64,
        data: &[u8],
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), Error> {
        let bs = self.require_block_size()?;
        let mut job = BlockJob::write(lba, bs, self.config.max_request_bytes, data)?;
        self.run(&mut job, progress)
    }

    /// Reads `blocks` blocks from `lba` on and keeps only the last of them: requests of
    /// [`ClientConfig::max_request_bytes`] stream through `scratch` round robin, so the queue
    /// stays full over a range of any size with a buffer of `queue_depth` requests (for
    /// measuring a target, or warming its cache). `scratch` must be a whole number of
    /// requests long.
    ///
    /// ```no_run
    /// # fn demo<C: initiator::transport::Connector>(client: &mut initiator::driver::Client<'_, '_, C>) -> Result<(), initiator::error::Error> {
    /// client.set_max_request_bytes(1 << 20);
    /// let mut scratch = vec![0u8; 8 << 20]; // 8 requests in flight
    /// client.read_streaming(0, 1 << 21, &mut scratch)?; // 1 GiB of 512-byte blocks
    /// # Ok(()) }
    /// ```
    pub fn read_streaming(
        &mut self,
        lba: u64,
        blocks: u64,
        scratch: &mut [u8],
    ) -> Result<(), Error> {
        let bs = self.require_block_size()?;
        let len = stream_len(blocks, bs)?;
        let max = self.config.max_request_bytes;
        let mut job = BlockJob::stream(lba, bs, max, len, Blocks::Read(scratch))?;
        self.run(&mut job, &mut |_| {})
    }

    /// Writes `blocks` blocks from `lba` on, repeating `pattern` (a whole number of requests
    /// of [`ClientConfig::max_request_bytes`]): the write counterpart of
    /// [`Client::read_streaming`], e.g. to fill a LUN with zeros.
    pub fn write_streaming(&mut self, lba: u64, blocks: u64, pattern: &[u8]) -> Result<(), Error> {
        let bs = self.require_block_size()?;
        let len = stream_len(blocks, bs)?;
        let max = self.config.max_request_bytes;
        let mut job = BlockJob::stream(lba, bs, max, len, Blocks::Write(pattern))?;
        self.run(&mut job, &mut |_| {})
    }

    /// Services the connection with no command running until `until`: answers the target's
    /// NOP-In pings, sends NOP-Out keepalives after `keepalive_interval` of silence and reacts
    /// to asynchronous messages (a lost or target-dropped connection is re-established, as
    /// during a command). A boot loader calls this while it waits, so the target does not
    /// drop an idle session.
    ///
    /// ```no_run
    /// # fn demo<C: initiator::transport::Connector>(client: &mut initiator::driver::Client<'_, '_, C>, now: initiator::time::Instant) -> Result<(), initiator::error::Error> {
    /// client.idle(now + core::time::Duration::from_secs(10))?;
    /// # Ok(()) }
    /// ```
    pub fn idle(&mut self, until: Instant) -> Result<(), Error> {
        loop {
            if self.connector.now() >= until {
                return Ok(());
            }
            if self.transport.is_none() {
                // An earlier call gave up on a dead connection.
                self.establish()?;
            }
            self.pump_once(&mut crate::session::NoData, until);
            while let Some(ev) = self.session.poll_event() {
                match ev {
                    Event::ConnectionFailed(why) => self.recover(why)?,
                    // The target wants this connection gone: replace it now rather than at the
                    // next command.
                    Event::LogoutRequested { .. } => self.session.connection_lost(),
                    Event::LoggedOut => {
                        return Err(Error::ConnectionLost(ConnectionFailure::DroppedByTarget));
                    }
                    // Completions of commands an earlier call gave up on.
                    _ => {}
                }
            }
        }
    }

    /// Logs out cleanly and closes the connection.
    pub fn logout(mut self) -> Result<(), Error> {
        self.session.logout();
        let deadline = self.connector.now() + self.config.session.login_timeout;
        loop {
            if self.transport.is_none() {
                return Ok(());
            }
            self.pump_once(&mut crate::session::NoData, deadline);
            while let Some(ev) = self.session.poll_event() {
                match ev {
                    Event::LoggedOut | Event::ConnectionFailed(_) => return Ok(()),
                    _ => {}
                }
            }
            if self.connector.now() >= deadline {
                return Err(Error::Timeout);
            }
        }
    }

    /// Runs one command with the usual retries (UNIT ATTENTION absorbed, NOT READY and BUSY
    /// retried) and returns the bytes transferred; any other non-GOOD status is an error.
    fn command(&mut self, cdb: cdb::Cdb, data: DataBuffer<'_>) -> Result<usize, Error> {
        let mut job = BufferJob::new(cdb, data);
        self.run(&mut job, &mut |_| {})?;
        Ok(job.received())
    }

    fn require_block_size(&mut self) -> Result<u32, Error> {
        match self.block_size {
            Some(bs) => Ok(bs),
            None => Ok(self.read_capacity()?.block_size),
        }
    }

    /// The lun field for commands.
    fn lun(&self) -> u64 {
        lun_field(self.config.lun)
    }

    /// Opens a connection and logs in, following redirects and retrying with back-off.
    fn establish(&mut self) -> Result<(), Error> {
        let mut attempt = 0u32;
        loop {
            match self.login_once() {
                Ok(()) => return Ok(()),
                Err(Retry::Fatal(e)) => return Err(e),
                // Not a failure of the target: log in again at once, outside the retry budget.
                Err(Retry::Fallback) => {}
                Err(Retry::Again(failure, e)) => {
                    attempt += 1;
                    if attempt > self.config.max_reconnects {
                        return Err(match e {
                            Some(e) => e,
                            None => Error::ConnectionLost(failure),
                        });
                    }
                    let shift = attempt.saturating_sub(1).min(16);
                    let backoff = self
                        .config
                        .initial_backoff
                        .saturating_mul(1 << shift)
                        .min(self.config.max_backoff);
                    let until = self.connector.now() + backoff;
                    self.connector.sleep_until(until);
                }
            }
        }
    }

    /// One connect + login, following up to `max_redirects` redirects.
    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn login_once(&mut self) -> Result<(), Retry> {
        let mut portal = self.home;
        let mut redirects = 0u8;
        loop {
            self.disconnect();
            let now = self.connector.now();
            let transport = self
                .connector
                .connect(portal, now + self.config.connect_timeout)
                .map_err(|_| {
                    Retry::Again(ConnectionFailure::Transport, Some(Error::Connect(portal)))
                })?;
            self.transport = Some(transport);
            self.session.start_login(self.connector.now());
            loop {
                let deadline = self.connector.now() + self.config.session.login_timeout;
                self.pump_once(&mut crate::session::NoData, deadline);
                let mut next = None;
                while let Some(ev) = self.session.poll_event() {
                    match ev {
                        Event::LoggedIn(_) => return Ok(()),
                        Event::LoginFailed(
                            LoginError::AuthenticationFailed | LoginError::InitiatorError(_),
                        ) if self.session.chap_algorithm() == Some(7) && !self.chap_fallback => {
                            // tgt reads CHAP_A=7 as SHA-1: offer the list again without 7.
                            self.chap_fallback = true;
                            let without_7: &'static [u8] = &[8, 6, 5];
                            self.session.set_chap_algorithms(without_7);
                            next = Some(Err(Retry::Fallback));
                        }
                        Event::LoginFailed(e) if e.is_transient() => {
                            next = Some(Err(Retry::Again(
                                ConnectionFailure::Transport,
                                Some(Error::Login(e)),
                            )));
                        }
                        Event::LoginFailed(e) => next = Some(Err(Retry::Fatal(Error::Login(e)))),
                        Event::ConnectionFailed(f) => {
                            next = Some(Err(Retry::Again(f, None)));
                        }
                        Event::Redirected {
                            portal: to,
                            permanent,
                        } => {
                            next = Some(Ok((to, permanent)));
                        }
                        _ => {}
                    }
                }
                match next {
                    None => continue,
                    Some(Err(r)) => {
                        self.disconnect();
                        return Err(r);
                    }
                    Some(Ok((to, permanent))) => {
                        redirects += 1;
                        if redirects > self.config.max_redirects {
                            self.disconnect();
                            return Err(Retry::Fatal(Error::Login(LoginError::RedirectLoop)));
                        }
                        if permanent {
                            self.home = to;
                        }
                        portal = to;
                        break;
                    }
                }
            }
        }
    }

    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn disconnect(&mut self) {
        self.transport = None;
        self.rx_start = 0;
        self.rx_len = 0;
        self.tx_pos = 0;
        self.tx_len = 0;
        self.rx_quiet = false;
    }

    /// One round of I/O: flush what can be sent, feed what arrived, fire timers, and block in
    /// `Transport::wait` when nothing moved. Failures surface as session events.
    fn pump_once(&mut self, io: &mut dyn DataIo, deadline: Instant) {
        let io = &mut DynIo(io);
        let now = self.connector.now();
        let Some(transport) = self.transport.as_mut() else {
            return;
        };
        // Whether the caller may have something to do (input taken, a timer fired): then return
        // rather than block. Sending alone is not: what it makes happen arrives as input.
        let mut progress = false;
        let mut failed = false;
        // Send. PDUs are gathered in `tx` while another whole one fits (a target's small
        // MaxRecvDataSegmentLength means many Data-Out PDUs per burst) and leave in one call.
        let gather_room = self.session.negotiated().max_send_data_segment_length as usize
            + BHS_LEN
            + GATHER_SLACK;
        loop {
            if self.tx_pos == self.tx_len {
                self.tx_pos = 0;
                self.tx_len = 0;
                while let Some(room) = self.tx.get_mut(self.tx_len..)
                    && (self.tx_len == 0 || room.len() >= gather_room)
                {
                    match self.session.poll_transmit(now, room, io) {
                        Some(n) => self.tx_len += n,
                        None => break,
                    }
                }
                if self.tx_len == 0 {
                    break;
                }
            }
            match transport.send(&self.tx[self.tx_pos..self.tx_len]) {
                Ok(0) => break,
                Ok(n) => self.tx_pos += n,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        // Receive, unless nothing can have arrived since the last round: then `wait` below
        // finds out (and returns at once if something unsolicited did arrive).
        let quiet = core::mem::take(&mut self.rx_quiet);
        while !failed && !quiet {
            // Direct placement: the rest of a Data-In payload straight into the job's buffer.
            // A sink without a buffer for it gets the bytes through `rx` and `write` instead.
            if self.rx_start == self.rx_len
                && let Some(p) = self.session.pending_data_in()
                && let Some(dst) = io.buffer(p.tag, p.offset, p.len)
                && let n = dst.len().min(p.len as usize)
                && let Some(dst) = dst.get_mut(..n).filter(|d| !d.is_empty())
            {
                // When this is the payload's end, what follows (its trailer, the next header)
                // lands in the empty `rx` in the same call, saving a `recv` per PDU.
                self.rx_start = 0;
                self.rx_len = 0;
                let header = BHS_LEN + self.session.negotiated().digests.header_len();
                let follow = if n == p.len as usize {
                    self.rx.get_mut(..header).unwrap_or_default()
                } else {
                    &mut []
                };
                let asked = n + follow.len();
                match transport.recv_split(dst, follow) {
                    Ok(0) => {
                        self.rx_quiet = true;
                        break;
                    }
                    Ok(got) => {
                        progress = true;
                        if self.session.data_placed(now, &dst[..got.min(n)]).is_err() {
                            // The session already reported the failure.
                            self.disconnect();
                            return;
                        }
                        if got > n {
                            self.rx_len = got - n;
                            match self.session.handle_input(now, &self.rx[..self.rx_len], io) {
                                Ok(used) => self.rx_start = used,
                                Err(_) => {
                                    self.disconnect();
                                    return;
                                }
                            }
                        }
                        let rx_empty = self.rx_start == self.rx_len;
                        if let Some(quiet) = round_ends(&self.session, rx_empty, got < asked) {
                            self.rx_quiet = quiet;
                            break;
                        }
                        continue;
                    }
                    Err(_) => {
                        failed = true;
                        break;
                    }
                }
            }
            compact_rx(self.rx, &mut self.rx_start, &mut self.rx_len);
            // While reads are in flight, take just the next header, so that a Data-In payload
            // behind it can be placed directly rather than copied out of `rx`.
            let buffered = self.rx_len - self.rx_start;
            let header = BHS_LEN + self.session.negotiated().digests.header_len();
            let end = if self.session.expects_data_in() && buffered < header {
                self.rx_len + (header - buffered)
            } else {
                self.rx.len()
            };
            let Some(space) = self.rx.get_mut(self.rx_len..end.min(self.rx.len())) else {
                break;
            };
            if space.is_empty() {
                // A PDU larger than the buffer would have been refused by framing already.
                break;
            }
            let asked = space.len();
            match transport.recv(space) {
                Ok(0) => {
                    self.rx_quiet = true;
                    break;
                }
                Ok(n) => {
                    self.rx_len += n;
                    progress = true;
                    let drained = n < asked;
                    let pending = &self.rx[self.rx_start..self.rx_len];
                    match self.session.handle_input(now, pending, io) {
                        Ok(used) => {
                            self.rx_start += used;
                            let rx_empty = self.rx_start == self.rx_len;
                            if let Some(quiet) = round_ends(&self.session, rx_empty, drained) {
                                self.rx_quiet = quiet;
                                break;
                            }
                        }
                        Err(_) => {
                            // The session already reported the failure.
                            self.disconnect();
                            return;
                        }
                    }
                }
                Err(_) => failed = true,
            }
        }
        if failed {
            self.session.connection_lost();
            self.disconnect();
            return;
        }
        if let Some(t) = self.session.poll_timeout()
            && now >= t
        {
            self.session.handle_timeout(now);
            progress = true;
        }
        if !progress {
            let wake = self
                .session
                .poll_timeout()
                .map_or(deadline, |t| t.min(deadline));
            let want_send = self.tx_pos < self.tx_len;
            let Some(transport) = self.transport.as_mut() else {
                return;
            };
            self.rx_quiet = false;
            if transport.wait(want_send, wake).is_err() {
                self.session.connection_lost();
                self.disconnect();
            }
        }
    }

    /// Re-establishes the session after a connection failure; unfinished tasks are re-issued
    /// by the session after the new login.
    // Rare path: kept out of the receive/transmit loop for size (docs/sanboot.md "Footprint").
    #[inline(never)]
    fn recover(&mut self, why: ConnectionFailure) -> Result<(), Error> {
        self.disconnect();
        if self.config.max_reconnects == 0 {
            return Err(Error::ConnectionLost(why));
        }
        self.establish().map_err(|e| match e {
            Error::Connect(_) => Error::ConnectionLost(why),
            other => other,
        })
    }

    fn run(&mut self, job: &mut dyn Job, progress: &mut dyn FnMut(u64)) -> Result<(), Error> {
        job::run(self, job, progress)
    }
}

/// The data side of one [`Client::pump_once`]: a job's buffers ([`job`]'s router) or
/// [`NoData`](crate::session::NoData).
trait DataIo: DataSink + DataSource {}

impl<T: DataSink + DataSource> DataIo for T {}

/// A [`DataIo`] trait object as one concrete type, so that the pump and the session's receive
/// and transmit paths are compiled once rather than once per data type (firmware image size);
/// the indirect calls happen per Data-In/Data-Out chunk, not per byte.
struct DynIo<'a>(&'a mut dyn DataIo);

impl DataSink for DynIo<'_> {
    fn write(&mut self, tag: TaskTag, offset: u32, bytes: &[u8]) {
        self.0.write(tag, offset, bytes);
    }

    fn buffer(&mut self, tag: TaskTag, offset: u32, len: u32) -> Option<&mut [u8]> {
        self.0.buffer(tag, offset, len)
    }
}

impl DataSource for DynIo<'_> {
    fn read(&mut self, tag: TaskTag, offset: u32, buf: &mut [u8]) {
        self.0.read(tag, offset, buf);
    }
}

/// Makes room at the end of `rx`: unconsumed bytes `rx[*start..*len]` (a partial PDU) move to
/// the front only when less than half the buffer is left behind them, so the copy is rare and
/// short.
fn compact_rx(rx: &mut [u8], start: &mut usize, len: &mut usize) {
    if *start == *len {
        *start = 0;
        *len = 0;
    } else if rx.len() - *len < rx.len() / 2 {
        rx.copy_within(*start..*len, 0);
        *len -= *start;
        *start = 0;
    }
}

/// Bytes of `blocks` blocks of `block_size`, if they fit the address space.
fn stream_len(blocks: u64, block_size: u32) -> Result<usize, Error> {
    blocks
        .checked_mul(u64::from(block_size))
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(Error::Unaligned(block_size))
}

/// After a receive that took bytes (`drained`: it came back short, so the transport is empty):
/// `Some(quiet)` ends the receive round, `quiet` telling the next round to wait at once rather
/// than try a `recv` that cannot succeed; `None` keeps receiving.
fn round_ends(session: &Session<'_>, rx_empty: bool, drained: bool) -> Option<bool> {
    if session.events_pending() {
        // A completion: let the caller issue the next command first. Nothing buffered and no
        // command awaiting an answer means only an unsolicited PDU can come.
        Some(drained || (rx_empty && session.tasks_in_flight() == 0))
    } else if drained {
        Some(true)
    } else {
        None
    }
}

/// Whether a failed login attempt is worth retrying.
enum Retry {
    Again(ConnectionFailure, Option<Error>),
    /// Log in again with a different CHAP_A offer (happens at most once per client).
    Fallback,
    Fatal(Error),
}

/// Opens a discovery session to `portal`, sends `SendTargets=All` and calls `found(name,
/// address)` for every target address reported (a target with several portals appears once per
/// portal; `address` is the raw `TargetAddress` value, e.g. `10.0.0.1:3260,1`).
pub fn discover<C: Connector>(
    connector: C,
    portal: SocketAddr,
    session: SessionConfig<'_>,
    buffers: Buffers<'_>,
    found: &mut dyn FnMut(&str, &str),
) -> Result<(), Error> {
    let session = SessionConfig {
        target_name: None,
        ..session
    };
    let config = ClientConfig::new(portal, session);
    let mut client = Client::connect(connector, &config, buffers)?;
    client.session.send_targets().map_err(Error::Submit)?;
    let deadline = client.connector.now() + config.session.login_timeout;
    loop {
        client.pump_once(&mut crate::session::NoData, deadline);
        while let Some(ev) = client.session.poll_event() {
            match ev {
                Event::TextComplete => {
                    let mut name = "";
                    for (k, v) in
                        crate::text::TextIter::new(client.session.text_response()).flatten()
                    {
                        match k {
                            "TargetName" => name = v,
                            "TargetAddress" if !name.is_empty() => found(name, v),
                            _ => {}
                        }
                    }
                    return client.logout();
                }
                Event::ConnectionFailed(f) => return Err(Error::ConnectionLost(f)),
                _ => {}
            }
        }
        if client.connector.now() >= deadline {
            return Err(Error::Timeout);
        }
    }
}
