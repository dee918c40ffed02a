//! Both kinds of authentication and TLS pinning against the simulator: API tokens, tickets
//! with CSRF tokens, renewal of an hour-old ticket before it is refused, a fresh login after the
//! ticket expired (shared by concurrent requests), refused credentials, and a wrong
//! certificate fingerprint.

use pvelab_proxmox::{Client, CloneParams, Error};
use pvelab_pve_sim::SimConfig;

use crate::support;

const LOGIN: (&str, &str) = ("POST", "/access/ticket");

#[tokio::test]
async fn a_password_client_logs_in_once_and_its_writes_carry_the_csrf_token() {
    let sim = support::sim().await;
    let client = support::password_client(&sim);

    client.version().await.expect("version with a ticket");
    client.nodes().await.expect("nodes with a ticket");
    let id = client.free_vmid(Some(200)).await.expect("free id");
    // The simulator refuses a write with a ticket but without a valid CSRF token (401).
    let upid = support::clone_and_wait(
        &client,
        CloneParams::new(id),
        "a write with ticket and CSRF token",
    )
    .await;

    assert_eq!(
        sim.count(LOGIN.0, LOGIN.1),
        1,
        "one login serves every call"
    );
    assert_eq!(
        upid.user(),
        sim.username(),
        "the task runs as the logged-in user"
    );
    assert!(
        !format!("{client:?}").contains(&sim.password()),
        "{client:?}"
    );
}

#[tokio::test]
async fn an_expired_ticket_costs_one_fresh_login_shared_by_concurrent_requests() {
    let cfg = SimConfig {
        ticket_lifetime_secs: 600,
        ..support::config()
    };
    let sim = support::start(cfg).await;
    let client = support::password_client(&sim);
    client.version().await.expect("first login");
    assert_eq!(sim.count(LOGIN.0, LOGIN.1), 1);

    // The ticket (and its CSRF token) expire on the simulated clock.
    sim.advance_clock(601.0);
    sim.reset_counters();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let client = client.clone();
        calls.spawn(async move { client.nodes().await });
    }
    while let Some(done) = calls.join_next().await {
        let nodes = done
            .expect("the call did not panic")
            .expect("nodes after re-login");
        assert_eq!(nodes.len(), 3);
    }

    assert_eq!(
        sim.count(LOGIN.0, LOGIN.1),
        1,
        "eight refused requests share one fresh login"
    );
    assert_eq!(
        sim.count("GET", "/nodes"),
        16,
        "each request was refused once and then sent again with the new ticket"
    );
    let id = client.free_vmid(Some(300)).await.expect("free id");
    support::clone_and_wait(
        &client,
        CloneParams::new(id),
        "a write with the new CSRF token",
    )
    .await;
    assert_eq!(sim.count(LOGIN.0, LOGIN.1), 1);
}

