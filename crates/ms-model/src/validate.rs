//! Validation: every violation with its path, driven by the generated schemas.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::formats::{is_http_url, is_md5, is_sha1};
use crate::schema::{Constraint, FieldSchema, Format, Kind, StructSchema};

/// Checks a value against the constraints of the API tables.
pub trait Validate {
    /// Returns every violation (not just the first), or `Ok(())`.
    fn validate(&self) -> Result<(), ValidationErrors>;
}

/// What kind of problem a [`Violation`] is: the distinction callers act on (the emulator picks
/// `MissingParameter`, `UnknownParameter` or `InvalidParameterValue` from it), so nobody has
/// to read the message, which quotes the client's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ViolationKind {
    /// A required member is absent or null (`is required`, `is required when ...`).
    Missing,
    /// A member the tables do not define (`unknown parameter`), or an unknown action.
    Unknown,
    /// A member with the wrong type or a value its constraints refuse (format, enum, range,
    /// count, emptiness, combination with another member).
    Invalid,
}

/// One problem, located by its wire path (`AppInfos[3].AppMd5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// What kind of problem it is.
    pub kind: ViolationKind,
    /// Wire path of the offending member: `AppInfos[3].AppMd5`; empty for the whole request.
    pub path: String,
    /// What is wrong: `expected 32 hex digits, got "xyz"`.
    pub message: String,
}

impl Violation {
    /// A violation of `kind` at `path`.
    pub fn of(kind: ViolationKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }

    /// An [`Invalid`](ViolationKind::Invalid) value at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::of(ViolationKind::Invalid, path, message)
    }

    /// A [`Missing`](ViolationKind::Missing) member at `path`.
    pub fn missing(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::of(ViolationKind::Missing, path, message)
    }

    /// An [`Unknown`](ViolationKind::Unknown) member (or action) at `path`.
    pub fn unknown(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::of(ViolationKind::Unknown, path, message)
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every violation found, in member order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<Violation>);

impl ValidationErrors {
    /// The violations.
    pub fn violations(&self) -> &[Violation] {
        &self.0
    }

    /// The violation at exactly this path, if any.
    pub fn at(&self, path: &str) -> Option<&Violation> {
        self.0.iter().find(|v| v.path == path)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => f.write_str("no violations"),
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} invalid parameters: ", many.len())?;
                for (i, v) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ValidationErrors {}

/// Which way a value travels: requests get constraint checks and string-number tolerance,
/// responses get strict type checks only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Request,
    Response,
}

