//! A macro for the many "integer within a range" newtypes, so each one states only its range and
//! its meaning and they all behave alike (constructor, parse, accessors, display).

/// Declares a newtype over an unsigned integer that only holds values in `MIN..=MAX`; serde
/// reads it as a number and checks it like the constructor does.
///
/// The constructor takes an `i64` because that is what both SQLite and front ends (Discord
/// integer options, text parsing) hand over; anything outside the range, negative numbers
/// included, is refused with the field name and the allowed range.
macro_rules! bounded_int {
    (
        $(#[$doc:meta])*
        $name:ident($repr:ty), field = $field:literal, min = $min:expr, max = $max:expr,
        allowed = $allowed:literal
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name($repr);

        impl $name {
            /// The smallest accepted value.
            pub const MIN: $repr = $min;
            /// The largest accepted value.
            pub const MAX: $repr = $max;

            /// Checks `value` against the range.
            ///
            /// # Errors
            #[doc = concat!("[`InvalidValue`](crate::types::InvalidValue) naming the ", $field, " when the value is not ", $allowed, ".")]
            pub fn new(value: i64) -> Result<Self, $crate::types::InvalidValue> {
                match <$repr>::try_from(value) {
                    Ok(v) if (Self::MIN..=Self::MAX).contains(&v) => Ok(Self(v)),
                    _ => Err($crate::types::InvalidValue::new($field, value, $allowed)),
                }
            }

            /// Parses decimal text (surrounding whitespace ignored).
            ///
            /// # Errors
            /// [`InvalidValue`](crate::types::InvalidValue) when the text is not a number in range.
            pub fn parse(text: &str) -> Result<Self, $crate::types::InvalidValue> {
                text.trim()
                    .parse::<i64>()
                    .map_err(|_| $crate::types::InvalidValue::new($field, text, $allowed))
                    .and_then(Self::new)
            }

            /// The value.
            pub fn get(self) -> $repr {
                self.0
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::types::InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                ::serde::Serialize::serialize(&self.0, s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <i64 as ::serde::Deserialize>::deserialize(d)?;
                Self::new(value).map_err(::serde::de::Error::custom)
            }
        }

        impl From<$name> for i64 {
            fn from(v: $name) -> i64 {
                i64::from(v.0)
            }
        }
    };
}

pub(crate) use bounded_int;
