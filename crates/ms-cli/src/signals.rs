//! SIGINT and SIGTERM during a submission: the first stops the run gracefully (no new
//! request; those in flight get a few seconds; everything is committed; the summary and the
//! command that resumes are printed; exit 130 or 143); a second one exits at once (the
//! journal is consistent: every change is one SQLite transaction).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use ms_transport::batch::StopSignal;

use crate::error::{CliError, CliResult};

/// The signal handlers of a run; dropping it stops listening.
#[derive(Debug)]
pub struct Interrupts {
    /// 128 + the first signal's number, once one arrived.
    code: Arc<AtomicU8>,
    task: tokio::task::JoinHandle<()>,
}

impl Interrupts {
    /// Listens for SIGINT and SIGTERM: the first gives `stop`, the second exits the process
    /// at once after printing `resume`.
    pub fn install(stop: StopSignal, resume: String) -> CliResult<Self> {
        let code = Arc::new(AtomicU8::new(0));
        let seen = Arc::clone(&code);
        #[cfg(unix)]
        let task = {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind| {
                signal(kind).map_err(|e| {
                    CliError::usage(format!("cannot listen for signals: {e}"))
                })
            };
            let mut int = listen(SignalKind::interrupt())?;
            let mut term = listen(SignalKind::terminate())?;
            tokio::spawn(async move {
                let first = tokio::select! {
                    _ = int.recv() => 130,
                    _ = term.recv() => 143,
                };
                seen.store(first, Ordering::SeqCst);
                errln!(
                    "\nstopping: no new request; waiting a few seconds for those in flight (again to quit at once)"
                );
                stop.stop();
                tokio::select! {
                    _ = int.recv() => {},
                    _ = term.recv() => {},
                }
                errln!("quitting now; the journal is consistent. Resume with:\n  {resume}");
                std::process::exit(i32::from(first));
            })
        };
        #[cfg(not(unix))]
        let task = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                seen.store(130, Ordering::SeqCst);
                stop.stop();
            }
            let _ = resume;
        });
        Ok(Interrupts { code, task })
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
        self.task.abort();
    }
}
