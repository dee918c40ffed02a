//! A macro for the textual newtypes, so each one states only its rule and they all behave alike
//! (accessor, `FromStr`, `Display`, `AsRef<str>`, and `Deref` to `str` so that
//! `Option<Name>::as_deref()` reads as text).

/// Shared implementation for a checked string newtype `$name(String)` whose constructor is
/// `$name::parse`.
macro_rules! checked_string {
    ($name:ident) => {
        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
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
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }
    };
}

pub(crate) use checked_string;
