//! No code branches on the text of an error: a message is for people, and a crate that
//! matches another crate's wording (`message().starts_with("HTTPS_PROXY:")`, a violation
//! message containing `"required"`, a dependency's `Debug` output) breaks silently when the
//! wording changes, or when the text quotes a user's value. Errors carry their kind, code and
//! fields for that (`ms_transport::ConfigSetting`, `ms_model::ViolationKind`, ...).
//!
//! What counts as error text, in non-test code:
//! - `x.message()` and `x.message` (a field), `err.to_string()` and `format!("{err}")` /
//!   `format!("{err:?}")` where the receiver is named like an error (`e`, `err`, `error`,
//!   `source`, `cause`, `*_err`, `*_error`);
//! - a variable bound from such an expression (`let msg = v.message.to_lowercase();`), in
//!   the lines that follow;
//! - a variable or parameter named `msg`, `message`, `*_msg` or `*_message`.
//!
//! Branching on it means calling `starts_with`, `ends_with`, `contains`, `strip_prefix`,
//! `strip_suffix`, `find`, `rfind` or `matches` on it, or comparing it with `==`/`!=` to a
//! string literal. Tests may assert on messages (they are left out of the scan).

/// How far (in lines) a variable bound from error text is followed.
const FOLLOW_LINES: usize = 40;

/// Methods that branch on text.
const BRANCHING: [&str; 8] = [
    ".starts_with(",
    ".ends_with(",
    ".contains(",
    ".strip_prefix(",
    ".strip_suffix(",
    ".find(",
    ".rfind(",
    ".matches(",
];

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `name` is named like an error value.
fn error_like(name: &str) -> bool {
    matches!(name, "e" | "err" | "error" | "source" | "cause")
        || name.ends_with("_err")
        || name.ends_with("_error")
}

/// Whether `name` is named like message text.
fn message_like(name: &str) -> bool {
    matches!(name, "msg" | "message") || name.ends_with("_msg") || name.ends_with("_message")
}

/// The identifier that ends right before byte `end` of `line`.
fn ident_before(line: &str, end: usize) -> &str {
    let head = &line[..end];
    let start = head.rfind(|c: char| !is_ident_char(c)).map_or(0, |i| i + 1);
    &head[start..]
}

/// Byte offset just after the first error-text expression of `line`, if any.
fn error_text_end(line: &str) -> Option<usize> {
    let mut best: Option<usize> = None;
    let mut note = |end: usize| best = Some(best.map_or(end, |b: usize| b.min(end)));
    for (i, _) in line.match_indices(".message") {
        let end = i + ".message".len();
        let rest = &line[end..];
        if rest.starts_with("()") {
            note(end + 2);
        } else if !rest.starts_with(is_ident_char) {
            note(end);
        }
    }
    for (i, _) in line.match_indices(".to_string()") {
        if error_like(ident_before(line, i)) {
            note(i + ".to_string()".len());
        }
    }
    best
}

/// Byte offset just after a `format!("{err}")` / `format!("{err:?}")` of an error in the raw
/// (literal-preserving) line: the scanner blanks literal contents, so this form is read from
/// the original text.
fn raw_format_of_error(raw: &str) -> Option<usize> {
    let mut best = None;
    for (i, _) in raw.match_indices("format!(\"{") {
        let inner_start = i + "format!(\"{".len();
        let rest = &raw[inner_start..];
        let Some(close) = rest.find("}\")") else {
            continue;
        };
        let inner = &rest[..close];
        let name = inner.strip_suffix(":?").unwrap_or(inner);
        if error_like(name) {
            let end = inner_start + close + "}\")".len();
            best = Some(best.map_or(end, |b: usize| b.min(end)));
        }
    }
    best
}

/// Whether `text` (code after a text expression) branches on it: a branching method chained
/// on, or an `==`/`!=` comparison with a string literal.
fn branches(text: &str) -> bool {
    let chained = text.split([',', ';', '{']).next().unwrap_or("");
    BRANCHING.iter().any(|m| chained.contains(m))
        || chained.contains("== \"")
        || chained.contains("!= \"")
}

/// A variable named like text, or bound from error text earlier, used with a branching method
/// at the start of an expression: `name.contains(`.
fn branching_uses<'a>(line: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    BRANCHING
        .iter()
        .flat_map(move |m| line.match_indices(m).map(|(i, _)| i))
        .chain(
            ["== \"", "!= \""]
                .into_iter()
                .flat_map(move |op| line.match_indices(op).map(|(i, _)| i)),
        )
        .filter_map(move |i| {
            let name = ident_before(line, line[..i].trim_end().len());
            let before = line[..i].trim_end();
            let start = before.len() - name.len();
            // `a.b.contains(` is a field access, not a variable: the DIRECT rule covers it.
            let preceded_by_dot = before[..start].ends_with('.');
            (!name.is_empty() && !preceded_by_dot).then_some(name)
        })
}

