//! `DescribeScanResults` answers kept as the service's JSON text, for `ms scan results
//! -o json`: the `ScanSet` is re-indented straight from the reply to stdout
//! ([`reindent`]), without parsing it into a tree or re-encoding its strings. Only a
//! gate or a table parses it.
//!
//! The output is the same JSON as [`TaskResults`]' (`ItemId`, `ScanSet`, `TotalCount`
//! counted from the `ScanSet`, `RequestId`), laid out as `serde_json`'s pretty printer
//! does. The text is the service's, already checked by the transport (well-formed JSON,
//! UTF-8, no raw control characters in strings: JSON forbids them), so it is as safe for a
//! terminal as a re-encoding; escapes are kept as the service wrote them (`\u00e9` stays
//! `\u00e9`, the same string).

use futures_util::StreamExt;
use ms_model::{DescribeScanResultsRequest, Idempotency};
use ms_transport::Client;
use ms_transport::decode::RawResponse;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::context::transport_error;
use crate::error::{CliError, CliResult};
use crate::scan::TaskResults;

/// One task's answer, unparsed.
#[derive(Debug, Clone)]
pub struct RawTask {
    /// The task.
    pub item_id: String,
    /// The answer's `Response` members.
    pub response: RawResponse,
}

impl RawTask {
    /// The `ScanSet` text when it is an array (anything else counts as no apps, as in
    /// [`crate::scan::fetch_results`]).
    fn scan_set(&self) -> Option<&RawValue> {
        self.response
            .get("ScanSet")
            .filter(|raw| raw.get().trim_start().starts_with('['))
    }

    /// The parsed form, for gates and tables.
    pub fn parse(&self) -> CliResult<TaskResults> {
        let scan_set = match self.scan_set() {
            Some(raw) => serde_json::from_str::<Vec<Value>>(raw.get())
                .map_err(|e| CliError::remote(format!("ScanSet of task {}: {e}", self.item_id)))?,
            None => Vec::new(),
        };
        Ok(TaskResults {
            item_id: self.item_id.clone(),
            scan_set,
            request_id: self.response.request_id(),
        })
    }
}

/// Calls `DescribeScanResults` for one task, keeping the answer unparsed.
pub async fn fetch_raw(client: &Client, item_id: &str, md5s: &[String]) -> CliResult<RawTask> {
    let response = client
        .send_json_raw(
            <DescribeScanResultsRequest as ms_model::Action>::NAME,
            Idempotency::Idempotent,
            &crate::scan::results_params(item_id, md5s)?,
        )
        .await
        .map_err(transport_error)?;
    Ok(RawTask {
        item_id: item_id.to_owned(),
        response,
    })
}

/// [`fetch_raw`] for many tasks, a few at a time, in the given order.
pub async fn fetch_raw_all(
    client: &Client,
    item_ids: &[String],
    md5s: &[String],
) -> CliResult<Vec<RawTask>> {
    futures_util::stream::iter(item_ids)
        .map(|id| fetch_raw(client, id, md5s))
        .buffered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

impl RawTask {
    /// Appends the pretty JSON form, `{"ItemId", "ScanSet", "TotalCount", "RequestId"}`, as
    /// an element at nesting `depth` (0 for a document of its own).
    pub fn write_pretty(&self, out: &mut Vec<u8>, depth: usize) {
        let field = |out: &mut Vec<u8>, name: &str| {
            newline(out, depth + 1);
            out.extend_from_slice(b"\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\": ");
        };
        out.push(b'{');
        field(out, "ItemId");
        push_json_string(out, &self.item_id);
        out.push(b',');
        field(out, "ScanSet");
        let count = match self.scan_set() {
            Some(raw) => reindent(raw.get().as_bytes(), depth + 1, out),
            None => {
                out.extend_from_slice(b"[]");
                0
            }
        };
        out.push(b',');
        field(out, "TotalCount");
        out.extend_from_slice(count.to_string().as_bytes());
        if let Some(id) = self.response.request_id() {
            out.push(b',');
            field(out, "RequestId");
            push_json_string(out, &id);
        }
        newline(out, depth);
        out.push(b'}');
    }
}

/// The pretty JSON of tasks (UTF-8): one task's object, or an array of them; with a final
/// newline.
pub fn pretty_json(tasks: &[RawTask]) -> Vec<u8> {
    pretty_json_as(tasks, Layout::of(tasks.len()))
}

/// How the JSON of tasks is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One task's object (one ItemId given).
    Object,
    /// An array of task objects (several ItemIds given, or none).
    Array,
}

