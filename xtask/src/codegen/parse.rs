//! A small parser for the API pages (official layout, English or Chinese headings).
//!
//! The markdown is simple: `##` sections, pipe tables, `- Key: value` bullets and fenced code
//! blocks. Every error names `file:line`.

use super::model::{
    Action, Code, CodeList, Constraint, ErrorDef, Example, Format, Member, Pos, Scalar, Structure,
    TypeRef,
};

type Result<T> = std::result::Result<T, String>;

fn err<T>(pos: &Pos, msg: impl std::fmt::Display) -> Result<T> {
    Err(format!("{pos}: {msg}"))
}

fn pos(file: &str, line: usize) -> Pos {
    Pos {
        file: file.to_string(),
        line,
    }
}

// ---------------------------------------------------------------------------------------------
// Lines, sections, tables

/// A `##` (level 2) section: its title and its lines (1-based line numbers).
struct Section<'a> {
    title: String,
    line: usize,
    body: Vec<(usize, &'a str)>,
}

impl Section<'_> {
    /// The paragraph that opens the section, before its table, on one line.
    fn intro(&self) -> String {
        self.body
            .iter()
            .map(|(_, l)| l.trim())
            .skip_while(|l| l.is_empty())
            .take_while(|l| !l.is_empty() && !l.starts_with('|'))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Splits the page into level-2 sections. Lines before the first `##` form a section titled "".
fn sections(text: &str) -> Vec<Section<'_>> {
    let mut out = vec![Section {
        title: String::new(),
        line: 1,
        body: Vec::new(),
    }];
    let mut in_code = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if !in_code && let Some(rest) = line.strip_prefix("## ") {
            out.push(Section {
                title: rest.trim().to_string(),
                line: n,
                body: Vec::new(),
            });
            continue;
        }
        if let Some(s) = out.last_mut() {
            s.body.push((n, line));
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SectionKind {
    Description,
    Input,
    Output,
    Examples,
    Errors,
    Other,
}

fn section_kind(title: &str) -> SectionKind {
    // Strip a leading "1. " numbering.
    let t = title.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ');
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("description") || t.starts_with("接口描述") {
        SectionKind::Description
    } else if lower.starts_with("input parameters") || t.starts_with("输入参数") {
        SectionKind::Input
    } else if lower.starts_with("output parameters") || t.starts_with("输出参数") {
        SectionKind::Output
    } else if lower.starts_with("example") || t.starts_with("示例") {
        SectionKind::Examples
    } else if lower.starts_with("error code") || t.starts_with("错误码") {
        SectionKind::Errors
    } else {
        SectionKind::Other
    }
}

/// A pipe table.
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<String>,
    line: usize,
    rows: Vec<(usize, Vec<String>)>,
}

fn split_cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = if t.ends_with('|') && !t.ends_with("\\|") {
        &t[..t.len() - 1]
    } else {
        t
    };
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    cells.push(cur.trim().to_string());
    cells
}

fn is_separator(line: &str) -> bool {
    let cells = split_cells(line);
    !cells.is_empty()
        && cells
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
}

/// All tables in a run of lines.
fn tables(file: &str, body: &[(usize, &str)]) -> Result<Vec<Table>> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_code = false;
    while i < body.len() {
        let (n, line) = body[i];
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if in_code || !line.trim_start().starts_with('|') {
            i += 1;
            continue;
        }
        let header = split_cells(line);
        let Some(&(sn, sep)) = body.get(i + 1) else {
            return err(
                &pos(file, n),
                "table has a header row but no `|---|` separator row",
            );
        };
        if !is_separator(sep) {
            return err(
                &pos(file, sn),
                "expected the table separator row (`|---|---|`) after the header row",
            );
        }
        let mut rows = Vec::new();
        i += 2;
        while i < body.len() && body[i].1.trim_start().starts_with('|') {
            let (rn, rl) = body[i];
            let cells = split_cells(rl);
            if cells.len() != header.len() {
                return err(
                    &pos(file, rn),
                    format!(
                        "table row has {} cells but the header has {} columns",
                        cells.len(),
                        header.len()
                    ),
                );
            }
            rows.push((rn, cells));
            i += 1;
        }
        out.push(Table {
            header,
            line: n,
            rows,
        });
    }
    Ok(out)
}

impl Table {
    fn column(&self, names: &[&str]) -> Option<usize> {
        self.header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    }

