//! Clusters the lab can really reach: `test_cluster` against a simulated PVE cluster over HTTPS on
//! loopback, with every way to trust it and both kinds of credential; the client is rebuilt when
//! the row changes; who may check and change a cluster.

use std::time::{Duration, Instant};

use pvelab_core::error::ClusterProblem;
use pvelab_core::model::{ClusterChange, ClusterCredential, ClusterTimeouts, NewCluster};
use pvelab_core::types::{
    AdminEntry, ApiTokenId, CaCertificate, ClusterId, ClusterTrust, Fingerprint, Host, PveUser,
    Role,
};
use pvelab_core::{Actor, Error, Lab, LabConfig, SealingKey};
use pvelab_pve_sim::{OutageMode, Sim, SimConfig, SimHandle};
use secrecy::SecretString;

use crate::support::user;

/// Short limits, so that a cluster that does not answer is reported well within 2 s.
fn quick() -> ClusterTimeouts {
    ClusterTimeouts {
        connect: Duration::from_secs(1),
        request: Duration::from_secs(1),
        retries: 0,
        check: Duration::from_millis(1500),
    }
}

async fn lab_with(timeouts: ClusterTimeouts) -> (Lab, Actor) {
    let lab = Lab::open(
        LabConfig::in_memory()
            .with_sealing_key(SealingKey::generate())
            .with_cluster_timeouts(timeouts),
    )
    .await
    .expect("open");
    let admin = user(&lab, "admin", Role::Adminer).await;
    (lab, admin)
}

async fn sim() -> SimHandle {
    Sim::start(SimConfig::fast()).await.expect("simulator")
}

fn id() -> ClusterId {
    ClusterId::parse("sim").expect("id")
}

fn pin(sim: &SimHandle) -> ClusterTrust {
    ClusterTrust::Fingerprint(Fingerprint::parse(&sim.fingerprint()).expect("sim fingerprint"))
}

fn wrong_pin() -> ClusterTrust {
    ClusterTrust::Fingerprint(Fingerprint::parse(&["00"; 32].join(":")).expect("fp"))
}

fn token(sim: &SimHandle) -> ClusterCredential {
    let full = sim.api_token();
    let (token_id, secret) = full.split_once('=').expect("ID=SECRET");
    ClusterCredential::ApiToken {
        id: ApiTokenId::parse(token_id).expect("token id"),
        secret: SecretString::from(secret.to_owned()),
    }
}

fn token_with_secret(sim: &SimHandle, secret: &str) -> ClusterCredential {
    match token(sim) {
        ClusterCredential::ApiToken { id, .. } => ClusterCredential::ApiToken {
            id,
            secret: SecretString::from(secret.to_owned()),
        },
        other => other,
    }
}

fn password(sim: &SimHandle, password: &str) -> ClusterCredential {
    ClusterCredential::Password {
        user: PveUser::parse(&sim.username()).expect("user"),
        password: SecretString::from(password.to_owned()),
    }
}

/// The simulator as a new cluster row with `credential` and `trust`.
fn cluster_at(sim: &SimHandle, credential: ClusterCredential, trust: ClusterTrust) -> NewCluster {
    let addr = sim.addr();
    NewCluster::new(
        id(),
        Host::parse(&addr.ip().to_string()).expect("host"),
        credential,
    )
    .port(addr.port())
    .trust(trust)
}

