//! Bare booleans in public signatures: `send_json(action, true, ..)` does not say what `true`
//! means at the call site. A public function takes an enum (`Idempotency::Idempotent`) or
//! becomes two named functions (`xml_text` / `xml_attr`, `allow_http()`) instead. Measured on
//! the scanner's code lines (comments and literals blanked, test items left out).

/// A public function with a `bool` parameter: its name and the line of its `fn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BoolParam {
    pub(crate) name: String,
    pub(crate) line: usize,
}

/// Every `pub fn` (plain `pub`, not `pub(crate)`/`pub(super)`) in `lines` whose parameter
/// list has a parameter of type `bool`.
pub(crate) fn find(lines: &[(usize, String)]) -> Vec<BoolParam> {
    let mut out = Vec::new();
    for (idx, (line, code)) in lines.iter().enumerate() {
        let Some(name) = public_fn_name(code) else {
            continue;
        };
        // The signature: from `fn` to the `{` or `;` that ends it, over several lines.
        let mut signature = String::new();
        for (_, text) in lines.iter().skip(idx).take(40) {
            let end = text.find(['{', ';']);
            signature.push_str(&text[..end.unwrap_or(text.len())]);
            signature.push(' ');
            if end.is_some() {
                break;
            }
        }
        if has_bool_param(&signature) {
            out.push(BoolParam { name, line: *line });
        }
    }
    out
}

/// The name of a function declared `pub fn` / `pub async fn` / `pub const fn` on `code`.
fn public_fn_name(code: &str) -> Option<String> {
    let mut words = code.split_whitespace();
    if words.next()? != "pub" {
        return None;
    }
    let mut word = words.next()?;
    while matches!(word, "const" | "async" | "unsafe") {
        word = words.next()?;
    }
    if word != "fn" {
        return None;
    }
    let name: String = words
        .next()?
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Whether the top-level parameter list of `signature` (the first `(...)` after the name)
/// has a parameter whose type is exactly `bool`.
fn has_bool_param(signature: &str) -> bool {
    let Some(open) = signature.find('(') else {
        return false;
    };
    let mut depth = 0usize;
    let mut param = String::new();
    let mut params = Vec::new();
    for c in signature[open..].chars() {
        match c {
            '(' | '<' | '[' => {
                depth += 1;
                if depth > 1 {
                    param.push(c);
                }
            }
            ')' | '>' | ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    params.push(std::mem::take(&mut param));
                    break;
                }
                param.push(c);
            }
            ',' if depth == 1 => params.push(std::mem::take(&mut param)),
            _ => param.push(c),
        }
    }
    params
        .iter()
        .any(|p| p.split_once(':').is_some_and(|(_, ty)| ty.trim() == "bool"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(usize, String)> {
        text.lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.to_owned()))
            .collect()
    }

    #[test]
    fn finds_bool_parameters_of_public_functions_only() {
        let code = "pub fn a(x: bool) {}\n\
                    pub(crate) fn b(x: bool) {}\n\
                    fn c(x: bool) {}\n\
                    pub async fn d(\n    &self,\n    action: &str,\n    yes: bool,\n) -> R {\n}\n\
                    pub fn e(f: impl Fn(bool) -> bool, v: Vec<bool>) -> bool {}\n\
                    pub const fn g(self) -> bool {}\n";
        let found: Vec<String> = find(&lines(code)).into_iter().map(|b| b.name).collect();
        assert_eq!(found, ["a", "d"]);
    }
}
