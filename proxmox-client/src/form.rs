//! Parameters to form / query pairs, the way PVE wants them.
//!
//! PVE's type checker refuses `true`/`false` ("type check ('boolean') failed - got 'true'"), so
//! every boolean is sent as `1`/`0`. `None` fields are left out.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Flatten a parameter struct (or map) into `(name, value)` pairs.
///
/// # Errors
/// [`Error::InvalidInput`] when `params` is not a flat object of scalars.
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
        let text = match value {
            Value::Null => continue,
            Value::Bool(b) => if b { "1" } else { "0" }.to_owned(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => s,
            other => {
                return Err(Error::InvalidInput(format!(
                    "parameter {key:?} must be a scalar, not {other}"
                )))
            }
        };
        pairs.push((key, text));
    }
    Ok(pairs)
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
    fn a_nested_value_is_rejected_and_named() {
        let e = to_pairs(&serde_json::json!({"net0": {"bridge": "vmbr0"}})).expect_err("nested");
        assert!(e.to_string().contains("\"net0\""), "{e}");
    }
}
