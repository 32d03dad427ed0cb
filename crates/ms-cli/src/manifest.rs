//! Streaming app manifests: a JSON array (or JSON Lines) or a CSV file, read one
//! app at a time so that a manifest of 100,000 apps takes little memory.
//!
//! A manifest entry names an app by URL and MD5, optionally with its size, name,
//! package name, version, file name and icon URL. Field names may be written as in
//! the API (`AppUrl`, `AppMd5`, `AppSize`, `AppName`, `AppPkgName`, `AppVersion`,
//! `FileName`, `AppIconUrl`) or short (`url`, `md5`, `size`, `name`, `package`,
//! `version`, `file_name`, `icon_url`). Unknown fields are ignored.
//!
//! ```json
//! [
//!   {"url": "https://example.com/a.apk", "md5": "0123456789abcdef0123456789abcdef", "size": 1024, "name": "A"}
//! ]
//! ```
//!
//! ```csv
//! url,md5,size,name,package,version
//! https://example.com/a.apk,0123456789abcdef0123456789abcdef,1024,A,com.example.a,1.0
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;

/// One app of a manifest, validated and normalised (MD5 in lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ManifestApp {
    /// Download URL (`AppUrl`); must be `http://` or `https://`.
    #[serde(alias = "AppUrl", alias = "app_url", default)]
    pub url: String,
    /// MD5 of the APK (`AppMd5`), 32 hex digits.
    #[serde(alias = "AppMd5", alias = "app_md5", default)]
    pub md5: String,
    /// Size in bytes (`AppSize`).
    #[serde(
        alias = "AppSize",
        alias = "app_size",
        default,
        deserialize_with = "de_size"
    )]
    pub size: Option<u64>,
    /// App name (`AppName`).
    #[serde(
        alias = "AppName",
        alias = "app_name",
        default,
        deserialize_with = "de_opt_string"
    )]
    pub name: Option<String>,
    /// Package name (`AppPkgName`).
    #[serde(
        alias = "AppPkgName",
        alias = "app_pkg_name",
        alias = "pkg",
        default,
        deserialize_with = "de_opt_string"
    )]
    pub package: Option<String>,
    /// Version (`AppVersion`).
    #[serde(
        alias = "AppVersion",
        alias = "app_version",
        default,
        deserialize_with = "de_opt_string"
    )]
    pub version: Option<String>,
    /// File name (`FileName`).
    #[serde(
        alias = "FileName",
        alias = "filename",
        default,
        deserialize_with = "de_opt_string"
    )]
    pub file_name: Option<String>,
    /// Icon URL (`AppIconUrl`).
    #[serde(
        alias = "AppIconUrl",
        alias = "app_icon_url",
        default,
        deserialize_with = "de_opt_string"
    )]
    pub icon_url: Option<String>,
}

/// `size`: a JSON number or numeric string, or a CSV field; empty or null means absent. Every
/// error names the field (a custom visitor, as an untagged enum would lose the field name for
/// numbers beyond 64 bits).
struct SizeVisitor;

fn bad_size<E: serde::de::Error>(got: impl fmt::Display) -> E {
    E::custom(format!("size: expected a whole number of bytes, got {got}"))
}

impl<'de> serde::de::Visitor<'de> for SizeVisitor {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number of bytes for size")
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(n))
    }
    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
        u64::try_from(n).map(Some).map_err(|_| bad_size(n))
    }
    fn visit_u128<E: serde::de::Error>(self, n: u128) -> Result<Self::Value, E> {
        u64::try_from(n).map(Some).map_err(|_| bad_size(n))
    }
    fn visit_i128<E: serde::de::Error>(self, n: i128) -> Result<Self::Value, E> {
        u64::try_from(n).map(Some).map_err(|_| bad_size(n))
    }
    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Self::Value, E> {
        Err(bad_size(f))
    }
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Err(bad_size(b))
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<u64>().map(Some).map_err(|_| bad_size(shorten(s)))
    }
}

fn de_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_option(SizeVisitor)
}