    fn require_column(&self, file: &str, what: &str, names: &[&str]) -> Result<usize> {
        self.column(names).ok_or_else(|| {
            format!(
                "{}: {what} table is missing the `{}` column (found columns: {})",
                pos(file, self.line),
                names[0],
                self.header
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

const NAME_COLS: &[&str] = &["Parameter", "Member", "Name", "参数名称", "名称"];
const REQUIRED_COLS: &[&str] = &["Required", "必选"];
const TYPE_COLS: &[&str] = &["Type", "类型"];
const DESC_COLS: &[&str] = &["Description", "描述", "说明"];
const CODE_COLS: &[&str] = &["Error Code", "Code", "错误码"];

// ---------------------------------------------------------------------------------------------
// Cells

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic())
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// Removes markdown links: `[AppInfo](/document/api/283/17759#AppInfo)` -> `AppInfo`.
fn strip_links(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find("](") {
            Some(close) if !after[..close].contains('[') => {
                out.push_str(&after[..close]);
                let tail = &after[close + 2..];
                rest = match tail.find(')') {
                    Some(p) => &tail[p + 1..],
                    None => "",
                };
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The integer marker at the start of a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Int64,
    UInt64,
}

fn parse_type(p: &Pos, cell: &str, marker: Option<Marker>) -> Result<(TypeRef, bool)> {
    let t = strip_links(cell);
    let t = t.trim();
    let (array, elem) = match t.strip_prefix("Array of ") {
        Some(e) => (true, e.trim()),
        None => (false, t),
    };
    let ty = match elem {
        "String" => TypeRef::Scalar(Scalar::String),
        "Integer" => match marker {
            Some(Marker::Int64) => TypeRef::Scalar(Scalar::Int64),
            Some(Marker::UInt64) => TypeRef::Scalar(Scalar::UInt64),
            None => {
                return err(
                    p,
                    "type `Integer` is ambiguous: start the description with `[int64]` or `[uint64]` (or write the type as `Int64` / `UInt64`)",
                );
            }
        },
        "Int64" => TypeRef::Scalar(Scalar::Int64),
        "UInt64" => TypeRef::Scalar(Scalar::UInt64),
        e if is_ident(e) && e.starts_with(|c: char| c.is_ascii_uppercase()) && !e.contains('_') => {
            if matches!(
                e,
                "Boolean" | "Float" | "Double" | "Timestamp" | "Date" | "Object" | "Map"
            ) {
                return err(
                    p,
                    format!(
                        "unknown type `{t}`: `{e}` is not supported by the generator (supported: String, Integer, Int64, UInt64, a structure name, `Array of` one of these)"
                    ),
                );
            }
            TypeRef::Struct(e.to_string())
        }
        _ => {
            return err(
                p,
                format!(
                    "unknown type `{t}` (expected String, Integer, Int64, UInt64, a structure name, or `Array of` one of these)"
                ),
            );
        }
    };
    match (marker, &ty) {
        (None, _) => {}
        (Some(Marker::Int64), TypeRef::Scalar(Scalar::Int64))
        | (Some(Marker::UInt64), TypeRef::Scalar(Scalar::UInt64)) => {}
        (Some(m), _) => {
            return err(
                p,
                format!(
                    "the `{}` marker does not fit type `{t}`",
                    if m == Marker::Int64 {
                        "[int64]"
                    } else {
                        "[uint64]"
                    }
                ),
            );
        }
    }
    Ok((ty, array))
}

/// Splits a description into (marker, prose, constraint tags).
fn parse_description(p: &Pos, cell: &str) -> Result<(Option<Marker>, String, Vec<Constraint>)> {
    let mut s = cell.trim();
    let mut marker = None;
    for (m, text) in [(Marker::Int64, "[int64]"), (Marker::UInt64, "[uint64]")] {
        if let Some(rest) = s.strip_prefix(text) {
            marker = Some(m);
            s = rest.trim_start();
        }
    }
    let mut prose = String::new();
    let mut constraints = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("`{") {
        prose.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}`") else {
            return err(
                p,
                format!(
                    "unparsable constraint: `{{` without a closing `}}` in `{}`",
                    &rest[start..]
                ),
            );
        };
        constraints.push(parse_constraint(p, &after[..end])?);
        rest = &after[end + 2..];
    }
    prose.push_str(rest);
    let prose = prose.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok((marker, prose, constraints))
}

fn parse_list(p: &Pos, key: &str, v: &str) -> Result<Vec<String>> {
    let inner = v
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .ok_or_else(|| {
            format!("{p}: unparsable constraint `{key}`: expected a list like `[a, b]`, got `{v}`")
        })?;
    let mut out = Vec::new();
    for item in split_list(inner) {
        let item = parse_scalar(p, key, item.trim())?;
        out.push(item);
    }
    if out.is_empty() {
        return err(
            p,
            format!("unparsable constraint `{key}`: the list is empty"),
        );
    }
    Ok(out)
}

/// Splits `a, "b, c", d` on commas outside quotes.
fn split_list(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_q = false;
    let mut start = 0;
    let mut esc = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if in_q => esc = !esc,
            '"' if !esc => in_q = !in_q,
            ',' if !in_q => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => esc = false,
        }
    }
    if !s[start..].trim().is_empty() || !out.is_empty() {
        out.push(&s[start..]);
    }
    out
}

fn parse_scalar(p: &Pos, key: &str, v: &str) -> Result<String> {
    if let Some(q) = v.strip_prefix('"') {
        let Some(inner) = q.strip_suffix('"') else {
            return err(
                p,
                format!("unparsable constraint `{key}`: unterminated string `{v}`"),
            );
        };
        return Ok(inner.replace("\\\"", "\"").replace("\\\\", "\\"));
    }
    if v.is_empty()
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+'))
    {
        return err(
            p,
            format!("unparsable constraint `{key}`: bad value `{v}` (quote it with \"...\")"),
        );
    }
    Ok(v.to_string())
}

fn parse_u64(p: &Pos, key: &str, v: &str) -> Result<u64> {
    v.parse().map_err(|_| {
        format!("{p}: unparsable constraint `{key}`: expected a non-negative integer, got `{v}`")
    })
}

fn parse_i128(p: &Pos, key: &str, v: &str) -> Result<i128> {
    v.parse()
        .map_err(|_| format!("{p}: unparsable constraint `{key}`: expected an integer, got `{v}`"))
}

fn parse_path(p: &Pos, key: &str, v: &str) -> Result<String> {
    if v.split('.').all(is_ident) {
        Ok(v.to_string())
    } else {
        err(
            p,
            format!(
                "unparsable constraint `{key}`: expected a member name or path like `AndroidPlan.AppType`, got `{v}`"
            ),
        )
    }
}

fn parse_constraint(p: &Pos, text: &str) -> Result<Constraint> {
    let Some((key, value)) = text.split_once(':') else {
        return err(
            p,
            format!("unparsable constraint `{{{text}}}`: expected `{{key: value}}`"),
        );
    };
    let key = key.trim();
    let v = value.trim();
    Ok(match key {
        "enum" => Constraint::Enum(parse_list(p, key, v)?),
        "max_items" => Constraint::MaxItems(parse_u64(p, key, v)?),
        "min_items" => Constraint::MinItems(parse_u64(p, key, v)?),
        "max" => Constraint::Max(parse_i128(p, key, v)?),
        "min" => Constraint::Min(parse_i128(p, key, v)?),
        "default" => Constraint::Default(parse_scalar(p, key, v)?),
        "exclusive_with" => Constraint::ExclusiveWith(parse_path(p, key, v)?),
        "same_as" => Constraint::SameAs(parse_path(p, key, v)?),
        "suffix" => Constraint::Suffix(parse_scalar(p, key, v)?),
        "filter_names" => Constraint::FilterNames(parse_list(p, key, v)?),
        "deprecated" => Constraint::Deprecated(parse_path(p, key, v)?),
        "codes" => {
            if !is_ident(v) {
                return err(
                    p,
                    format!("unparsable constraint `codes`: expected a code list name, got `{v}`"),
                );
            }
            Constraint::Codes(v.to_owned())
        }
        "format" => match Format::parse(v) {
            Some(f) => Constraint::Format(f),
            None => {
                return err(
                    p,
                    format!(
                        "unparsable constraint `format`: unknown format `{v}` (known: md5, sha1, url, json, csv)"
                    ),
                );
            }
        },
        "secret" => match v {
            "true" => Constraint::Secret,
            _ => {
                return err(
                    p,
                    format!("unparsable constraint `secret`: expected `true`, got `{v}`"),
                );
            }
        },
        "allow_empty" => match v {
            "true" => Constraint::AllowEmpty,
            _ => {
                return err(
                    p,
                    format!("unparsable constraint `allow_empty`: expected `true`, got `{v}`"),
                );
            }
        },
        "required_when" => {
            let mut conds = Vec::new();
            for part in v.split("&&") {
                let Some((l, r)) = part.split_once("==") else {
                    return err(
                        p,
                        format!(
                            "unparsable constraint `required_when`: expected `Member == value [&& ...]`, got `{v}`"
                        ),
                    );
                };
                conds.push((
                    parse_path(p, key, l.trim())?,
                    parse_scalar(p, key, r.trim())?,
                ));
            }
            Constraint::RequiredWhen(conds)
        }
        _ => {
            return err(
                p,
                format!(
                    "unparsable constraint: unknown key `{key}` (known: enum, max_items, min_items, max, min, default, exclusive_with, required_when, same_as, format, suffix, filter_names, allow_empty, deprecated, secret, codes)"
                ),
            );
        }
    })
}

fn parse_required(p: &Pos, cell: &str) -> Result<(bool, bool)> {
    let yn = |s: &str| -> Option<bool> {
        match s.trim() {
            "Yes" | "yes" | "是" | "Y" => Some(true),
            "No" | "no" | "否" | "N" => Some(false),
            _ => None,
        }
    };
    if let Some(b) = yn(cell) {
        return Ok((b, b));
    }
    // "In: No / Out: Yes"
    if let Some((i, o)) = cell.split_once('/') {
        let i = i.trim().strip_prefix("In:").and_then(yn);
        let o = o.trim().strip_prefix("Out:").and_then(yn);
        if let (Some(i), Some(o)) = (i, o) {
            return Ok((i, o));
        }
    }
    err(
        p,
        format!("bad `Required` value `{cell}` (expected Yes/No, 是/否, or `In: Yes / Out: No`)"),
    )
}

/// Parses a member table row.
fn parse_member(
    file: &str,
    line: usize,
    name: &str,
    required: Option<&str>,
    ty: &str,
    desc: &str,
) -> Result<Member> {
    let p = pos(file, line);
    let (marker, description, constraints) = parse_description(&p, desc)?;
    let (ty, array) = parse_type(&p, ty, marker)?;
    let (base, dotted_n) = match name.strip_suffix(".N") {
        Some(b) => (b, true),
        None => (name, false),
    };
    if !is_ident(base) {
        return err(&p, format!("bad member name `{name}`"));
    }
    if dotted_n && !array {
        return err(
            &p,
            format!(
                "member `{name}` is written as a list (`.N`) but its type is not `Array of ...`"
            ),
        );
    }
    let (required, output_required) = match required {
        Some(r) => parse_required(&p, r)?,
        None => (false, false),
    };
    Ok(Member {
        name: base.to_string(),
        ty,
        array,
        required,
        output_required,
        description,
        constraints,
        pos: p,
    })
}

// ---------------------------------------------------------------------------------------------
// Pages

fn is_common_param(desc: &str) -> bool {
    let d = desc.trim();
    d.starts_with("Common parameter") || d.starts_with("公共参数")
}

/// "Value for this API: X." / "本接口取值：X"
fn common_value(desc: &str) -> Option<String> {
    let rest = desc
        .split_once("Value for this API:")
        .or_else(|| desc.split_once("本接口取值："))?
        .1;
    let v: String = rest
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!v.is_empty()).then_some(v)
}

fn member_table(
    file: &str,
    what: &str,
    t: &Table,
    want_required: bool,
) -> Result<(Vec<Member>, Option<Option<bool>>)> {
    let name_c = t.require_column(file, what, NAME_COLS)?;
    let req_c = if want_required {
        Some(t.require_column(file, what, REQUIRED_COLS)?)
    } else {
        t.column(REQUIRED_COLS)
    };
    let type_c = t.require_column(file, what, TYPE_COLS)?;
    let desc_c = t.require_column(file, what, DESC_COLS)?;
    let mut members = Vec::new();
    let mut region = None;
    for (line, cells) in &t.rows {
        let name = cells[name_c].as_str();
        let desc = cells[desc_c].as_str();
        if matches!(name, "Action" | "Version" | "Region") && is_common_param(desc) {
            if name == "Region" {
                region = Some(req_c.and_then(|c| match cells[c].as_str() {
                    "Yes" | "是" => Some(true),
                    "No" | "否" => Some(false),
                    _ => None,
                }));
            }
            continue;
        }
        let req = if want_required {
            req_c.map(|c| cells[c].as_str())
        } else {
            None
        };
        members.push(parse_member(file, *line, name, req, &cells[type_c], desc)?);
    }
    Ok((members, region))
}

fn fenced_blocks(body: &[(usize, &str)]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, Vec<&str>)> = None;
    for &(n, line) in body {
        if line.trim_start().starts_with("```") {
            match cur.take() {
                Some((start, lines)) => out.push((start, lines.join("\n"))),
                None => cur = Some((n, Vec::new())),
            }
        } else if let Some((_, lines)) = cur.as_mut() {
            lines.push(line);
        }
    }
    out
}

pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A tree built from flattened query parameters (`AppInfos.0.AppUrl=...`).
enum Node {
    Leaf(String),
    Map(Vec<(String, Node)>),
}

impl Node {
    fn insert(&mut self, p: &Pos, path: &[&str], value: String) -> Result<()> {
        let Node::Map(entries) = self else {
            return err(
                p,
                format!(
                    "query parameter path `{}` conflicts with a value",
                    path.join(".")
                ),
            );
        };
        let (head, tail) = (path[0], &path[1..]);
        let idx = match entries.iter().position(|(k, _)| k == head) {
            Some(i) => i,
            None => {
                entries.push((
                    head.to_string(),
                    if tail.is_empty() {
                        Node::Leaf(String::new())
                    } else {
                        Node::Map(Vec::new())
                    },
                ));
                entries.len() - 1
            }
        };
        if tail.is_empty() {
            entries[idx].1 = Node::Leaf(value);
            Ok(())
        } else {
            entries[idx].1.insert(p, tail, value)
        }
    }

    fn to_json(&self) -> String {
        match self {
            Node::Leaf(s) => json_string(s),
            Node::Map(entries) => {
                let is_array =
                    !entries.is_empty() && entries.iter().all(|(k, _)| k.parse::<usize>().is_ok());
                if is_array {
                    let mut sorted: Vec<&(String, Node)> = entries.iter().collect();
                    sorted.sort_by_key(|(k, _)| k.parse::<usize>().unwrap_or(0));
                    let items: Vec<String> = sorted.iter().map(|(_, v)| v.to_json()).collect();
                    format!("[{}]", items.join(","))
                } else {
                    let items: Vec<String> = entries
                        .iter()
                        .map(|(k, v)| format!("{}:{}", json_string(k), v.to_json()))
                        .collect();
                    format!("{{{}}}", items.join(","))
                }
            }
        }
    }
}

const COMMON_QUERY_PARAMS: &[&str] = &[
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Token",
    "Language",
];

/// Converts an input example to the JSON parameters. Returns (json, query_form).
fn example_request(p: &Pos, text: &str) -> Result<(String, bool)> {
    let t = text.trim();
    if t.starts_with("POST") {
        let Some((_, body)) = t.split_once("\n\n") else {
            return err(
                p,
                "POST input example has no body (expected the headers, an empty line, then the JSON body)",
            );
        };
        let body = body.trim();
        if !body.starts_with('{') {
            return err(p, "POST input example body is not a JSON object");
        }
        return Ok((body.to_string(), false));
    }
    if t.starts_with("http://") || t.starts_with("https://") || t.starts_with("GET") {
        let mut root = Node::Map(Vec::new());
        let joined: String = t.lines().map(str::trim).collect::<Vec<_>>().join("");
        let query = joined.split_once('?').map(|x| x.1).unwrap_or("");
        for piece in query.split('&') {
            let piece = piece.trim();
            if piece.is_empty() || piece.starts_with('<') {
                continue;
            }
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            if COMMON_QUERY_PARAMS.contains(&k) {
                continue;
            }
            let path: Vec<&str> = k.split('.').collect();
            if path.iter().any(|s| s.is_empty()) {
                return err(
                    p,
                    format!("bad query parameter name `{k}` in input example"),
                );
            }
            root.insert(p, &path, v.to_string())?;
        }
        return Ok((root.to_json(), true));
    }
    err(
        p,
        "unrecognised input example (expected `POST / HTTP/1.1 ...` with a JSON body, or a `https://...?Action=...` query)",
    )
}

fn parse_examples(file: &str, body: &[(usize, &str)]) -> Result<Vec<Example>> {
    // Split into `###` sub-sections.
    type Group<'a> = (usize, String, Vec<(usize, &'a str)>);
    let mut groups: Vec<Group<'_>> = Vec::new();
    for &(n, line) in body {
        if let Some(t) = line.strip_prefix("### ") {
            groups.push((n, t.trim().to_string(), Vec::new()));
        } else if let Some(g) = groups.last_mut() {
            g.2.push((n, line));
        }
    }
    let mut out = Vec::new();
    for (n, heading, lines) in groups {
        // "Example 1: title" / "示例1 title"
        let title = heading
            .split_once(':')
            .map(|x| x.1)
            .or_else(|| {
                heading
                    .strip_prefix("示例")
                    .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()))
            })
            .unwrap_or(&heading)
            .trim()
            .to_string();
        let mut input = None;
        let mut output = None;
        let mut which = 0;
        let mut sub: Vec<(usize, &str)> = Vec::new();
        let flush = |which: i32,
                     sub: &Vec<(usize, &str)>,
                     input: &mut Option<(usize, String)>,
                     output: &mut Option<(usize, String)>| {
            if let Some(b) = fenced_blocks(sub).into_iter().next() {
                match which {
                    1 => *input = Some(b),
                    2 => *output = Some(b),
                    _ => {}
                }
            }
        };
        for &(ln, line) in &lines {
            if let Some(h) = line.strip_prefix("#### ") {
                flush(which, &sub, &mut input, &mut output);
                sub.clear();
                let h = h.trim().to_ascii_lowercase();
                which = if h.starts_with("input") || h.contains("输入示例") {
                    1
                } else if h.starts_with("output") || h.contains("输出示例") {
                    2
                } else {
                    0
                };
                continue;
            }
            sub.push((ln, line));
        }
        flush(which, &sub, &mut input, &mut output);
        let p = pos(file, n);
        let Some((iline, itext)) = input else {
            return err(
                &p,
                format!("example `{heading}` has no `#### Input Example` code block"),
            );
        };
        let Some((_, otext)) = output else {
            return err(
                &p,
                format!("example `{heading}` has no `#### Output Example` code block"),
            );
        };
        let (request, query_form) = example_request(&pos(file, iline), &itext)?;
        let response = otext.trim().to_string();
        if !response.starts_with('{') {
            return err(
                &p,
                format!("example `{heading}`: the output example is not a JSON object"),
            );
        }
        out.push(Example {
            title,
            request,
            query_form,
            response,
            pos: p,
        });
    }
    Ok(out)
}

