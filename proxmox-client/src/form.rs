//! Parameters to form / query pairs, the way PVE wants them.
//!
//! PVE's type checker refuses `true`/`false` ("type check ('boolean') failed - got 'true'"), so
//! every boolean is sent as `1`/`0`. `None` fields are left out. An array parameter (the guest
//! agent's `command`) is sent as the same name repeated once per item, in order, which is how
//! PVE reads arrays from a form.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Flatten a parameter struct (or map) into `(name, value)` pairs.
///
/// # Errors
/// [`Error::InvalidInput`] when `params` is not a flat object of scalars and arrays of scalars.
pub(crate) fn to_pairs<T: Serialize + ?Sized>(params: &T) -> Result<Vec<(String, String)>> {
    let value = serde_json::to_value(params)
        .map_err(|e| Error::InvalidInput(format!("parameters cannot be encoded: {e}")))?;
    let map = match value {
        Value::Object(map) => map,
        Value::Null => return Ok(Vec::new()),
        other => {
            return Err(Error::InvalidInput(format!(
                "parameters must be a struct or map, not {other}"
            )))
        }
    };
    let mut pairs = Vec::with_capacity(map.len());
    for (key, value) in map {
        match value {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    let text = scalar_text(&key, item)?;
                    pairs.push((key.clone(), text));
                }
            }
            other => {
                let text = scalar_text(&key, other)?;
                pairs.push((key, text));
            }
        }
    }
    Ok(pairs)
}

/// A scalar as PVE wants it in a form; anything else is refused, naming the parameter.
fn scalar_text(key: &str, value: Value) -> Result<String> {
    Ok(match value {
        Value::Bool(b) => if b { "1" } else { "0" }.to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s,
        other => {
            return Err(Error::InvalidInput(format!(
                "parameter {key:?} must be a scalar or a list of scalars, not {other}"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct P {
        newid: u32,
        full: Option<bool>,
        name: Option<String>,
        purge: bool,
    }

    #[test]
    fn booleans_become_one_and_zero_and_none_is_left_out() {
        let pairs = to_pairs(&P {
            newid: 101,
            full: Some(true),
            name: None,
            purge: false,
        })
        .expect("encodes");
        assert_eq!(
            pairs,
            vec![
                ("full".to_owned(), "1".to_owned()),
                ("newid".to_owned(), "101".to_owned()),
                ("purge".to_owned(), "0".to_owned()),
            ]
        );
    }

    #[test]
    fn an_array_becomes_the_name_repeated_once_per_item_in_order() {
        let pairs = to_pairs(&serde_json::json!({
            "command": ["systemctl", "is-active", "nginx"],
            "input-data": "x"
        }))
        .expect("encodes");
        assert_eq!(
            pairs,
            vec![
                ("command".to_owned(), "systemctl".to_owned()),
                ("command".to_owned(), "is-active".to_owned()),
                ("command".to_owned(), "nginx".to_owned()),
                ("input-data".to_owned(), "x".to_owned()),
            ]
        );
    }

    #[test]
    fn an_array_of_objects_is_rejected_and_named() {
        let e = to_pairs(&serde_json::json!({"command": [{"a": 1}]})).expect_err("nested");
        assert!(e.to_string().contains("\"command\""), "{e}");
    }

    #[test]
    fn a_nested_value_is_rejected_and_named() {
        let e = to_pairs(&serde_json::json!({"net0": {"bridge": "vmbr0"}})).expect_err("nested");
        assert!(e.to_string().contains("\"net0\""), "{e}");
    }
}
