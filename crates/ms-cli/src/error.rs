//! Errors of the `ms` command and their exit codes.
//!
//! Every failure ends as a [`CliError`]: one line saying what was wrong, an optional
//! second line saying how to fix it, and, when the service answered, the API error
//! code and the RequestId. The process exit code follows the error's [`ErrorKind`]:
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success (also: stdout closed early, e.g. `ms ... \| head`) |
//! | 1 | the API or the remote service reported an error |
//! | 2 | usage or validation error (bad argument, bad manifest, bad JSON) |
//! | 3 | network or transport error (connection, TLS, timeout) |
//! | 4 | the scan results violate the policy (`--fail-on`, `--policy`); every other error wins |
//! | 130, 143 | interrupted by SIGINT (Ctrl-C) or SIGTERM (`scan submit`: resumable) |

use std::fmt;
use std::io;

/// What kind of failure an error is; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The service answered with an error (exit code 1).
    Remote,
    /// The user's input was wrong: arguments, files, JSON (exit code 2).
    Usage,
    /// The request did not get a usable answer: connection, TLS, timeout (exit code 3).
    Network,
    /// Stdout was closed by the reader (`| head`): exit quietly with code 0.
    BrokenPipe,
    /// The scan results violate the policy of `--fail-on` / `--policy` (exit code 4).
    Policy,
    /// Stopped by a signal: the exit code is 128 + its number (130 SIGINT, 143 SIGTERM).
    Interrupted(u8),
}

impl ErrorKind {
    /// The process exit code of this kind of error.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Remote => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Network => 3,
            ErrorKind::BrokenPipe => 0,
            ErrorKind::Policy => 4,
            ErrorKind::Interrupted(code) => code,
        }
    }
}

/// `text` with the password and the query values of the URLs in it masked
/// ([`ms_model::redact_url`]): an error shown on stderr never carries the signature of a
/// pre-signed download URL, whatever message it wraps.
fn redact(text: String) -> String {
    match ms_model::redact_url(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(masked) => masked,
    }
}

/// An error of the `ms` command, ready to be shown to a person.
#[derive(Debug, Clone)]
pub struct CliError {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    code: Option<String>,
    request_id: Option<String>,
}

