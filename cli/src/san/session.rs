//! Opens a session to a named target with the initiator's blocking driver over std TCP.

use super::device::{BlockDevice, DiscoveredTarget};
use super::failure::{Cause, Failure};
use super::opts::SessionArgs;

/// Logs in to `target` and returns its LUN, ready for I/O with `queue_depth` commands in flight.
pub fn open(
    target: &str,
    session: &SessionArgs,
    queue_depth: u32,
) -> Result<Box<dyn BlockDevice>, Failure> {
    session.validate()?;
    let _ = (target, queue_depth);
    Err(Failure::new(
        Cause::Other,
        "the initiator's session driver is not available in this build",
    ))
}

/// Runs a SendTargets discovery session against `portal` (`HOST[:PORT]`).
pub fn discover(portal: &str, session: &SessionArgs) -> Result<Vec<DiscoveredTarget>, Failure> {
    let _ = (portal, session);
    Err(Failure::new(
        Cause::Other,
        "the initiator's discovery session is not available in this build",
    ))
}
