use serde::{Deserialize, Serialize};

/// One key of `GET .../qemu|lxc/{vmid}/pending`: its current value and a change that waits for
/// the guest's next stop (or start), e.g. more memory for a running VM without hotplug.
///
/// Values are declared as strings but arrive as numbers too; both are read as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PendingEntry {
    /// Configuration key (`memory`, `cores`, `net0`, ...).
    pub key: String,
    /// Current value, absent when the key is only being added.
    #[serde(deserialize_with = "crate::lenient::opt_text")]
    pub value: Option<String>,
    /// The value it will take, when a change is pending.
    #[serde(deserialize_with = "crate::lenient::opt_text")]
    pub pending: Option<String>,
    /// 1 when the key is to be deleted, 2 for a forced delete, 0 (or absent) otherwise.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub delete: Option<u64>,
}

impl PendingEntry {
    /// Whether the key is to be removed at the next stop.
    pub fn is_pending_delete(&self) -> bool {
        self.delete.is_some_and(|d| d > 0)
    }
    /// Whether anything about this key waits for the next stop: a new value or a deletion.
    pub fn has_pending_change(&self) -> bool {
        self.pending.is_some() || self.is_pending_delete()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings_both_read_as_text_and_changes_are_recognised() {
        let list: Vec<PendingEntry> = serde_json::from_str(
            r#"[{"key":"memory","value":"2048","pending":4096},
                {"key":"cores","value":2},
                {"key":"agent","value":"1","delete":1}]"#,
        )
        .expect("valid");
        assert_eq!(list[0].value.as_deref(), Some("2048"));
        assert_eq!(list[0].pending.as_deref(), Some("4096"));
        assert!(list[0].has_pending_change());
        assert!(!list[1].has_pending_change());
        assert!(list[2].is_pending_delete() && list[2].has_pending_change());
    }
}