fn error_table(file: &str, t: &Table, common: bool) -> Result<Vec<ErrorDef>> {
    let code_c = t.require_column(file, "error code", CODE_COLS)?;
    let desc_c = t.require_column(file, "error code", DESC_COLS)?;
    let mut out: Vec<ErrorDef> = Vec::new();
    for (line, cells) in &t.rows {
        let code = cells[code_c].trim().trim_matches('`').to_string();
        if code.is_empty() || !code.split('.').all(is_ident) {
            return err(&pos(file, *line), format!("bad error code `{code}`"));
        }
        if out.iter().any(|e| e.code == code) {
            return err(&pos(file, *line), format!("duplicate error code `{code}`"));
        }
        out.push(ErrorDef {
            code,
            line: *line,
            description: cells[desc_c].clone(),
            common,
        });
    }
    Ok(out)
}

fn bullet(lines: &[(usize, &str)], keys: &[&str]) -> Option<(usize, String)> {
    for &(n, line) in lines {
        if let Some(rest) = line.trim_start().strip_prefix("- ")
            && let Some((k, v)) = rest.split_once(':')
            && keys.iter().any(|key| k.trim().eq_ignore_ascii_case(key))
        {
            return Some((n, v.trim().to_string()));
        }
    }
    None
}

fn yes_no(p: &Pos, key: &str, v: &str) -> Result<bool> {
    match v {
        "Yes" | "yes" | "是" => Ok(true),
        "No" | "no" | "否" => Ok(false),
        _ => err(p, format!("`{key}` must be Yes or No, got `{v}`")),
    }
}

