//! `DescribeScanResults` answers kept as the service's JSON text, for `ms scan results
//! -o json`: the `ScanSet` is re-indented straight from the reply to stdout
//! (`serde_transcode`), without building a tree of it. Only a gate or a table parses it.
//!
//! The output is the same JSON as [`TaskResults`]' (`ItemId`, `ScanSet`, `TotalCount`
//! counted from the `ScanSet`, `RequestId`), pretty-printed by `serde_json`, so strings are
//! escaped exactly as before (control characters as `\u001b`, never raw).

use std::cell::Cell;

use futures_util::StreamExt;
use ms_model::{DescribeScanResultsRequest, Idempotency};
use ms_transport::Client;
use ms_transport::decode::RawResponse;
use serde::de::{DeserializeSeed, Deserializer as _, SeqAccess, Visitor};
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
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
    let req = DescribeScanResultsRequest {
        item_id: item_id.to_owned(),
        app_md5s: (!md5s.is_empty()).then(|| md5s.to_vec()),
    };
    let params = serde_json::to_value(&req)
        .map_err(|e| CliError::usage(format!("cannot encode the request: {e}")))?;
    let response = client
        .send_json_raw(
            <DescribeScanResultsRequest as ms_model::Action>::NAME,
            Idempotency::Idempotent,
            &params,
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

/// The JSON form: `{"ItemId", "ScanSet", "TotalCount", "RequestId"}`.
impl Serialize for RawTask {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let count = Cell::new(0usize);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("ItemId", &self.item_id)?;
        map.serialize_entry(
            "ScanSet",
            &Reindented {
                raw: self.scan_set(),
                count: &count,
            },
        )?;
        map.serialize_entry("TotalCount", &count.get())?;
        if let Some(id) = self.response.request_id() {
            map.serialize_entry("RequestId", &id)?;
        }
        map.end()
    }
}

/// A JSON array's text serialized element by element from the text (no tree), counting
/// the elements.
struct Reindented<'a> {
    raw: Option<&'a RawValue>,
    count: &'a Cell<usize>,
}

impl Serialize for Reindented<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        if let Some(raw) = self.raw {
            let mut de = serde_json::Deserializer::from_str(raw.get());
            let n = de
                .deserialize_seq(Elements { out: &mut seq })
                .map_err(S::Error::custom)?;
            self.count.set(n);
        }
        seq.end()
    }
}

/// Visits the array's elements, transcoding each into the output sequence.
struct Elements<'a, S> {
    out: &'a mut S,
}

impl<'de, S: SerializeSeq> Visitor<'de> for Elements<'_, S> {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while seq
            .next_element_seed(Element {
                out: &mut *self.out,
            })?
            .is_some()
        {
            n += 1;
        }
        Ok(n)
    }
}

/// One element: its deserializer drives the serializer (serde_transcode).
struct Element<'a, S> {
    out: &'a mut S,
}

impl<'de, S: SerializeSeq> DeserializeSeed<'de> for Element<'_, S> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        use serde::de::Error as _;
        self.out
            .serialize_element(&serde_transcode::Transcoder::new(d))
            .map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_task(body: &str) -> RawTask {
        #[derive(serde::Deserialize)]
        struct Envelope {
            #[serde(rename = "Response")]
            response: RawResponse,
        }
        let e: Envelope = serde_json::from_str(body).unwrap();
        RawTask {
            item_id: "item".into(),
            response: e.response,
        }
    }

    /// What the tree-building path prints for the same answer.
    fn via_tree(task: &RawTask) -> String {
        let parsed = task.parse().unwrap();
        let mut v = serde_json::to_value(&parsed).unwrap();
        // Same members, the order of the streamed form.
        let m = v.as_object_mut().unwrap();
        let scan_set = m.shift_remove("ScanSet").unwrap();
        let total = m.shift_remove("TotalCount").unwrap();
        let request_id = m.shift_remove("RequestId");
        m.insert("ScanSet".into(), scan_set);
        m.insert("TotalCount".into(), total);
        if let Some(r) = request_id {
            m.insert("RequestId".into(), r);
        }
        serde_json::to_string_pretty(&v).unwrap()
    }

    #[test]
    fn streamed_output_is_byte_for_byte_the_tree_output() {
        let bodies = [
            r#"{"Response":{"ScanSet":[{"TaskStatus":1,"AppDetailInfo":{"AppName":"微信 \u001b[31m","AppSize":1.5e3,"Neg":-4,"Big":18446744073709551615},"L":[],"O":{},"N":null,"B":true}, {"x":"\"quoted\" \\ /"}],"TotalCount":2,"RequestId":"r-1"}}"#,
            r#"{"Response":{"ScanSet":[],"TotalCount":0,"RequestId":"r-2"}}"#,
            r#"{"Response":{"TotalCount":0}}"#,
            r#"{"Response":{"ScanSet":null,"RequestId":"r-3"}}"#,
        ];
        for body in bodies {
            let task = raw_task(body);
            let streamed = serde_json::to_string_pretty(&task).unwrap();
            assert_eq!(streamed, via_tree(&task), "{body}");
            assert!(
                !streamed.contains('\u{1b}'),
                "control characters stay escaped"
            );
        }
        let task = raw_task(bodies[0]);
        let v: Value = serde_json::from_str(&serde_json::to_string(&task).unwrap()).unwrap();
        assert_eq!(v["TotalCount"], 2);
        assert_eq!(v["ItemId"], "item");
    }

    #[test]
    fn a_scan_set_that_is_not_json_text_of_an_array_is_an_error_not_a_panic() {
        let task = raw_task(r#"{"Response":{"ScanSet":[1,{"a":[2]}],"RequestId":"r"}}"#);
        assert_eq!(task.parse().unwrap().scan_set.len(), 2);
        let odd = raw_task(r#"{"Response":{"ScanSet":"[1]"}}"#);
        assert!(odd.parse().unwrap().scan_set.is_empty());
    }
}
