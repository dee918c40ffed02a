//! Default trust ("system roots") includes the machine's certificate store: a school's own CA,
//! installed there, is trusted without being named to pvelab, and a CA outside the store is not.
//!
//! A test binary of its own: it points `SSL_CERT_FILE` (where the store is read from, as
//! OpenSSL does) at files it writes, and that setting holds for the whole process.

#[path = "it/raw_server.rs"]
#[allow(dead_code)]
mod raw_server;

use std::time::Duration;

use pvelab_proxmox::{Client, Error, RetryPolicy};
use rcgen::{BasicConstraints, Certificate, CertificateParams, IsCa, KeyPair};

use raw_server::{acceptor, response, RawServer};

const VERSION_BODY: &str = r#"{"data":{"version":"9.2.0","release":"9.2","repoid":"x"}}"#;

/// A CA: its certificate and key.
fn certificate_authority() -> (Certificate, KeyPair) {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    (params.self_signed(&key).expect("ca"), key)
}

fn client(url: &str) -> Client {
    Client::builder(url)
        .api_token("pvelab@pve!ci=6f1e2d3c-0000-4444-8888-123456789abc")
        .retry_policy(RetryPolicy {
            max_retries: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("valid client")
}

/// A server for 127.0.0.1 with a certificate `ca` issued.
async fn server_of(ca: &(Certificate, KeyPair)) -> RawServer {
    let leaf_key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&leaf_key, &ca.0, &ca.1)
        .expect("leaf");
    RawServer::start(
        vec![response("200 OK", VERSION_BODY)],
        Some(acceptor(
            vec![leaf.der().to_vec()],
            leaf_key.serialize_der(),
        )),
    )
    .await
}

#[tokio::test]
async fn a_ca_in_the_machines_store_is_trusted_by_default_and_one_outside_it_is_not() {
    let school = certificate_authority();
    let outsider = certificate_authority();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("ca-certificates.crt");
    std::fs::write(&store, school.0.pem()).expect("write store");
    // Read once per process, at the first client with default trust: set before it.
    std::env::set_var("SSL_CERT_FILE", &store);

    let trusted = server_of(&school).await;
    let version = client(&format!("https://{}", trusted.addr))
        .version()
        .await
        .expect("trusted through the store, with no CA named to the client");
    assert_eq!(version.release, "9.2");

    let untrusted = server_of(&outsider).await;
    let refused = client(&format!("https://{}", untrusted.addr))
        .version()
        .await
        .expect_err("a CA outside the store");
    assert!(matches!(refused, Error::Transport { .. }), "{refused:?}");
    assert!(untrusted.requests().is_empty());
}