fn de_opt_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum S {
        Str(String),
        Num(serde_json::Number),
    }
    Ok(match Option::<S>::deserialize(d)? {
        None => None,
        Some(S::Str(s)) if s.is_empty() => None,
        Some(S::Str(s)) => Some(s),
        Some(S::Num(n)) => Some(n.to_string()),
    })
}

impl ManifestApp {
    /// Checks and normalises the entry; the error names the field.
    pub fn validate(mut self) -> Result<Self, String> {
        self.url = self.url.trim().to_owned();
        self.md5 = self.md5.trim().to_ascii_lowercase();
        if self.url.is_empty() {
            return Err("url (AppUrl) is missing".to_owned());
        }
        if !ms_model::is_http_url(&self.url) {
            return Err(format!(
                "url (AppUrl): expected an http:// or https:// download URL, got {}",
                shorten(&ms_model::redact_url(&self.url))
            ));
        }
        if self.md5.is_empty() {
            return Err("md5 (AppMd5) is missing".to_owned());
        }
        if !is_md5(&self.md5) {
            return Err(format!(
                "md5 (AppMd5): expected 32 hex digits, got {}",
                shorten(&self.md5)
            ));
        }
        Ok(self)
    }
}

/// `s` quoted for an error message, cut after 80 characters (a manifest line can be huge).
fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{:?}... ({} bytes)", &s[..i], s.len()),
        None => format!("{s:?}"),
    }
}

/// True when `s` is 32 hex digits (the model's rule).
pub use ms_model::is_md5;

/// The format of a manifest file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ManifestFormat {
    /// Guess from the extension, then from the first byte (`[` or `{` is JSON).
    Auto,
    /// A JSON array of objects, or JSON Lines (one object per line).
    Json,
    /// CSV with a header row.
    Csv,
}

/// A problem in a manifest, naming the entry and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// Where the manifest came from (path or `<stdin>`).
    pub source: String,
    /// 1-based number of the app in the manifest, if known.
    pub index: Option<u64>,
    /// 1-based line, if known.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(i) = self.index {
            write!(f, ": app #{i}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ManifestError {}

/// Where a manifest is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestSource {
    /// A file.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl ManifestSource {
    /// `-` is stdin, anything else a path.
    pub fn from_arg(arg: &Path) -> Self {
        if arg.as_os_str() == "-" {
            ManifestSource::Stdin
        } else {
            ManifestSource::File(arg.to_owned())
        }
    }

    /// Name for messages.
    pub fn name(&self) -> String {
        match self {
            ManifestSource::File(p) => p.display().to_string(),
            ManifestSource::Stdin => "<stdin>".to_owned(),
        }
    }

    /// Opens the source as a streaming reader of apps.
    pub fn open(&self, format: ManifestFormat) -> Result<ManifestReader, ManifestError> {
        let name = self.name();
        let io_err = |e: io::Error| ManifestError {
            source: name.clone(),
            index: None,
            line: None,
            message: format!("cannot read: {e}"),
        };
        let reader: Box<dyn Read + Send> = match self {
            ManifestSource::File(p) => Box::new(File::open(p).map_err(io_err)?),
            ManifestSource::Stdin => Box::new(io::stdin()),
        };
        let mut reader = BufReader::with_capacity(64 * 1024, reader);
        let format = match format {
            ManifestFormat::Auto => {
                let ext = match self {
                    ManifestSource::File(p) => p
                        .extension()
                        .and_then(|e| e.to_str())
                        .map(str::to_ascii_lowercase),
                    ManifestSource::Stdin => None,
                };
                match ext.as_deref() {
                    Some("csv") => ManifestFormat::Csv,
                    Some("json" | "jsonl" | "ndjson") => ManifestFormat::Json,
                    _ => {
                        let buf = reader.fill_buf().map_err(io_err)?;
                        let first = buf.iter().find(|b| {
                            !b.is_ascii_whitespace() && **b != 0xEF && **b != 0xBB && **b != 0xBF
                        });
                        if matches!(first, Some(b'[' | b'{')) {
                            ManifestFormat::Json
                        } else {
                            ManifestFormat::Csv
                        }
                    }
                }
            }
            f => f,
        };
        let inner = match format {
            ManifestFormat::Csv => {
                // No comment character: a row whose first field starts with `#` is an app
                // like any other (and fails validation loudly if it is not one).
                let since_record = Arc::new(AtomicU64::new(0));
                let bounded: Box<dyn Read + Send> = Box::new(Bounded {
                    inner: reader,
                    since_record: Arc::clone(&since_record),
                });
                let mut rdr = csv::ReaderBuilder::new()
                    .trim(csv::Trim::All)
                    .buffer_capacity(CSV_BUFFER)
                    .from_reader(bounded);
                // The header now, so that record positions (lines) are right from the first.
                let header = rdr.headers().map_err(|e| ManifestError {
                    source: name.clone(),
                    index: None,
                    line: Some(1),
                    message: format!("header: {}", csv_error_message(&e)),
                })?;
                let header = check_csv_header(header).map_err(|message| ManifestError {
                    source: name.clone(),
                    index: None,
                    line: Some(1),
                    message,
                })?;
                rdr.set_headers(header);
                since_record.store(0, Ordering::Relaxed);
                Inner::Csv(Box::new(rdr.into_deserialize()), since_record)
            }
            _ => Inner::Json(JsonArrayReader::new(reader)),
        };
        Ok(ManifestReader {
            name,
            inner,
            count: 0,
            done: false,
            unknown: std::collections::BTreeSet::new(),
        })
    }
}

