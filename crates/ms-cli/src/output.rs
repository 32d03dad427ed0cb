//! Output formatting: stable JSON for programs, aligned tables for people and
//! tab-separated text for `grep`/`awk`.
//!
//! Everything goes through [`Printer`], which writes to stdout and turns a closed
//! pipe (`ms ... | head`) into a quiet exit instead of a panic.

use std::io::{self, Write};

use ms_model::{SafeType, TaskStatus};
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

use crate::error::{CliError, CliResult};

/// The `--output` format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputFormat {
    /// Stable, machine-readable JSON (the API's field names, pretty-printed).
    Json,
    /// Aligned columns for people.
    #[default]
    Table,
    /// Tab-separated values without a header, one record per line.
    Text,
    /// JSON Lines, one object per line (`scan submit`: one per chunk, as it lands).
    Jsonl,
}

/// A table: a header row and data rows of the same width.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column titles.
    pub headers: Vec<String>,
    /// Data rows; each has as many cells as there are headers.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with the given column titles and no rows.
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push<I, S>(&mut self, row: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(row.into_iter().map(Into::into).collect());
    }

    /// Renders the table with aligned columns (display width aware, so CJK names line up).
    pub fn render(&self) -> String {
        let cols = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.width()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(cols) {
                widths[i] = widths[i].max(cell_text(cell).width());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut first = true;
            let mut text = String::new();
            for (i, cell) in cells.enumerate() {
                if !first {
                    text.push_str("  ");
                }
                first = false;
                text.push_str(cell);
                if i + 1 < cols {
                    let pad = widths[i].saturating_sub(cell.width());
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&mut self.headers.iter().map(String::as_str));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| cell_text(c)).collect();
            line(&mut cells.iter().map(String::as_str));
        }
        out
    }

    /// Renders the rows as tab-separated text, without the header.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| cell_text(c)).collect();
            out.push_str(&cells.join("\t"));
            out.push('\n');
        }
        out
    }
}

