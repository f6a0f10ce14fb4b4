//! One network port: a smoltcp interface over one `phy::Device`, its address configuration, and
//! the TCP socket the iSCSI session runs over.
//!
//! Several ports are several `Port` values, each with its own device, interface and buffers.

use crate::clock::Clock;
use crate::config::{Addressing, PortConfig, PortSettings};
use crate::dhcp::{self, PortIdentity};
use crate::time::{duration_from_smoltcp, to_smoltcp};
use core::cell::RefCell;
use core::net::IpAddr;
use initiator::time::Instant;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet, SocketStorage};
use smoltcp::phy::{Device, Medium};
use smoltcp::socket::{dhcpv4, tcp};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

/// Storage a port borrows for its socket table and the last DHCP packet (no allocator needed).
///
/// ```
/// let storage = netstack_adapter::PortStorage::new();
/// # drop(storage);
/// ```
#[derive(Debug)]
pub struct PortStorage<'a> {
    sockets: [SocketStorage<'a>; 2],
    dhcp_packet: [u8; dhcp::PACKET_BUFFER_LEN],
}

impl PortStorage<'_> {
    /// Empty storage.
    pub const fn new() -> Self {
        PortStorage {
            sockets: [SocketStorage::EMPTY; 2],
            dhcp_packet: [0; dhcp::PACKET_BUFFER_LEN],
        }
    }
}

impl Default for PortStorage<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// The caller's TCP socket buffers; see [`crate::buffers`] for how to size them.
#[derive(Debug)]
pub struct TcpBuffers<'a> {
    /// Receive buffer; its size is the advertised window (window scaling is negotiated).
    pub rx: &'a mut [u8],
    /// Send buffer.
    pub tx: &'a mut [u8],
}

/// Why a port could not be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The MAC is a multicast or broadcast address.
    #[error("the port MAC is not a unicast address")]
    NotUnicast,
    /// The device is not an Ethernet device.
    #[error("the device medium is not Ethernet")]
    NotEthernet,
    /// The TCP receive buffer is larger than window scaling can advertise (1 GiB).
    #[error("the TCP receive buffer exceeds 1 GiB")]
    BufferTooLarge,
    /// The static address, prefix or gateway is invalid or of mixed families.
    #[error("invalid static address configuration")]
    BadStaticAddress,
}

/// Why address configuration did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfigureError {
    /// No DHCP lease before the deadline.
    #[error("no DHCP lease before the deadline")]
    Timeout,
}

/// One network port driven by smoltcp.
///
/// The port is shared by reference between the [`initiator::transport::Connector`] (implemented
/// for `&Port`) and the transports it opens; a `RefCell` inside serialises access, so a port is
/// used from one thread, as firmware is.
pub struct Port<'a, D: Device, C: Clock> {
    pub(crate) inner: RefCell<PortInner<'a, D, C>>,
}

impl<D: Device, C: Clock> core::fmt::Debug for Port<'_, D, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("Port")
            .field("mac", &inner.identity.mac)
            .field("config", &inner.config)
            .finish_non_exhaustive()
    }
}

pub(crate) struct PortInner<'a, D, C> {
    pub(crate) device: D,
    pub(crate) clock: C,
    pub(crate) iface: Interface,
    pub(crate) sockets: SocketSet<'a>,
    pub(crate) tcp: SocketHandle,
    dhcp: Option<SocketHandle>,
    /// Bumped on every connect, so a stale transport cannot use its successor's socket.
    pub(crate) generation: u32,
    identity: PortIdentity,
    pub(crate) config: Option<PortConfig>,
    next_local_port: u16,
}

/// First and size of the IANA dynamic port range (RFC 6335).
const EPHEMERAL_FIRST: u16 = 49152;
const EPHEMERAL_COUNT: u16 = 16384;

