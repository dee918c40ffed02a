//! Cluster secrets at rest: sealed with the operator's key, never in clear in the file.

use pvelab_core::model::{ClusterChange, ClusterCredential, NewCluster};
use pvelab_core::types::{AdminEntry, ApiTokenId, ClusterId, Host, PveUser, Role};
use pvelab_core::Actor;
use pvelab_core::{Error, Lab, LabConfig, SealingKey};
use secrecy::SecretString;

use crate::support::{user, ActorId};

const PASSWORD: &str = "correct-horse-battery-staple-4711";
const TOKEN_SECRET: &str = "5f0c3c1e-token-secret-a8b1d9";

fn cluster(id: &str, credential: ClusterCredential) -> NewCluster {
    NewCluster::new(
        ClusterId::parse(id).expect("id"),
        Host::parse("pve.example").expect("host"),
        credential,
    )
}

fn password() -> ClusterCredential {
    ClusterCredential::Password {
        user: PveUser::parse("root@pam").expect("user"),
        password: SecretString::from(PASSWORD.to_owned()),
    }
}

fn token(id: &str) -> ClusterCredential {
    ClusterCredential::ApiToken {
        id: ApiTokenId::parse(id).expect("token id"),
        secret: SecretString::from(TOKEN_SECRET.to_owned()),
    }
}

/// A lab on `config` sealed with `key`, and an adminer in it.
async fn sealed_lab(config: LabConfig, key: SealingKey) -> (Lab, Actor) {
    let lab = Lab::open(config.with_sealing_key(key)).await.expect("open");
    let admin = user(&lab, "admin", Role::Adminer).await;
    (lab, admin)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn the_database_file_never_contains_a_clear_cluster_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let key = SealingKey::generate();
    let (lab, admin) = sealed_lab(LabConfig::file(&path), key.clone()).await;
    lab.add_cluster(&admin, cluster("a", password()))
        .await
        .expect("password cluster");
    lab.add_cluster(&admin, cluster("b", token("root@pam!lab")))
        .await
        .expect("token cluster");
    drop(lab);

    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("dir") {
        bytes.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
    }
    assert!(
        contains(&bytes, "root@pam!lab"),
        "the scan sees stored text"
    );
    assert!(
        !contains(&bytes, PASSWORD),
        "clear password in the database files"
    );
    assert!(
        !contains(&bytes, TOKEN_SECRET),
        "clear token secret in the database files"
    );

    // The same key opens them again.
    let lab = Lab::open(LabConfig::file(&path).with_sealing_key(key))
        .await
        .expect("reopen");
    let admin = lab.actor(admin.uid()).await.expect("admin");
    let id = ClusterId::parse("a").expect("id");
    let is = |credential: ClusterCredential| {
        let (lab, admin, id) = (&lab, &admin, &id);
        async move {
            lab.cluster_credential_is(admin, &[], id, &credential)
                .await
                .expect("compared")
        }
    };
    assert!(is(password()).await, "the stored password opens as it was");
    let other_password = ClusterCredential::Password {
        user: PveUser::parse("root@pam").expect("user"),
        password: SecretString::from(format!("{PASSWORD}x")),
    };
    assert!(!is(other_password).await, "another password differs");
    let other_user = ClusterCredential::Password {
        user: PveUser::parse("admin@pve").expect("user"),
        password: SecretString::from(PASSWORD.to_owned()),
    };
    assert!(!is(other_user).await, "another user differs");
    assert!(
        !is(token("root@pam!lab")).await,
        "a token is not the password"
    );
    let b = ClusterId::parse("b").expect("id");
    assert!(lab
        .cluster_credential_is(&admin, &[], &b, &token("root@pam!lab"))
        .await
        .expect("token compared"));
    assert!(!lab
        .cluster_credential_is(&admin, &[], &b, &token("root@pam!other"))
        .await
        .expect("token compared"));
}

#[tokio::test]
async fn storing_a_secret_without_a_key_is_refused_with_how_to_provide_one() {
    let lab = Lab::open_in_memory().await.expect("open");
    let admin = user(&lab, "admin", Role::Adminer).await;

    let refused = lab
        .add_cluster(&admin, cluster("a", password()))
        .await
        .expect_err("no key");

    assert!(matches!(refused, Error::NoSealingKey), "{refused:?}");
    assert!(refused.to_string().contains("sealing key"), "{refused}");
    assert!(lab.clusters(&admin).await.expect("list").is_empty());
}

