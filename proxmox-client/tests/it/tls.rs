//! TLS trust against a real TLS server with rcgen certificates, and PVE's reason phrases.

use std::time::Duration;

use pvelab_proxmox::{Client, ConfigUpdate, Error, Fingerprint};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

use crate::raw_server::{acceptor, response, RawServer};
use crate::support::*;

const VERSION_BODY: &str = r#"{"data":{"version":"9.2.0","release":"9.2","repoid":"x"}}"#;

struct SelfSigned {
    der: Vec<u8>,
    key: Vec<u8>,
}

fn self_signed() -> SelfSigned {
    let ck =
        rcgen::generate_simple_self_signed(vec!["pve1.lab.invalid".to_owned()]).expect("rcgen");
    SelfSigned {
        der: ck.cert.der().to_vec(),
        key: ck.key_pair.serialize_der(),
    }
}

async fn tls_server(chain: Vec<Vec<u8>>, key: Vec<u8>) -> RawServer {
    RawServer::start(
        vec![response("200 OK", VERSION_BODY)],
        Some(acceptor(chain, key)),
    )
    .await
}

fn client(builder: pvelab_proxmox::ClientBuilder) -> Client {
    builder
        .api_token(TOKEN)
        .retry_policy(fast_retry())
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("valid client")
}

#[tokio::test]
async fn the_right_pin_is_accepted_even_for_a_self_signed_certificate_with_another_name() {
    let cert = self_signed();
    let pin = Fingerprint::of_der(&cert.der).to_string();
    let server = tls_server(vec![cert.der], cert.key).await;
    let c = client(Client::builder(&format!("https://{}", server.addr)).fingerprint(&pin));
    assert_eq!(c.version().await.expect("pinned").release, "9.2");
    assert!(server.requests()[0].starts_with("GET /api2/json/version HTTP/1.1"));
}

#[tokio::test]
async fn a_wrong_pin_is_refused_and_the_error_shows_the_presented_fingerprint() {
    let cert = self_signed();
    let real = Fingerprint::of_der(&cert.der).to_string();
    let wrong = Fingerprint::of_der(b"some other certificate").to_string();
    let server = tls_server(vec![cert.der], cert.key).await;
    let c = client(Client::builder(&format!("https://{}", server.addr)).fingerprint(&wrong));
    let err = c.version().await.expect_err("wrong pin");
    match &err {
        Error::FingerprintMismatch {
            expected,
            presented,
        } => {
            assert_eq!(presented, &real);
            assert_eq!(expected, &wrong);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains(&real), "{err}");
    assert!(
        server.requests().is_empty(),
        "nothing was sent to the untrusted server"
    );
    assert_eq!(
        server.connections(),
        1,
        "a certificate problem is not retried"
    );
}

#[tokio::test]
async fn a_custom_ca_file_trusts_the_certificates_it_issued() {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let leaf_key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("leaf");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_path = dir.path().join("pve-root-ca.pem");
    std::fs::write(&ca_path, ca.pem()).expect("write CA");

    let server = tls_server(
        vec![leaf.der().to_vec(), ca.der().to_vec()],
        leaf_key.serialize_der(),
    )
    .await;
    let c = client(Client::builder(&format!("https://{}", server.addr)).ca_file(&ca_path));
    assert_eq!(c.version().await.expect("trusted by CA").release, "9.2");
}

#[tokio::test]
async fn default_trust_refuses_a_self_signed_certificate_without_retrying() {
    let cert = self_signed();
    let server = tls_server(vec![cert.der], cert.key).await;
    let c = client(Client::builder(&format!("https://{}", server.addr)));
    let err = c.version().await.expect_err("untrusted");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(server.requests().is_empty());
    assert_eq!(
        server.connections(),
        1,
        "a certificate problem is not retried"
    );
}

#[tokio::test]
async fn insecure_mode_accepts_anything() {
    let cert = self_signed();
    let server = tls_server(vec![cert.der], cert.key).await;
    let c = client(Client::builder(&format!("https://{}", server.addr)).insecure());
    assert_eq!(c.version().await.expect("insecure").release, "9.2");
}

#[tokio::test]
async fn an_unreadable_ca_file_is_a_configuration_error_naming_the_path() {
    let err = Client::builder("https://pve1:8006")
        .api_token(TOKEN)
        .ca_file("/nonexistent/pve-root-ca.pem")
        .build()
        .expect_err("missing file");
    assert!(
        err.to_string().contains("/nonexistent/pve-root-ca.pem"),
        "{err}"
    );
}

#[tokio::test]
async fn a_401_with_an_empty_body_reports_the_reason_phrase() {
    let server = RawServer::start(vec![response("401 No ticket", "")], None).await;
    let c = client(Client::builder(&format!("http://{}", server.addr)));
    let err = c.version().await.expect_err("401");
    assert_eq!(err.to_string(), "authentication failed: No ticket");
}

#[tokio::test]
async fn a_lock_timeout_given_only_in_the_status_line_is_retried_for_a_write() {
    let server = RawServer::start(
        vec![
            response(
                "500 can't lock file '/var/lock/qemu-server/lock-203.conf' - got timeout",
                r#"{"data":null}"#,
            ),
            response("200 OK", r#"{"data":null}"#),
        ],
        None,
    )
    .await;
    let c = client(Client::builder(&format!("http://{}", server.addr)));
    c.node("pve1")
        .qemu(203)
        .update_config(&ConfigUpdate::new().set("memory", 2048))
        .await
        .expect("second attempt succeeds");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests
        .iter()
        .all(|r| r.starts_with("PUT /api2/json/nodes/pve1/qemu/203/config")));
}

#[tokio::test]
async fn a_semantic_error_in_the_status_line_combines_with_the_body_message() {
    let server = RawServer::start(
        vec![response(
            "500 VM 101 is running - destroy failed",
            r#"{"data":null,"message":"VM 101 is running - destroy failed\n"}"#,
        )],
        None,
    )
    .await;
    let c = client(Client::builder(&format!("http://{}", server.addr)));
    let err = c
        .node("pve1")
        .qemu(101)
        .delete(&pvelab_proxmox::DeleteParams::purge_all())
        .await
        .expect_err("running");
    assert_eq!(
        err.to_string(),
        "API error 500: VM 101 is running - destroy failed"
    );
    let req = &server.requests()[0];
    assert!(
        req.starts_with("DELETE /api2/json/nodes/pve1/qemu/101?"),
        "{req}"
    );
    assert!(
        !req.to_lowercase().contains("content-length: "),
        "a DELETE has no body: {req}"
    );
}
