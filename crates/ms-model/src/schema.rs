//! Field schemas as data: the tables' member lists, wire types and constraints.
//!
//! The generator emits one [`StructSchema`] per request, response and structure
//! (`generated/schemas.rs`). Validation ([`crate::Validate`], [`crate::validate_json`]) interprets
//! them; tools (CLI help, the emulator) may read them too.

/// A type with a generated schema.
pub trait HasSchema {
    /// The schema of this type.
    const SCHEMA: &'static StructSchema;
}

/// The members of a request, response or structure.
#[derive(Debug)]
pub struct StructSchema {
    /// The table name (`AppInfo`, `CreateScanInstancesRequest`).
    pub name: &'static str,
    /// The table's description.
    pub description: &'static str,
    /// The members, in table order.
    pub fields: &'static [FieldSchema],
}

impl StructSchema {
    /// The member with this wire name.
    pub fn field(&self, name: &str) -> Option<&'static FieldSchema> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One member.
#[derive(Debug)]
pub struct FieldSchema {
    /// The wire name (`AppMd5`).
    pub name: &'static str,
    /// The element type.
    pub kind: Kind,
    /// A JSON array of `kind` (`Array of X`).
    pub array: bool,
    /// Must be sent (input direction).
    pub required: bool,
    /// Machine-readable constraints from the tables.
    pub constraints: &'static [Constraint],
    /// The table's description.
    pub description: &'static str,
}

impl FieldSchema {
    /// Whether the member carries this exact constraint kind.
    pub fn has(&self, pred: impl Fn(&Constraint) -> bool) -> bool {
        self.constraints.iter().any(pred)
    }
}

/// A wire element type.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A JSON string.
    String,
    /// A signed 64-bit integer.
    Int64,
    /// An unsigned 64-bit integer.
    UInt64,
    /// A structure.
    Struct(&'static StructSchema),
}

impl Kind {
    /// `String`, `Int64`, `UInt64` or the structure name.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::String => "String",
            Kind::Int64 => "Int64",
            Kind::UInt64 => "UInt64",
            Kind::Struct(s) => s.name,
        }
    }
}

/// A string format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// 32 hex digits.
    Md5,
    /// 40 hex digits.
    Sha1,
    /// An `http://` or `https://` URL.
    Url,
    /// A JSON document.
    Json,
    /// Comma-separated non-empty values (`max_items` counts them).
    Csv,
}

/// A constraint from a `` `{key: value}` `` tag in the tables (see `docs/api/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Constraint {
    /// The value (each element for arrays) is one of these (integers compared in decimal form).
    Enum(&'static [&'static str]),
    /// At most this many items (array elements, or comma-separated values with [`Format::Csv`]).
    MaxItems(u64),
    /// At least this many items.
    MinItems(u64),
    /// Integer maximum (inclusive).
    Max(i128),
    /// Integer minimum (inclusive).
    Min(i128),
    /// The value the service uses when the member is omitted (documentation only).
    Default(&'static str),
    /// Must not be sent together with this sibling member.
    ExclusiveWith(&'static str),
    /// Required when every `(path, value)` holds; paths start at the request root.
    RequiredWhen(&'static [(&'static str, &'static str)]),
    /// When both are non-empty, must equal the member at this path (from the request root).
    SameAs(&'static str),
    /// Non-empty values have this format.
    Format(Format),
    /// Non-empty values end with this suffix.
    Suffix(&'static str),
    /// The `Name` of each element is one of these.
    FilterNames(&'static [&'static str]),
    /// A required string that may be empty.
    AllowEmpty,
    /// Deprecated; use the named member instead (documentation only).
    Deprecated(&'static str),
    /// A credential (temporary secret key, session token): the generated `Debug` redacts it.
    Secret,
}