struct Ctx<'a> {
    root: &'a Value,
    dir: Direction,
    out: Vec<Violation>,
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// A short rendering of a JSON value for messages.
pub(crate) fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(77).collect::<String>())
    } else {
        s
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn present(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

/// Looks up `A.B.C` from the root object.
fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = root;
    for seg in path.split('.') {
        cur = cur.as_object()?.get(seg)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// The decimal/string form used to compare against enum values and conditions.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

impl Ctx<'_> {
    fn push(&mut self, path: &str, message: impl Into<String>) {
        self.out.push(Violation::new(path, message));
    }

    fn push_kind(&mut self, kind: ViolationKind, path: &str, message: impl Into<String>) {
        self.out.push(Violation::of(kind, path, message));
    }

    fn check_struct(&mut self, schema: &StructSchema, v: &Value, path: &str, ignore: &[&str]) {
        let Some(obj) = v.as_object() else {
            self.push(path, format!("expected an object, got {}", show(v)));
            return;
        };
        for key in obj.keys() {
            if schema.field(key).is_none() && !ignore.contains(&key.as_str()) {
                let msg = match self.dir {
                    Direction::Request => {
                        format!("unknown parameter (not a member of {})", schema.name)
                    }
                    Direction::Response => format!("unknown member (not in {})", schema.name),
                };
                self.push_kind(ViolationKind::Unknown, &join(path, key), msg);
            }
        }
        for (idx, f) in schema.fields.iter().enumerate() {
            let p = join(path, f.name);
            let value = obj.get(f.name);
            let Some(value) = value.filter(|v| !v.is_null()) else {
                if self.dir == Direction::Request {
                    if f.required {
                        self.push_kind(ViolationKind::Missing, &p, "is required");
                    } else if let Some(conds) = required_when(f)
                        && conds.iter().all(|(cp, cv)| {
                            lookup(self.root, cp).and_then(scalar_text).as_deref() == Some(*cv)
                        })
                    {
                        let why: Vec<String> =
                            conds.iter().map(|(a, b)| format!("{a} == {b}")).collect();
                        self.push_kind(
                            ViolationKind::Missing,
                            &p,
                            format!("is required when {}", why.join(" && ")),
                        );
                    }
                }
                continue;
            };
            if f.array {
                let Some(items) = value.as_array() else {
                    self.push(&p, format!("expected an array, got {}", show(value)));
                    continue;
                };
                for (i, item) in items.iter().enumerate() {
                    self.check_elem(f, item, &format!("{p}[{i}]"));
                }
            } else {
                self.check_elem(f, value, &p);
            }
            if self.dir == Direction::Request {
                self.check_member_constraints(schema, idx, f, obj, value, &p);
            }
        }
    }

    /// Type check (and per-element constraints) of one element.
    fn check_elem(&mut self, f: &FieldSchema, v: &Value, path: &str) {
        let lenient = self.dir == Direction::Request;
        match f.kind {
            Kind::String => match v {
                Value::String(s) => {
                    if self.dir == Direction::Request {
                        self.check_string(f, s, path);
                    }
                }
                other => self.push(path, format!("expected a string, got {}", show(other))),
            },
            Kind::Int64 | Kind::UInt64 => {
                let unsigned = matches!(f.kind, Kind::UInt64);
                let ok: Option<i128> = match v {
                    Value::Number(n) => n
                        .as_i64()
                        .map(i128::from)
                        .or_else(|| n.as_u64().map(i128::from)),
                    Value::String(s) if lenient && !s.starts_with('+') => s.parse::<i128>().ok(),
                    _ => None,
                };
                let in_range = ok.filter(|n| {
                    if unsigned {
                        (0..=i128::from(u64::MAX)).contains(n)
                    } else {
                        (i128::from(i64::MIN)..=i128::from(i64::MAX)).contains(n)
                    }
                });
                match in_range {
                    None => {
                        let what = if unsigned {
                            "an unsigned integer"
                        } else {
                            "an integer"
                        };
                        self.push(path, format!("expected {what}, got {}", show(v)));
                    }
                    Some(n) if self.dir == Direction::Request => self.check_int(f, n, path),
                    Some(_) => {}
                }
            }
            Kind::Struct(s) => self.check_struct(s, v, path, &[]),
        }
    }

    /// `shown` renders the value for a message (only called for a violation).
    fn check_enum(&mut self, f: &FieldSchema, text: &str, path: &str, shown: impl Fn() -> String) {
        for c in f.constraints {
            if let Constraint::Enum(vals) = c
                && !vals.contains(&text)
            {
                self.push(
                    path,
                    format!("expected one of {}, got {}", vals.join(", "), shown()),
                );
            }
        }
    }

    fn check_string(&mut self, f: &FieldSchema, s: &str, path: &str) {
        // Rendered only for a message: valid strings are not copied.
        let shown = || show(&Value::String(s.to_owned()));
        if s.is_empty() {
            if f.array {
                // An empty element of a list is still a value: it must be one of the enum's
                // (`"ScanTypes": [""]` is not a scan type).
                self.check_enum(f, s, path, shown);
            } else if f.required && !f.has(|c| matches!(c, Constraint::AllowEmpty)) {
                self.push(path, "must not be empty");
            }
            return;
        }
        self.check_enum(f, s, path, shown);
        for c in f.constraints {
            match c {
                Constraint::Format(Format::Md5) if !is_md5(s) => {
                    self.push(path, format!("expected 32 hex digits, got {}", shown()));
                }
                Constraint::Format(Format::Sha1) if !is_sha1(s) => {
                    self.push(path, format!("expected 40 hex digits, got {}", shown()));
                }
                Constraint::Format(Format::Url) if !is_http_url(s) => {
                    // A password in the URL is not echoed.
                    let shown = show(&Value::String(crate::redact_url(s).into_owned()));
                    self.push(path, format!("expected an http(s) URL, got {shown}"));
                }
                Constraint::Format(Format::Json) => {
                    if let Err(e) = serde_json::from_str::<Value>(s) {
                        self.push(
                            path,
                            format!("expected a JSON document, got {} ({e})", shown()),
                        );
                    }
                }
                Constraint::Format(Format::Csv) => {
                    let items: Vec<&str> = s.split(',').collect();
                    if items.iter().any(|i| i.trim().is_empty()) {
                        self.push(
                            path,
                            format!("expected comma-separated non-empty values, got {}", shown()),
                        );
                    }
                    let n = items.len() as u64;
                    for c in f.constraints {
                        self.check_count(c, n, path, "value");
                    }
                }
                Constraint::Suffix(suffix) if !s.ends_with(suffix) => {
                    self.push(
                        path,
                        format!("expected a value ending in \"{suffix}\", got {}", shown()),
                    );
                }
                _ => {}
            }
        }
    }

    /// A `MaxItems`/`MinItems` constraint against a count of `noun`s; other constraints pass.
    fn check_count(&mut self, c: &Constraint, n: u64, path: &str, noun: &str) {
        match c {
            Constraint::MaxItems(max) if n > *max => {
                self.push(
                    path,
                    format!("expected at most {}, got {n}", plural(*max, noun)),
                );
            }
            Constraint::MinItems(min) if n < *min => {
                self.push(
                    path,
                    format!("expected at least {}, got {n}", plural(*min, noun)),
                );
            }
            _ => {}
        }
    }

    fn check_int(&mut self, f: &FieldSchema, n: i128, path: &str) {
        let text = n.to_string();
        self.check_enum(f, &text, path, || text.clone());
        for c in f.constraints {
            match c {
                Constraint::Max(max) if n > *max => {
                    self.push(path, format!("expected at most {max}, got {n}"));
                }
                Constraint::Min(min) if n < *min => {
                    self.push(path, format!("expected at least {min}, got {n}"));
                }
                _ => {}
            }
        }
    }

    /// Constraints about the member as a whole (item counts, siblings, cross-member equality).
    fn check_member_constraints(
        &mut self,
        schema: &StructSchema,
        idx: usize,
        f: &FieldSchema,
        obj: &serde_json::Map<String, Value>,
        value: &Value,
        path: &str,
    ) {
        for c in f.constraints {
            match c {
                Constraint::MaxItems(_) | Constraint::MinItems(_) if f.array => {
                    if let Some(items) = value.as_array() {
                        self.check_count(c, items.len() as u64, path, "item");
                    }
                }
                Constraint::ExclusiveWith(other) => {
                    // Report a pair once: at the first of the two members.
                    let other_idx = schema.fields.iter().position(|x| x.name == *other);
                    let reciprocal = other_idx
                        .map(|i| {
                            schema.fields[i]
                                .has(|c| matches!(c, Constraint::ExclusiveWith(o) if *o == f.name))
                        })
                        .unwrap_or(false);
                    if present(Some(value))
                        && present(obj.get(*other))
                        && (!reciprocal || other_idx > Some(idx))
                    {
                        self.push(path, format!("cannot be combined with {other}"));
                    }
                }
                Constraint::SameAs(other) => {
                    let mine = value.as_str().unwrap_or("");
                    let theirs = lookup(self.root, other)
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if !mine.is_empty() && !theirs.is_empty() && mine != theirs {
                        self.push(
                            path,
                            format!(
                                "must equal {other} ({}), got {}",
                                show(&theirs.into()),
                                show(&mine.into())
                            ),
                        );
                    }
                }
                Constraint::FilterNames(names) => {
                    let Some(items) = value.as_array() else {
                        continue;
                    };
                    for (i, item) in items.iter().enumerate() {
                        if let Some(name) = item.get("Name").and_then(Value::as_str)
                            && !names.contains(&name)
                        {
                            self.push(
                                &format!("{path}[{i}].Name"),
                                format!(
                                    "expected one of {}, got {}",
                                    names.join(", "),
                                    show(&name.into())
                                ),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn required_when(f: &FieldSchema) -> Option<&'static [(&'static str, &'static str)]> {
    f.constraints.iter().find_map(|c| match c {
        Constraint::RequiredWhen(conds) => Some(*conds),
        _ => None,
    })
}

/// Checks a JSON value against a schema; `ignore` lists top-level keys to skip.
pub(crate) fn check_value(
    schema: &StructSchema,
    v: &Value,
    dir: Direction,
    ignore: &[&str],
) -> Vec<Violation> {
    let mut ctx = Ctx {
        root: v,
        dir,
        out: Vec::new(),
    };
    ctx.check_struct(schema, v, "", ignore);
    ctx.out
}

/// Validation of a typed value: serializes it and checks the request constraints.
pub(crate) fn validate_typed<T: Serialize>(
    value: &T,
    schema: &StructSchema,
) -> Result<(), ValidationErrors> {
    let v = match serde_json::to_value(value) {
        Ok(v) => v,
        Err(e) => {
            return Err(ValidationErrors(vec![Violation::new(
                "",
                format!("cannot serialize: {e}"),
            )]));
        }
    };
    check_request_value(schema, &v)
}

/// The request checks of [`validate_typed`] on an already serialized value.
pub(crate) fn check_request_value(
    schema: &StructSchema,
    v: &Value,
) -> Result<(), ValidationErrors> {
    let out = check_value(schema, v, Direction::Request, &[]);
    if out.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(out))
    }
}

/// Common request parameters that may appear next to the action's own parameters.
pub const COMMON_PARAMS: &[&str] = &[
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
    "RequestClient",
];

/// Validates the JSON parameters of `action` (as sent in a POST body, or unflattened from a GET
/// query with every value a string).
///
/// Checks types (numeric strings are accepted for integers), required members, unknown
/// parameters (the [`COMMON_PARAMS`] are ignored at the top level) and every constraint of the
/// tables, then decodes into the typed request. An unknown action is a violation at `Action`.
pub fn validate_json(action: &str, params: &Value) -> Result<(), ValidationErrors> {
    let Some(info) = crate::action_info(action) else {
        return Err(ValidationErrors(vec![Violation::unknown(
            "Action",
            format!("unknown action `{action}`"),
        )]));
    };
    let mut out = check_value(info.request, params, Direction::Request, COMMON_PARAMS);
    if out.is_empty() {
        // Decode the action's own members: copy the parameters only to drop common ones.
        let is_common = |k: &String| COMMON_PARAMS.contains(&k.as_str());
        let mut own = Cow::Borrowed(params);
        if params.as_object().is_some_and(|o| o.keys().any(is_common))
            && let Some(o) = own.to_mut().as_object_mut()
        {
            o.retain(|k, _| !is_common(k));
        }
        if let Some(Err(e)) = crate::decode_request(action, &own) {
            out.push(Violation::new("", e.to_string()));
        }
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(out))
    }
}

/// Checks a response body of `action` against the tables: `body` is either the whole envelope
/// `{"Response": {...}}` or the inner object.
///
/// A success response must have a string `RequestId`, members of the documented types (strict:
/// no numeric strings) and no undocumented members, and must decode into the typed response. An
/// error response must have `Error.Code` and `Error.Message` strings and a `RequestId`.
pub fn check_response_json(action: &str, body: &Value) -> Result<(), String> {
    let Some(info) = crate::action_info(action) else {
        return Err(format!("unknown action `{action}`"));
    };
    let inner = body.get("Response").unwrap_or(body);
    let Some(obj) = inner.as_object() else {
        return Err(format!(
            "expected the Response object, got {}",
            kind_of(inner)
        ));
    };
    let mut problems = Vec::new();
    if !obj.get("RequestId").is_some_and(Value::is_string) {
        problems.push("RequestId: expected a string".to_string());
    }
    if let Some(err) = obj.get("Error") {
        if !err.get("Code").is_some_and(Value::is_string) {
            problems.push("Error.Code: expected a string".to_string());
        }
        if !err.get("Message").is_some_and(Value::is_string) {
            problems.push("Error.Message: expected a string".to_string());
        }
        for k in obj.keys() {
            if k != "Error" && k != "RequestId" {
                problems.push(format!("{k}: unexpected member next to Error"));
            }
        }
    } else {
        problems.extend(
            check_value(info.response, inner, Direction::Response, &[])
                .iter()
                .map(ToString::to_string),
        );
        if problems.is_empty()
            && let Some(Err(e)) = crate::decode_response_of(action, inner)
        {
            problems.push(e.to_string());
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}
