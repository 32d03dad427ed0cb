//! SIGINT and SIGTERM during a submission: the first stops the run gracefully (no new
//! request; those in flight get a few seconds; everything is committed; the summary and the
//! command that resumes are printed; exit 130 or 143); a second one exits at once (the
//! journal is consistent: every change is one SQLite transaction).
//!
//! The signals are watched by a thread of their own, so a second Ctrl-C works even while
//! the command is blocked (writing to a stdout nobody reads, say).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use ms_transport::batch::StopSignal;

use crate::error::{CliError, CliResult};

/// The signal watcher of a run; dropping it stops watching.
#[derive(Debug)]
pub struct Interrupts {
    /// 128 + the first signal's number, once one arrived.
    code: Arc<AtomicU8>,
    quit: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Interrupts {
    /// Watches SIGINT and SIGTERM: the first gives `stop`, the second exits the process at
    /// once after printing `resume`.
    pub fn install(stop: StopSignal, resume: String) -> CliResult<Self> {
        let code = Arc::new(AtomicU8::new(0));
        let seen = Arc::clone(&code);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let (quit, quit_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("ms-signals".to_owned())
            .spawn(move || watch(stop, resume, seen, ready_tx, quit_rx))
            .map_err(|e| CliError::usage(format!("cannot watch for signals: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Interrupts {
                code,
                quit: Some(quit),
            }),
            Ok(Err(e)) => Err(CliError::usage(format!("cannot watch for signals: {e}"))),
            Err(_) => Err(CliError::usage("cannot watch for signals")),
        }
    }

    /// The exit code the received signal asks for (130 for SIGINT, 143 for SIGTERM).
    pub fn received(&self) -> Option<u8> {
        match self.code.load(Ordering::SeqCst) {
            0 => None,
            c => Some(c),
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        if let Some(quit) = self.quit.take() {
            let _ = quit.send(());
        }
    }
}

/// The watcher thread: its own small runtime, so it runs whatever the command's does.
fn watch(
    stop: StopSignal,
    resume: String,
    seen: Arc<AtomicU8>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
    mut quit: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    runtime.block_on(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (mut int, mut term) =
                match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
                    (Ok(i), Ok(t)) => (i, t),
                    (Err(e), _) | (_, Err(e)) => {
                        let _ = ready.send(Err(e.to_string()));
                        return;
                    }
                };
            let _ = ready.send(Ok(()));
            let first: u8 = tokio::select! {
                _ = int.recv() => 130,
                _ = term.recv() => 143,
                _ = &mut quit => return,
            };
            seen.store(first, Ordering::SeqCst);
            errln!(
                "\nstopping: no new request; waiting a few seconds for those in flight (again to quit at once)"
            );
            stop.stop();
            tokio::select! {
                _ = int.recv() => {},
                _ = term.recv() => {},
                _ = &mut quit => return,
            }
            errln!("quitting now; the journal is consistent. Resume with:\n  {resume}");
            std::process::exit(i32::from(first));
        }
        #[cfg(not(unix))]
        {
            let _ = ready.send(Ok(()));
            tokio::select! {
                r = tokio::signal::ctrl_c() => if r.is_ok() {
                    seen.store(130, Ordering::SeqCst);
                    stop.stop();
                },
                _ = &mut quit => {},
            }
            let _ = resume;
        }
    });
}
