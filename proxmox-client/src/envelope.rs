//! The `{"data": ...}` envelope and decoding that names the failing JSON path.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{Error, Result};

/// Every PVE reply: `data` plus, for some calls (task log), `total`.
#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
    #[serde(default, deserialize_with = "crate::lenient::opt_u64")]
    total: Option<u64>,
}

/// Decode a successful reply body into `data` (and `total`).
///
/// # Errors
/// [`Error::Decode`] with the JSON path of the value that did not fit, e.g. `data[2].vmid`.
pub(crate) fn decode<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<(T, Option<u64>)> {
    // Tracking the path of every value costs as much again as decoding (a 10,000-guest
    // `cluster/resources` reply took about twice as long), and replies almost always fit: so
    // decode plainly first, and only a reply that does not fit is decoded again to name the path.
    let mut de = serde_json::Deserializer::from_slice(body);
    if let Ok(env) = Envelope::<T>::deserialize(&mut de) {
        return Ok((env.data, env.total));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, Envelope<T>>(&mut de) {
        Ok(env) => Ok((env.data, env.total)),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let mut message = inner.to_string();
            if body.is_empty() {
                message = "the body is empty".into();
            }
            Err(Error::Decode {
                url: url.to_owned(),
                path,
                message,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)] // only decoded to provoke errors
    struct Vm {
        #[serde(deserialize_with = "crate::lenient::u32")]
        vmid: u32,
    }

    #[test]
    fn a_decode_failure_names_the_json_path() {
        let body = br#"{"data":[{"vmid":100},{"vmid":"abc"}]}"#;
        match decode::<Vec<Vm>>("https://x/api2/json/nodes/a/qemu", body) {
            Err(Error::Decode { path, message, .. }) => {
                assert_eq!(path, "data[1].vmid");
                assert!(message.contains("\"abc\""), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn total_is_returned_beside_data() {
        let (data, total) =
            decode::<Vec<serde_json::Value>>("u", br#"{"data":[],"total":"7"}"#).expect("ok");
        assert!(data.is_empty());
        assert_eq!(total, Some(7));
    }
}
