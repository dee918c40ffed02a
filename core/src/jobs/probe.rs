//! Whether a VM offers remote login: a short TCP connect to its SSH or RDP port.
//!
//! The probe is a trait so tests (and sites that forbid probing) hand in their own; the default
//! connects with a one-second limit. Which addresses may be probed at all is decided by the
//! address job (`addresses::may_probe`), never here.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

/// A remote-login service pvelab tells students about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemoteService {
    /// Secure shell (port 22).
    Ssh,
    /// Remote desktop (port 3389).
    Rdp,
}

/// The future a [`PortProbe`] returns.
pub type ProbeFuture<'a> = Pin<Box<dyn Future<Output = bool> + Send + 'a>>;

/// Checks whether a service answers at an address.
pub trait PortProbe: Send + Sync + fmt::Debug {
    /// Whether `service` accepts a connection at `ip`. Must give up quickly (about a second):
    /// the address job waits for it.
    fn is_open(&self, ip: IpAddr, service: RemoteService) -> ProbeFuture<'_>;
}

/// The default probe: a TCP connect with a time limit.
#[derive(Debug, Clone)]
pub struct TcpProbe {
    ssh_port: u16,
    rdp_port: u16,
    timeout: Duration,
}

impl Default for TcpProbe {
    fn default() -> Self {
        Self {
            ssh_port: 22,
            rdp_port: 3389,
            timeout: Duration::from_secs(1),
        }
    }
}

impl TcpProbe {
    /// Probe these ports instead of 22 and 3389 (sites that move SSH, tests on loopback).
    pub fn with_ports(mut self, ssh: u16, rdp: u16) -> Self {
        self.ssh_port = ssh;
        self.rdp_port = rdp;
        self
    }

    /// Give up after `timeout` instead of one second.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl PortProbe for TcpProbe {
    fn is_open(&self, ip: IpAddr, service: RemoteService) -> ProbeFuture<'_> {
        let port = match service {
            RemoteService::Ssh => self.ssh_port,
            RemoteService::Rdp => self.rdp_port,
        };
        let timeout = self.timeout;
        Box::pin(async move {
            let connect = tokio::net::TcpStream::connect(SocketAddr::new(ip, port));
            matches!(tokio::time::timeout(timeout, connect).await, Ok(Ok(_)))
        })
    }
}

/// A probe that never connects anywhere and answers "closed": for sites that forbid probing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProbe;

impl PortProbe for NoProbe {
    fn is_open(&self, _ip: IpAddr, _service: RemoteService) -> ProbeFuture<'_> {
        Box::pin(async { false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_open_port_answers_and_a_closed_one_does_not() {
        let open = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed_port = closed.local_addr().unwrap().port();
        drop(closed);
        let probe = TcpProbe::default()
            .with_ports(open.local_addr().unwrap().port(), closed_port)
            .with_timeout(Duration::from_secs(2));
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(probe.is_open(lo, RemoteService::Ssh).await);
        assert!(!probe.is_open(lo, RemoteService::Rdp).await);
        assert!(!NoProbe.is_open(lo, RemoteService::Ssh).await);
    }
}