/// The problem of a failed check of the cluster `sim`.
fn problem(result: Result<impl std::fmt::Debug, Error>) -> ClusterProblem {
    match result {
        Err(Error::Cluster { cluster, problem }) => {
            assert_eq!(cluster, id());
            problem
        }
        other => panic!("expected a cluster error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_cluster_with_the_right_pin_answers_with_its_version_and_nodes() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    lab.add_cluster(&admin, cluster_at(&sim, token(&sim), pin(&sim)))
        .await
        .expect("add");

    let check = lab.test_cluster(&admin, &[], &id()).await.expect("check");

    assert_eq!(check.version, "9.2.0");
    let names: Vec<&str> = check.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["pve1", "pve2", "pve3"]);
    for node in &check.nodes {
        assert!(node.online, "{node:?}");
        assert_eq!(node.maxcpu, Some(32));
        assert_eq!(node.maxmem, Some(256 * 1024 * 1024 * 1024));
        assert!(node.mem.is_some_and(|m| m > 0), "{node:?}");
        assert!(
            node.cpu.is_some_and(|c| (0.0..=1.0).contains(&c)),
            "{node:?}"
        );
    }
}

#[tokio::test]
async fn a_wrong_pin_is_untrusted_and_names_the_fingerprint_the_cluster_presented() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    lab.add_cluster(&admin, cluster_at(&sim, token(&sim), wrong_pin()))
        .await
        .expect("add");

    let refused = lab.test_cluster(&admin, &[], &id()).await;

    match problem(refused) {
        ClusterProblem::Untrusted { presented, detail } => {
            assert_eq!(presented, Some(sim.fingerprint()));
            assert!(detail.contains("00:00:00"), "{detail}");
        }
        other => panic!("expected Untrusted, got {other:?}"),
    }
    assert_eq!(sim.count("GET", "/version"), 0, "nothing was sent");
}

#[tokio::test]
async fn a_wrong_token_secret_fails_authentication() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    let wrong = token_with_secret(&sim, "00000000-0000-0000-0000-000000000000");
    lab.add_cluster(&admin, cluster_at(&sim, wrong, pin(&sim)))
        .await
        .expect("add");

    let refused = lab.test_cluster(&admin, &[], &id()).await;

    assert!(
        matches!(
            problem(refused),
            ClusterProblem::AuthenticationFailed { .. }
        ),
        "authentication"
    );
}

#[tokio::test]
async fn a_password_login_works_and_a_wrong_password_fails_authentication() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    lab.add_cluster(
        &admin,
        cluster_at(&sim, password(&sim, &sim.password()), pin(&sim)),
    )
    .await
    .expect("add");

    let check = lab.test_cluster(&admin, &[], &id()).await.expect("check");
    assert_eq!(check.nodes.len(), 3);
    assert_eq!(sim.count_status("POST", "/access/ticket", 200), 1);

    let change = ClusterChange {
        credential: Some(password(&sim, "not-the-password")),
        ..ClusterChange::default()
    };
    lab.update_cluster(&admin, &[], &id(), change)
        .await
        .expect("update");
    let refused = lab.test_cluster(&admin, &[], &id()).await;
    assert!(
        matches!(
            problem(refused),
            ClusterProblem::AuthenticationFailed { .. }
        ),
        "authentication"
    );
}

#[tokio::test]
async fn a_closed_port_is_unreachable_within_two_seconds() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let (lab, admin) = lab_with(quick()).await;
    let credential = ClusterCredential::ApiToken {
        id: ApiTokenId::parse("root@pam!pvelab").expect("id"),
        secret: SecretString::from("secret".to_owned()),
    };
    let row = NewCluster::new(id(), Host::parse("127.0.0.1").expect("host"), credential)
        .port(port)
        .trust(wrong_pin());
    lab.add_cluster(&admin, row).await.expect("add");

    let started = Instant::now();
    let refused = lab.test_cluster(&admin, &[], &id()).await;

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    match problem(refused) {
        ClusterProblem::Unreachable { detail } => assert!(!detail.is_empty()),
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_cluster_whose_api_drops_every_request_is_unreachable_within_two_seconds() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    lab.add_cluster(&admin, cluster_at(&sim, token(&sim), pin(&sim)))
        .await
        .expect("add");
    sim.set_outage(Some(OutageMode::Refuse));

    let started = Instant::now();
    let refused = lab.test_cluster(&admin, &[], &id()).await;

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(problem(refused), ClusterProblem::Unreachable { .. }),
        "unreachable"
    );
}

