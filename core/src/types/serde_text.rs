//! Serde support for the textual newtypes: they serialize as their display text and deserialize
//! through their parser, so a configuration file or a JSON payload cannot smuggle in a value the
//! constructor would refuse.

/// Implements `Serialize` (as `Display` text) and `Deserialize` (through `$ty::parse`, whose
/// `InvalidValue` becomes the deserializer's error message) for `$ty`.
macro_rules! serde_via_text {
    ($($ty:ty),+ $(,)?) => {$(
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$ty>::parse(&text).map_err(::serde::de::Error::custom)
            }
        }
    )+};
}

serde_via_text!(
    super::ClassName,
    super::NodeName,
    super::ClusterId,
    super::Role,
    super::ClassTimeZone,
    super::HoursWindow,
    super::SchemeKind,
    super::ExternalId,
    super::UserName,
    super::Scope,
    super::DurationText,
    crate::token::TokenLifetime,
);

#[cfg(test)]
mod tests {
    use crate::token::TokenLifetime;
    use crate::types::{ClassName, ClassTimeZone, Cores, HoursWindow, Role, VmId};

    #[test]
    fn textual_types_serialize_as_their_text_and_parse_back() {
        let json = serde_json::to_string(&(
            Role::Teacher,
            ClassName::parse("Networks 101").unwrap(),
            HoursWindow::new(22, 6).unwrap(),
            ClassTimeZone::parse("Europe/Berlin").unwrap(),
            TokenLifetime::parse("7d").unwrap(),
        ))
        .unwrap();
        assert_eq!(
            json,
            r#"["teacher","Networks 101","22:00-06:00","Europe/Berlin","1w"]"#
        );
        let back: (Role, ClassName, HoursWindow, ClassTimeZone, TokenLifetime) =
            serde_json::from_str(&json).unwrap();
        assert_eq!(back.0, Role::Teacher);
        assert_eq!(back.2, HoursWindow::new(22, 6).unwrap());
        assert_eq!(back.4, TokenLifetime::parse("1w").unwrap());
    }

    #[test]
    fn numeric_types_serialize_as_numbers_and_are_checked_when_read() {
        assert_eq!(serde_json::to_string(&Cores::new(4).unwrap()).unwrap(), "4");
        assert_eq!(serde_json::from_str::<VmId>("1201").unwrap().get(), 1201);
        let e = serde_json::from_str::<Cores>("65").unwrap_err();
        assert!(e.to_string().contains("cpu cores"), "{e}");
    }

    #[test]
    fn an_invalid_value_in_a_document_is_refused_with_the_types_message() {
        let e = serde_json::from_str::<Role>(r#""root""#).unwrap_err();
        assert!(
            e.to_string().contains("one of user, teacher, adminer"),
            "{e}"
        );
        let e = serde_json::from_str::<HoursWindow>(r#""09-09""#).unwrap_err();
        assert!(e.to_string().contains("must differ"), "{e}");
    }
}
