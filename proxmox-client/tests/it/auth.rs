//! Tickets: login, CSRF on writes only, renewal by age, one re-login on 401, single flight.

use pvelab_proxmox::{Client, Error};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header as header_is};
use wiremock::{MockServer, ResponseTemplate};

use crate::support::*;

const TICKET_PATH: &str = "/api2/json/access/ticket";

/// A `GET /version` reply for release 9.2.
fn version_reply() -> ResponseTemplate {
    json_reply(
        200,
        json!({"data":{"version":"9.2.0","release":"9.2","repoid":"x"}}),
    )
}

async fn serve_version(server: &MockServer) {
    on("GET", "/api2/json/version")
        .respond_with(version_reply())
        .mount(server)
        .await;
}

/// `GET /version` whose replies show the server's clock at `date`.
async fn serve_version_dated(server: &MockServer, date: std::time::SystemTime) {
    on("GET", "/api2/json/version")
        .respond_with(version_reply().insert_header("Date", httpdate::fmt_http_date(date).as_str()))
        .mount(server)
        .await;
}

/// Password logins answer with `ticket`; renewals (password = a ticket) with `renewed`.
async fn serve_logins(server: &MockServer, ticket: &str, renewed: &str) {
    on("POST", TICKET_PATH)
        .and(body_string_contains("password=s3cret-pass"))
        .respond_with(json_reply(200, login_reply(ticket, "AAAA:csrf-login")))
        .mount(server)
        .await;
    on("POST", TICKET_PATH)
        .and(body_string_contains("password=PVE%3Aroot%40pam%3A"))
        .respond_with(json_reply(200, login_reply(renewed, "BBBB:csrf-renewed")))
        .mount(server)
        .await;
}

/// A server that logs in with `ticket`, renews with `renewed` and serves `GET /version`, and a
/// password client for it.
async fn logging_in_server(ticket: &str, renewed: &str) -> (MockServer, Client) {
    let server = MockServer::start().await;
    serve_logins(&server, ticket, renewed).await;
    serve_version(&server).await;
    let client = password_client(&server);
    (server, client)
}

async fn logins(server: &MockServer) -> Vec<String> {
    received(server, "POST", TICKET_PATH)
        .await
        .iter()
        .map(body)
        .collect()
}

#[tokio::test]
async fn a_ticket_is_sent_as_cookie_and_csrf_only_on_writes() {
    let t = ticket(0, "fresh");
    let (server, client) = logging_in_server(&t, "unused").await;
    on("POST", "/api2/json/nodes/pve1/qemu/101/status/start")
        .respond_with(json_reply(
            200,
            json!({"data":"UPID:pve1:00000001:00000002:00000003:qmstart:101:root@pam:"}),
        ))
        .mount(&server)
        .await;
    client.version().await.expect("get");
    client.node("pve1").qemu(101).start().await.expect("post");

    let login = &logins(&server).await[0];
    assert!(login.contains("username=root%40pam"), "{login}");
    let get = &received(&server, "GET", "/api2/json/version").await[0];
    assert_eq!(header(get, "cookie"), Some(format!("PVEAuthCookie={t}")));
    assert_eq!(
        header(get, "csrfpreventiontoken"),
        None,
        "GETs carry no CSRF token"
    );
    let post = &received(
        &server,
        "POST",
        "/api2/json/nodes/pve1/qemu/101/status/start",
    )
    .await[0];
    assert_eq!(
        header(post, "csrfpreventiontoken").as_deref(),
        Some("AAAA:csrf-login")
    );
    assert_eq!(header(post, "cookie"), Some(format!("PVEAuthCookie={t}")));
    assert_eq!(logins(&server).await.len(), 1, "the ticket is reused");
}

#[tokio::test]
async fn a_ticket_older_than_an_hour_is_renewed_with_itself_as_password() {
    let old = ticket(3700, "old");
    let fresh = ticket(0, "fresh");
    let (server, client) = logging_in_server(&old, &fresh).await;

    client.version().await.expect("first");
    client.version().await.expect("second");

    let bodies = logins(&server).await;
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(bodies[0].contains("password=s3cret-pass"));
    assert!(
        bodies[1].contains("%3A%3Aold"),
        "renewal sends the old ticket: {}",
        bodies[1]
    );
    let gets = received(&server, "GET", "/api2/json/version").await;
    assert_eq!(
        header(&gets[0], "cookie"),
        Some(format!("PVEAuthCookie={old}"))
    );
    assert_eq!(
        header(&gets[1], "cookie"),
        Some(format!("PVEAuthCookie={fresh}"))
    );
}

#[tokio::test]
async fn two_concurrent_requests_after_expiry_share_one_renewal() {
    let (server, client) = logging_in_server(&ticket(3700, "old"), &ticket(0, "fresh")).await;
    client.version().await.expect("first login");

    let other = client.clone();
    let (a, b) = tokio::join!(client.version(), other.version());
    a.expect("a");
    b.expect("b");

    let bodies = logins(&server).await;
    assert_eq!(
        bodies.len(),
        2,
        "one login plus exactly one renewal: {bodies:?}"
    );
}

#[tokio::test]
async fn two_concurrent_first_requests_log_in_once() {
    let (server, client) = logging_in_server(&ticket(0, "fresh"), "unused").await;
    let (a, b) = tokio::join!(client.version(), client.version());
    a.expect("a");
    b.expect("b");
    assert_eq!(logins(&server).await.len(), 1);
}