/// Largest manifest entry (a JSON element, a CSV record), in bytes: a huge record or an
/// unterminated string is an error naming its line, not a buffer that grows without limit.
pub const MAX_ENTRY_BYTES: u64 = 1 << 20;

/// The CSV reader's own buffer.
const CSV_BUFFER: usize = 64 * 1024;

/// The error [`Bounded`] fails with (recognised by its message).
const TOO_LARGE: &str = "an app entry is larger than 1 MiB";

/// A reader that fails once a CSV record has taken more than [`MAX_ENTRY_BYTES`] (plus the
/// CSV reader's buffer): the iterator resets the count after each record.
struct Bounded {
    inner: BufReader<Box<dyn Read + Send>>,
    since_record: Arc<AtomicU64>,
}

impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since_record.load(Ordering::Relaxed) > MAX_ENTRY_BYTES + CSV_BUFFER as u64 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, TOO_LARGE));
        }
        let n = self.inner.read(buf)?;
        self.since_record.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

type CsvRecords = csv::DeserializeRecordsIntoIter<Box<dyn Read + Send>, ManifestApp>;

enum Inner {
    Json(JsonArrayReader<BufReader<Box<dyn Read + Send>>>),
    Csv(Box<CsvRecords>, Arc<AtomicU64>),
}

/// Streaming iterator over the apps of a manifest; stops after the first error.
pub struct ManifestReader {
    name: String,
    inner: Inner,
    count: u64,
    done: bool,
    /// Keys of JSON entries that are no app field, each warned about once.
    unknown: std::collections::BTreeSet<String>,
}

/// The keys of a JSON object that are no app field (their values are skipped unread).
struct UnknownKeys(Vec<String>);

impl<'de> Deserialize<'de> for UnknownKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = UnknownKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<UnknownKeys, A::Error> {
                let mut unknown = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    if !FIELD_NAMES
                        .iter()
                        .any(|names| names.contains(&key.as_str()))
                    {
                        unknown.push(key);
                    }
                }
                Ok(UnknownKeys(unknown))
            }
        }
        d.deserialize_map(Keys)
    }
}

/// Most distinct unknown keys warned about (a manifest made for something else could have
/// many).
const MAX_UNKNOWN_WARNINGS: usize = 8;

