//! The HTTPS server: a self-signed certificate made at start, rustls (ring), HTTP/1.1 only
//! (like pveproxy), one task per connection, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::path::Path;
use tower::ServiceExt;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::control::OutageMode;
use crate::error::{Error, Result};

/// The service error that makes hyper close a connection without answering.
#[derive(Debug)]
struct Unreachable;

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("simulated outage")
    }
}

impl std::error::Error for Unreachable {}

/// TLS configuration and the certificate's fingerprint.
pub(crate) struct Tls {
    pub(crate) config: Arc<rustls::ServerConfig>,
    pub(crate) fingerprint: String,
}

/// Colon-separated upper-case SHA-256 hex, as `GET /nodes` shows `ssl_fingerprint`.
pub(crate) fn fingerprint_of(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The certificate and key: loaded from `cert_dir` (`cert.pem`, `key.pem`) when both exist
/// there, else generated (and written there when a folder is given, so the next start keeps
/// the same fingerprint).
fn cert_and_key(
    names: Vec<String>,
    cert_dir: Option<&Path>,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>)> {
    let tls_err = |what: &str, e: &dyn std::fmt::Display| Error::Tls(format!("{what}: {e}"));
    if let Some(dir) = cert_dir {
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        if cert_path.exists() && key_path.exists() {
            let read =
                |p: &Path| std::fs::read(p).map_err(|e| tls_err(&p.display().to_string(), &e));
            let cert = CertificateDer::from_pem_slice(&read(&cert_path)?)
                .map_err(|e| tls_err(&cert_path.display().to_string(), &e))?;
            let key = PrivateKeyDer::from_pem_slice(&read(&key_path)?)
                .map_err(|e| tls_err(&key_path.display().to_string(), &e))?;
            return Ok((cert, key));
        }
    }
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| Error::Tls(e.to_string()))?;
    if let Some(dir) = cert_dir {
        std::fs::create_dir_all(dir).map_err(|e| tls_err(&dir.display().to_string(), &e))?;
        for (file, text) in [
            ("cert.pem", ck.cert.pem()),
            ("key.pem", ck.key_pair.serialize_pem()),
        ] {
            let path = dir.join(file);
            std::fs::write(&path, text).map_err(|e| tls_err(&path.display().to_string(), &e))?;
        }
    }
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
    Ok((ck.cert.der().clone(), key))
}

pub(crate) fn make_tls(names: Vec<String>, cert_dir: Option<&Path>) -> Result<Tls> {
    let (der, key) = cert_and_key(names, cert_dir)?;
    let fingerprint = fingerprint_of(&der);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .map_err(|e| Error::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        config: Arc::new(config),
        fingerprint,
    })
}

/// Accept connections until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    outage: watch::Receiver<Option<OutageMode>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            a = listener.accept() => a,
        };
        let Ok((tcp, _peer)) = accepted else {
            // Out of file descriptors or similar: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        let outage = outage.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let Ok(Ok(stream)) =
                tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
            else {
                return;
            };
            let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let app = app.clone();
                let mut outage = outage.clone();
                async move {
                    // The control API stays reachable during an outage so tests can end it.
                    if !req.uri().path().starts_with("/_sim") {
                        let mode = *outage.borrow();
                        match mode {
                            // An error from the service makes hyper drop the connection
                            // without an answer, as when a node goes away mid-request.
                            Some(OutageMode::Refuse) => return Err(Unreachable),
                            Some(OutageMode::Hang) => {
                                let _ = outage.wait_for(Option::is_none).await;
                            }
                            None => {}
                        }
                    }
                    match app.oneshot(req).await {
                        Ok(resp) => Ok(resp),
                        Err(never) => match never {},
                    }
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(5), conn).await;
                }
            }
        });
    }
}