#[tokio::test]
async fn a_hanging_cluster_is_reported_unreachable_when_the_check_time_is_up() {
    let sim = sim().await;
    // Production limits, except the time the whole check may take: retries and a 60 s request
    // timeout would take minutes, the check ends after one second.
    let timeouts = ClusterTimeouts {
        check: Duration::from_secs(1),
        ..ClusterTimeouts::default()
    };
    let (lab, admin) = lab_with(timeouts).await;
    lab.add_cluster(&admin, cluster_at(&sim, token(&sim), pin(&sim)))
        .await
        .expect("add");
    sim.set_outage(Some(OutageMode::Hang));

    let started = Instant::now();
    let refused = lab.test_cluster(&admin, &[], &id()).await;

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    match problem(refused) {
        ClusterProblem::Unreachable { detail } => assert!(detail.contains("1s"), "{detail}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    sim.set_outage(None);
    lab.test_cluster(&admin, &[], &id())
        .await
        .expect("answers again after the outage");
}

#[tokio::test]
async fn a_new_pin_or_secret_is_used_on_the_next_check() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    lab.add_cluster(&admin, cluster_at(&sim, token(&sim), wrong_pin()))
        .await
        .expect("add");
    let refused = lab.test_cluster(&admin, &[], &id()).await;
    assert!(matches!(problem(refused), ClusterProblem::Untrusted { .. }));

    let right_pin = ClusterChange {
        trust: Some(pin(&sim)),
        ..ClusterChange::default()
    };
    lab.update_cluster(&admin, &[], &id(), right_pin)
        .await
        .expect("pin");
    lab.test_cluster(&admin, &[], &id())
        .await
        .expect("the new pin is used");

    let wrong_secret = ClusterChange {
        credential: Some(token_with_secret(&sim, "wrong")),
        ..ClusterChange::default()
    };
    lab.update_cluster(&admin, &[], &id(), wrong_secret)
        .await
        .expect("secret");
    let refused = lab.test_cluster(&admin, &[], &id()).await;
    assert!(matches!(
        problem(refused),
        ClusterProblem::AuthenticationFailed { .. }
    ));
}

#[tokio::test]
async fn one_client_serves_a_cluster_until_its_row_changes() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    lab.add_cluster(
        &admin,
        cluster_at(&sim, password(&sim, &sim.password()), pin(&sim)),
    )
    .await
    .expect("add");

    lab.test_cluster(&admin, &[], &id()).await.expect("first");
    lab.test_cluster(&admin, &[], &id()).await.expect("second");
    assert_eq!(
        sim.count("POST", "/access/ticket"),
        1,
        "the second check reused the first client's ticket"
    );

    let unrelated = ClusterChange {
        description: Some(Some("room 101".into())),
        ..ClusterChange::default()
    };
    lab.update_cluster(&admin, &[], &id(), unrelated)
        .await
        .expect("update");
    lab.test_cluster(&admin, &[], &id()).await.expect("third");
    assert_eq!(
        sim.count("POST", "/access/ticket"),
        2,
        "a changed row builds a new client, which logs in anew"
    );
}

#[tokio::test]
async fn a_ca_certificate_trusts_the_cluster_it_issued_and_no_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SimConfig {
        cert_dir: Some(dir.path().to_owned()),
        ..SimConfig::fast()
    };
    let sim = Sim::start(config).await.expect("simulator");
    let own = std::fs::read_to_string(dir.path().join("cert.pem")).expect("cert.pem");
    let other_dir = tempfile::tempdir().expect("tempdir");
    let other = Sim::start(SimConfig {
        cert_dir: Some(other_dir.path().to_owned()),
        ..SimConfig::fast()
    })
    .await
    .expect("second simulator");
    let foreign = std::fs::read_to_string(other_dir.path().join("cert.pem")).expect("cert.pem");
    let (lab, admin) = lab_with(quick()).await;
    let ca = |pem: &str| ClusterTrust::CaCertificate(CaCertificate::parse(pem).expect("CA"));

    lab.add_cluster(&admin, cluster_at(&sim, token(&sim), ca(&foreign)))
        .await
        .expect("add");
    let refused = lab.test_cluster(&admin, &[], &id()).await;
    match problem(refused) {
        ClusterProblem::Untrusted { presented, .. } => assert_eq!(presented, None),
        other => panic!("expected Untrusted, got {other:?}"),
    }

    let own_ca = ClusterChange {
        trust: Some(ca(&own)),
        ..ClusterChange::default()
    };
    lab.update_cluster(&admin, &[], &id(), own_ca)
        .await
        .expect("update");
    lab.test_cluster(&admin, &[], &id())
        .await
        .expect("trusted through its CA");
    drop(other);
}

