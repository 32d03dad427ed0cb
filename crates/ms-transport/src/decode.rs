//! Reading a reply: the answer or the service's error envelope, with its RequestId.

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
    fn request_id_extraction() {
        let body = br#"{"Response":{"ItemId":"x","Nested":{"RequestId":"inner"},"RequestId" : "abc-123"}}"#;
        assert_eq!(extract_request_id(body).as_deref(), Some("abc-123"));
        assert_eq!(extract_request_id(b"garbage"), None);
        assert_eq!(extract_request_id(br#"{"RequestId":5}"#), None);
    }
}
