//! `/class import cluster prefix`: existing VMs of a classic VMID range become a class of the
//! caller (VMID 00 its teacher VM, 99 its base VM, the others its student VMs).

use pvelab_core::types::{ClassName, ClusterId};

use super::operations::{follow, summary_lines, vms};
use super::{CommandContext, CommandError, Reply};
use crate::parse::OptionError;

/// VMID prefixes `/class import` accepts as typed (the core checks the class plan's range).
const PREFIXES: std::ops::RangeInclusive<u32> = 1..=9_999_999;

/// A VMID prefix (`12` for VMIDs 1200-1299).
///
/// # Errors
/// [`OptionError`] naming `option` for anything but a positive whole number.
pub fn prefix(option: &str, text: &str) -> Result<u32, OptionError> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|p| PREFIXES.contains(p))
        .ok_or_else(|| {
            OptionError::new(
                option,
                text,
                "the VMIDs' prefix as a whole number, e.g. 12 for VMIDs 1200-1299",
            )
        })
}

/// The name an imported class gets: `import-12` (the range's prefix).
fn class_name(prefix: u32) -> Result<ClassName, CommandError> {
    ClassName::parse(&format!("import-{prefix}"))
        .map_err(|e| CommandError::Core(pvelab_core::Error::from(e)))
}

/// `/class import cluster prefix`: adopts the range's VMs as a class named `import-PREFIX`,
/// shows what was adopted and left alone, and the class's join token (once).
///
/// # Errors
/// [`CommandError::Core`]: not a teacher; a prefix outside the classic plan; a range a class
/// owns already; the cluster not answering.
pub async fn import(
    ctx: &CommandContext,
    cluster: &ClusterId,
    prefix: u32,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let name = class_name(prefix)?;
    let imported = ctx
        .lab
        .import_class(&actor, cluster, prefix, name, None)
        .await?;
    let summary = follow(ctx, imported.operation).await?;
    let token = imported.token.token.expose();
    let adopted: Vec<String> = imported.adopted.iter().map(ToString::to_string).collect();
    let mut reply = Reply::titled(format!(
        "Class {} imported from cluster {cluster}",
        imported.class.name
    ))
    .line(format!(
        "{} adopted: {}",
        vms(imported.adopted.len()),
        if adopted.is_empty() {
            "none".to_owned()
        } else {
            adopted.join(", ")
        }
    ));
    if !imported.skipped.is_empty() {
        reply = reply.section(
            "left alone",
            imported
                .skipped
                .iter()
                .map(|(vmid, why)| format!("VM {vmid}: {why}"))
                .collect(),
        );
    }
    Ok(reply
        .section("pool", summary_lines(&summary))
        .section(
            "join token",
            vec![
                format!("token: {token}"),
                format!("Students type: /join token:{token}"),
                "It is shown only now; /class token makes a new one.".to_owned(),
            ],
        )
        .ephemeral())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_a_positive_whole_number() {
        assert_eq!(prefix("prefix", "12").unwrap(), 12);
        for bad in ["0", "-3", "twelve", "1.5"] {
            let e = prefix("prefix", bad).unwrap_err();
            assert_eq!(e.value(), Some(bad));
        }
        assert_eq!(class_name(12).unwrap().as_str(), "import-12");
    }
}
