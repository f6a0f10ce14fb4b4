//! smoltcp `phy::Device` over `EFI_SIMPLE_NETWORK_PROTOCOL`.
//!
//! Transmit is asynchronous in SNP: `Transmit` queues the caller's buffer and the driver hands
//! it back later through `GetStatus`. Each frame therefore goes out from one of [`TX_SLOTS`]
//! caller-provided slots that stays untouched until the driver recycles it. Receive copies one
//! frame per `Receive` call into a caller-provided buffer.

use crate::checksum;
use core::ops::DerefMut;
use smoltcp::phy::{self, Checksum, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use uefi::proto::network::snp::{NetworkState, ReceiveFlags, SimpleNetwork};

/// Largest Ethernet frame handled (1500-byte MTU + 14-byte header, rounded up).
pub const FRAME_LEN: usize = 1536;

/// Frames that may be queued in the driver at once.
pub const TX_SLOTS: usize = 8;

/// Frames with a bad checksum skipped per `receive` call before it reports none.
const MAX_BAD_FRAMES: usize = 16;

/// Bound on `GetStatus` calls per reclaim, in case a driver keeps returning buffers.
const MAX_RECLAIM: usize = 4 * TX_SLOTS;

/// The frame buffers an [`SnpDevice`] uses (~15 KiB; no allocator needed).
#[derive(Debug)]
pub struct SnpBuffers {
    tx: [[u8; FRAME_LEN]; TX_SLOTS],
    /// Slot `i` is queued in the driver and must not be touched until it is recycled.
    in_flight: [bool; TX_SLOTS],
    rx: [u8; FRAME_LEN],
    /// Where a frame goes when every slot is in flight: it is dropped (TCP retransmits).
    scratch: [u8; FRAME_LEN],
}

impl SnpBuffers {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        SnpBuffers {
            tx: [[0; FRAME_LEN]; TX_SLOTS],
            in_flight: [false; TX_SLOTS],
            rx: [0; FRAME_LEN],
            scratch: [0; FRAME_LEN],
        }
    }
}

impl Default for SnpBuffers {
    fn default() -> Self {
        Self::new()
    }
}

/// A smoltcp Ethernet device on one SNP port.
///
/// `S` is anything that derefs to the protocol, typically the
/// `ScopedProtocol<SimpleNetwork>` from `boot::open_protocol_exclusive` (exclusive, so the
/// firmware's own network stack stops polling the port and cannot steal its frames).
#[derive(Debug)]
pub struct SnpDevice<'b, S: DerefMut<Target = SimpleNetwork>> {
    snp: S,
    buffers: &'b mut SnpBuffers,
    mtu: usize,
}

impl<'b, S: DerefMut<Target = SimpleNetwork>> SnpDevice<'b, S> {
    /// Brings the port to the Initialized state (Start + Initialize as needed) and enables
    /// receiving unicast and broadcast frames, plus all multicast when `ipv6` (neighbour
    /// discovery needs solicited-node multicast).
    pub fn new(mut snp: S, buffers: &'b mut SnpBuffers, ipv6: bool) -> uefi::Result<Self> {
        if snp.mode().state == NetworkState::STOPPED {
            snp.start()?;
        }
        if snp.mode().state == NetworkState::STARTED {
            snp.initialize(0, 0)?;
        }
        let supported = ReceiveFlags::from_bits_truncate(snp.mode().receive_filter_mask);
        let mut wanted = ReceiveFlags::UNICAST | ReceiveFlags::BROADCAST;
        if ipv6 {
            wanted |= if supported.contains(ReceiveFlags::PROMISCUOUS_MULTICAST) {
                ReceiveFlags::PROMISCUOUS_MULTICAST
            } else {
                ReceiveFlags::MULTICAST
            };
        }
        snp.receive_filters(wanted & supported, ReceiveFlags::empty(), false, None)?;
        let mode = snp.mode();
        let frame = usize::try_from(mode.max_packet_size.saturating_add(mode.media_header_size))
            .unwrap_or(FRAME_LEN);
        buffers.in_flight = [false; TX_SLOTS];
        Ok(SnpDevice {
            snp,
            buffers,
            mtu: frame.min(FRAME_LEN),
        })
    }

    /// The protocol, e.g. to read its mode data.
    pub fn snp(&self) -> &SimpleNetwork {
        &self.snp
    }

    /// Marks every slot the driver has handed back as free again.
    fn reclaim(&mut self) {
        if !self.buffers.in_flight.contains(&true) {
            return;
        }
        for _ in 0..MAX_RECLAIM {
            let Ok(Some(done)) = self.snp.get_recycled_transmit_buffer_status() else {
                return;
            };
            let done = done.as_ptr().cast_const();
            for (slot, busy) in self
                .buffers
                .tx
                .iter()
                .zip(self.buffers.in_flight.iter_mut())
            {
                if slot.as_ptr() == done {
                    *busy = false;
                }
            }
        }
    }