/// The action name from a file name: `CreateScanInstances.md`, `CreateScanInstances.zh.md`.
fn stem(file: &str) -> String {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    base.split('.').next().unwrap_or(base).to_string()
}

/// Parses one action page.
pub(crate) fn action_page(file: &str, text: &str) -> Result<Action> {
    let name = page_name(file, text)?;
    let mut action = Action {
        name: name.clone(),
        description: String::new(),
        summary: String::new(),
        idempotent: name.starts_with("Describe"),
        scan_workflow: false,
        whitelist_only: false,
        availability: "current".to_string(),
        status: page_status(text),
        region_required: None,
        input: Vec::new(),
        output: Vec::new(),
        examples: Vec::new(),
        errors: Vec::new(),
        pos: pos(file, 1),
    };
    let (mut has_input, mut has_output) = (false, false);
    for s in &sections(text) {
        match section_kind(&s.title) {
            SectionKind::Description => description_section(&mut action, file, &s.body)?,
            SectionKind::Input => {
                has_input = true;
                input_section(&mut action, file, s)?;
            }
            SectionKind::Output => {
                has_output = true;
                output_section(&mut action, file, s)?;
            }
            SectionKind::Examples => action.examples = parse_examples(file, &s.body)?,
            SectionKind::Errors => {
                if let Some(t) = tables(file, &s.body)?.first() {
                    action.errors = error_table(file, t, false)?
                        .into_iter()
                        .map(|e| (e.code, e.description, e.line))
                        .collect();
                }
            }
            SectionKind::Other => {}
        }
    }
    if !has_input {
        return err(
            &pos(file, 1),
            "page has no input parameter section (`## 2. Input Parameters` / `## 2. 输入参数`)",
        );
    }
    if !has_output {
        return err(
            &pos(file, 1),
            "page has no output parameter section (`## 3. Output Parameters` / `## 3. 输出参数`)",
        );
    }
    if action.summary.is_empty() {
        action.summary = action
            .description
            .split(['.', '。'])
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
    }
    check_action_row(file, text, &name)?;
    Ok(action)
}