/// Table cells are single-line, and a value from the service cannot drive the terminal:
/// newline, carriage return and tab become a space; other control characters and Unicode
/// bidirectional overrides are shown escaped (`\u{1b}`).
pub fn cell_text(cell: &str) -> String {
    let bidi = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !cell.chars().any(|c| c.is_control() || bidi(c)) {
        return cell.to_owned();
    }
    let mut out = String::with_capacity(cell.len());
    for c in cell.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() || bidi(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// Something a command prints: the JSON form and the table form of the same data.
pub trait Render {
    /// The stable JSON value (API field names).
    fn json(&self) -> Value;
    /// The table (without its header, the `text` output: keep its columns stable).
    fn table(&self) -> Table;
    /// The `table` output for people; by default [`table`](Self::table), aligned.
    fn people(&self) -> String {
        self.table().render()
    }
}

/// Writes command output to stdout in the chosen format.
#[derive(Debug)]
pub struct Printer {
    format: OutputFormat,
    out: io::BufWriter<io::Stdout>,
}

impl Printer {
    /// A printer for stdout.
    pub fn new(format: OutputFormat) -> Self {
        Printer {
            format,
            out: io::BufWriter::with_capacity(64 * 1024, io::stdout()),
        }
    }

    /// The output format.
    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Prints a rendered value in the chosen format.
    pub fn print(&mut self, value: &dyn Render) -> CliResult<()> {
        let text = match self.format {
            OutputFormat::Json => json_string(&value.json()),
            OutputFormat::Jsonl => json_lines(&value.json()),
            OutputFormat::Table => value.people(),
            OutputFormat::Text => value.table().render_text(),
        };
        self.write_str(&text)
    }

    /// Prints a JSON value as-is (pretty-printed; JSON Lines with `-o jsonl`), whatever the
    /// format.
    pub fn print_json(&mut self, value: &Value) -> CliResult<()> {
        let text = if self.format == OutputFormat::Jsonl {
            json_lines(value)
        } else {
            json_string(value)
        };
        self.write_str(&text)
    }

    /// Serialises a value as pretty JSON (one line with `-o jsonl`) straight to stdout (no
    /// intermediate tree, so large outputs take little memory).
    pub fn print_serialize<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> CliResult<()> {
        let w = &mut self.out;
        let written = if self.format == OutputFormat::Jsonl {
            serde_json::to_writer(&mut *w, value)
        } else {
            serde_json::to_writer_pretty(&mut *w, value)
        };
        written.map_err(|e| match e.io_error_kind() {
            Some(kind) => CliError::from_stdout(io::Error::from(kind)),
            None => CliError::usage(format!("cannot format the output: {e}")),
        })?;
        w.write_all(b"\n").map_err(CliError::from_stdout)?;
        w.flush().map_err(CliError::from_stdout)
    }

    /// Writes a string and flushes.
    pub fn write_str(&mut self, s: &str) -> CliResult<()> {
        self.write_bytes(s.as_bytes())
    }

    /// Writes bytes that are already in the output format (UTF-8 text) and flushes.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> CliResult<()> {
        self.out.write_all(bytes).map_err(CliError::from_stdout)?;
        self.flush()
    }

    /// Writes one line (a newline is added), buffered; see [`flush`](Self::flush).
    pub fn line(&mut self, s: &str) -> CliResult<()> {
        self.out
            .write_all(s.as_bytes())
            .map_err(CliError::from_stdout)?;
        self.out.write_all(b"\n").map_err(CliError::from_stdout)
    }

    /// Flushes buffered output.
    pub fn flush(&mut self) -> CliResult<()> {
        self.out.flush().map_err(CliError::from_stdout)
    }
}

/// Pretty JSON with a trailing newline.
pub fn json_string(value: &Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    s.push('\n');
    s
}

/// JSON Lines: a compact line per element of an array, or one line for anything else.
pub fn json_lines(value: &Value) -> String {
    let mut s = String::new();
    let one = |s: &mut String, v: &Value| {
        s.push_str(&serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned()));
        s.push('\n');
    };
    match value {
        Value::Array(items) => items.iter().for_each(|v| one(&mut s, v)),
        other => one(&mut s, other),
    }
    s
}

/// A JSON field as display text: strings as-is, numbers printed, null/missing empty.
pub fn field(value: &Value, key: &str) -> String {
    scalar(value.get(key).unwrap_or(&Value::Null))
}

/// A scalar JSON value as display text.
pub fn scalar(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Flattens any JSON value into `(path, value)` pairs, paths in the API's flattened
/// form (`ScanSet.0.AppDetailInfo.AppName`); empty objects and arrays appear as `{}`
/// and `[]`, null as an empty value.
pub fn flatten_json(value: &Value) -> Vec<(String, String)> {
    fn walk(prefix: &mut String, v: &Value, out: &mut Vec<(String, String)>) {
        let mut child = |prefix: &mut String, key: &str, v: &Value| {
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(key);
            walk(prefix, v, out);
            prefix.truncate(len);
        };
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    child(prefix, k, v);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, v) in a.iter().enumerate() {
                    child(prefix, &i.to_string(), v);
                }
            }
            Value::Object(_) => out.push((prefix.clone(), "{}".to_owned())),
            Value::Array(_) => out.push((prefix.clone(), "[]".to_owned())),
            other => out.push((prefix.clone(), scalar(other))),
        }
    }
    let mut out = Vec::new();
    walk(&mut String::new(), value, &mut out);
    out
}

/// Longest cell of a table made by [`json_tables`] (longer text is cut with `…`).
const JSON_CELL_MAX: usize = 60;