#[tokio::test]
async fn a_new_cluster_trusts_only_public_roots_so_a_self_signed_one_is_refused() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    let addr = sim.addr();
    let row = NewCluster::new(id(), Host::parse("127.0.0.1").expect("host"), token(&sim))
        .port(addr.port());
    assert_eq!(row.trust, ClusterTrust::SystemRoots, "the default");
    lab.add_cluster(&admin, row).await.expect("add");

    let refused = lab.test_cluster(&admin, &[], &id()).await;

    assert!(matches!(
        problem(refused),
        ClusterProblem::Untrusted {
            presented: None,
            ..
        }
    ));
    let insecure = ClusterChange {
        trust: Some(ClusterTrust::Insecure),
        ..ClusterChange::default()
    };
    lab.update_cluster(&admin, &[], &id(), insecure)
        .await
        .expect("update");
    lab.test_cluster(&admin, &[], &id())
        .await
        .expect("insecure accepts any certificate");
}

#[tokio::test]
async fn the_trust_is_stored_and_read_back_exactly() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    let added = lab
        .add_cluster(&admin, cluster_at(&sim, token(&sim), pin(&sim)))
        .await
        .expect("add");
    assert_eq!(added.trust, pin(&sim));
    assert_eq!(added.user.as_str(), "root@pam");
    assert_eq!(
        added.api_token_id.as_ref().map(ApiTokenId::as_str),
        Some("root@pam!pvelab")
    );

    for trust in [ClusterTrust::Insecure, ClusterTrust::SystemRoots, pin(&sim)] {
        let change = ClusterChange {
            trust: Some(trust.clone()),
            ..ClusterChange::default()
        };
        let changed = lab
            .update_cluster(&admin, &[], &id(), change)
            .await
            .expect("update");
        assert_eq!(changed.trust, trust);
        let listed = lab.clusters(&admin).await.expect("list");
        assert_eq!(listed[0].trust, trust);
    }
}

#[tokio::test]
async fn cluster_admins_may_check_their_cluster_and_others_may_not() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    let ops = user(&lab, "discord:7", Role::Teacher).await;
    let grouped = user(&lab, "discord:8", Role::User).await;
    let outsider = user(&lab, "discord:9", Role::Teacher).await;
    let mut row = cluster_at(&sim, token(&sim), pin(&sim));
    row.admin_users = vec![AdminEntry::external("discord:7").expect("entry")];
    row.admin_group = Some("role:ops".into());
    lab.add_cluster(&admin, row).await.expect("add");

    lab.test_cluster(&ops, &[], &id()).await.expect("listed");
    lab.test_cluster(&grouped, &["role:ops".into()], &id())
        .await
        .expect("in the group");
    let refused = lab
        .test_cluster(&outsider, &["role:other".into()], &id())
        .await
        .expect_err("outsider");
    assert!(matches!(refused, Error::NotPermitted { .. }), "{refused:?}");
}

#[tokio::test]
async fn a_local_user_named_like_an_admins_external_id_is_not_an_admin() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    let mut row = cluster_at(&sim, token(&sim), pin(&sim));
    row.admin_users = vec![AdminEntry::external("4242").expect("entry")];
    lab.add_cluster(&admin, row).await.expect("add");
    let namesake = lab
        .create_local_user(
            &admin,
            &pvelab_core::types::UserName::parse("4242").expect("user name"),
            &SecretString::from("a long local password".to_owned()),
            Role::Teacher,
        )
        .await
        .expect("local user");
    let namesake = lab.actor(namesake.id).await.expect("actor");
    let real = user(&lab, "4242", Role::User).await;

    let refused = lab
        .test_cluster(&namesake, &[], &id())
        .await
        .expect_err("a namesake");
    assert!(matches!(refused, Error::NotPermitted { .. }), "{refused:?}");
    lab.test_cluster(&real, &[], &id())
        .await
        .expect("the person with that external id");
}