/// The action name of a page: its file name, which the optional `# Title` must repeat.
fn page_name(file: &str, text: &str) -> Result<String> {
    let name = stem(file);
    if !is_ident(&name) {
        return err(
            &pos(file, 1),
            format!("cannot derive an action name from the file name `{file}`"),
        );
    }
    let title = text
        .lines()
        .enumerate()
        .find_map(|(i, line)| line.strip_prefix("# ").map(|h| (i, h.trim())));
    if let Some((i, title)) = title
        && title != name
    {
        return err(
            &pos(file, i + 1),
            format!("page title `{title}` does not match the file name (`{name}`)"),
        );
    }
    Ok(name)
}

/// The page's status (`> ... status `deprecated` ...`), `online` by default.
fn page_status(text: &str) -> String {
    text.split_once("status `")
        .and_then(|(_, r)| r.split_once('`'))
        .map(|(s, _)| s.to_string())
        .unwrap_or_else(|| "online".to_string())
}

/// `## 1. Description`: the description paragraph and the `- Key: value` bullets.
fn description_section(action: &mut Action, file: &str, body: &[(usize, &str)]) -> Result<()> {
    // The Chinese layout starts with the request domain line; skip it.
    let is_domain_line = |l: &str| l.starts_with("接口请求域名");
    let para: Vec<&str> = body
        .iter()
        .map(|(_, l)| l.trim())
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty() && !l.starts_with("- "))
        .filter(|l| !is_domain_line(l))
        .collect();
    action.description = para.join(" ");
    if action.description.is_empty() {
        action.description = body
            .iter()
            .map(|(_, l)| l.trim())
            .find(|l| !l.is_empty() && !is_domain_line(l) && !l.starts_with("- "))
            .unwrap_or("")
            .to_string();
    }
    if let Some((_, v)) = bullet(body, &["Summary"]) {
        action.summary = v;
    }
    let flag = |key: &str| -> Result<Option<bool>> {
        bullet(body, &[key])
            .map(|(n, v)| yes_no(&pos(file, n), key, &v))
            .transpose()
    };
    if let Some(v) = flag("Idempotent")? {
        action.idempotent = v;
    }
    if let Some(v) = flag("Scan workflow")? {
        action.scan_workflow = v;
    }
    if let Some(v) = flag("Whitelist only")? {
        action.whitelist_only = v;
    }
    if let Some((_, v)) = bullet(body, &["Availability"]) {
        action.availability = v;
    }
    Ok(())
}

