//! Who administers a cluster: a cluster's `admin_users` (user names or external ids) and its
//! `admin_group` (a group a front end maps, such as a Discord role id) grant administrator rights
//! over that one cluster, expressed as [`ClusterRelation::Admin`].

use super::permissions::ClusterRelation;

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

/// The entries of an `admin_users` text: separated by commas, semicolons or whitespace
/// (including newlines); empty entries are ignored.
pub fn admin_entries(admin_users: &str) -> impl Iterator<Item = &str> {
    admin_users
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|e| !e.is_empty())
}

/// How `who` relates to a cluster with these admin lists. Matching is exact (ids are
/// case-sensitive); a blank entry or group never matches, so an empty list grants nothing.
///
/// # Examples
/// ```
/// use pvelab_core::rules::cluster_admin::{relation, Identity};
/// use pvelab_core::rules::permissions::ClusterRelation;
/// let who = Identity { external_id: Some("4242"), ..Identity::default() };
/// assert_eq!(relation("alice, 4242", None, &who), ClusterRelation::Admin);
/// assert_eq!(relation("alice", Some(""), &who), ClusterRelation::None);
/// ```
pub fn relation(
    admin_users: &str,
    admin_group: Option<&str>,
    who: &Identity<'_>,
) -> ClusterRelation {
    let names = [who.username, who.external_id];
    let listed = admin_entries(admin_users)
        .any(|entry| names.iter().flatten().any(|n| !n.is_empty() && *n == entry));
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

    #[test]
    fn a_user_named_in_admin_users_administers_the_cluster() {
        let who = Identity {
            username: Some("bob"),
            ..Identity::default()
        };
        assert_eq!(relation("alice,bob", None, &who), ClusterRelation::Admin);
        assert_eq!(relation("alice\nbob\n", None, &who), ClusterRelation::Admin);
        assert_eq!(relation("alice; carol", None, &who), ClusterRelation::None);
    }

    #[test]
    fn an_external_id_in_admin_users_counts_too() {
        let who = Identity {
            external_id: Some("123456789012345678"),
            ..Identity::default()
        };
        assert_eq!(
            relation("123456789012345678", None, &who),
            ClusterRelation::Admin
        );
    }

    #[test]
    fn a_member_of_the_admin_group_administers_the_cluster() {
        let groups = ["teachers", "lab-admins"];
        let who = Identity {
            groups: &groups,
            ..Identity::default()
        };
        assert_eq!(
            relation("", Some("lab-admins"), &who),
            ClusterRelation::Admin
        );
        assert_eq!(relation("", Some("staff"), &who), ClusterRelation::None);
    }

    #[test]
    fn matching_is_exact_not_by_prefix_or_case() {
        let who = Identity {
            username: Some("bob"),
            ..Identity::default()
        };
        assert_eq!(relation("bobby", None, &who), ClusterRelation::None);
        assert_eq!(relation("Bob", None, &who), ClusterRelation::None);
    }

    #[test]
    fn blank_lists_and_blank_identities_grant_nothing() {
        let empty_groups = [""];
        let who = Identity {
            username: Some(""),
            external_id: Some(""),
            groups: &empty_groups,
        };
        assert_eq!(relation("", Some(""), &who), ClusterRelation::None);
        assert_eq!(relation(" , ,", Some("  "), &who), ClusterRelation::None);
        assert_eq!(admin_entries(" , a ,, b ").collect::<Vec<_>>(), ["a", "b"]);
    }
}