/// A JSON value as a table cell: scalars as text, arrays of scalars joined with `, `,
/// other arrays as their length (`[3]`), objects as `{…}`; cut to a readable width.
fn json_cell(v: &Value) -> String {
    let text = match v {
        Value::Array(a) if a.is_empty() => "(none)".to_owned(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            a.iter().map(scalar).collect::<Vec<_>>().join(", ")
        }
        Value::Array(a) => format!("[{}]", a.len()),
        Value::Object(m) if m.is_empty() => "{}".to_owned(),
        Value::Object(_) => "{…}".to_owned(),
        other => scalar(other),
    };
    let text = text.replace(['\n', '\r', '\t'], " ");
    if text.chars().count() > JSON_CELL_MAX {
        let mut cut: String = text.chars().take(JSON_CELL_MAX - 1).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}

/// Any JSON answer as tables for people: its scalar members (and arrays of scalars) as a
/// FIELD/VALUE table, then, for each member that is an array of objects, a table with a
/// row per element and a column per member (nested objects flattened one level, as
/// `AppDetailInfo.AppName`).
pub fn json_tables(value: &Value) -> Vec<(Option<String>, Table)> {
    let Value::Object(map) = value else {
        let mut t = Table::new(["VALUE"]);
        t.push([json_cell(value)]);
        return vec![(None, t)];
    };
    let is_rows = |v: &Value| {
        v.as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_object))
    };
    let mut fields = Table::new(["FIELD", "VALUE"]);
    let mut tables = Vec::new();
    for (k, v) in map {
        if is_rows(v) {
            continue;
        }
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                for (ik, iv) in inner {
                    fields.push([format!("{k}.{ik}"), json_cell(iv)]);
                }
            }
            _ => fields.push([k.clone(), json_cell(v)]),
        }
    }
    if !fields.rows.is_empty() {
        tables.push((None, fields));
    }
    for (k, v) in map {
        let Some(rows) = v.as_array().filter(|_| is_rows(v)) else {
            continue;
        };
        // Columns in order of first appearance.
        let mut columns: Vec<String> = Vec::new();
        let mut cells: Vec<std::collections::HashMap<String, String>> = Vec::new();
        for row in rows {
            let mut r = std::collections::HashMap::new();
            for (ck, cv) in row.as_object().into_iter().flatten() {
                let mut put = |name: String, cell: String| {
                    if !columns.contains(&name) {
                        columns.push(name.clone());
                    }
                    r.insert(name, cell);
                };
                match cv {
                    Value::Object(inner) if !inner.is_empty() => {
                        for (ik, iv) in inner {
                            put(format!("{ck}.{ik}"), json_cell(iv));
                        }
                    }
                    _ => put(ck.clone(), json_cell(cv)),
                }
            }
            cells.push(r);
        }
        let mut t = Table::new(columns.iter().cloned());
        for mut r in cells {
            t.push(columns.iter().map(|c| r.remove(c).unwrap_or_default()));
        }
        tables.push((Some(k.clone()), t));
    }
    tables
}

/// Human-readable size: `1.5 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Text for the TaskStatus code ([`TaskStatus`]).
pub fn task_status(code: Option<u64>) -> &'static str {
    let Some(code) = code else { return "-" };
    match TaskStatus::from_code(code) {
        Some(TaskStatus::Completed) => "done",
        Some(TaskStatus::Processing) => "scanning",
        Some(TaskStatus::Error) => "error",
        Some(TaskStatus::Timeout) => "timeout",
        None => "unknown",
    }
}

/// Text for the SafeType code (VirusInfo / AppScanSet): the [`SafeType`] description, or
/// `unknown` for 0 and values the list does not name.
pub fn safe_type(code: Option<i64>) -> &'static str {
    let Some(code) = code else { return "-" };
    match u64::try_from(code).ok().and_then(SafeType::from_code) {
        Some(safety) => safety.description(),
        None => "unknown",
    }
}

