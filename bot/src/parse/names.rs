//! Names and identifiers: classes, clusters, nodes, roles, templates and join tokens.

use std::fmt;

use pvelab_core::model::JoinToken;
use pvelab_core::types::{ClassName, ClusterId, NodeName, Role, VmId};

use super::OptionError;

/// A class name (the core's rules: 1 to 64 letters, digits, spaces and `- _ . + ( )`).
///
/// # Errors
/// [`OptionError`] naming `option` with the core's rule.
pub fn class(option: &str, text: &str) -> Result<ClassName, OptionError> {
    ClassName::parse(text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// A configured cluster's id (`pve1`).
///
/// # Errors
/// [`OptionError`] naming `option` with the core's rule.
pub fn cluster(option: &str, text: &str) -> Result<ClusterId, OptionError> {
    ClusterId::parse(text.trim()).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// A Proxmox node name (`pve2`).
///
/// # Errors
/// [`OptionError`] naming `option` with the core's rule.
pub fn node(option: &str, text: &str) -> Result<NodeName, OptionError> {
    NodeName::parse(text.trim()).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// A pvelab role: `user`, `teacher` or `adminer`.
///
/// # Errors
/// [`OptionError`] naming `option` and the three roles.
pub fn role(option: &str, text: &str) -> Result<Role, OptionError> {
    Role::parse(text).map_err(|_| OptionError::new(option, text, "user, teacher or adminer"))
}

/// A join token as the student pasted it. The value is never echoed in errors.
///
/// # Errors
/// [`OptionError`] (hidden value) when the text cannot be a token.
pub fn token(option: &str, text: &str) -> Result<JoinToken, OptionError> {
    JoinToken::parse(text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// A template named by people: its VMID or its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateRef {
    /// By VMID (`9000`).
    Vmid(VmId),
    /// By name (`debian-12`), as Proxmox shows it.
    Name(String),
}

impl fmt::Display for TemplateRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateRef::Vmid(id) => write!(f, "{id}"),
            TemplateRef::Name(name) => f.write_str(name),
        }
    }
}

/// A template: digits are a VMID, anything else a Proxmox VM name (a DNS name: ASCII letters,
/// digits, `-` and `.`, 1 to 63 characters, as PVE allows for VM names).
///
/// # Errors
/// [`OptionError`] naming `option` for a VMID out of range or a name PVE could not have.
pub fn template(option: &str, text: &str) -> Result<TemplateRef, OptionError> {
    const ALLOWED: &str = "a template's VMID (9000) or its name as Proxmox shows it \
                           (letters, digits, '-' and '.', at most 63 characters)";
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return VmId::parse(t)
            .map(TemplateRef::Vmid)
            .map_err(|_| OptionError::new(option, text, ALLOWED));
    }
    let ok = !t.is_empty()
        && t.len() <= 63
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
        && t.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(TemplateRef::Name(t.to_owned()))
    } else {
        Err(OptionError::new(option, text, ALLOWED))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_a_vmid_when_it_is_all_digits_and_a_name_otherwise() {
        assert_eq!(
            template("template", "9000"),
            Ok(TemplateRef::Vmid(VmId::new(9000).unwrap()))
        );
        assert_eq!(
            template("template", "debian-12.cloud"),
            Ok(TemplateRef::Name("debian-12.cloud".into()))
        );
    }

    #[test]
    fn a_template_vmid_below_100_or_a_name_with_spaces_is_refused() {
        for bad in ["42", "debian 12", "", "-x", "a_b", &"a".repeat(64)] {
            let e = template("template", bad).unwrap_err();
            assert_eq!(e.option(), "template", "{bad:?}");
        }
    }

    #[test]
    fn names_use_the_cores_rules_and_report_the_option() {
        assert_eq!(class("class", " net101 ").unwrap().as_str(), "net101");
        assert_eq!(class("class", "@everyone").unwrap_err().option(), "class");
        assert_eq!(cluster("cluster", "pve1").unwrap().as_str(), "pve1");
        assert!(cluster("cluster", "_x").is_err());
        assert!(node("node", "pve-").is_err());
    }

    #[test]
    fn roles_are_the_three_names_of_the_core() {
        assert_eq!(role("role", "Teacher"), Ok(Role::Teacher));
        assert_eq!(
            role("role", "admin").unwrap_err().allowed(),
            "user, teacher or adminer"
        );
    }

    #[test]
    fn a_malformed_token_is_refused_without_echoing_it() {
        let e = token("token", "not-a-token").unwrap_err();
        assert_eq!(e.value(), None);
        let good = JoinToken::generate();
        assert!(token("token", good.expose()).is_ok());
    }
}