impl<'a, D: Device, C: Clock> Port<'a, D, C> {
    /// Sets up the interface and sockets. A static address is applied at once; DHCP starts with
    /// the first poll (see [`Port::configure`]).
    pub fn new(
        mut device: D,
        mut clock: C,
        settings: &PortSettings,
        storage: &'a mut PortStorage<'a>,
        tcp_buffers: TcpBuffers<'a>,
    ) -> Result<Self, PortError> {
        let mac = EthernetAddress(settings.mac);
        if !mac.is_unicast() {
            return Err(PortError::NotUnicast);
        }
        if device.capabilities().medium != Medium::Ethernet {
            return Err(PortError::NotEthernet);
        }
        if tcp_buffers.rx.len() > crate::buffers::MAX_RX_BUFFER {
            return Err(PortError::BufferTooLarge);
        }
        let mut config = Config::new(HardwareAddress::Ethernet(mac));
        config.random_seed = settings.random_seed;
        let mut iface = Interface::new(config, &mut device, to_smoltcp(clock.now()));

        let PortStorage {
            sockets: socket_storage,
            dhcp_packet,
        } = storage;
        let mut sockets = SocketSet::new(&mut socket_storage[..]);
        let mut tcp_socket = tcp::Socket::new(
            tcp::SocketBuffer::new(tcp_buffers.rx),
            tcp::SocketBuffer::new(tcp_buffers.tx),
        );
        // iSCSI sends whole PDUs; waiting to coalesce them only adds latency.
        tcp_socket.set_nagle_enabled(false);
        let tcp = sockets.add(tcp_socket);

        let identity = PortIdentity {
            mac: settings.mac,
            nic_mac: settings.permanent_mac.unwrap_or(settings.mac),
            pci: settings.pci,
            vlan: settings.vlan,
        };
        let (dhcp, config) = match &settings.addressing {
            Addressing::Dhcp => {
                let mut socket = dhcpv4::Socket::new();
                socket.set_parameter_request_list(dhcp::PARAMETER_REQUEST_LIST);
                socket.set_receive_packet_buffer(&mut dhcp_packet[..]);
                (Some(sockets.add(socket)), None)
            }
            Addressing::Static(fixed) => {
                apply_static(&mut iface, fixed)?;
                let cfg = PortConfig::fixed(identity.nic_mac, identity.pci, identity.vlan, fixed);
                (None, Some(cfg))
            }
        };
        let span = (settings.random_seed % u64::from(EPHEMERAL_COUNT)) as u16;
        Ok(Port {
            inner: RefCell::new(PortInner {
                device,
                clock,
                iface,
                sockets,
                tcp,
                dhcp,
                generation: 0,
                identity,
                config,
                next_local_port: EPHEMERAL_FIRST + span,
            }),
        })
    }

    /// Drives the stack until the port has an address (at once for a static one), or `deadline`.
    pub fn configure(&self, deadline: Instant) -> Result<PortConfig, ConfigureError> {
        let mut inner = self.inner.borrow_mut();
        let deadline = to_smoltcp(deadline);
        loop {
            let now = inner.poll();
            if let Some(cfg) = &inner.config {
                return Ok(cfg.clone());
            }
            if now >= deadline {
                return Err(ConfigureError::Timeout);
            }
            inner.idle_until(now, deadline);
        }
    }

    /// The port's configuration, once it has one (DHCP leases can also be lost).
    pub fn config(&self) -> Option<PortConfig> {
        self.inner.borrow().config.clone()
    }

    /// The MAC the port sends from.
    pub fn mac(&self) -> [u8; 6] {
        self.inner.borrow().identity.mac
    }

    /// Processes pending frames and timers once (keeps DHCP renewals and TCP closes going).
    pub fn poll(&self) {
        self.inner.borrow_mut().poll();
    }

    /// Gives the device and clock back.
    pub fn into_parts(self) -> (D, C) {
        let inner = self.inner.into_inner();
        (inner.device, inner.clock)
    }
}