#[tokio::test]
async fn a_ticket_over_an_hour_old_on_the_servers_clock_is_renewed_before_any_request_is_refused() {
    let sim = support::sim().await;
    let lifetime = sim.config().ticket_lifetime_secs as f64;
    let client = support::password_client(&sim);
    client.version().await.expect("login");
    assert_eq!(sim.count(LOGIN.0, LOGIN.1), 1);

    // Past the client's renewal age (one hour), within the ticket's lifetime.
    let aged = 5400.0;
    assert!(aged < lifetime, "the ticket must still be valid");
    sim.advance_clock(aged);
    for _ in 0..3 {
        client.nodes().await.expect("nodes");
    }

    assert_eq!(
        sim.count_status(LOGIN.0, LOGIN.1, 200),
        2,
        "one login and one renewal, the renewal as soon as a reply showed the server's clock"
    );
    assert_eq!(sim.total_with_status(401), 0, "no request was refused");

    // The first ticket has now expired on the simulator; the renewed one carries on.
    sim.advance_clock(lifetime - aged + 60.0);
    let id = client.free_vmid(Some(200)).await.expect("free id");
    support::clone_and_wait(
        &client,
        CloneParams::new(id),
        "a write with the renewed ticket and CSRF token",
    )
    .await;
    assert_eq!(
        sim.total_with_status(401),
        0,
        "the renewed ticket is in use"
    );
    assert_eq!(sim.count(LOGIN.0, LOGIN.1), 2);
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_error_after_a_single_attempt() {
    let sim = support::sim().await;
    let client = support::builder(&sim)
        .password(&sim.username(), "not-the-password")
        .build()
        .expect("client");

    let err = client.version().await.expect_err("refused");

    match &err {
        Error::Authentication { message } => {
            assert!(message.contains("authentication failure"), "{message}")
        }
        other => panic!("expected an authentication error, got {other:?}"),
    }
    assert!(!err.to_string().contains("not-the-password"), "{err}");
    assert_eq!(sim.count(LOGIN.0, LOGIN.1), 1, "no login loop");
    assert_eq!(sim.count("GET", "/version"), 0);
}

#[tokio::test]
async fn a_wrong_token_secret_is_an_authentication_error_that_hides_the_secret() {
    let sim = support::sim().await;
    let token_id = sim
        .api_token()
        .split_once('=')
        .map(|(id, _)| id.to_owned())
        .expect("USER@REALM!ID=SECRET");
    let client = support::builder(&sim)
        .api_token(&format!("{token_id}=wrong-secret-1234"))
        .build()
        .expect("client");

    let err = client.version().await.expect_err("refused");

    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert_eq!(err.status(), Some(401));
    assert!(!format!("{err} {err:?} {client:?}").contains("wrong-secret-1234"));
    assert_eq!(
        sim.count("GET", "/version"),
        1,
        "a 401 with a token is final"
    );
}

#[tokio::test]
async fn a_wrong_fingerprint_is_refused_and_the_error_shows_the_presented_one() {
    let sim = support::sim().await;
    let wrong = ["AB"; 32].join(":");
    let client = Client::builder(&sim.base_url())
        .api_token(&sim.api_token())
        .fingerprint(&wrong)
        .retry_policy(support::fast_retry())
        .build()
        .expect("client");

    let err = client.version().await.expect_err("the pin does not match");

    match &err {
        Error::FingerprintMismatch {
            expected,
            presented,
        } => {
            assert_eq!(presented, &sim.fingerprint());
            assert_eq!(expected, &wrong);
        }
        other => panic!("expected a fingerprint mismatch, got {other:?}"),
    }
    assert!(err.to_string().contains(&sim.fingerprint()), "{err}");
    assert_eq!(
        sim.total_requests(),
        0,
        "nothing was sent to an unverified server"
    );
}

#[tokio::test]
async fn the_explicit_insecure_mode_talks_to_a_self_signed_server() {
    let sim = support::sim().await;
    let client = Client::builder(&sim.base_url())
        .api_token(&sim.api_token())
        .insecure()
        .build()
        .expect("client");

    assert_eq!(client.version().await.expect("version").release, "9.2");
}

#[tokio::test]
async fn a_client_without_a_pin_refuses_the_self_signed_certificate() {
    let sim = support::sim().await;
    let client = Client::builder(&sim.base_url())
        .api_token(&sim.api_token())
        .retry_policy(support::fast_retry())
        .build()
        .expect("client");

    let err = client
        .version()
        .await
        .expect_err("system roots do not know the simulator");

    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(sim.total_requests(), 0);
}

#[tokio::test]
async fn a_write_refused_for_an_expired_ticket_is_sent_again_after_login_and_happens_once() {
    let cfg = SimConfig {
        ticket_lifetime_secs: 600,
        ..support::config()
    };
    let sim = support::start(cfg).await;
    let client = support::password_client(&sim);
    let id = client.free_vmid(Some(200)).await.expect("free id");
    let before = sim.guest_count();
    sim.advance_clock(601.0);

    support::clone_and_wait(
        &client,
        CloneParams::new(id),
        "the clone succeeds after a fresh login",
    )
    .await;

    // A 401 is answered before anything runs, so sending the write again is safe.
    assert_eq!(sim.count("POST", "/nodes/{node}/qemu/{vmid}/clone"), 2);
    assert_eq!(sim.count(LOGIN.0, LOGIN.1), 2);
    assert_eq!(sim.guest_count(), before + 1);
}