/// `## 2. Input Parameters`: the request members and whether `Region` is required.
fn input_section(action: &mut Action, file: &str, s: &Section<'_>) -> Result<()> {
    let ts = tables(file, &s.body)?;
    let Some(t) = ts.first() else {
        return err(&pos(file, s.line), "input parameter section has no table");
    };
    let (members, region) = member_table(file, "input parameter", t, true)?;
    action.input = members;
    action.region_required = region.flatten();
    Ok(())
}

/// `## 3. Output Parameters`: the response members, which must include `RequestId`.
fn output_section(action: &mut Action, file: &str, s: &Section<'_>) -> Result<()> {
    let ts = tables(file, &s.body)?;
    let Some(t) = ts.first() else {
        return err(&pos(file, s.line), "output parameter section has no table");
    };
    let (members, _) = member_table(file, "output parameter", t, false)?;
    if !members.iter().any(|m| m.name == "RequestId") {
        return err(
            &pos(file, t.line),
            "output parameter table must list `RequestId`",
        );
    }
    action.output = members;
    Ok(())
}

/// The `Action` row, when present, must name the page's action.
fn check_action_row(file: &str, text: &str, name: &str) -> Result<()> {
    let row = text
        .lines()
        .map(split_cells)
        .find(|cells| cells.len() >= 3 && cells[0] == "Action");
    if let Some(cells) = row
        && let Some(v) = common_value(cells.last().map(String::as_str).unwrap_or(""))
        && v != name
    {
        return err(
            &pos(file, 1),
            format!("the Action row says `{v}` but the page is `{name}`"),
        );
    }
    Ok(())
}