/// Warns once per key of a JSON entry that is no app field (a typo such as `packge` would
/// otherwise drop its values silently); `warned` holds the keys warned about.
fn warn_unknown_keys(
    warned: &mut std::collections::BTreeSet<String>,
    source: &str,
    entry: &[u8],
    index: u64,
) {
    let Ok(UnknownKeys(keys)) = serde_json::from_slice::<UnknownKeys>(entry) else {
        return;
    };
    for key in keys {
        if warned.len() < MAX_UNKNOWN_WARNINGS && !warned.contains(&key) {
            errln!(
                "warning: manifest {source}: app #{index} has {key:?}, no app field: ignored (fields: url, md5, size, name, package, version, file_name, icon_url)"
            );
            warned.insert(key);
        }
    }
}

impl fmt::Debug for ManifestReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManifestReader")
            .field("source", &self.name)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl Iterator for ManifestReader {
    type Item = Result<ManifestApp, ManifestError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let index = self.count + 1;
        let item = match &mut self.inner {
            Inner::Json(r) => match r.next_value() {
                Ok(None) => None,
                Ok(Some(line)) => {
                    let app = serde_json::from_slice::<ManifestApp>(r.value())
                        .map_err(|e| (Some(line), json_error_message(&e)))
                        .and_then(|app| app.validate().map_err(|m| (Some(line), m)));
                    if app.is_ok() {
                        warn_unknown_keys(&mut self.unknown, &self.name, r.value(), index);
                    }
                    Some(app)
                }
                Err((line, msg)) => Some(Err((Some(line), msg))),
            },
            Inner::Csv(r, since_record) => {
                // Where the next record starts (the header was read at open).
                let start = r.reader().position().line();
                let item = r.next().map(|res| {
                    res.map_err(|e| {
                        let line = e.position().map_or(start, |p| p.line());
                        (Some(line), csv_error_message(&e))
                    })
                    .and_then(|app| app.validate().map_err(|m| (Some(start), m)))
                });
                since_record.store(0, Ordering::Relaxed);
                item
            }
        };
        match item {
            None => {
                self.done = true;
                None
            }
            Some(Ok(app)) => {
                self.count = index;
                Some(Ok(app))
            }
            Some(Err((line, message))) => {
                self.done = true;
                Some(Err(ManifestError {
                    source: self.name.clone(),
                    index: Some(index),
                    line,
                    message,
                }))
            }
        }
    }
}

/// Each field of an app and the names a manifest may give it (as [`ManifestApp`] reads
/// them).
const FIELD_NAMES: [&[&str]; 8] = [
    &["url", "AppUrl", "app_url"],
    &["md5", "AppMd5", "app_md5"],
    &["size", "AppSize", "app_size"],
    &["name", "AppName", "app_name"],
    &["package", "AppPkgName", "app_pkg_name", "pkg"],
    &["version", "AppVersion", "app_version"],
    &["file_name", "FileName", "filename"],
    &["icon_url", "AppIconUrl", "app_icon_url"],
];

/// The CSV header with each column named as [`ManifestApp`] reads it (names in any case:
/// `URL`, `Md5`). It must name the url and md5 columns (a header of one column holding the
/// separator of another dialect, `url;md5`, would otherwise fail as "url is missing" on
/// every row); a column that is no app field is ignored with a warning naming it (a typo
/// such as `packge` would otherwise drop its values silently).
fn check_csv_header(header: &csv::StringRecord) -> Result<csv::StringRecord, String> {
    let field_of = |col: &str| {
        FIELD_NAMES
            .iter()
            .position(|names| names.iter().any(|n| n.eq_ignore_ascii_case(col)))
    };
    let known = |col: &str| FIELD_NAMES.iter().position(|names| names.contains(&col));
    let header: csv::StringRecord = header
        .iter()
        .map(|col| field_of(col).map_or(col, |i| FIELD_NAMES[i][0]))
        .collect();
    let columns: Vec<&str> = header.iter().collect();
    let shown = || {
        let list: Vec<String> = columns.iter().map(|c| format!("{c:?}")).collect();
        let list = list.join(", ");
        match list.char_indices().nth(200) {
            Some((i, _)) => format!("{}...", &list[..i]),
            None => list,
        }
    };
    for (field, required) in [("url", 0), ("md5", 1)] {
        if !columns.iter().any(|c| known(c) == Some(required)) {
            let hint = if columns.iter().any(|c| c.contains([';', '\t', '|'])) {
                " (fields are separated by commas)"
            } else {
                ""
            };
            return Err(format!(
                "header: no {field} column{hint}; the header has {}",
                shown()
            ));
        }
    }
    let unknown: Vec<String> = columns
        .iter()
        .filter(|c| known(c).is_none())
        .map(|c| format!("{c:?}"))
        .collect();
    if !unknown.is_empty() {
        errln!(
            "warning: manifest column(s) {} are no app field and are ignored (fields: url, md5, size, name, package, version, file_name, icon_url)",
            unknown.join(", ")
        );
    }
    Ok(header)
}

