//! What `tracing` logs at TRACE level, captured in memory so a test can search it (for
//! secrets that must not be there, for fields that must).
//!
//! Part of `support` (`support::log_buffer`); test files that do not use `support` include
//! it alone with `#[path = "support/log_buffer.rs"]`.
#![allow(dead_code)]

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::format::FmtSpan;

/// The captured log; clones share it.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl LogBuffer {
    /// Runs `task` to its end on a current-thread runtime with a TRACE-level subscriber
    /// (no colours, `spans` events of spans) writing here, and returns its output.
    pub fn trace<T>(&self, spans: FmtSpan, task: impl Future<Output = T>) -> T {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(self.clone())
            .with_ansi(false)
            .with_span_events(spans)
            .finish();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        tracing::subscriber::with_default(subscriber, || rt.block_on(task))
    }

    /// The text logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("log buffer").clone()).expect("utf8")
    }
}
