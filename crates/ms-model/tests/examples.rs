//! Every example of the API tables: requests and responses decode into the generated types,
//! re-serialize to the same JSON, and pass validation / the response check.

mod common;

use common::{lenient_eq, strip_nulls};
use ms_model::examples::{EXAMPLES, Example};
use ms_model::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn roundtrip<A: Action + DeserializeOwned>(ex: &Example) -> Result<(), String> {
    let req_json: Value =
        serde_json::from_str(ex.request).map_err(|e| format!("request JSON: {e}"))?;
    let req: A =
        serde_json::from_value(req_json.clone()).map_err(|e| format!("request decode: {e}"))?;
    let back = serde_json::to_value(&req).map_err(|e| e.to_string())?;
    if !lenient_eq(&strip_nulls(&req_json), &back) {
        return Err(format!(
            "request re-serialized differently:\n{req_json}\n{back}"
        ));
    }
    req.validate().map_err(|e| format!("validate(): {e}"))?;
    validate_json(A::NAME, &req_json).map_err(|e| format!("validate_json: {e}"))?;
    // Numbers serialize as numbers and decode again to the same value.
    let again: A =
        serde_json::from_value(back.clone()).map_err(|e| format!("second decode: {e}"))?;
    let again = serde_json::to_value(&again).map_err(|e| e.to_string())?;
    if again != back {
        return Err(format!(
            "request decoded again differently:\n{back}\n{again}"
        ));
    }

    let resp_json: Value =
        serde_json::from_str(ex.response).map_err(|e| format!("response JSON: {e}"))?;
    let resp = decode_response::<A::Response>(ex.response.as_bytes())
        .map_err(|e| format!("decode_response: {e}"))?;
    let back = match resp {
        Ok(resp) => {
            serde_json::to_value(ResponseEnvelope { response: &resp }).map_err(|e| e.to_string())?
        }
        Err(err) => {
            // Error examples: the code is documented for the action and is a known code.
            let info = action_info(A::NAME).ok_or("no action info")?;
            if !info.errors.contains(&err.code.as_str()) || matches!(err.code, ErrorCode::Other(_))
            {
                return Err(format!(
                    "error example with an undocumented code {}",
                    err.code
                ));
            }
            serde_json::to_value(err.to_envelope()).map_err(|e| e.to_string())?
        }
    };
    if !lenient_eq(&strip_nulls(&resp_json), &back) {
        return Err(format!(
            "response re-serialized differently:\n{resp_json}\n{back}"
        ));
    }
    check_response_json(A::NAME, &resp_json).map_err(|e| format!("check_response_json: {e}"))?;
    Ok(())
}

struct RoundTrip<'a>(&'a Example);

impl ActionVisitor for RoundTrip<'_> {
    type Output = Result<(), String>;
    fn visit<A: Action + DeserializeOwned>(self) -> Self::Output {
        roundtrip::<A>(self.0)
    }
}

#[test]
fn every_example_round_trips_validates_and_checks() {
    let mut failures = Vec::new();
    for ex in EXAMPLES {
        match visit_action(ex.action, RoundTrip(ex)) {
            Some(Ok(())) => {}
            Some(Err(e)) => failures.push(format!("{} ({}): {e}", ex.source, ex.action)),
            None => failures.push(format!("{}: unknown action {}", ex.source, ex.action)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} examples failed:\n{}",
        failures.len(),
        EXAMPLES.len(),
        failures.join("\n")
    );
}

#[test]
fn every_action_has_an_example() {
    for a in ACTIONS {
        assert!(
            EXAMPLES.iter().any(|e| e.action == a.name),
            "{} has no example",
            a.name
        );
    }
    assert!(EXAMPLES.len() >= 27);
}

#[test]
fn query_form_examples_carry_strings_and_still_decode() {
    let ex = EXAMPLES
        .iter()
        .find(|e| e.action == "CreateResourceInstances")
        .expect("example");
    assert!(ex.query_form);
    let v: Value = serde_json::from_str(ex.request).unwrap();
    assert_eq!(v["Pid"], Value::from("12750"));
    let req: CreateResourceInstancesRequest = serde_json::from_value(v).unwrap();
    assert_eq!(req.pid, 12750);
    assert_eq!(
        serde_json::to_value(&req).unwrap()["Pid"],
        Value::from(12750)
    );
}

fn _unused(_: impl Serialize) {}