impl Layout {
    /// The layout for this many ItemIds given: an object for one, else an array.
    pub fn of(given: usize) -> Self {
        if given == 1 {
            Layout::Object
        } else {
            Layout::Array
        }
    }
}

/// [`pretty_json`] laid out as `layout` says.
pub fn pretty_json_as(tasks: &[RawTask], layout: Layout) -> Vec<u8> {
    let size: usize = tasks
        .iter()
        .filter_map(|t| t.scan_set())
        .map(|raw| raw.get().len() + raw.get().len() / 4)
        .sum();
    let mut out = Vec::with_capacity(size + 256);
    let mut pretty = PrettyTasks::new(layout);
    pretty.start(&mut out);
    for t in tasks {
        pretty.task(t, &mut out);
    }
    pretty.end(&mut out);
    out
}

/// The pretty JSON of tasks written one task at a time, as the answers arrive: the same
/// bytes as [`pretty_json_as`] of them all, without holding them all.
#[derive(Debug, Clone)]
pub struct PrettyTasks {
    array: bool,
    written: usize,
}

impl PrettyTasks {
    /// Tasks laid out as `layout` says.
    pub fn new(layout: Layout) -> Self {
        PrettyTasks {
            array: layout == Layout::Array,
            written: 0,
        }
    }

    /// Appends what comes before the first task.
    pub fn start(&self, out: &mut Vec<u8>) {
        if self.array {
            out.push(b'[');
        }
    }

    /// Appends one task (with the separator before it).
    pub fn task(&mut self, t: &RawTask, out: &mut Vec<u8>) {
        if self.array {
            if self.written > 0 {
                out.push(b',');
            }
            newline(out, 1);
            t.write_pretty(out, 1);
        } else {
            t.write_pretty(out, 0);
        }
        self.written += 1;
    }

    /// Appends what comes after the last task, and the final newline.
    pub fn end(&self, out: &mut Vec<u8>) {
        if self.array {
            if self.written > 0 {
                newline(out, 0);
            }
            out.push(b']');
        }
        out.push(b'\n');
    }
}

