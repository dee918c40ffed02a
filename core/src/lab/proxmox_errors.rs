//! The one translation of the API client's errors into the core's: every
//! [`pvelab_proxmox::Error`] becomes [`Error::Cluster`] with a [`ClusterProblem`] a front end can
//! act on, or [`Error::Internal`] when the fault is pvelab's own (a value the client refused
//! before sending anything). Everything that talks to Proxmox maps its errors here, so one
//! cluster failure reads the same wherever it happens.

use std::error::Error as StdError;

use crate::error::{ClusterProblem, Error};
use crate::types::ClusterId;

/// `error` from talking to `cluster`, as the core reports it.
pub(crate) fn cluster_error(cluster: &ClusterId, error: pvelab_proxmox::Error) -> Error {
    use pvelab_proxmox::Error as E;
    let detail = error.to_string();
    let problem = match &error {
        E::Authentication { message } => ClusterProblem::AuthenticationFailed {
            detail: message.clone(),
        },
        E::PermissionDenied { message } => ClusterProblem::PermissionDenied {
            detail: message.clone(),
        },
        E::FingerprintMismatch {
            expected,
            presented,
        } => ClusterProblem::Untrusted {
            presented: Some(presented.clone()),
            detail: format!("it does not match the pinned fingerprint {expected}"),
        },
        E::Transport { cause, detail, .. } => match certificate_problem(cause) {
            Some(problem) => ClusterProblem::Untrusted {
                presented: None,
                detail: problem,
            },
            None => ClusterProblem::Unreachable {
                detail: detail.clone(),
            },
        },
        E::Timeout { .. } | E::NodeUnreachable { .. } => ClusterProblem::Unreachable { detail },
        // A proxy in front of the API answers these when PVE behind it does not.
        E::Api { status, .. } if (502..=504).contains(status) => {
            ClusterProblem::Unreachable { detail }
        }
        E::Config(_) | E::InvalidInput(_) => {
            tracing::error!(cluster = %cluster, error = %error, "the API client refused a value");
            return Error::internal(format!("cluster {cluster}: {detail}"));
        }
        E::NotFound { .. }
        | E::Locked { .. }
        | E::LockTimeout { .. }
        | E::AlreadyExists { .. }
        | E::Parameter { .. }
        | E::AgentNotRunning { .. }
        | E::AgentNotConfigured { .. }
        | E::GuestNotRunning { .. }
        | E::Api { .. }
        | E::Decode { .. }
        | E::TaskFailed { .. } => ClusterProblem::Refused { detail },
        // The client's error enum is non-exhaustive: a variant added later is Proxmox refusing
        // until it is mapped here.
        _ => ClusterProblem::Refused { detail },
    };
    Error::Cluster {
        cluster: cluster.clone(),
        problem,
    }
}

/// The certificate verdict in a transport error's causes, if the TLS handshake failed over the
/// certificate (a wrong CA, an expired certificate, a name mismatch). Other failures (refused
/// connections, resets, timeouts, TLS protocol trouble) mean the cluster was not reached.
///
/// `io::Error` hides the error it wraps from `source()` (it returns that error's source), so the
/// walk descends into it explicitly.
fn certificate_problem(error: &(dyn StdError + 'static)) -> Option<String> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return match tls {
            rustls::Error::InvalidCertificate(_) => Some(tls.to_string()),
            _ => None,
        };
    }
    if let Some(inner) = error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        if let Some(found) = certificate_problem(inner) {
            return Some(found);
        }
    }
    error.source().and_then(certificate_problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> ClusterId {
        ClusterId::parse("pve1").expect("id")
    }

    fn problem(error: pvelab_proxmox::Error) -> ClusterProblem {
        match cluster_error(&cluster(), error) {
            Error::Cluster {
                cluster: c,
                problem,
            } => {
                assert_eq!(c, cluster());
                problem
            }
            other => panic!("expected a cluster error, got {other:?}"),
        }
    }

    #[test]
    fn refused_credentials_and_missing_privileges_are_told_apart() {
        assert!(matches!(
            problem(pvelab_proxmox::Error::Authentication {
                message: "authentication failure".into()
            }),
            ClusterProblem::AuthenticationFailed { detail } if detail == "authentication failure"
        ));
        assert!(matches!(
            problem(pvelab_proxmox::Error::PermissionDenied {
                message: "Permission check failed (/vms/100, VM.Clone)".into()
            }),
            ClusterProblem::PermissionDenied { detail } if detail.contains("VM.Clone")
        ));
    }

    #[test]
    fn a_pin_mismatch_carries_the_presented_fingerprint() {
        let got = problem(pvelab_proxmox::Error::FingerprintMismatch {
            expected: "AA:AA".into(),
            presented: "BB:BB".into(),
        });
        assert!(matches!(
            got,
            ClusterProblem::Untrusted { presented: Some(ref p), ref detail }
                if p == "BB:BB" && detail.contains("AA:AA")
        ));
    }

    #[test]
    fn timeouts_unreachable_nodes_and_gateway_errors_mean_unreachable() {
        for error in [
            pvelab_proxmox::Error::Timeout {
                what: "GET version".into(),
            },
            pvelab_proxmox::Error::NodeUnreachable {
                status: 595,
                message: "No route to host".into(),
            },
            pvelab_proxmox::Error::Api {
                status: 503,
                message: "Service Unavailable".into(),
            },
        ] {
            assert!(
                matches!(problem(error), ClusterProblem::Unreachable { .. }),
                "unreachable"
            );
        }
    }

    #[test]
    fn what_proxmox_refuses_is_refused_with_its_words() {
        let got = problem(pvelab_proxmox::Error::Locked {
            lock: "clone".into(),
            message: "VM is locked (clone)".into(),
        });
        assert!(matches!(got, ClusterProblem::Refused { detail } if detail.contains("locked")));
        assert!(matches!(
            problem(pvelab_proxmox::Error::Api {
                status: 500,
                message: "boom".into()
            }),
            ClusterProblem::Refused { .. }
        ));
    }

    #[test]
    fn a_value_the_client_refuses_is_pvelabs_own_fault() {
        let got = cluster_error(
            &cluster(),
            pvelab_proxmox::Error::InvalidInput("vmid 0".into()),
        );
        assert!(matches!(got, Error::Internal { .. }), "{got:?}");
    }

    #[test]
    fn a_certificate_error_is_found_inside_an_io_error() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        assert!(certificate_problem(&io).is_some());
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(certificate_problem(&refused).is_none());
        let protocol = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::HandshakeNotComplete,
        );
        assert!(certificate_problem(&protocol).is_none());
    }
}