/// Parses `data-structures.md`: one `## Name` section per structure, each with a member table.
pub(crate) fn structures_page(file: &str, text: &str) -> Result<Vec<Structure>> {
    let mut out = Vec::new();
    for s in sections(text).into_iter().skip(1) {
        let name = s.title.trim().to_string();
        if !is_ident(&name) {
            return err(
                &pos(file, s.line),
                format!("structure heading `{name}` is not a structure name"),
            );
        }
        let description = s.intro();
        let ts = tables(file, &s.body)?;
        let Some(t) = ts.first() else {
            return err(
                &pos(file, s.line),
                format!("structure `{name}` has no member table"),
            );
        };
        let name_c = t.require_column(file, "structure member", NAME_COLS)?;
        let req_c = t.require_column(file, "structure member", REQUIRED_COLS)?;
        let type_c = t.require_column(file, "structure member", TYPE_COLS)?;
        let desc_c = t.require_column(file, "structure member", DESC_COLS)?;
        let mut members = Vec::new();
        for (line, cells) in &t.rows {
            members.push(parse_member(
                file,
                *line,
                &cells[name_c],
                Some(&cells[req_c]),
                &cells[type_c],
                &cells[desc_c],
            )?);
        }
        out.push(Structure {
            name,
            description,
            members,
            pos: pos(file, s.line),
        });
    }
    Ok(out)
}

