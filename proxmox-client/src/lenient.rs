//! Lenient decoding helpers for PVE's loosely typed JSON.
//!
//! PVE sends numbers as numbers or as numeric strings (`"memory":"2048"`, `"data":"100"`), and
//! booleans as `0`/`1`, `true`/`false` or `"0"`/`"1"`. Every model field goes through one of these
//! functions (with `#[serde(default)]` so that missing fields are tolerated).

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// A JSON scalar accepted where a number or bool is expected.
enum Scalar {
    U(u64),
    I(i64),
    F(f64),
    S(String),
    B(bool),
    Null,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a numeric string, a boolean or null")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::U(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::I(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::F(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::B(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::S(v.trim().to_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

/// Parse a number out of a scalar as f64 (the widest common type).
fn to_f64<E: de::Error>(s: Scalar) -> Result<Option<f64>, E> {
    match s {
        Scalar::U(v) => Ok(Some(v as f64)),
        Scalar::I(v) => Ok(Some(v as f64)),
        Scalar::F(v) => Ok(Some(v)),
        Scalar::B(b) => Ok(Some(if b { 1.0 } else { 0.0 })),
        Scalar::Null => Ok(None),
        Scalar::S(s) if s.is_empty() => Ok(None),
        Scalar::S(s) => s
            .parse::<f64>()
            .map(Some)
            .map_err(|_| E::custom(format!("expected a number, got the string {s:?}"))),
    }
}

fn to_u64<E: de::Error>(s: Scalar) -> Result<Option<u64>, E> {
    match s {
        Scalar::U(v) => Ok(Some(v)),
        Scalar::I(v) => u64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom(format!("expected a non-negative integer, got {v}"))),
        Scalar::F(v) if v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64 => Ok(Some(v as u64)),
        Scalar::F(v) => Err(E::custom(format!(
            "expected a non-negative integer, got {v}"
        ))),
        Scalar::B(b) => Ok(Some(u64::from(b))),
        Scalar::Null => Ok(None),
        Scalar::S(s) if s.is_empty() => Ok(None),
        Scalar::S(s) => match s.parse::<u64>() {
            Ok(v) => Ok(Some(v)),
            Err(_) => to_u64(Scalar::F(s.parse::<f64>().map_err(|_| {
                E::custom(format!("expected an integer, got the string {s:?}"))
            })?)),
        },
    }
}

fn to_bool<E: de::Error>(s: Scalar) -> Result<Option<bool>, E> {
    match s {
        Scalar::B(b) => Ok(Some(b)),
        Scalar::U(v) => Ok(Some(v != 0)),
        Scalar::I(v) => Ok(Some(v != 0)),
        Scalar::F(v) => Ok(Some(v != 0.0)),
        Scalar::Null => Ok(None),
        Scalar::S(s) => match s.to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(E::custom(format!("expected a boolean or 0/1, got {s:?}"))),
        },
    }
}

/// `u64` from a number or numeric string; null or missing (with `#[serde(default)]`) is `None`.
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    to_u64(scalar(d)?)
}

/// `u64` that must be present; a numeric string is fine.
pub(crate) fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    to_u64(scalar(d)?)?.ok_or_else(|| de::Error::custom("expected an integer, got null"))
}

/// `u32` from a number or numeric string (VMIDs).
pub(crate) fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u64(d)?;
    u32::try_from(v).map_err(|_| de::Error::custom(format!("{v} does not fit a 32-bit id")))
}

/// Optional `u32` from a number or numeric string.
pub(crate) fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match to_u64(scalar(d)?)? {
        None => Ok(None),
        Some(v) => u32::try_from(v)
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{v} does not fit a 32-bit id"))),
    }
}

/// Optional `i64` from a number or numeric string (exit codes, which may be negative).
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match scalar(d)? {
        Scalar::I(v) => Ok(Some(v)),
        Scalar::U(v) => i64::try_from(v)
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{v} does not fit a 64-bit signed integer"))),
        Scalar::F(v) if v.fract() == 0.0 && v.abs() < i64::MAX as f64 => Ok(Some(v as i64)),
        Scalar::B(b) => Ok(Some(i64::from(b))),
        Scalar::Null => Ok(None),
        Scalar::S(s) if s.is_empty() => Ok(None),
        Scalar::S(s) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected an integer, got the string {s:?}"))),
        Scalar::F(v) => Err(de::Error::custom(format!("expected an integer, got {v}"))),
    }
}

