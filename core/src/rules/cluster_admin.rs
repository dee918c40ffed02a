//! Who administers a cluster: a cluster's `admin_users` (typed entries, see
//! [`AdminEntry`]) and its `admin_group` (a group a front end maps, such as a Discord role id)
//! grant administrator rights over that one cluster, expressed as [`ClusterRelation::Admin`].
//!
//! An entry matches only the identity of its own kind: `user:4242` matches the local user
//! *named* 4242, `ext:4242` the person a front end knows by the *external id* 4242. So a local
//! account can never be named after someone's external id to gain their rights, and the reverse.

use super::permissions::ClusterRelation;
use crate::types::{AdminEntry, AdminKind};

/// The ways a person is known, as far as cluster admin lists are concerned.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity<'a> {
    /// Their local user name, if they have one.
    pub username: Option<&'a str>,
    /// Their front end's external id (e.g. a Discord user id), if any.
    pub external_id: Option<&'a str>,
    /// The groups the front end reports for them (e.g. Discord role ids).
    pub groups: &'a [&'a str],
}

/// Whether `entry` names `who`: by user name for `user:` entries, by external id for `ext:`
/// entries. Matching is exact (ids are case-sensitive).
pub fn names(entry: &AdminEntry, who: &Identity<'_>) -> bool {
    let own = match entry.kind() {
        AdminKind::LocalUser => who.username,
        AdminKind::External => who.external_id,
    };
    own == Some(entry.id())
}

/// How `who` relates to a cluster with these admin lists. A blank group never matches, so an
/// empty list and no group grant nothing.
///
/// # Examples
/// ```
/// use pvelab_core::rules::cluster_admin::{relation, Identity};
/// use pvelab_core::rules::permissions::ClusterRelation;
/// use pvelab_core::types::AdminEntry;
/// let admins = [AdminEntry::parse("ext:4242")?];
/// let discord_user = Identity { external_id: Some("4242"), ..Identity::default() };
/// let local_namesake = Identity { username: Some("4242"), ..Identity::default() };
/// assert_eq!(relation(&admins, None, &discord_user), ClusterRelation::Admin);
/// assert_eq!(relation(&admins, None, &local_namesake), ClusterRelation::None);
/// # Ok::<(), pvelab_core::types::InvalidValue>(())
/// ```
pub fn relation(
    admin_users: &[AdminEntry],
    admin_group: Option<&str>,
    who: &Identity<'_>,
) -> ClusterRelation {
    let listed = admin_users.iter().any(|entry| names(entry, who));
    let group = admin_group.map(str::trim).filter(|g| !g.is_empty());
    let in_group = group.is_some_and(|g| who.groups.contains(&g));
    if listed || in_group {
        ClusterRelation::Admin
    } else {
        ClusterRelation::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(texts: &[&str]) -> Vec<AdminEntry> {
        texts
            .iter()
            .map(|t| AdminEntry::parse(t).expect(t))
            .collect()
    }

    #[test]
    fn a_local_user_named_in_admin_users_administers_the_cluster() {
        let who = Identity {
            username: Some("bob"),
            ..Identity::default()
        };
        let admins = entries(&["user:alice", "user:bob"]);
        assert_eq!(relation(&admins, None, &who), ClusterRelation::Admin);
        let others = entries(&["user:alice", "user:carol"]);
        assert_eq!(relation(&others, None, &who), ClusterRelation::None);
    }

    #[test]
    fn an_external_id_in_admin_users_counts_for_that_external_id() {
        let who = Identity {
            external_id: Some("123456789012345678"),
            ..Identity::default()
        };
        let admins = entries(&["ext:123456789012345678"]);
        assert_eq!(relation(&admins, None, &who), ClusterRelation::Admin);
    }

    #[test]
    fn a_local_user_name_never_matches_someone_elses_external_id() {
        let admins = entries(&["ext:4242"]);
        let namesake = Identity {
            username: Some("4242"),
            external_id: Some("console:mallory"),
            ..Identity::default()
        };
        assert_eq!(relation(&admins, None, &namesake), ClusterRelation::None);
    }

    #[test]
    fn an_external_id_never_matches_a_local_user_entry() {
        let admins = entries(&["user:root"]);
        let outsider = Identity {
            external_id: Some("root"),
            ..Identity::default()
        };
        assert_eq!(relation(&admins, None, &outsider), ClusterRelation::None);
    }

    #[test]
    fn a_member_of_the_admin_group_administers_the_cluster() {
        let groups = ["teachers", "lab-admins"];
        let who = Identity {
            groups: &groups,
            ..Identity::default()
        };
        assert_eq!(
            relation(&[], Some("lab-admins"), &who),
            ClusterRelation::Admin
        );
        assert_eq!(relation(&[], Some("staff"), &who), ClusterRelation::None);
    }

    #[test]
    fn matching_is_exact_not_by_prefix_or_case() {
        let who = Identity {
            username: Some("bob"),
            ..Identity::default()
        };
        assert_eq!(
            relation(&entries(&["user:bobby"]), None, &who),
            ClusterRelation::None
        );
        assert_eq!(
            relation(&entries(&["user:Bob"]), None, &who),
            ClusterRelation::None
        );
    }

    #[test]
    fn blank_groups_and_missing_identities_grant_nothing() {
        let empty_groups = [""];
        let who = Identity {
            username: None,
            external_id: None,
            groups: &empty_groups,
        };
        let admins = entries(&["user:a", "ext:b"]);
        assert_eq!(relation(&admins, Some(""), &who), ClusterRelation::None);
        assert_eq!(relation(&admins, Some("  "), &who), ClusterRelation::None);
    }
}
