//! The request/response examples of the API tables, for tests and tools.

pub use crate::generated::examples::EXAMPLES;

/// One example of an action page.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// The action name.
    pub action: &'static str,
    /// The example's title.
    pub title: &'static str,
    /// Where it comes from (`docs/api/...md:line`).
    pub source: &'static str,
    /// The page shows a GET-style query: the request JSON has every value as a string.
    pub query_form: bool,
    /// The request parameters as JSON text.
    pub request: &'static str,
    /// The reply as JSON text (`{"Response": {...}}`).
    pub response: &'static str,
}