/// Parses `code-lists.md`: one `## Name` section per code list, a description paragraph and a
/// `| Value | Name | Final | Description |` table (`Final` only for lists of states).
pub(crate) fn code_lists_page(file: &str, text: &str) -> Result<Vec<CodeList>> {
    let mut out: Vec<CodeList> = Vec::new();
    for s in sections(text).into_iter().skip(1) {
        let name = s.title.trim().to_string();
        let at = pos(file, s.line);
        if !is_ident(&name) || out.iter().any(|l| l.name == name) {
            return err(
                &at,
                format!("code list heading `{name}` is not a new list name"),
            );
        }
        let description = s.intro();
        let ts = tables(file, &s.body)?;
        let Some(t) = ts.first() else {
            return err(&at, format!("code list `{name}` has no table"));
        };
        let codes = code_table(file, t)?;
        if codes.is_empty() {
            return err(&at, format!("code list `{name}` has no codes"));
        }
        out.push(CodeList {
            name,
            description,
            codes,
            has_final: t.column(&["Final"]).is_some(),
            pos: at,
        });
    }
    Ok(out)
}

fn code_table(file: &str, t: &Table) -> Result<Vec<Code>> {
    let value_c = t.require_column(file, "code list", &["Value", "取值"])?;
    let name_c = t.require_column(file, "code list", &["Name"])?;
    let final_c = t.column(&["Final"]);
    let desc_c = t.require_column(file, "code list", DESC_COLS)?;
    let mut codes: Vec<Code> = Vec::new();
    for (line, cells) in &t.rows {
        let p = pos(file, *line);
        let value = parse_u64(&p, "Value", &cells[value_c])?;
        let name = cells[name_c].trim().to_string();
        let starts_upper = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        if !is_ident(&name) || !starts_upper {
            return err(&p, format!("code name `{name}` is not a CamelCase name"));
        }
        if codes.iter().any(|c| c.value == value || c.name == name) {
            return err(&p, format!("duplicate code `{value}` / `{name}`"));
        }
        codes.push(Code {
            value,
            name,
            is_final: match final_c {
                Some(c) => yes_no(&p, "Final", &cells[c])?,
                None => false,
            },
            description: cells[desc_c].clone(),
            line: *line,
        });
    }
    Ok(codes)
}

/// Parses an error-code page (every table in it).
pub(crate) fn errors_page(file: &str, text: &str, common: bool) -> Result<Vec<ErrorDef>> {
    let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    let mut out: Vec<ErrorDef> = Vec::new();
    for t in tables(file, &lines)? {
        for e in error_table(file, &t, common)? {
            if out.iter().any(|x| x.code == e.code) {
                return err(
                    &pos(file, t.line),
                    format!("duplicate error code `{}`", e.code),
                );
            }
            out.push(e);
        }
    }
    if out.is_empty() {
        return err(&pos(file, 1), "no error code table found");
    }
    Ok(out)
}