    /// Reclaims slots only when none is free. `GetStatus` is not free: OVMF's virtio driver
    /// reads the device's link status on every call (an exit to the emulator under QEMU), and
    /// calling it on every poll cost more than the transmits it recycled (docs/sanboot.md
    /// "Read throughput"). Draining all finished slots at once costs about one call per frame
    /// sent.
    fn reclaim_if_full(&mut self) {
        if !self.buffers.in_flight.contains(&false) {
            self.reclaim();
        }
    }

    /// Stops using the port: waits (bounded) for queued frames to come back, then shuts the
    /// port down so the driver holds no pointer into the buffers. Call before
    /// `ExitBootServices` or before freeing the buffers.
    pub fn shutdown(mut self) -> uefi::Result {
        for _ in 0..1000 {
            self.reclaim();
            if !self.buffers.in_flight.contains(&true) {
                break;
            }
        }
        self.snp.shutdown()
    }
}

/// A received frame.
#[derive(Debug)]
pub struct SnpRxToken<'a> {
    frame: &'a [u8],
}

/// Permission to send one frame.
#[derive(Debug)]
pub struct SnpTxToken<'a> {
    snp: &'a SimpleNetwork,
    /// A free slot and its in-flight flag, or `None` when all are queued (the frame is dropped).
    slot: Option<(&'a mut [u8; FRAME_LEN], &'a mut bool)>,
    scratch: &'a mut [u8; FRAME_LEN],
}

impl phy::RxToken for SnpRxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

impl phy::TxToken for SnpTxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(FRAME_LEN);
        match self.slot {
            Some((slot, in_flight)) => {
                let result = f(&mut slot[..len]);
                // Header size 0: the frame already carries its Ethernet header. The driver keeps
                // a pointer to the slot until `GetStatus` returns it, so mark it in flight.
                // On error (NOT_READY: the driver's queue is full) the frame is lost, as on a wire.
                *in_flight = self
                    .snp
                    .transmit(0, &mut slot[..len], None, None, None)
                    .is_ok();
                result
            }
            None => f(&mut self.scratch[..len]),
        }
    }
}

fn free_slot<'a>(
    tx: &'a mut [[u8; FRAME_LEN]; TX_SLOTS],
    in_flight: &'a mut [bool; TX_SLOTS],
) -> Option<(&'a mut [u8; FRAME_LEN], &'a mut bool)> {
    tx.iter_mut()
        .zip(in_flight.iter_mut())
        .find(|(_, busy)| !**busy)
}

impl<S: DerefMut<Target = SimpleNetwork>> phy::Device for SnpDevice<'_, S> {
    type RxToken<'a>
        = SnpRxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = SnpTxToken<'a>
    where
        Self: 'a;

    fn receive(&mut self, _timestamp: Instant) -> Option<(SnpRxToken<'_>, SnpTxToken<'_>)> {
        self.reclaim_if_full();
        let SnpBuffers {
            tx,
            in_flight,
            rx,
            scratch,
        } = &mut *self.buffers;
        // NOT_READY (nothing queued) and device errors alike mean no frame this time. A frame
        // with a wrong IPv4, TCP or UDP checksum is dropped here, where the check is cheaper
        // than smoltcp's (see `capabilities`), and the next one is taken.
        let mut len = None;
        for _ in 0..MAX_BAD_FRAMES {
            let got = self
                .snp
                .receive(&mut rx[..], None, None, None, None)
                .ok()?
                .min(FRAME_LEN);
            if checksum::frame_checksums_ok(&rx[..got]) {
                len = Some(got);
                break;
            }
        }
        let len = len?;
        let snp: &SimpleNetwork = &self.snp;
        Some((
            SnpRxToken { frame: &rx[..len] },
            SnpTxToken {
                snp,
                slot: free_slot(tx, in_flight),
                scratch,
            },
        ))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<SnpTxToken<'_>> {
        self.reclaim_if_full();
        let SnpBuffers {
            tx,
            in_flight,
            scratch,
            ..
        } = &mut *self.buffers;
        // Without a free slot, report "not now" so smoltcp keeps the segment and retries.
        let slot = free_slot(tx, in_flight)?;
        Some(SnpTxToken {
            snp: &self.snp,
            slot: Some(slot),
            scratch,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.mtu;
        // `max_burst_size` stays unset. smoltcp clamps every window it advertises to that many
        // segments; set to `TX_SLOTS` it held a 256 KiB receive buffer to 8 segments (11,792
        // bytes, 94 KB with window scaling), and the peer waited on an ACK every 8 frames.
        // What arrives waits in the firmware's receive ring, not in our transmit slots, and
        // iPXE over SNP advertises its whole buffer too. Fewer, larger ACK rounds read 64 MiB
        // through OVMF in 0.65 s instead of 0.78 s (docs/sanboot.md, "Read throughput").
        // `receive` has checked these on the way in (eight bytes per step instead of
        // smoltcp's two: the largest cost of a bulk read when the CPU is slow or emulated);
        // smoltcp still fills them in on the way out and checks ICMP itself.
        caps.checksum.ipv4 = Checksum::Tx;
        caps.checksum.tcp = Checksum::Tx;
        caps.checksum.udp = Checksum::Tx;
        caps
    }
}
