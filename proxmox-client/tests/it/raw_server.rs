//! A tiny HTTP/1.1 server on 127.0.0.1:0, optionally behind TLS, that answers with canned
//! responses. Unlike wiremock it can send a custom reason phrase, which is where PVE puts its
//! error text ("HTTP/1.1 401 No ticket").

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// A full response with `status_line` (e.g. `401 No ticket`) and a JSON body.
pub fn response(status_line: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status_line}\r\nContent-Type: application/json;charset=UTF-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

pub struct RawServer {
    pub addr: SocketAddr,
    /// Every request received, as text (head and body).
    pub requests: Arc<Mutex<Vec<String>>>,
    /// Connections accepted (a refused TLS handshake counts, a request is not needed).
    pub connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    /// Serve `responses` in order, one per connection; the last one repeats.
    pub async fn start(responses: Vec<String>, tls: Option<TlsAcceptor>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = connections.clone();
        let task = tokio::spawn(async move {
            let mut served = 0usize;
            while let Ok((tcp, _)) = listener.accept().await {
                let reply = responses[served.min(responses.len() - 1)].clone();
                served += 1;
                accepted.fetch_add(1, Ordering::SeqCst);
                let seen = seen.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            // A refused handshake is the point of some tests: ignore it.
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                serve(stream, &reply, &seen).await;
                            }
                        }
                        None => serve(tcp, &reply, &seen).await,
                    }
                });
            }
        });
        RawServer {
            addr,
            requests,
            connections,
            task,
        }
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("not poisoned").clone()
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    reply: &str,
    seen: &Mutex<Vec<String>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read the head, then as many body bytes as Content-Length says.
    let head_end = loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    seen.lock()
        .expect("not poisoned")
        .push(String::from_utf8_lossy(&buf).into_owned());
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A TLS acceptor for a DER certificate chain and PKCS#8 key.
pub fn acceptor(chain: Vec<Vec<u8>>, key_pkcs8: Vec<u8>) -> TlsAcceptor {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("default TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            chain.into_iter().map(CertificateDer::from).collect(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8)),
        )
        .expect("valid test certificate");
    TlsAcceptor::from(Arc::new(config))
}