#[tokio::test]
async fn a_refused_ticket_triggers_one_fresh_login_and_the_request_succeeds() {
    let server = MockServer::start().await;
    let first = ticket(0, "first");
    let second = ticket(0, "second");
    on("POST", TICKET_PATH)
        .respond_with(json_reply(200, login_reply(&first, "C:1")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    on("POST", TICKET_PATH)
        .respond_with(json_reply(200, login_reply(&second, "C:2")))
        .with_priority(2)
        .mount(&server)
        .await;
    // The server forgot the first ticket (e.g. its key was rotated): 401, empty body.
    on("GET", "/api2/json/version")
        .and(header_is(
            "cookie",
            format!("PVEAuthCookie={first}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    on("GET", "/api2/json/version")
        .and(header_is(
            "cookie",
            format!("PVEAuthCookie={second}").as_str(),
        ))
        .respond_with(version_reply())
        .mount(&server)
        .await;

    let v = password_client(&server)
        .version()
        .await
        .expect("re-login succeeds");
    assert_eq!(v.release, "9.2");
    let bodies = logins(&server).await;
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies.iter().all(|b| b.contains("password=s3cret-pass")),
        "a refused ticket is not renewed: {bodies:?}"
    );
}

#[tokio::test]
async fn a_second_401_is_reported_and_not_looped() {
    let server = MockServer::start().await;
    serve_logins(&server, &ticket(0, "t"), "unused").await;
    on("GET", "/api2/json/version")
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let err = password_client(&server)
        .version()
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert_eq!(
        received(&server, "GET", "/api2/json/version").await.len(),
        2
    );
    assert_eq!(logins(&server).await.len(), 2);
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_error() {
    let server = MockServer::start().await;
    on("POST", TICKET_PATH)
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let err = password_client(&server)
        .version()
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert_eq!(
        logins(&server).await.len(),
        1,
        "a refused login is not retried"
    );
}

#[tokio::test]
async fn a_token_refused_with_401_is_not_retried() {
    let server = MockServer::start().await;
    on("GET", "/api2/json/version")
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let err = token_client(&server).version().await.expect_err("refused");
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
}

#[tokio::test]
async fn debug_output_of_clients_never_shows_secrets() {
    let server = MockServer::start().await;
    let text = format!("{:?} {:?}", token_client(&server), password_client(&server));
    assert!(!text.contains("6f1e2d3c"), "{text}");
    assert!(!text.contains("s3cret-pass"), "{text}");
    assert!(
        text.contains("pvelab@pve!ci"),
        "the token id is not secret: {text}"
    );
}

#[tokio::test]
async fn a_refused_renewal_falls_back_to_the_password() {
    let server = MockServer::start().await;
    let old = ticket(3700, "old");
    let fresh = ticket(0, "fresh");
    on("POST", TICKET_PATH)
        .and(body_string_contains("password=s3cret-pass"))
        .respond_with(json_reply(200, login_reply(&old, "A:1")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    on("POST", TICKET_PATH)
        .and(body_string_contains("password=s3cret-pass"))
        .respond_with(json_reply(200, login_reply(&fresh, "A:2")))
        .with_priority(2)
        .mount(&server)
        .await;
    // The old ticket has expired on the server (e.g. the tool slept for 3 hours).
    on("POST", TICKET_PATH)
        .and(body_string_contains("password=PVE%3A"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    serve_version(&server).await;
    let client = password_client(&server);
    client.version().await.expect("first");
    client.version().await.expect("second, after a fresh login");
    let bodies = logins(&server).await;
    assert_eq!(bodies.len(), 3, "login, refused renewal, login: {bodies:?}");
    let gets = received(&server, "GET", "/api2/json/version").await;
    assert_eq!(
        header(&gets[1], "cookie"),
        Some(format!("PVEAuthCookie={fresh}"))
    );
}

#[tokio::test]
async fn a_server_clock_hours_behind_ours_does_not_cause_a_renewal_per_request() {
    let server = MockServer::start().await;
    // The server's clock is two hours behind: its fresh tickets look two hours old to us.
    let server_now = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    let t = ticket(7200, "skewed");
    on("POST", TICKET_PATH)
        .respond_with(
            json_reply(200, login_reply(&t, "S:1"))
                .insert_header("Date", httpdate::fmt_http_date(server_now).as_str()),
        )
        .mount(&server)
        .await;
    // Every reply of this server shows its clock, as a real server's would.
    serve_version_dated(&server, server_now).await;
    let client = password_client(&server);
    for _ in 0..3 {
        client.version().await.expect("version");
    }
    assert_eq!(
        logins(&server).await.len(),
        1,
        "the ticket is fresh on the server's clock"
    );
}

#[tokio::test]
async fn a_server_clock_that_moves_on_after_the_login_makes_the_ticket_due() {
    let server = MockServer::start().await;
    serve_logins(&server, &ticket(0, "fresh"), &ticket(0, "renewed")).await;
    // After the login the server's replies show its clock an hour and a bit further on
    // (e.g. it was corrected by NTP): on its clock the ticket is now over an hour old.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3700);
    serve_version_dated(&server, later).await;
    let client = password_client(&server);
    client.version().await.expect("first");
    client.version().await.expect("second");

    let bodies = logins(&server).await;
    assert_eq!(bodies.len(), 2, "login, then one renewal: {bodies:?}");
    assert!(
        bodies[1].contains("password=PVE%3Aroot%40pam%3A"),
        "{}",
        bodies[1]
    );
}