fn json_error_message(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C" relative to the element; drop it.
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

fn csv_error_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let field = err
                .field()
                .map(|f| format!("field {}: ", f + 1))
                .unwrap_or_default();
            format!("{field}{}", err.kind())
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} columns like the header, found {len}"),
        csv::ErrorKind::Io(io) if io.to_string() == TOO_LARGE => {
            format!("{TOO_LARGE} (an unterminated quoted field?)")
        }
        _ => e.to_string(),
    }
}

/// Reads the elements of a top-level JSON array one at a time (or a stream of
/// whitespace-separated JSON objects, as in JSON Lines), keeping only the current
/// element in memory.
pub struct JsonArrayReader<R> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    state: ArrayState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    Start,
    /// Inside `[`, before the first element.
    First,
    /// Inside `[`, after an element.
    Next,
    /// JSON Lines: objects separated by whitespace.
    Lines,
    Done,
}

impl<R: fmt::Debug> fmt::Debug for JsonArrayReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonArrayReader")
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

type ArrayResult<T> = Result<T, (u64, String)>;

impl<R: BufRead> JsonArrayReader<R> {
    /// A reader over `reader`.
    pub fn new(reader: R) -> Self {
        JsonArrayReader {
            reader,
            buf: Vec::with_capacity(1024),
            line: 1,
            state: ArrayState::Start,
        }
    }

    /// The bytes of the element returned by the last [`next_value`](Self::next_value).
    pub fn value(&self) -> &[u8] {
        &self.buf
    }

    fn err<T>(&self, msg: impl Into<String>) -> ArrayResult<T> {
        Err((self.line, msg.into()))
    }

