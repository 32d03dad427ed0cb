//! Progress bars on stderr, hidden when stderr is not a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar of `len` steps (a spinner when `len` is 0), drawn on stderr only
/// when stderr is a terminal.
pub fn bar(len: u64, message: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = if len == 0 {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::new(len)
    };
    pb.set_draw_target(ProgressDrawTarget::stderr());
    let style = if len == 0 {
        ProgressStyle::with_template("{spinner} {msg} {pos} [{elapsed}] {per_sec}")
    } else {
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} [{elapsed}<{eta}] {per_sec}")
    };
    if let Ok(style) = style {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(message);
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    pb
}
