//! A byte-count progress bar on stderr, drawn only when stderr is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Transfers shorter than this get no bar.
const MIN_BYTES_FOR_BAR: u64 = 8 << 20;

/// A progress bar for a transfer of `total` bytes (hidden when stderr is not a terminal).
pub fn transfer_bar(total: u64, what: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() && total >= MIN_BYTES_FOR_BAR {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}
