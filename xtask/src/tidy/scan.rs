//! A small lexical view of the workspace's hand-written Rust sources for the tidy checks:
//! comments and the contents of string and char literals blanked out (so braces and words
//! inside them never count), test-only code (`#[cfg(test)]` items and the module files they
//! declare, `tests/`, `benches/`, `examples/`) left out, generated code skipped.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::project_root;

/// One source file, as code lines (1-based numbers kept) without its test-only items.
pub(crate) struct Source {
    /// Path relative to the workspace root.
    pub(crate) path: String,
    /// `(line number, code)` of every non-test line: comments removed, literal contents
    /// blanked (`"..."` becomes `""`, `'x'` becomes `' '`).
    pub(crate) lines: Vec<(usize, String)>,
    /// The same lines as written (literals and comments kept).
    pub(crate) raw: Vec<(usize, String)>,
}

/// The hand-written library and binary sources of every crate and of xtask.
pub(crate) fn workspace_sources() -> Vec<Source> {
    let root = project_root();
    let mut files = Vec::new();
    let crates = root.join("crates");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&crates)
        .map(|d| d.flatten().map(|e| e.path().join("src")).collect())
        .unwrap_or_default();
    dirs.push(root.join("xtask").join("src"));
    dirs.sort();
    for dir in dirs {
        rust_files(&dir, &mut files);
    }
    let mut test_only = BTreeSet::new();
    let mut out = Vec::new();
    // Parents before children: a module file declared `#[cfg(test)] mod x;` is known to be
    // test-only before it is read.
    files.sort_by_key(|p| p.components().count());
    for file in files {
        if test_only.iter().any(|t: &PathBuf| file.starts_with(t)) {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap_or_default();
        let (lines, test_mods) = code_lines(&text);
        for m in test_mods {
            test_only.insert(module_path(&file, &m));
        }
        let original: Vec<&str> = text.lines().collect();
        let raw = lines
            .iter()
            .map(|(n, _)| (*n, original.get(n - 1).copied().unwrap_or("").to_owned()))
            .collect();
        out.push(Source {
            raw,
            path: file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string(),
            lines,
        });
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "generated" {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Where `mod name;` declared in `file` lives (`name.rs` or `name/mod.rs`, as a path prefix).
fn module_path(file: &Path, name: &str) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("."));
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let base = if matches!(stem, "mod" | "lib" | "main") {
        dir.to_path_buf()
    } else {
        dir.join(stem)
    };
    let as_file = base.join(format!("{name}.rs"));
    if as_file.exists() {
        as_file
    } else {
        base.join(name)
    }
}

/// The code lines of `text` without test-only items, and the names of the module files that
/// `#[cfg(test)] mod name;` declares.
pub(crate) fn code_lines(text: &str) -> (Vec<(usize, String)>, Vec<String>) {
    let cleaned = blank_literals(text);
    let mut out = Vec::new();
    let mut test_mods = Vec::new();
    let mut depth: i64 = 0;
    let mut pending_test = false;
    // Depth at which the test item being skipped started.
    let mut skipping: Option<i64> = None;
    for (i, line) in cleaned.lines().enumerate() {
        let opens = line.matches('{').count() as i64;
        let closes = line.matches('}').count() as i64;
        let trimmed = line.trim();
        let mut test_line = false;
        if skipping.is_none() && trimmed.starts_with("#[cfg(test)]") {
            pending_test = true;
        } else if pending_test && !trimmed.is_empty() && !trimmed.starts_with("#[") {
            pending_test = false;
            test_line = true;
            if let Some(name) = declared_module(trimmed) {
                test_mods.push(name);
            } else if opens > 0 {
                skipping = Some(depth);
            } else if !trimmed.ends_with(';') {
                // The item's brace comes on a later line.
                pending_test = true;
            }
        }
        depth += opens - closes;
        match skipping {
            Some(start) if depth <= start && closes > 0 => skipping = None,
            Some(_) => {}
            None if !pending_test && !test_line => out.push((i + 1, line.to_owned())),
            None => {}
        }
    }
    (out, test_mods)
}

/// `name` of a `mod name;` / `pub(crate) mod name;` line.
fn declared_module(line: &str) -> Option<String> {
    let rest = line.strip_suffix(';')?;
    let rest = rest
        .strip_prefix("pub(crate) ")
        .or_else(|| rest.strip_prefix("pub "))
        .unwrap_or(rest);
    let name = rest.strip_prefix("mod ")?.trim();
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        .then(|| name.to_owned())
}

/// `text` with comments removed and the contents of string, raw string and char literals
/// blanked; lines are kept (a multi-line literal leaves empty lines behind).
pub(crate) fn blank_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let keep_newlines = |out: &mut String, from: &[char]| {
        out.extend(from.iter().filter(|c| **c == '\n'));
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let start = i;
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            keep_newlines(&mut out, &chars[start..i.min(chars.len())]);
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // r"..." / r#"..."# / br"...": ends at a quote followed by the same hashes.
            let body = i + hashes + 2 + usize::from(c == 'b');
            let mut j = body;
            while j < chars.len() {
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            keep_newlines(&mut out, &chars[body..j.min(chars.len())]);
            i = (j + 1 + hashes).min(chars.len());
        } else if c == '"' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            keep_newlines(&mut out, &chars[start..j.min(chars.len())]);
            i = j + 1;
        } else if c == '\''
            && let Some(len) = char_literal_len(&chars, i)
        {
            out.push_str("' '");
            i += len;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The number of `#`s of a raw string literal starting at `i` (`r"`, `r#"`, `br##"`, ...).
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    let prev_is_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    if prev_is_ident {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some(hashes)
}

/// The length of a char literal starting at `i` (`'x'`, `'\n'`, `'\u{1F600}'`), or `None` for
/// a lifetime or label (`'a`, `'static`).
fn char_literal_len(chars: &[char], i: usize) -> Option<usize> {
    match (chars.get(i + 1), chars.get(i + 2)) {
        (Some('\\'), _) => {
            let end = (i + 2..chars.len().min(i + 14)).find(|&j| chars[j] == '\'')?;
            Some(end - i + 1)
        }
        (Some(_), Some('\'')) => Some(3),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_comments_are_blanked_and_lines_kept() {
        let text = "let a = \"{ // not a comment\"; // comment {\nlet b = '{'; let c: &'static str = r#\"x\n}\"#;\n/* a { */ let d = 1;\n";
        let cleaned = blank_literals(text);
        assert_eq!(
            cleaned,
            "let a = \"\"; \nlet b = ' '; let c: &'static str = \"\"\n;\n let d = 1;\n"
        );
    }

    #[test]
    fn test_items_and_test_module_files_are_left_out() {
        let text = "fn real() {\n    body();\n}\n\n#[cfg(test)]\nmod tests {\n    fn helper() {\n        x();\n    }\n}\n\n#[cfg(test)]\nmod more_tests;\n\nfn after() {}\n";
        let (lines, mods) = code_lines(text);
        let kept: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
        assert_eq!(kept, [1, 2, 3, 4, 11, 14, 15]);
        assert_eq!(mods, ["more_tests"]);
    }
}
