//! Glue between network stacks and the `initiator`/`ibft` crates: adapters only, no protocol logic.
#![cfg_attr(not(feature = "std"), no_std)]

#[cfg(feature = "std")]
pub mod std_tcp;
