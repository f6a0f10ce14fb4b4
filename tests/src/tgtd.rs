//! A real `tgtd` target on 127.0.0.1, configured with `tgtadm` (to be written).