/// A Unix timestamp as `YYYY-MM-DD HH:MM:SS` (UTC); empty for 0 or missing.
pub fn unix_time(secs: Option<u64>) -> String {
    let Some(secs) = secs.filter(|s| *s > 0) else {
        return String::new();
    };
    let rem = secs % 86_400;
    format!(
        "{} {:02}:{:02}:{:02}",
        tc3_sign::utc_date(secs),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A JSON field as an unsigned number (numbers or numeric strings). A negative number is not
/// one: `None`, never a clamped 0 (a negative `StatusCode` must not read as success).
pub fn u64_field(value: &Value, key: &str) -> Option<u64> {
    match value.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A JSON field as a signed number (numbers or numeric strings).
pub fn i64_field(value: &Value, key: &str) -> Option<i64> {
    match value.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_wide_characters() {
        let mut t = Table::new(["NAME", "MD5"]);
        t.push(["微信", "aa"]);
        t.push(["x", "bb"]);
        assert_eq!(t.render(), "NAME  MD5\n微信  aa\nx     bb\n");
    }

    #[test]
    fn text_is_tab_separated_without_header() {
        let mut t = Table::new(["A", "B"]);
        t.push(["1", "two\twords"]);
        assert_eq!(t.render_text(), "1\ttwo words\n");
    }

    #[test]
    fn cells_cannot_drive_the_terminal() {
        let mut t = Table::new(["A", "B"]);
        t.push(["i\u{1b}[31m", "\u{1b}]0;pwn\u{7}x\u{202e}"]);
        for out in [t.render(), t.render_text()] {
            assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
            assert!(!out.contains('\u{202e}'), "{out:?}");
            assert!(out.contains("i\\u{1b}[31m"), "{out}");
        }
    }

    #[test]
    fn unix_times_are_utc() {
        assert_eq!(unix_time(Some(1546511829)), "2019-01-03 10:37:09");
        assert_eq!(unix_time(Some(0)), "");
        assert_eq!(unix_time(Some(951_782_400)), "2000-02-29 00:00:00");
    }

    #[test]
    fn any_json_flattens_to_api_paths() {
        let v = serde_json::json!({"ScanSet": [{"AppDetailInfo": {"AppName": "A"}, "Tags": []}], "TotalCount": 1, "X": null});
        assert_eq!(
            flatten_json(&v),
            [
                ("ScanSet.0.AppDetailInfo.AppName".to_owned(), "A".to_owned()),
                ("ScanSet.0.Tags".to_owned(), "[]".to_owned()),
                ("TotalCount".to_owned(), "1".to_owned()),
                ("X".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn any_json_as_tables_fields_then_a_table_per_array_of_objects() {
        let long = "x".repeat(100);
        let v = serde_json::json!({
            "RequestId": "r-1",
            "AppMd5s": ["a", "b"],
            "ScanSet": [
                {"AppDetailInfo": {"AppName": "A", "AppMd5": "m1"}, "VulList": [{"Id": 1}], "Desc": long},
                {"AppDetailInfo": {"AppName": "B"}, "Extra": true}
            ]
        });
        let tables = json_tables(&v);
        assert_eq!(tables.len(), 2);
        let (name, fields) = &tables[0];
        assert!(name.is_none());
        assert_eq!(fields.rows, [["RequestId", "r-1"], ["AppMd5s", "a, b"]]);
        let (name, t) = &tables[1];
        assert_eq!(name.as_deref(), Some("ScanSet"));
        assert_eq!(
            t.headers,
            [
                "AppDetailInfo.AppName",
                "AppDetailInfo.AppMd5",
                "VulList",
                "Desc",
                "Extra"
            ]
        );
        assert_eq!(t.rows[0][2], "[1]");
        assert_eq!(t.rows[0][3].chars().count(), 60);
        assert!(t.rows[0][3].ends_with('…'));
        assert_eq!(t.rows[1], ["B", "", "", "", "true"]);
    }

    #[test]
    fn safe_type_words_come_from_the_code_list() {
        let words: Vec<&str> = [None, Some(-1), Some(0), Some(1), Some(2), Some(3), Some(4)]
            .into_iter()
            .map(safe_type)
            .collect();
        assert_eq!(
            words,
            [
                "-", "unknown", "unknown", "safe", "risky", "virus", "unknown"
            ]
        );
    }

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
    }
}
