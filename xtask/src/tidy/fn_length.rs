//! Function length: a hand-written function longer than a screen usually decides and acts at
//! once. Measured on the scanner's code lines (comments and literal contents blanked, test
//! items left out), from the line of `fn` to the line of the body's closing brace.

/// Longest function allowed, in lines (signature and closing brace included).
pub(crate) const MAX_LINES: usize = 120;

/// One function: its name, the line of its `fn` and its length in lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Function {
    pub(crate) name: String,
    pub(crate) line: usize,
    pub(crate) lines: usize,
}

/// The name after an `fn` keyword on `code`, with the offset just after it.
fn fn_keyword(code: &str) -> Option<(String, usize)> {
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(i) = code[from..].find("fn ").map(|i| i + from) {
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let rest = &code[i + 3..];
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if boundary && !name.is_empty() {
            let end = i + 3 + (rest.len() - rest.trim_start().len()) + name.len();
            return Some((name, end));
        }
        from = i + 3;
    }
    None
}

/// Every function with a body in `lines` (`(line number, code)`, in order).
pub(crate) fn functions(lines: &[(usize, String)]) -> Vec<Function> {
    let mut out = Vec::new();
    for (idx, (start_line, code)) in lines.iter().enumerate() {
        let Some((name, after)) = fn_keyword(code) else {
            continue;
        };
        // The body starts at the first `{` after the name, unless a `;` comes first (a
        // declaration without a body).
        let mut depth = 0usize;
        let mut opened = false;
        let mut end_line = None;
        'scan: for (k, (n, text)) in lines.iter().enumerate().skip(idx) {
            let text = if k == idx {
                &text[after..]
            } else {
                text.as_str()
            };
            for c in text.chars() {
                match c {
                    ';' if !opened => break 'scan,
                    '{' => {
                        opened = true;
                        depth += 1;
                    }
                    '}' if opened => {
                        depth -= 1;
                        if depth == 0 {
                            end_line = Some(*n);
                            break 'scan;
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(end) = end_line {
            out.push(Function {
                name,
                line: *start_line,
                lines: end - start_line + 1,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::scan::code_lines;
    use super::*;

    #[test]
    fn functions_are_measured_from_fn_to_the_closing_brace() {
        let text = "trait T {\n    fn declared(&self) -> u8;\n}\nimpl S {\n    pub(crate) async fn long(\n        &self,\n    ) -> Result<(), E> {\n        let s = \"}\";\n        if x { y() }\n        Ok(())\n    }\n}\nfn one() {}\nconst F: fn() = one;\n";
        let (lines, _) = code_lines(text);
        let found: Vec<(String, usize, usize)> = functions(&lines)
            .into_iter()
            .map(|f| (f.name, f.line, f.lines))
            .collect();
        assert_eq!(
            found,
            [("long".to_owned(), 5, 7), ("one".to_owned(), 13, 1)]
        );
    }
}
