//! A TCP relay that drops, stalls, splits, delays and corrupts on command (to be written).