#[tokio::test]
async fn a_lab_with_another_key_cannot_open_a_stored_credential() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let (lab, admin) = sealed_lab(LabConfig::file(&path), SealingKey::generate()).await;
    lab.add_cluster(&admin, cluster("a", password()))
        .await
        .expect("cluster");
    drop(lab);

    let other = Lab::open(LabConfig::file(&path).with_sealing_key(SealingKey::generate()))
        .await
        .expect("open with another key");
    let refused = other
        .cluster_credential_is(
            &admin,
            &[],
            &ClusterId::parse("a").expect("id"),
            &password(),
        )
        .await
        .expect_err("wrong key");
    assert!(matches!(refused, Error::Sealing { .. }), "{refused:?}");
    assert!(!refused.to_string().contains(PASSWORD));
}

#[tokio::test]
async fn a_cluster_admin_by_name_or_group_may_compare_its_credential_and_others_may_not() {
    let (lab, admin) = sealed_lab(LabConfig::in_memory(), SealingKey::generate()).await;
    let named = user(&lab, "ops-anna", Role::Teacher).await;
    let grouped = user(&lab, "ops-bert", Role::User).await;
    let outsider = user(&lab, "carl", Role::Teacher).await;
    let mut new = cluster("a", password());
    new.admin_users = vec![AdminEntry::external("ops-anna").expect("entry")];
    new.admin_group = Some("role:1234".into());
    lab.add_cluster(&admin, new).await.expect("cluster");
    let id = ClusterId::parse("a").expect("id");

    let secret = password();
    assert!(lab
        .cluster_credential_is(&named, &[], &id, &secret)
        .await
        .expect("named"));
    assert!(lab
        .cluster_credential_is(&grouped, &["role:1234".into()], &id, &secret)
        .await
        .expect("grouped"));
    let refused = lab
        .cluster_credential_is(&outsider, &["role:9".into()], &id, &secret)
        .await
        .expect_err("outsider");
    assert!(matches!(refused, Error::NotPermitted { .. }), "{refused:?}");
}

#[tokio::test]
async fn bad_ports_and_secrets_are_refused_by_name_before_anything_is_stored() {
    let (lab, admin) = sealed_lab(LabConfig::in_memory(), SealingKey::generate()).await;
    let no_port = cluster("a", password()).port(0);
    let empty_password = cluster(
        "b",
        ClusterCredential::Password {
            user: PveUser::parse("root@pam").expect("user"),
            password: SecretString::from(String::new()),
        },
    );
    let spaced_secret = cluster(
        "c",
        ClusterCredential::ApiToken {
            id: ApiTokenId::parse("root@pam!lab").expect("id"),
            secret: SecretString::from("two words".to_owned()),
        },
    );

    for (field, new) in [
        ("port", no_port),
        ("password", empty_password),
        ("token secret", spaced_secret),
    ] {
        let refused = lab.add_cluster(&admin, new).await.expect_err(field);
        assert!(matches!(refused, Error::InvalidValue(_)), "{refused:?}");
        assert!(refused.to_string().contains(field), "{refused}");
        assert!(!refused.to_string().contains("two words"), "{refused}");
    }
    assert!(lab.clusters(&admin).await.expect("list").is_empty());
}

#[tokio::test]
async fn a_second_default_cluster_is_refused_naming_the_current_default() {
    let (lab, admin) = sealed_lab(LabConfig::in_memory(), SealingKey::generate()).await;
    let mut first = cluster("first", password());
    first.is_default = true;
    let mut second = cluster("second", password());
    second.is_default = true;
    lab.add_cluster(&admin, first).await.expect("first default");

    let refused = lab
        .add_cluster(&admin, second)
        .await
        .expect_err("second default");

    assert!(
        matches!(&refused, Error::DefaultClusterTaken { current } if current.as_str() == "first"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn without_a_key_a_cluster_can_change_but_not_take_a_new_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let (lab, admin) = sealed_lab(LabConfig::file(&path), SealingKey::generate()).await;
    lab.add_cluster(&admin, cluster("a", password()))
        .await
        .expect("cluster");
    drop(lab);
    let keyless = Lab::open(LabConfig::file(&path)).await.expect("reopen");
    let admin = keyless.actor(admin.uid()).await.expect("admin");
    let id = ClusterId::parse("a").expect("id");

    let described = keyless
        .update_cluster(
            &admin,
            &[],
            &id,
            ClusterChange {
                description: Some(Some("rack 3".into())),
                ..ClusterChange::default()
            },
        )
        .await
        .expect("no secret involved");
    assert_eq!(described.description.as_deref(), Some("rack 3"));

    let refused = keyless
        .update_cluster(
            &admin,
            &[],
            &id,
            ClusterChange {
                credential: Some(token("root@pam!lab")),
                ..ClusterChange::default()
            },
        )
        .await
        .expect_err("a secret needs the key");
    assert!(matches!(refused, Error::NoSealingKey), "{refused:?}");
}
