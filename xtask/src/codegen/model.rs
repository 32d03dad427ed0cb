//! The API model parsed from the tables.

use std::fmt;

/// A wire scalar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    String,
    Int64,
    UInt64,
}

impl Scalar {
    pub(crate) fn is_integer(self) -> bool {
        matches!(self, Scalar::Int64 | Scalar::UInt64)
    }
}

/// The element type of a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeRef {
    Scalar(Scalar),
    Struct(String),
}

/// A document position, for error messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub(crate) file: String,
    pub(crate) line: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A string format checked by validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Md5,
    Sha1,
    Url,
    Json,
    Csv,
}

impl Format {
    pub(crate) fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "md5" => Format::Md5,
            "sha1" => Format::Sha1,
            "url" => Format::Url,
            "json" => Format::Json,
            "csv" => Format::Csv,
            _ => return None,
        })
    }
    pub(crate) fn rust_name(self) -> &'static str {
        match self {
            Format::Md5 => "Md5",
            Format::Sha1 => "Sha1",
            Format::Url => "Url",
            Format::Json => "Json",
            Format::Csv => "Csv",
        }
    }
}

/// A machine-readable constraint from a `` `{key: value}` `` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Constraint {
    Enum(Vec<String>),
    MaxItems(u64),
    MinItems(u64),
    Max(i128),
    Min(i128),
    Default(String),
    ExclusiveWith(String),
    /// Conjunction of `path == value` conditions, paths from the request root.
    RequiredWhen(Vec<(String, String)>),
    SameAs(String),
    Format(Format),
    Suffix(String),
    FilterNames(Vec<String>),
    AllowEmpty,
    Deprecated(String),
    /// A credential (temporary secret key, session token): redacted in the generated `Debug`.
    Secret,
    /// The integer values are named by this code list (`code-lists.md`).
    Codes(String),
}

/// One member of a request, response or structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) ty: TypeRef,
    pub(crate) array: bool,
    /// Must be sent (input direction).
    pub(crate) required: bool,
    /// Documented as always present in responses (output direction; informational).
    pub(crate) output_required: bool,
    pub(crate) description: String,
    pub(crate) constraints: Vec<Constraint>,
    pub(crate) pos: Pos,
}

/// A data structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Structure {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) members: Vec<Member>,
    pub(crate) pos: Pos,
}

/// A request or response example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Example {
    pub(crate) title: String,
    /// The request parameters as JSON text (GET-style examples are unflattened, every value a string).
    pub(crate) request: String,
    /// Whether the request example was a GET-style query string.
    pub(crate) query_form: bool,
    pub(crate) response: String,
    pub(crate) pos: Pos,
}

/// An API action page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Action {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) summary: String,
    pub(crate) idempotent: bool,
    pub(crate) scan_workflow: bool,
    pub(crate) whitelist_only: bool,
    pub(crate) availability: String,
    pub(crate) status: String,
    pub(crate) region_required: Option<bool>,
    pub(crate) input: Vec<Member>,
    pub(crate) output: Vec<Member>,
    pub(crate) examples: Vec<Example>,
    /// (code, description, line of the row).
    pub(crate) errors: Vec<(String, String, usize)>,
    pub(crate) pos: Pos,
}

/// An error code table row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorDef {
    pub(crate) code: String,
    pub(crate) line: usize,
    pub(crate) description: String,
    /// From the common (gateway) error table.
    pub(crate) common: bool,
}

/// One named value of a code list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Code {
    pub(crate) value: u64,
    /// The Rust variant name (`Completed`).
    pub(crate) name: String,
    /// Whether the value is a final state (`Final: Yes`; `false` in a list without the
    /// column).
    pub(crate) is_final: bool,
    pub(crate) description: String,
    pub(crate) line: usize,
}

/// A code list: the named values of integer members (`TaskStatus`), from `code-lists.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodeList {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) codes: Vec<Code>,
    /// The table has a `Final` column: the values are states, some of them final
    /// (`TaskStatus`), and the enum gets `is_final()`.
    pub(crate) has_final: bool,
    pub(crate) pos: Pos,
}

/// The whole API of one service version.
#[derive(Debug, Clone, Default)]
pub(crate) struct Api {
    pub(crate) service: String,
    pub(crate) version: String,
    pub(crate) actions: Vec<Action>,
    pub(crate) structures: Vec<Structure>,
    pub(crate) errors: Vec<ErrorDef>,
    pub(crate) code_lists: Vec<CodeList>,
}

impl Api {
    pub(crate) fn structure(&self, name: &str) -> Option<&Structure> {
        self.structures.iter().find(|s| s.name == name)
    }
}