/// Every place in `lines` (code lines, literal contents blanked; `raw` the same lines with
/// their literals) where code branches on error text: `(line number, what)`.
pub(crate) fn find(lines: &[(usize, String)], raw: &[(usize, String)]) -> Vec<(usize, String)> {
    let mut hits = Vec::new();
    // Variables bound from error text: (name, line index where bound).
    let mut bound: Vec<(String, usize)> = Vec::new();
    for (idx, ((n, line), (_, raw_line))) in lines.iter().zip(raw).enumerate() {
        let in_code = error_text_end(line).map(|end| &line[end..]);
        let formatted = if line.contains("format!(\"\")") {
            raw_format_of_error(raw_line).map(|end| &raw_line[end..])
        } else {
            None
        };
        if in_code.into_iter().chain(formatted).any(branches) {
            hits.push((*n, "branches on error text".to_owned()));
            continue;
        }
        if (in_code.is_some() || formatted.is_some())
            && let Some(rest) = line.trim_start().strip_prefix("let ")
        {
            let rest = rest.strip_prefix("mut ").unwrap_or(rest);
            let name: String = rest.chars().take_while(|c| is_ident_char(*c)).collect();
            if !name.is_empty() {
                bound.push((name, idx));
            }
        }
        bound.retain(|(_, at)| idx - at <= FOLLOW_LINES);
        for name in branching_uses(line) {
            if message_like(name) {
                hits.push((*n, format!("branches on message text `{name}`")));
            } else if bound.iter().any(|(b, at)| b == name && *at < idx) {
                hits.push((*n, format!("branches on `{name}`, bound from error text")));
            }
        }
    }
    hits.dedup_by_key(|(n, _)| *n);
    hits
}

#[cfg(test)]
mod tests {
    use super::super::scan::{blank_literals, code_lines};
    use super::*;

    /// The hits of `find` on a snippet (line numbers of the snippet).
    fn hits(text: &str) -> Vec<usize> {
        let (lines, _) = code_lines(text);
        // Raw lines: comments and literals kept, aligned with the blanked ones.
        let raw_text: Vec<&str> = text.lines().collect();
        let raw: Vec<(usize, String)> = lines
            .iter()
            .map(|(n, _)| (*n, raw_text[*n - 1].to_owned()))
            .collect();
        find(&lines, &raw).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn the_message_matching_this_check_was_written_against_is_found() {
        // ms-cli context.rs before typed configuration errors.
        let cli = r#"
fn config_error(message: &str) -> CliError {
    if let Some(var) = PROXY_VARS.iter().find(|v| message.starts_with(&format!("{v}:"))) {
        return usage(var);
    }
    if let Some(rest) = message.strip_prefix("root certificate #0") {
        return usage(rest);
    }
    if message.starts_with("endpoint") {
        return usage("endpoint");
    }
}
fn build() { builder.build().map_err(|e| config_error(e.message())); }
"#;
        assert_eq!(hits(cli), [3, 6, 9]);
        // ms-emulator actions.rs picking error codes by the violation text.
        let emu = r#"
fn model_check(errs: Errors) -> Result<(), ApiError> {
    let v = errs.first();
    let msg = v.message.to_ascii_lowercase();
    if msg.contains("unknown field") || msg.contains("unknown parameter") {
        return Err(unknown());
    } else if v.message.starts_with("missing") {
        return Err(missing());
    }
    Ok(())
}
"#;
        assert_eq!(hits(emu), [5, 7]);
        // ms-transport reading hyper-util's Debug text.
        let transport = r#"
fn map(e: Error) -> bool {
    let canceled = format!("{e:?}").starts_with("hyper_util::client::legacy::Error(Canceled");
    let text = e.to_string();
    if text == "boom" { return true; }
    canceled
}
"#;
        assert_eq!(hits(transport), [3, 5]);
    }

    #[test]
    fn typed_matching_logging_and_tests_are_not_hits() {
        let ok = r#"
fn fine(e: &Error, name: &str) -> String {
    match e.config_setting() {
        Some(ConfigSetting::Endpoint) => format!("--endpoint: {}", e.message()),
        _ => e.message().to_owned(),
    }
}
fn other(path: &str, code: &str) -> bool {
    // A message mentioned in a comment: message.starts_with("x")
    let s = "e.message().contains(\"quoted\")";
    path.starts_with("AppInfos[") || code.starts_with("AuthFailure.") || name.contains(s)
}
fn wrap(e: Error) -> Error { Error::new(format!("{e}"), e.message().len()) }
#[cfg(test)]
mod tests {
    #[test]
    fn t() { assert!(e.message().contains("boom")); }
}
"#;
        assert_eq!(hits(ok), Vec::<usize>::new());
        assert_eq!(blank_literals("\"x\"").len(), 2);
    }
}