/// `addr` as smoltcp's address; `None` for IPv6 without the `ipv6` feature.
pub(crate) fn smoltcp_address(addr: IpAddr) -> Option<IpAddress> {
    match addr {
        IpAddr::V4(v4) => Some(IpAddress::Ipv4(v4)),
        #[cfg(feature = "ipv6")]
        IpAddr::V6(v6) => Some(IpAddress::Ipv6(v6)),
        #[cfg(not(feature = "ipv6"))]
        IpAddr::V6(_) => None,
    }
}

fn apply_static(
    iface: &mut Interface,
    fixed: &crate::config::StaticConfig,
) -> Result<(), PortError> {
    let address = fixed.address;
    let max_prefix = match address.addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    if address.prefix > max_prefix {
        return Err(PortError::BadStaticAddress);
    }
    let addr = smoltcp_address(address.addr).ok_or(PortError::BadStaticAddress)?;
    let mut full = false;
    iface.update_ip_addrs(|addrs| {
        full = addrs.push(IpCidr::new(addr, address.prefix)).is_err();
    });
    if full {
        return Err(PortError::BadStaticAddress);
    }
    let routes = iface.routes_mut();
    let added = match (address.addr, fixed.gateway) {
        (_, None) => Ok(None),
        (IpAddr::V4(_), Some(IpAddr::V4(gw))) => routes.add_default_ipv4_route(gw),
        #[cfg(feature = "ipv6")]
        (IpAddr::V6(_), Some(IpAddr::V6(gw))) => routes.add_default_ipv6_route(gw),
        _ => return Err(PortError::BadStaticAddress),
    };
    added.map(|_| ()).map_err(|_| PortError::BadStaticAddress)
}

impl<D: Device, C: Clock> PortInner<'_, D, C> {
    /// One pass of the interface, then DHCP bookkeeping. Returns the time used.
    pub(crate) fn poll(&mut self) -> smoltcp::time::Instant {
        let now = to_smoltcp(self.clock.now());
        self.iface.poll(now, &mut self.device, &mut self.sockets);
        self.apply_dhcp();
        now
    }

    fn apply_dhcp(&mut self) {
        let Some(handle) = self.dhcp else { return };
        match self.sockets.get_mut::<dhcpv4::Socket>(handle).poll() {
            None => {}
            Some(dhcpv4::Event::Configured(lease)) => {
                self.config = Some(dhcp::lease_to_config(self.identity, &lease));
                let address = lease.address;
                self.iface.update_ip_addrs(|addrs| {
                    addrs.clear();
                    // Capacity is at least one address.
                    let _ = addrs.push(IpCidr::Ipv4(address));
                });
                let routes = self.iface.routes_mut();
                match lease.router {
                    // The table holds a default route per family, so this cannot be full.
                    Some(router) => drop(routes.add_default_ipv4_route(router)),
                    None => drop(routes.remove_default_ipv4_route()),
                }
            }
            Some(dhcpv4::Event::Deconfigured) => {
                self.config = None;
                self.iface.update_ip_addrs(|addrs| addrs.clear());
                self.iface.routes_mut().remove_default_ipv4_route();
            }
        }
    }

    /// Lets the clock idle until the stack next needs polling, but not past `deadline`.
    pub(crate) fn idle_until(
        &mut self,
        now: smoltcp::time::Instant,
        deadline: smoltcp::time::Instant,
    ) {
        let left = smoltcp::time::Duration::from_micros(
            u64::try_from(deadline.total_micros().saturating_sub(now.total_micros())).unwrap_or(0),
        );
        let wait = match self.iface.poll_delay(now, &self.sockets) {
            Some(delay) => delay.min(left),
            None => left,
        };
        self.clock.idle(duration_from_smoltcp(wait));
    }

    /// The next local port for an outgoing connection (a fresh one each time, so a new
    /// connection is never mistaken for the old one by the target).
    pub(crate) fn next_local_port(&mut self) -> u16 {
        let port = self.next_local_port;
        let offset = (port - EPHEMERAL_FIRST + 1) % EPHEMERAL_COUNT;
        self.next_local_port = EPHEMERAL_FIRST + offset;
        port
    }
}