impl CliError {
    /// A usage or validation error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// An error reported by the service (exit code 1).
    pub fn remote(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Remote, message)
    }

    /// A network or transport error (exit code 3).
    pub fn network(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Network, message)
    }

    /// The scan results violate the policy (exit code 4); the message summarises how.
    pub fn policy(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Policy, message)
    }

    /// Stdout was closed early; the command stops quietly.
    pub fn broken_pipe() -> Self {
        Self::new(ErrorKind::BrokenPipe, "broken pipe")
    }

    /// An error of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CliError {
            kind,
            message: redact(message.into()),
            hint: None,
            code: None,
            request_id: None,
        }
    }

    /// The same error (kind, hint, code, RequestId) with another message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = redact(message.into());
        self
    }

    /// Adds a second line telling the user how to fix the problem.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(redact(hint.into()));
        self
    }

    /// Records the API error code the service answered with.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Records the RequestId the service answered with.
    pub fn with_request_id(mut self, request_id: Option<impl Into<String>>) -> Self {
        self.request_id = request_id.map(Into::into);
        self
    }

    /// The kind of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }

    /// The main message (first line, without the `error:` prefix).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The hint, if any.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The API error code, if the service answered.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The RequestId, if the service answered.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Maps an I/O error on stdout: a broken pipe becomes a quiet exit, anything
    /// else a usage error naming the output.
    pub fn from_stdout(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::BrokenPipe {
            CliError::broken_pipe()
        } else {
            CliError::usage(format!("cannot write to standard output: {err}"))
        }
    }

    /// An I/O error while reading or writing the named file.
    pub fn file(path: &std::path::Path, action: &str, err: &io::Error) -> Self {
        let hint = match err.kind() {
            io::ErrorKind::NotFound => {
                Some("check the path; relative paths are taken from the current directory")
            }
            io::ErrorKind::PermissionDenied => Some("check the file's permissions"),
            _ => None,
        };
        let e = CliError::usage(format!("cannot {action} {}: {err}", path.display()));
        match hint {
            Some(h) => e.with_hint(h),
            None => e,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Message, code and RequestId can come from the remote service (or whatever answers
        // at --endpoint): terminal control sequences are shown escaped, never sent raw to the
        // terminal, and a code or RequestId is cut to a sane length.
        write!(f, "error: {}", Printable(&self.message, usize::MAX))?;
        match (&self.code, &self.request_id) {
            (Some(code), Some(id)) => write!(
                f,
                " [{}, RequestId {}]",
                Printable(code, SHORT_FIELD),
                Printable(id, SHORT_FIELD)
            )?,
            (Some(code), None) => write!(f, " [{}]", Printable(code, SHORT_FIELD))?,
            (None, Some(id)) => write!(f, " [RequestId {}]", Printable(id, SHORT_FIELD))?,
            (None, None) => {}
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CliError {}

/// Longest error code or RequestId shown (real ones are under 80 characters).
const SHORT_FIELD: usize = 128;

/// Text for a terminal: control characters other than newline and tab, and Unicode
/// bidirectional overrides, are written escaped (`\u{1b}`); at most `max` characters.
struct Printable<'a>(&'a str, usize);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.chars().enumerate() {
            if i >= self.1 {
                return f.write_str("…");
            }
            let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if (c.is_control() && c != '\n' && c != '\t') || bidi {
                write!(f, "{}", c.escape_unicode())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// Result type of the command implementations.
pub type CliResult<T> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_message_keeps_kind_code_request_id_and_hint() {
        let e = CliError::remote("boom")
            .with_code("InternalError")
            .with_request_id(Some("req-1"))
            .with_hint("h")
            .with_message("boom (after 20 record(s) were deleted)");
        assert_eq!(e.message(), "boom (after 20 record(s) were deleted)");
        assert_eq!(e.kind(), CliError::remote("x").kind());
        assert_eq!(e.code(), Some("InternalError"));
        assert_eq!(e.request_id(), Some("req-1"));
        assert_eq!(e.hint(), Some("h"));
    }

    #[test]
    fn remote_text_cannot_drive_the_terminal() {
        let e = CliError::remote("\u{1b}[31mred\u{7}\u{202e}x\nline")
            .with_code(format!("Bad\u{1b}[2J{}", "A".repeat(1000)));
        let shown = e.to_string();
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{shown:?}"
        );
        assert!(!shown.contains('\u{202e}'), "{shown:?}");
        assert!(
            shown.contains("\\u{1b}[31mred") && shown.contains("x\nline"),
            "{shown}"
        );
        assert!(shown.len() < 300, "{}", shown.len());
    }

    #[test]
    fn exit_codes_follow_the_documented_table() {
        assert_eq!(CliError::remote("x").exit_code(), 1);
        assert_eq!(CliError::usage("x").exit_code(), 2);
        assert_eq!(CliError::network("x").exit_code(), 3);
        assert_eq!(CliError::policy("x").exit_code(), 4);
        assert_eq!(CliError::broken_pipe().exit_code(), 0);
    }

    #[test]
    fn display_has_code_request_id_and_hint() {
        let e = CliError::remote("ItemId does not exist")
            .with_code("ResourceNotFound.ItemIdNotFound")
            .with_request_id(Some("abc"))
            .with_hint("list your scans with `ms scan list`");
        assert_eq!(
            e.to_string(),
            "error: ItemId does not exist [ResourceNotFound.ItemIdNotFound, RequestId abc]\n  hint: list your scans with `ms scan list`"
        );
    }

    #[test]
    fn broken_pipe_on_stdout_is_quiet() {
        let e = CliError::from_stdout(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(e.kind(), ErrorKind::BrokenPipe);
    }
}
