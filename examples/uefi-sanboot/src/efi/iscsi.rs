//! The iSCSI block backend: the initiator's blocking client over a smoltcp port on SNP, seen
//! through [`LunIo`] so [`LunDisk`](sanboot::lun_disk::LunDisk) serves Block I/O from it.

use super::net::SnpPort;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use core::net::SocketAddr;
use core::time::Duration;
use initiator::driver::{Buffers, Client, ClientConfig};
use initiator::session::{Chap, MutualChap, SessionConfig};
use initiator::transport::Connector;
use sanboot::config::Config;
use sanboot::lun_disk::{LunDisk, LunIo};
use sanboot::root_path::RootPath;

/// How long one idle call (once a second, from a timer) services the connection:
/// enough to answer a NOP-In that is waiting, short enough not to slow the boot.
const IDLE_BUDGET: Duration = Duration::from_millis(20);

/// A logged-in session to one LUN.
pub struct IscsiLun {
    /// Boxed: the session state is 22 KiB, too much to move through stack frames.
    client: Box<Client<'static, 'static, &'static SnpPort>>,
    port: &'static SnpPort,
}

impl core::fmt::Debug for IscsiLun {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IscsiLun").finish_non_exhaustive()
    }
}

impl LunIo for IscsiLun {
    type Error = initiator::error::Error;

    fn read(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.client.read(lba, buf)
    }

    fn write(&mut self, lba: u64, buf: &[u8]) -> Result<(), Self::Error> {
        self.client.write(lba, buf)
    }

    fn sync(&mut self) -> Result<(), Self::Error> {
        self.client.sync_cache()
    }

    fn idle(&mut self) -> Result<(), Self::Error> {
        let until = self.port.now() + IDLE_BUDGET;
        self.client.idle(until)
    }
}

/// What the login produced.
#[derive(Debug)]
pub struct Attached {
    /// The disk, ready for Block I/O.
    pub disk: LunDisk<IscsiLun>,
    /// `<blocks> blocks of <size> bytes`, for the stage line.
    pub geometry: String,
}

/// A boxed client, not connected yet. Its 22 KiB of session state pass through the stack
/// once, in this function's own frame, which ends before the login's call chain starts (see
/// docs/sanboot.md "Stack").
#[inline(never)]
fn new_client(
    port: &'static SnpPort,
    cfg: &ClientConfig<'static>,
    buffers: Buffers<'static>,
) -> Box<Client<'static, 'static, &'static SnpPort>> {
    Box::new(Client::new(port, cfg, buffers))
}

/// A random-format ISID (RFC 7143 §11.12.5, type 10b) that is stable per port.
fn isid(mac: [u8; 6]) -> [u8; 6] {
    [0x80, mac[2], mac[3], mac[4], mac[5], 0x01]
}

/// Logs in to the target of `root` through `port` and reads its capacity. `challenge` seeds
/// the mutual-CHAP challenge (16 random bytes).
///
/// The client is built in this function's frame and returned boxed, so the kilobytes of
/// session state are not copied through the callers' frames (see docs/sanboot.md "Stack").
#[inline(never)]
pub fn attach(
    port: &'static SnpPort,
    cfg: &Config<'static>,
    initiator_name: &'static str,
    root: &RootPath<'static>,
    challenge: [u8; 16],
) -> Result<Attached, String> {
    let mut session = SessionConfig::new(initiator_name, root.target, isid(port.mac()));
    if let Some(secret) = cfg.chap.secret {
        let mut chap = Chap::new(cfg.chap.user.unwrap_or(initiator_name), secret.as_bytes());
        if let Some(mutual_secret) = cfg.mutual_chap.secret {
            chap = chap.with_mutual(MutualChap {
                user: cfg.mutual_chap.user.unwrap_or(root.target),
                secret: mutual_secret.as_bytes(),
                challenge,
                // Any identifier will do; keep it away from 0, which some targets mishandle.
                id: challenge[0] | 1,
            });
        }
        session.chap = Some(chap);
    }
    let mut client_cfg = ClientConfig::new(SocketAddr::new(root.server, root.port), session);
    client_cfg.lun = u16::try_from(root.lun).map_err(|_| "LUN out of range")?;
    let rx_len = session.max_pdu_len();
    let buffers = Buffers {
        rx: vec![0u8; rx_len].leak(),
        tx: vec![0u8; 64 * 1024 + 64].leak(),
    };
    let mut client = new_client(port, &client_cfg, buffers);
    client
        .login()
        .map_err(|e| alloc::format!("login to {}:{}: {e}", root.server, root.port))?;
    let capacity = client
        .read_capacity()
        .map_err(|e| alloc::format!("READ CAPACITY: {e}"))?;
    let geometry = alloc::format!(
        "{} blocks of {} bytes",
        capacity.blocks(),
        capacity.block_size
    );
    // The client splits and pipelines requests itself; hand it large transfers.
    let max_blocks = (4 * 1024 * 1024 / capacity.block_size.max(1)).max(1);
    let disk = LunDisk::new(
        IscsiLun { client, port },
        capacity.block_size,
        capacity.last_lba,
        max_blocks,
    )
    .ok_or("the target reports a block size of 0")?;
    Ok(Attached { disk, geometry })
}