#[tokio::test]
async fn only_adminers_change_who_administers_a_cluster() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    let ops = user(&lab, "discord:7", Role::Teacher).await;
    let mut row = cluster_at(&sim, token(&sim), pin(&sim));
    row.admin_users = vec![AdminEntry::external("discord:7").expect("entry")];
    lab.add_cluster(&admin, row).await.expect("add");

    let description = ClusterChange {
        description: Some(Some("rack 2".into())),
        ..ClusterChange::default()
    };
    let changed = lab
        .update_cluster(&ops, &[], &id(), description)
        .await
        .expect("a cluster admin changes the description");
    assert_eq!(changed.description.as_deref(), Some("rack 2"));

    let widen = ClusterChange {
        admin_users: Some(vec![
            AdminEntry::external("discord:7").expect("entry"),
            AdminEntry::local_user("friend").expect("entry"),
        ]),
        ..ClusterChange::default()
    };
    let refused = lab
        .update_cluster(&ops, &[], &id(), widen.clone())
        .await
        .expect_err("not an adminer");
    assert!(matches!(refused, Error::NotPermitted { .. }), "{refused:?}");

    let widened = lab
        .update_cluster(&admin, &[], &id(), widen)
        .await
        .expect("adminer");
    let kinds: Vec<String> = widened
        .admin_users
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(kinds, ["ext:discord:7", "user:friend"]);
}

#[tokio::test]
async fn a_removed_cluster_cannot_be_checked() {
    let sim = sim().await;
    let (lab, admin) = lab_with(quick()).await;
    lab.add_cluster(&admin, cluster_at(&sim, token(&sim), pin(&sim)))
        .await
        .expect("add");
    lab.test_cluster(&admin, &[], &id()).await.expect("check");

    lab.remove_cluster(&admin, &[], &id())
        .await
        .expect("remove");

    let gone = lab
        .test_cluster(&admin, &[], &id())
        .await
        .expect_err("gone");
    assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");
}

#[tokio::test]
async fn a_database_from_before_typed_trust_keeps_each_clusters_meaning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
             applied_at TEXT NOT NULL)",
        )
        .expect("ledger");
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
        for (version, name) in [
            (1, "0001_clusters_settings_users"),
            (2, "0002_templates_classes"),
            (3, "0003_vms_inventory_isos"),
            (4, "0004_enrollment_waitlist"),
        ] {
            let sql = std::fs::read_to_string(format!("{folder}/{name}.sql")).expect("sql");
            conn.execute_batch(&sql).expect(name);
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?1, ?2, '2025-01-01T00:00:00.000000Z')",
                rusqlite::params![version, name],
            )
            .expect("ledger row");
        }
        conn.execute_batch(
            "INSERT INTO clusters (cluster_id, name, host, user, api_token_id, api_token_secret, \
                 verify_ssl, admin_users, created_at, updated_at) VALUES \
             ('old', 'old', 'pve.example', 'root@pam', 'root@pam!old', x'00', 0, 'bob\n4242', \
                 '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z'), \
             ('kept', 'kept', 'pve2.example', 'root@pam', 'root@pam!old', x'00', 1, '', \
                 '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z')",
        )
        .expect("clusters of the old schema");
    }

    let lab = Lab::open(LabConfig::file(&path)).await.expect("migrate");
    let admin = user(&lab, "admin", Role::Adminer).await;
    let clusters = lab.clusters(&admin).await.expect("list");

    let trust = |name: &str| {
        clusters
            .iter()
            .find(|c| c.cluster_id.as_str() == name)
            .map(|c| (c.trust.clone(), c.admin_users.len()))
    };
    assert_eq!(trust("old"), Some((ClusterTrust::Insecure, 0)));
    assert_eq!(trust("kept"), Some((ClusterTrust::SystemRoots, 0)));
}
