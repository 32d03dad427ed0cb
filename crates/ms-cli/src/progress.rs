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

/// A progress display for waiting on `tasks` scan tasks (see [`show_wait`]), on stderr
/// only when stderr is a terminal.
pub fn wait_bar(tasks: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(0);
    pb.set_draw_target(ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} scanning [{bar:30}] {pos}/{len} apps, {msg} [{elapsed}]",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(format!("0/{tasks} tasks done"));
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    pb
}

/// Shows the progress of a wait on a bar made by [`wait_bar`].
pub fn show_wait(pb: &ProgressBar, p: &crate::scan::WaitProgress) {
    pb.set_length(p.apps as u64);
    pb.set_position(p.apps_done as u64);
    pb.set_message(format!("{}/{} tasks done", p.tasks_done, p.tasks));
}