    fn peek(&mut self) -> ArrayResult<Option<u8>> {
        match self.reader.fill_buf() {
            Ok([]) => Ok(None),
            Ok(b) => Ok(Some(b[0])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => self.peek(),
            Err(e) => self.err(format!("cannot read: {e}")),
        }
    }

    fn bump(&mut self) -> ArrayResult<Option<u8>> {
        let b = self.peek()?;
        if let Some(c) = b {
            self.reader.consume(1);
            if c == b'\n' {
                self.line += 1;
            }
        }
        Ok(b)
    }

    fn skip_ws(&mut self) -> ArrayResult<Option<u8>> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\r' | b'\n') => {
                    self.bump()?;
                }
                other => return Ok(other),
            }
        }
    }

    /// Reads the next element into the internal buffer; returns the line it starts on,
    /// or `None` at the end of the array.
    pub fn next_value(&mut self) -> ArrayResult<Option<u64>> {
        loop {
            match self.state {
                ArrayState::Done => return Ok(None),
                ArrayState::Start => {
                    // A UTF-8 byte order mark is tolerated.
                    if self.peek()? == Some(0xEF) {
                        for _ in 0..3 {
                            self.bump()?;
                        }
                    }
                    match self.skip_ws()? {
                        Some(b'[') => {
                            self.bump()?;
                            self.state = ArrayState::First;
                        }
                        Some(b'{') => self.state = ArrayState::Lines,
                        None => {
                            return self
                                .err("the manifest is empty; expected a JSON array of apps");
                        }
                        Some(c) => {
                            return self.err(format!(
                                "expected a JSON array of apps (`[`), found {:?}",
                                c as char
                            ));
                        }
                    }
                }
                ArrayState::First => match self.skip_ws()? {
                    Some(b']') => {
                        self.bump()?;
                        self.state = ArrayState::Done;
                        return self.finish();
                    }
                    Some(_) => {
                        self.state = ArrayState::Next;
                        return self.read_element().map(Some);
                    }
                    None => {
                        return self.err("unexpected end of file inside the array (missing `]`)");
                    }
                },
                ArrayState::Next => match self.skip_ws()? {
                    Some(b',') => {
                        self.bump()?;
                        match self.skip_ws()? {
                            Some(b']') => return self.err("trailing comma before `]`"),
                            None => {
                                return self
                                    .err("unexpected end of file inside the array (missing `]`)");
                            }
                            Some(_) => return self.read_element().map(Some),
                        }
                    }
                    Some(b']') => {
                        self.bump()?;
                        self.state = ArrayState::Done;
                        return self.finish();
                    }
                    None => {
                        return self.err("unexpected end of file inside the array (missing `]`)");
                    }
                    Some(c) => {
                        return self.err(format!(
                            "expected `,` or `]` between apps, found {:?}",
                            c as char
                        ));
                    }
                },
                ArrayState::Lines => match self.skip_ws()? {
                    None => {
                        self.state = ArrayState::Done;
                        return Ok(None);
                    }
                    Some(b',') => return self.err("JSON Lines: unexpected `,` between objects"),
                    Some(_) => return self.read_element().map(Some),
                },
            }
        }
    }

    fn finish(&mut self) -> ArrayResult<Option<u64>> {
        match self.skip_ws()? {
            None => Ok(None),
            Some(c) => self.err(format!("unexpected {:?} after the closing `]`", c as char)),
        }
    }

    fn read_element(&mut self) -> ArrayResult<u64> {
        self.buf.clear();
        let start = self.line;
        let first = self.peek()?.unwrap_or(b' ');
        if first == b'{' || first == b'[' {
            let mut depth = 0u32;
            let mut in_string = false;
            let mut escape = false;
            loop {
                let Some(b) = self.bump()? else {
                    return Err((
                        start,
                        "unexpected end of file inside an app entry".to_owned(),
                    ));
                };
                self.buf.push(b);
                if self.buf.len() as u64 > MAX_ENTRY_BYTES {
                    let what = if in_string {
                        " (an unterminated string?)"
                    } else {
                        ""
                    };
                    return Err((start, format!("{TOO_LARGE}{what}")));
                }
                if in_string {
                    if escape {
                        escape = false;
                    } else if b == b'\\' {
                        escape = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        } else {
            // A scalar: read up to the next delimiter; serde reports the type error.
            while let Some(b) = self.peek()? {
                if matches!(b, b',' | b']' | b' ' | b'\t' | b'\r' | b'\n') || self.buf.len() > 4096
                {
                    break;
                }
                self.buf.push(b);
                self.bump()?;
            }
        }
        Ok(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const MD5: &str = "0123456789abcdef0123456789abcdef";

    fn read_all(format: ManifestFormat, text: &str) -> Vec<Result<ManifestApp, ManifestError>> {
        let dir = tempfile::tempdir().unwrap();
        let ext = match format {
            ManifestFormat::Csv => "csv",
            ManifestFormat::Json => "json",
            ManifestFormat::Auto => "txt",
        };
        let p = dir.path().join(format!("m.{ext}"));
        std::fs::write(&p, text).unwrap();
        ManifestSource::File(p)
            .open(ManifestFormat::Auto)
            .unwrap()
            .collect()
    }

    #[test]
    fn json_array_with_both_field_spellings() {
        let text = format!(
            r#"[ {{"url":"https://e.com/a.apk","md5":"{MD5}","size":"12","name":"A"}},
                {{"AppUrl":"http://e.com/b,]{{.apk","AppMd5":"{}","AppSize":7,"AppPkgName":"com.b"}} ]"#,
            MD5.to_uppercase()
        );
        let apps: Vec<_> = read_all(ManifestFormat::Json, &text)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].size, Some(12));
        assert_eq!(apps[0].name.as_deref(), Some("A"));
        assert_eq!(apps[1].url, "http://e.com/b,]{.apk");
        assert_eq!(apps[1].md5, MD5);
        assert_eq!(apps[1].package.as_deref(), Some("com.b"));
    }

    #[test]
    fn json_lines_are_accepted() {
        let text = format!(
            "{{\"url\":\"https://e/a\",\"md5\":\"{MD5}\"}}\n{{\"url\":\"https://e/b\",\"md5\":\"{MD5}\"}}\n"
        );
        let apps = read_all(ManifestFormat::Auto, &text);
        assert_eq!(apps.len(), 2);
        assert!(apps.iter().all(Result::is_ok));
    }

    #[test]
    fn bad_md5_names_the_app_line_and_field() {
        let text = format!(
            "[\n{{\"url\":\"https://e/a\",\"md5\":\"{MD5}\"}},\n{{\"url\":\"https://e/b\",\"md5\":\"xyz\"}}\n]"
        );
        let res = read_all(ManifestFormat::Json, &text);
        let err = res.last().unwrap().as_ref().unwrap_err();
        assert_eq!(err.index, Some(2));
        assert_eq!(err.line, Some(3));
        assert!(
            err.message.contains("md5 (AppMd5): expected 32 hex digits"),
            "{err}"
        );
    }

    #[test]
    fn truncated_array_is_an_error() {
        let text = format!("[{{\"url\":\"https://e/a\",\"md5\":\"{MD5}\"}},");
        let res = read_all(ManifestFormat::Json, &text);
        assert!(
            res.last()
                .unwrap()
                .as_ref()
                .unwrap_err()
                .message
                .contains("end of file")
        );
    }

    #[test]
    fn not_an_array_is_an_error() {
        let res = read_all(ManifestFormat::Json, "\"hello\"");
        assert!(
            res[0]
                .as_ref()
                .unwrap_err()
                .message
                .contains("expected a JSON array")
        );
    }

    #[test]
    fn csv_with_header_and_empty_optional_fields() {
        let text = format!(
            "url,md5,size,name,package,version\nhttps://e/a.apk,{MD5},100,A,com.a,1.0\nhttps://e/b.apk,{MD5},,,,\n"
        );
        let apps: Vec<_> = read_all(ManifestFormat::Csv, &text)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].size, Some(100));
        assert_eq!(apps[0].version.as_deref(), Some("1.0"));
        assert_eq!(apps[1].size, None);
        assert_eq!(apps[1].name, None);
    }

    #[test]
    fn sizes_beyond_64_bits_name_the_field() {
        let text = format!("url,md5,size\nhttps://e/a.apk,{MD5},99999999999999999999999\n");
        let res = read_all(ManifestFormat::Csv, &text);
        let err = res[0].as_ref().unwrap_err();
        assert!(
            err.message.contains("size: expected a whole number"),
            "{err}"
        );
        let text = format!(r#"[{{"url":"https://e/a.apk","md5":"{MD5}","size":true}}]"#);
        let res = read_all(ManifestFormat::Json, &text);
        let err = res[0].as_ref().unwrap_err();
        assert!(err.message.contains("size"), "{err}");
    }

    #[test]
    fn a_huge_bad_value_is_not_echoed_whole() {
        let url = "x".repeat(1_000_000);
        let text = format!(r#"[{{"url":"{url}","md5":"{MD5}"}}]"#);
        let res = read_all(ManifestFormat::Json, &text);
        let err = res[0].as_ref().unwrap_err();
        assert!(err.message.contains("url (AppUrl)"), "{err}");
        assert!(err.message.len() < 300, "{} bytes", err.message.len());
    }

    #[test]
    fn the_url_scheme_is_case_insensitive_as_in_the_model() {
        let text = format!(r#"[{{"url":"HTTPS://e/a.apk","md5":"{MD5}"}}]"#);
        let res = read_all(ManifestFormat::Json, &text);
        assert!(res[0].is_ok(), "{:?}", res[0]);
    }

    #[test]
    fn csv_bad_size_is_an_error() {
        let text = format!("url,md5,size\nhttps://e/a.apk,{MD5},-5\n");
        let res = read_all(ManifestFormat::Csv, &text);
        let err = res[0].as_ref().unwrap_err();
        assert!(err.message.contains("size"), "{err}");
    }

    #[test]
    fn csv_headers_are_matched_in_any_case_and_must_name_url_and_md5() {
        let text = format!("URL,Md5,AppSize,Package\nhttps://e/a.apk,{MD5},12,com.e\n");
        let app = read_all(ManifestFormat::Csv, &text).remove(0).unwrap();
        assert_eq!(app.url, "https://e/a.apk");
        assert_eq!(app.size, Some(12));
        assert_eq!(app.package.as_deref(), Some("com.e"));
        let open = |text: &str| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("m.csv");
            std::fs::write(&p, text).unwrap();
            ManifestSource::File(p).open(ManifestFormat::Auto).err()
        };
        // Another dialect's separator: one column, refused at the header.
        let err = open(&format!("url;md5\nhttps://e/a.apk;{MD5}\n")).unwrap();
        assert_eq!((err.index, err.line), (None, Some(1)), "{err}");
        assert!(
            err.message
                .contains("no url column (fields are separated by commas)"),
            "{err}"
        );
        let err = open(&format!("url,checksum\nhttps://e/a.apk,{MD5}\n")).unwrap();
        assert!(err.message.contains("no md5 column"), "{err}");
        // A column that is no field is ignored (with a warning), the apps are read.
        assert!(open(&format!("url,md5,notes\nhttps://e/a.apk,{MD5},x\n")).is_none());
    }

    #[test]
    fn csv_rows_starting_with_a_hash_are_apps_not_comments() {
        let text = format!("url,md5\n#https://e/a.apk,{MD5}\nhttps://e/b.apk,{MD5}\n");
        let res = read_all(ManifestFormat::Csv, &text);
        let err = res[0].as_ref().unwrap_err();
        assert_eq!((err.index, err.line), (Some(1), Some(2)), "{err}");
        assert!(err.message.contains("url (AppUrl)"), "{err}");
        let text = format!("md5,url\n#{},https://e/a.apk\n", &MD5[1..]);
        let err = read_all(ManifestFormat::Csv, &text).remove(0).unwrap_err();
        assert!(err.message.contains("md5 (AppMd5)"), "{err}");
    }

    #[test]
    fn a_huge_csv_record_is_an_error_naming_its_line() {
        let huge = "x".repeat(3 << 20);
        let text = format!("url,md5\nhttps://e/a.apk,{MD5}\n\"https://e/{huge}\n");
        let res = read_all(ManifestFormat::Csv, &text);
        assert!(res[0].is_ok());
        let err = res[1].as_ref().unwrap_err();
        assert_eq!((err.index, err.line), (Some(2), Some(3)), "{err}");
        assert!(err.message.contains("larger than 1 MiB"), "{err}");
        assert_eq!(res.len(), 2, "stops at the error");
    }

    #[test]
    fn an_unterminated_json_string_is_bounded() {
        let huge = "y".repeat(3 << 20);
        let text =
            format!("[\n{{\"url\":\"https://e/a.apk\",\"md5\":\"{MD5}\"}},\n{{\"url\":\"{huge}");
        let res = read_all(ManifestFormat::Json, &text);
        assert!(res[0].is_ok());
        let err = res[1].as_ref().unwrap_err();
        assert_eq!((err.index, err.line), (Some(2), Some(3)), "{err}");
        assert!(err.message.contains("unterminated string"), "{err}");
    }

    #[test]
    fn array_reader_keeps_only_one_element() {
        let mut text = String::from("[");
        for i in 0..1000 {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!("{{\"url\":\"https://e/{i}\",\"md5\":\"{MD5}\"}}"));
        }
        text.push(']');
        let mut r = JsonArrayReader::new(Cursor::new(text.into_bytes()));
        let mut n = 0;
        while r.next_value().unwrap().is_some() {
            assert!(r.value().len() < 100);
            n += 1;
        }
        assert_eq!(n, 1000);
    }
}
