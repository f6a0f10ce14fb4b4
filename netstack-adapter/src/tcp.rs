//! [`Transport`] and [`Connector`] over a port's smoltcp TCP socket.

use crate::clock::Clock;
use crate::port::{Port, smoltcp_address};
use crate::time::to_smoltcp;
use core::net::SocketAddr;
use initiator::time::Instant;
use initiator::transport::{Connector, Transport};
use smoltcp::phy::Device;
use smoltcp::socket::tcp::{self, State};

/// Why a TCP connection failed or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TcpError {
    /// The port has no address yet (DHCP not finished or lease lost).
    #[error("the port has no address")]
    NotConfigured,
    /// No source address or route for the portal (or an IPv6 portal without the `ipv6` feature).
    #[error("the portal is unreachable from this port")]
    Unaddressable,
    /// No answer to the SYN before the deadline.
    #[error("connect timed out")]
    Timeout,
    /// The target refused or reset the connection.
    #[error("connection refused or reset")]
    Reset,
    /// The target closed its side of the connection.
    #[error("the target closed the connection")]
    PeerClosed,
    /// A newer connection on the same port replaced this one.
    #[error("the connection was replaced by a newer one")]
    Superseded,
}

/// A TCP connection on a [`Port`]; one per port at a time. Dropping it closes the connection
/// (the FIN goes out with the port's next poll).
pub struct TcpTransport<'p, 'a, D: Device, C: Clock> {
    port: &'p Port<'a, D, C>,
    generation: u32,
}

impl<D: Device, C: Clock> core::fmt::Debug for TcpTransport<'_, '_, D, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TcpTransport")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// The error a socket that can no longer carry data stands for.
fn lost(socket: &tcp::Socket<'_>) -> TcpError {
    match socket.state() {
        State::Closed | State::Listen | State::SynSent | State::SynReceived => TcpError::Reset,
        _ => TcpError::PeerClosed,
    }
}

impl<'p, 'a, D: Device, C: Clock> Connector for &'p Port<'a, D, C> {
    type Transport = TcpTransport<'p, 'a, D, C>;

    fn connect(
        &mut self,
        portal: SocketAddr,
        deadline: Instant,
    ) -> Result<Self::Transport, TcpError> {
        let port: &'p Port<'a, D, C> = self;
        let mut guard = port.inner.borrow_mut();
        let inner = &mut *guard;
        if inner.config.is_none() {
            return Err(TcpError::NotConfigured);
        }
        let remote = smoltcp_address(portal.ip()).ok_or(TcpError::Unaddressable)?;
        inner.generation = inner.generation.wrapping_add(1);
        let generation = inner.generation;
        let handle = inner.tcp;
        if inner.sockets.get::<tcp::Socket>(handle).state() != State::Closed {
            inner.sockets.get_mut::<tcp::Socket>(handle).abort();
            // Let the RST for the old connection go out before the socket is reused.
            inner.poll();
        }
        let local_port = inner.next_local_port();
        let socket = inner.sockets.get_mut::<tcp::Socket>(handle);
        socket
            .connect(inner.iface.context(), (remote, portal.port()), local_port)
            .map_err(|_| TcpError::Unaddressable)?;
        let deadline = to_smoltcp(deadline);
        loop {
            let now = inner.poll();
            let socket = inner.sockets.get_mut::<tcp::Socket>(handle);
            match socket.state() {
                State::Established => return Ok(TcpTransport { port, generation }),
                State::SynSent | State::SynReceived => {}
                _ => return Err(TcpError::Reset),
            }
            if now >= deadline {
                socket.abort();
                inner.poll();
                return Err(TcpError::Timeout);
            }
            inner.idle_until(now, deadline);
        }
    }

    fn now(&mut self) -> Instant {
        self.inner.borrow_mut().clock.now()
    }

    fn sleep_until(&mut self, deadline: Instant) {
        let mut inner = self.inner.borrow_mut();
        let deadline = to_smoltcp(deadline);
        loop {
            let now = inner.poll();
            if now >= deadline {
                return;
            }
            inner.idle_until(now, deadline);
        }
    }
}

impl<D: Device, C: Clock> Transport for TcpTransport<'_, '_, D, C> {
    type Error = TcpError;

    fn send(&mut self, bytes: &[u8]) -> Result<usize, TcpError> {
        let mut inner = self.port.inner.borrow_mut();
        if inner.generation != self.generation {
            return Err(TcpError::Superseded);
        }
        let handle = inner.tcp;
        let socket = inner.sockets.get_mut::<tcp::Socket>(handle);
        if !socket.may_send() {
            return Err(lost(socket));
        }
        let sent = socket.send_slice(bytes).map_err(|_| TcpError::Reset)?;
        if sent > 0 {
            // Push the segment out now rather than at the next wait.
            inner.poll();
        }
        Ok(sent)
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, TcpError> {
        let mut inner = self.port.inner.borrow_mut();
        if inner.generation != self.generation {
            return Err(TcpError::Superseded);
        }
        let handle = inner.tcp;
        let socket = inner.sockets.get_mut::<tcp::Socket>(handle);
        if socket.can_recv() {
            return socket.recv_slice(buf).map_err(|_| lost(socket));
        }
        if !socket.may_recv() {
            return Err(lost(socket));
        }
        Ok(0)
    }

    fn wait(&mut self, want_send: bool, deadline: Instant) -> Result<(), TcpError> {
        let mut inner = self.port.inner.borrow_mut();
        if inner.generation != self.generation {
            return Err(TcpError::Superseded);
        }
        let handle = inner.tcp;
        let deadline = to_smoltcp(deadline);
        loop {
            let now = inner.poll();
            let socket = inner.sockets.get::<tcp::Socket>(handle);
            // A dead socket is ready too: the next recv/send reports why.
            let ready = socket.can_recv()
                || !socket.may_recv()
                || (want_send && (socket.can_send() || !socket.may_send()));
            if ready || now >= deadline {
                return Ok(());
            }
            inner.idle_until(now, deadline);
        }
    }
}

impl<D: Device, C: Clock> Drop for TcpTransport<'_, '_, D, C> {
    fn drop(&mut self) {
        // A panic while the port is borrowed must not turn into a double panic here.
        let Ok(mut inner) = self.port.inner.try_borrow_mut() else {
            return;
        };
        if inner.generation == self.generation {
            let handle = inner.tcp;
            inner.sockets.get_mut::<tcp::Socket>(handle).close();
            inner.poll();
        }
    }
}
