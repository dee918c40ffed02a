//! Request parameters: query and body merged, form-encoded or JSON, checked the way PVE's
//! schema checker does (0/1 booleans, integers, required and unknown properties).

use std::collections::BTreeMap;

use serde_json::Value;

use super::reply::ApiError;

/// Merged parameters as strings (JSON numbers and booleans become their PVE text form).
///
/// A name may come several times (`command=ls&command=-l`, or a JSON array): that is how PVE
/// receives array parameters. [`Params::get`] gives the first value, [`Params::all`] every one
/// in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(BTreeMap<String, Vec<String>>);

impl Params {
    /// Merge the query string and the body.
    pub(crate) fn parse(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Self, ApiError> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut add = |k: String, v: String| map.entry(k).or_default().push(v);
        if let Some(q) = query {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
            for (k, v) in pairs {
                add(k, v);
            }
        }
        let trimmed = body.iter().all(u8::is_ascii_whitespace);
        if !trimmed {
            let is_json = content_type.is_some_and(|c| c.contains("json"));
            if is_json {
                let v: Value = serde_json::from_slice(body).map_err(|e| {
                    ApiError::Status(
                        axum::http::StatusCode::BAD_REQUEST,
                        format!("unable to parse JSON body: {e}"),
                    )
                })?;
                if let Value::Object(o) = v {
                    for (k, v) in o {
                        let items = match v {
                            Value::Array(items) => items,
                            other => vec![other],
                        };
                        for item in items {
                            let s = match item {
                                Value::String(s) => s,
                                Value::Bool(b) => if b { "1" } else { "0" }.to_owned(),
                                Value::Null => continue,
                                other => other.to_string(),
                            };
                            add(k.clone(), s);
                        }
                    }
                }
            } else {
                let pairs: Vec<(String, String)> =
                    serde_urlencoded::from_bytes(body).unwrap_or_default();
                for (k, v) in pairs {
                    add(k, v);
                }
            }
        }
        Ok(Self(map))
    }

    /// The first value of `k`.
    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(|v| v.first()).map(String::as_str)
    }

    /// Every value of `k`, in the order sent (an array parameter); empty when absent.
    pub(crate) fn all(&self, k: &str) -> &[String] {
        self.0.get(k).map_or(&[], Vec::as_slice)
    }

    /// Each name with its first value.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().filter_map(|(k, v)| v.first().map(|v| (k, v)))
    }

    /// Refuse parameters the endpoint's schema does not define. A `*` suffix allows a family
    /// (`net*` allows net0, net1, ...).
    pub(crate) fn allow(&self, allowed: &[&str]) -> Result<(), ApiError> {
        let mut errors = BTreeMap::new();
        for k in self.0.keys() {
            let ok = allowed.iter().any(|a| match a.strip_suffix('*') {
                Some(prefix) => {
                    k.starts_with(prefix) && k[prefix.len()..].chars().all(|c| c.is_ascii_digit())
                }
                None => a == k,
            });
            if !ok {
                errors.insert(
                    k.clone(),
                    "property is not defined in schema and the schema does not allow additional properties"
                        .to_owned(),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Params(errors))
        }
    }

    pub(crate) fn required(&self, k: &str) -> Result<&str, ApiError> {
        self.get(k)
            .ok_or_else(|| ApiError::param(k, "property is missing and it is not optional"))
    }

    pub(crate) fn int(&self, k: &str) -> Result<Option<i64>, ApiError> {
        self.get(k).map(|v| check_int(k, v)).transpose()
    }

    pub(crate) fn int_range(&self, k: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        let v = self.int(k)?;
        if let Some(n) = v {
            if n < min {
                return Err(ApiError::param(
                    k,
                    format!("value must have a minimum value of {min}"),
                ));
            }
            if n > max {
                return Err(ApiError::param(k, format!("value may not exceed {max}")));
            }
        }
        Ok(v)
    }

    pub(crate) fn bool(&self, k: &str) -> Result<Option<bool>, ApiError> {
        self.get(k).map(|v| check_bool(k, v)).transpose()
    }

    pub(crate) fn one_of(&self, k: &str, allowed: &[&str]) -> Result<Option<&str>, ApiError> {
        match self.get(k) {
            Some(v) if !allowed.contains(&v) => Err(ApiError::param(
                k,
                format!(
                    "value '{v}' does not have a value in the enumeration '{}'",
                    allowed.join(", ")
                ),
            )),
            other => Ok(other),
        }
    }
}

pub(crate) fn check_int(k: &str, v: &str) -> Result<i64, ApiError> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| ApiError::param(k, format!("type check ('integer') failed - got '{v}'")))
}

/// PVE's booleans: 1/0 (also yes/no/on/off); `true` and `false` are refused.
pub(crate) fn check_bool(k: &str, v: &str) -> Result<bool, ApiError> {
    match v {
        "1" | "on" | "yes" => Ok(true),
        "0" | "off" | "no" => Ok(false),
        _ => Err(ApiError::param(
            k,
            format!("type check ('boolean') failed - got '{v}'"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_boolean_sent_as_true_is_refused_with_pves_text() {
        let p = Params::parse(None, None, b"full=true").unwrap();
        let ApiError::Params(e) = p.bool("full").unwrap_err() else {
            panic!("expected a parameter error")
        };
        assert_eq!(e["full"], "type check ('boolean') failed - got 'true'");
    }

    #[test]
    fn json_booleans_become_one_and_zero_and_merge_with_the_query() {
        let p = Params::parse(
            Some("a=1"),
            Some("application/json"),
            br#"{"full":true,"n":3}"#,
        )
        .unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.bool("full").unwrap(), Some(true));
        assert_eq!(p.int("n").unwrap(), Some(3));
    }

    #[test]
    fn a_repeated_name_keeps_every_value_in_order_from_a_form_or_a_json_array() {
        let form = Params::parse(None, None, b"command=ls&command=-l&command=%2Ftmp").unwrap();
        assert_eq!(form.all("command"), ["ls", "-l", "/tmp"]);
        assert_eq!(form.get("command"), Some("ls"));
        let json = Params::parse(
            None,
            Some("application/json"),
            br#"{"command":["sh","-c","true"]}"#,
        )
        .unwrap();
        assert_eq!(json.all("command"), ["sh", "-c", "true"]);
        assert!(json.all("input-data").is_empty());
    }

    #[test]
    fn an_unknown_parameter_is_refused_by_name() {
        let p = Params::parse(None, None, b"net0=x&bogus=1").unwrap();
        let ApiError::Params(e) = p.allow(&["net*"]).unwrap_err() else {
            panic!("expected a parameter error")
        };
        assert_eq!(e.keys().collect::<Vec<_>>(), ["bogus"]);
    }
}