/// A JSON string literal (serde_json's escaping).
fn push_json_string(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A newline and the indentation of `depth` (two spaces a level, as serde_json's pretty
/// printer).
fn newline(out: &mut Vec<u8>, depth: usize) {
    out.push(b'\n');
    out.resize(out.len() + 2 * depth, b' ');
}

/// Re-indents well-formed compact or pretty JSON text `json` (a value nested at `depth`)
/// the way serde_json's pretty printer lays it out, copying strings, numbers and literals
/// as they are. Returns the number of elements (or members) of the outermost array (object).
///
/// The input must be well-formed JSON (the transport checked it); on anything else the
/// output is still bytes of the input, never a panic.
pub fn reindent(json: &[u8], depth: usize, out: &mut Vec<u8>) -> usize {
    let mut depth = depth;
    let base = depth;
    let mut top_items = 0;
    // True right after an opening bracket: the container may be empty.
    let mut opened = false;
    let mut i = 0;
    while i < json.len() {
        let b = json[i];
        match b {
            b' ' | b'\n' | b'\r' | b'\t' => {
                i += 1;
                continue;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if !opened {
                    newline(out, depth);
                }
                opened = false;
                out.push(b);
                i += 1;
                continue;
            }
            _ => {}
        }
        if opened {
            newline(out, depth);
            opened = false;
            if depth == base + 1 {
                top_items += 1;
            }
        }
        match b {
            b'[' | b'{' => {
                out.push(b);
                depth += 1;
                opened = true;
                i += 1;
            }
            b',' => {
                out.push(b',');
                newline(out, depth);
                if depth == base + 1 {
                    top_items += 1;
                }
                i += 1;
            }
            b':' => {
                out.extend_from_slice(b": ");
                i += 1;
            }
            b'"' => {
                let end = string_end(json, i + 1);
                out.extend_from_slice(&json[i..end]);
                i = end;
            }
            _ => {
                // A number or a literal: up to the next structural character or space.
                let end = json[i..]
                    .iter()
                    .position(|c| b",:]} \n\r\t".contains(c))
                    .map_or(json.len(), |n| i + n);
                out.extend_from_slice(&json[i..end]);
                i = end;
            }
        }
    }
    top_items
}

/// The index just past the string whose contents start at `from` (after its opening quote).
fn string_end(json: &[u8], mut from: usize) -> usize {
    while let Some(n) = memchr::memchr2(b'"', b'\\', &json[from..]) {
        let at = from + n;
        if json[at] == b'"' {
            return at + 1;
        }
        from = at + 2; // a backslash and the character it escapes
        if from >= json.len() {
            return json.len();
        }
    }
    json.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn raw_task(body: &str) -> RawTask {
        #[derive(serde::Deserialize)]
        struct Envelope {
            #[serde(rename = "Response")]
            response: RawResponse,
        }
        let e: Envelope = serde_json::from_str(body).unwrap();
        RawTask {
            item_id: "item \"1\"".into(),
            response: e.response,
        }
    }

    /// What the tree-building path prints for the same tasks (members in the streamed
    /// form's order).
    fn via_tree(tasks: &[RawTask]) -> String {
        let to_value = |t: &RawTask| {
            let parsed = t.parse().unwrap();
            let mut m = serde_json::Map::new();
            m.insert("ItemId".into(), parsed.item_id.clone().into());
            m.insert("ScanSet".into(), Value::Array(parsed.scan_set.clone()));
            m.insert("TotalCount".into(), parsed.scan_set.len().into());
            if let Some(r) = parsed.request_id {
                m.insert("RequestId".into(), r.into());
            }
            Value::Object(m)
        };
        let v = match tasks {
            [one] => to_value(one),
            all => Value::Array(all.iter().map(to_value).collect()),
        };
        let mut s = serde_json::to_string_pretty(&v).unwrap();
        s.push('\n');
        s
    }

    const BODIES: [&str; 4] = [
        r#"{"Response":{"ScanSet":[{"TaskStatus":1,"AppDetailInfo":{"AppName":"微信 \u001b[31m","Neg":-4,"F":1.5,"Big":18446744073709551615},"L":[],"O":{},"N":null,"B":true,"Deep":[[1,[2,{}]],[]]}, {"x":"\"quoted\" \\ é"}],"TotalCount":2,"RequestId":"r-1"}}"#,
        r#"{"Response":{"ScanSet":[],"TotalCount":0,"RequestId":"r-2"}}"#,
        r#"{"Response":{"TotalCount":0}}"#,
        r#"{"Response":{"ScanSet":null,"RequestId":"r-3"}}"#,
    ];

    #[test]
    fn the_output_is_byte_for_byte_the_tree_output() {
        for body in BODIES {
            let task = raw_task(body);
            let streamed = String::from_utf8(pretty_json(std::slice::from_ref(&task))).unwrap();
            assert_eq!(streamed, via_tree(std::slice::from_ref(&task)), "{body}");
            assert!(
                !streamed.contains('\u{1b}'),
                "control characters stay escaped"
            );
        }
        let all: Vec<RawTask> = BODIES.iter().map(|b| raw_task(b)).collect();
        assert_eq!(
            String::from_utf8(pretty_json(&all)).unwrap(),
            via_tree(&all)
        );
        let v: Value = serde_json::from_slice(&pretty_json(&all[..1])).unwrap();
        assert_eq!(v["TotalCount"], 2);
    }

    /// The bytes of `tasks` written task by task, each write on its own, as `ms scan
    /// results -o json` streams them.
    fn streamed(tasks: &[RawTask], layout: Layout) -> String {
        let mut pretty = PrettyTasks::new(layout);
        let mut out = Vec::new();
        let mut chunk = Vec::new();
        pretty.start(&mut chunk);
        out.append(&mut chunk);
        for t in tasks {
            pretty.task(t, &mut chunk);
            out.append(&mut chunk);
        }
        pretty.end(&mut chunk);
        out.append(&mut chunk);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tasks_written_one_at_a_time_are_the_bytes_of_all_at_once() {
        let all: Vec<RawTask> = BODIES.iter().map(|b| raw_task(b)).collect();
        for n in [0, 2, 3, 4] {
            assert_eq!(
                streamed(&all[..n], Layout::Array),
                via_tree(&all[..n]),
                "{n}"
            );
        }
        assert_eq!(streamed(&all[..1], Layout::Object), via_tree(&all[..1]));
        assert_eq!(streamed(&[], Layout::Array), "[]\n");
        // One task given as several ItemIds: an array of one.
        let one: Value = serde_json::from_str(&streamed(&all[..1], Layout::Array)).unwrap();
        assert_eq!(one.as_array().map(Vec::len), Some(1));
        assert_eq!(
            streamed(&all[..1], Layout::Array),
            format!(
                "[\n  {}\n]\n",
                via_tree(&all[..1]).trim_end().replace('\n', "\n  ")
            )
        );
    }

    #[test]
    fn the_service_s_own_spelling_of_numbers_and_escapes_is_kept_and_means_the_same() {
        let body =
            r#"{"Response":{"ScanSet":[ {"a" : 1.0e3, "b":"caf\u00e9 \/"} ,2 ],"RequestId":"r"}}"#;
        let task = raw_task(body);
        let out = String::from_utf8(pretty_json(std::slice::from_ref(&task))).unwrap();
        assert!(
            out.contains(r#""a": 1.0e3"#) && out.contains(r#""caf\u00e9 \/""#),
            "{out}"
        );
        let a: Value = serde_json::from_str(&out).unwrap();
        let b: Value = serde_json::from_str(&via_tree(&[task])).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_scan_set_that_is_not_an_array_counts_as_no_apps() {
        let task = raw_task(r#"{"Response":{"ScanSet":[1,{"a":[2]}],"RequestId":"r"}}"#);
        assert_eq!(task.parse().unwrap().scan_set.len(), 2);
        let odd = raw_task(r#"{"Response":{"ScanSet":"[1]"}}"#);
        assert!(odd.parse().unwrap().scan_set.is_empty());
        assert!(
            String::from_utf8(pretty_json(&[odd]))
                .unwrap()
                .contains("\"ScanSet\": [],")
        );
    }

    #[test]
    fn malformed_text_never_panics() {
        for junk in ["[\"unterminated", "[\"\\", "]]]", "[1,", "{\"a\"", "\\", ""] {
            let mut out = Vec::new();
            let _ = reindent(junk.as_bytes(), 0, &mut out);
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e12f64..1e12).prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("\\PC{0,6}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Re-indenting compact or pretty serde_json text gives exactly serde_json's
        /// pretty text, at any depth, and counts the outer container's items.
        #[test]
        fn reindent_is_serde_json_s_pretty_printer(v in json_value(), depth in 0usize..3) {
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            let expected = pretty.replace('\n', &format!("\n{}", "  ".repeat(depth)));
            for input in [serde_json::to_string(&v).unwrap(), pretty.clone()] {
                let mut out = Vec::new();
                let n = reindent(input.as_bytes(), depth, &mut out);
                prop_assert_eq!(String::from_utf8(out).unwrap(), expected.clone());
                let items = match &v {
                    Value::Array(a) => a.len(),
                    Value::Object(o) => o.len(),
                    _ => 0,
                };
                prop_assert_eq!(n, items);
            }
        }
    }
}