/// Optional text from a string, or from a number or boolean written as PVE writes it (`2048`,
/// `1`): config values in `pending` are declared as strings but arrive as either.
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct TextVisitor;
    impl<'de> Visitor<'de> for TextVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string, a number, a boolean or null")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(if v { "1" } else { "0" }.to_owned()))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(TextVisitor)
        }
    }
    d.deserialize_any(TextVisitor)
}

/// `f64` from a number or numeric string (`"cpulimit":"0.4"`).
pub(crate) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    to_f64(scalar(d)?)
}

/// `bool` from `true`/`false`, `0`/`1` or their string forms; null/missing is `false`.
pub(crate) fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(to_bool(scalar(d)?)?.unwrap_or(false))
}

/// Parse a number the way the lenient decoders do, for values read out of flat maps
/// (VM config entries) rather than through serde.
pub(crate) fn parse_u64_value(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        serde_json::Value::Bool(b) => Some(u64::from(*b)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct T {
        #[serde(default, deserialize_with = "super::opt_u64")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "super::opt_f64")]
        f: Option<f64>,
        #[serde(default, deserialize_with = "super::bool")]
        b: bool,
    }

    fn t(json: &str) -> T {
        serde_json::from_str(json).expect("valid test JSON")
    }

    #[derive(Deserialize, Debug)]
    struct Signed {
        #[serde(default, deserialize_with = "super::opt_i64")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "super::opt_text")]
        t: Option<String>,
    }

    #[test]
    fn signed_integers_and_text_accept_what_pve_sends() {
        let s: Signed = serde_json::from_str(r#"{"i":-1,"t":2048}"#).expect("valid");
        assert_eq!((s.i, s.t.as_deref()), (Some(-1), Some("2048")));
        let s: Signed = serde_json::from_str(r#"{"i":"3","t":"x"}"#).expect("valid");
        assert_eq!((s.i, s.t.as_deref()), (Some(3), Some("x")));
        let s: Signed = serde_json::from_str(r#"{"t":null}"#).expect("valid");
        assert_eq!((s.i, s.t), (None, None));
        let e = serde_json::from_str::<Signed>(r#"{"i":"three"}"#).expect_err("not a number");
        assert!(e.to_string().contains("\"three\""), "{e}");
    }

    #[test]
    fn a_numeric_string_is_read_as_a_number() {
        assert_eq!(t(r#"{"n":"2048"}"#).n, Some(2048));
        assert_eq!(t(r#"{"f":"0.4"}"#).f, Some(0.4));
    }

    #[test]
    fn a_plain_number_is_read_as_a_number() {
        assert_eq!(t(r#"{"n":2048,"f":1}"#).n, Some(2048));
        assert_eq!(t(r#"{"f":1}"#).f, Some(1.0));
    }

    #[test]
    fn a_whole_float_is_accepted_as_an_integer() {
        assert_eq!(t(r#"{"n":4.0}"#).n, Some(4));
    }

    #[test]
    fn zero_and_one_are_booleans() {
        assert!(t(r#"{"b":1}"#).b);
        assert!(!t(r#"{"b":0}"#).b);
        assert!(t(r#"{"b":"1"}"#).b);
        assert!(t(r#"{"b":true}"#).b);
    }

    #[test]
    fn missing_and_null_fields_are_none_or_false() {
        let v = t(r#"{"n":null,"other":"ignored"}"#);
        assert_eq!(v.n, None);
        assert_eq!(v.f, None);
        assert!(!v.b);
    }

    #[test]
    fn a_non_numeric_string_is_rejected_with_the_value_named() {
        let e = serde_json::from_str::<T>(r#"{"n":"lots"}"#).expect_err("must fail");
        assert!(e.to_string().contains("\"lots\""), "{e}");
    }

    #[test]
    fn a_negative_number_is_not_an_unsigned_integer() {
        assert!(serde_json::from_str::<T>(r#"{"n":-1}"#).is_err());
    }
}
