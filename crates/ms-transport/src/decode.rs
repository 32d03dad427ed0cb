//! Reading a reply: the answer or the service's error envelope, with its RequestId.

use serde_json::value::RawValue;

use crate::error::Error;

/// Turns a reply body into the answer or the service's error.
pub(crate) type Decoder<T> =
    fn(&[u8]) -> Result<Result<T, ms_model::ServiceError>, ms_model::DecodeError>;

/// The answer of a reply with HTTP `status` and `body`, and its RequestId; or the error it
/// carries: a non-200 status, the service's error envelope, or an undecodable body.
pub(crate) fn read_reply<T>(
    status: u16,
    body: &[u8],
    decode: Decoder<T>,
) -> Result<(T, Option<String>), Error> {
    let request_id = extract_request_id(body);
    if status != 200 {
        return Err(Error::http_status(status, body).with_request_id(request_id));
    }
    match decode(body) {
        Ok(Ok(value)) => Ok((value, request_id)),
        Ok(Err(service_error)) => Err(Error::api(
            service_error.code,
            service_error.message,
            service_error.request_id.or(request_id),
        )),
        Err(decode) => Err(Error::decode(decode.to_string(), body).with_request_id(request_id)),
    }
}

/// Finds the top-level `"RequestId"` of a reply without decoding it (the last occurrence:
/// Tencent Cloud puts it at the end of `Response`).
pub fn extract_request_id(body: &[u8]) -> Option<String> {
    let needle = b"\"RequestId\"";
    let pos = body.windows(needle.len()).rposition(|w| w == needle)?;
    let rest = &body[pos + needle.len()..];
    let rest = rest
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &rest[i..])?;
    let rest = rest.strip_prefix(b":")?;
    let rest = rest
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &rest[i..])?;
    let rest = rest.strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    let id = std::str::from_utf8(&rest[..end]).ok()?;
    (!id.is_empty() && id.len() <= 128).then(|| id.to_owned())
}

/// [`ms_model::decode_response`] for an untyped answer, without its second copy: the
/// success case parses the body once and returns the `Response` object itself (the generic
/// version rebuilds it through `Value`'s `Deserialize`, a full copy of a reply that can be
/// megabytes). Errors and malformed envelopes go to `decode_response`, so they read the same.
pub(crate) fn decode_value(
    body: &[u8],
) -> Result<Result<serde_json::Value, ms_model::ServiceError>, ms_model::DecodeError> {
    if let Ok(serde_json::Value::Object(mut top)) = serde_json::from_slice(body)
        && let Some(serde_json::Value::Object(inner)) = top.remove("Response")
        && !inner.contains_key("Error")
    {
        return Ok(Ok(serde_json::Value::Object(inner)));
    }
    ms_model::decode_response::<serde_json::Value>(body)
}

/// The members of a successful answer's `Response` object, unparsed, in the order the
/// service sent them ([`Client::send_json_raw`](crate::Client::send_json_raw)).
#[derive(Debug, Clone, Default)]
pub struct RawResponse {
    members: Vec<(String, Box<RawValue>)>,
}

impl RawResponse {
    /// The JSON text of a member (`ScanSet`), if the answer has it.
    pub fn get(&self, name: &str) -> Option<&RawValue> {
        self.members
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| &**v)
    }

    /// Every member, in the service's order.
    pub fn members(&self) -> impl Iterator<Item = (&str, &RawValue)> {
        self.members.iter().map(|(k, v)| (k.as_str(), &**v))
    }

    /// The answer's `RequestId`, if it is a string.
    pub fn request_id(&self) -> Option<String> {
        serde_json::from_str(self.get("RequestId")?.get()).ok()
    }
}

impl<'de> serde::Deserialize<'de> for RawResponse {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = RawResponse;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawResponse, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(entry);
                }
                Ok(RawResponse { members })
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// [`decode_value`] without building the answer: one pass over the reply checks it is
/// well-formed JSON and keeps the `Response` members' text. An `Error` member, and anything
/// unexpected, go to [`ms_model::decode_response`], so errors read the same as everywhere.
pub(crate) fn decode_raw(
    body: &[u8],
) -> Result<Result<RawResponse, ms_model::ServiceError>, ms_model::DecodeError> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(rename = "Response")]
        response: RawResponse,
    }
    if let Ok(Envelope { response }) = serde_json::from_slice::<Envelope>(body)
        && response.get("Error").is_none()
    {
        return Ok(Ok(response));
    }
    match ms_model::decode_response::<serde_json::Value>(body)? {
        Err(service_error) => Ok(Err(service_error)),
        // Accepted by the generic decoder but not as an object of members: report it as
        // the same kind of failure.
        Ok(_) => Err(ms_model::DecodeError::Envelope(
            "Response is not a JSON object".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_value_answers_as_decode_response() {
        let bodies: [&[u8]; 7] = [
            br#"{"Response":{"ScanSet":[{"A":1}],"TotalCount":1,"RequestId":"r"}}"#,
            br#"{"Response":{"Error":{"Code":"InvalidAction","Message":"m"},"RequestId":"r"}}"#,
            br#"{"Response":{"Error":{"Message":"no code"}}}"#,
            br#"{"Response":[]}"#,
            br#"{"Other":{}}"#,
            br#"[1]"#,
            b"not json",
        ];
        for body in bodies {
            let fast = decode_value(body);
            let slow = ms_model::decode_response::<serde_json::Value>(body);
            assert_eq!(
                format!("{fast:?}"),
                format!("{slow:?}"),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn decode_raw_keeps_the_members_and_errors_read_as_everywhere() {
        let ok = br#"{"Response":{"ScanSet":[{"A":"\u001b"}],"TotalCount":1,"RequestId":"r"}}"#;
        let raw = decode_raw(ok).unwrap().unwrap();
        let names: Vec<&str> = raw.members().map(|(k, _)| k).collect();
        assert_eq!(names, ["ScanSet", "TotalCount", "RequestId"]);
        assert_eq!(raw.get("ScanSet").unwrap().get(), r#"[{"A":"\u001b"}]"#);
        assert_eq!(raw.request_id().as_deref(), Some("r"));
        let bodies: [&[u8]; 7] = [
            br#"{"Response":{"Error":{"Code":"InvalidAction","Message":"m"},"RequestId":"r"}}"#,
            br#"{"Response":{"Error":{"Message":"no code"}}}"#,
            br#"{"Response":[]}"#,
            br#"{"Other":{}}"#,
            br#"[1]"#,
            b"not json",
            br#"{"Response":{"ScanSet":[1,]}}"#,
        ];
        for body in bodies {
            let raw = decode_raw(body);
            let value = decode_value(body);
            match (&raw, &value) {
                (Ok(Err(a)), Ok(Err(b))) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (Err(_), Ok(Ok(_))) => assert_eq!(body, br#"{"Response":[]}"#),
                _ => panic!("{raw:?} vs {value:?} for {}", String::from_utf8_lossy(body)),
            }
        }
    }

    #[test]
    fn request_id_extraction() {
        let body = br#"{"Response":{"ItemId":"x","Nested":{"RequestId":"inner"},"RequestId" : "abc-123"}}"#;
        assert_eq!(extract_request_id(body).as_deref(), Some("abc-123"));
        assert_eq!(extract_request_id(b"garbage"), None);
        assert_eq!(extract_request_id(br#"{"RequestId":5}"#), None);
    }
}
