//! A sans-IO iSCSI initiator: bytes and time in, bytes, timeouts and events out.
//!
//! The protocol core never touches a socket, a clock or an allocator; the blocking driver runs it
//! over any [`transport::Transport`].
#![no_std]
#![forbid(unsafe_code)]

pub mod addr;
pub mod chap;
pub mod digest;
pub mod discovery;
pub mod driver;
pub mod error;
pub mod login;
pub mod params;
pub mod pdu;
pub mod scsi;
pub mod serial;
pub mod session;
pub mod text;
pub mod time;
pub mod transport;
