//! Authentication as PVE does it: API tokens, tickets with CSRF tokens, and 401s whose reason
//! phrase is the only explanation.
//!
//! Tickets are `PVE:<user>:<8 hex time>::<signature>`; the signature here is a keyed SHA-256
//! (real PVE signs with RSA; clients treat it as opaque either way).

use axum::http::{HeaderMap, Method};
use base64::Engine;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::reply::ApiError;
use crate::state::Shared;

/// Split `USER@REALM!TOKENID=SECRET` into `(USER@REALM!TOKENID, SECRET)`.
pub(crate) fn parse_token(s: &str) -> Option<(&str, &str)> {
    let (id, secret) = s.split_once('=')?;
    let (user, token) = id.split_once('!')?;
    let ok = user.contains('@') && !token.is_empty() && !secret.is_empty();
    ok.then_some((id, secret))
}

fn sign(shared: &Shared, what: &str) -> String {
    let mut h = Sha256::new();
    h.update(shared.creds.ticket_key);
    h.update(what.as_bytes());
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(h.finalize())
}

/// A fresh ticket and CSRF token for `user` at the simulated time `now`.
pub(crate) fn issue(shared: &Shared, user: &str, now: i64) -> (String, String) {
    let payload = format!("PVE:{user}:{now:08X}");
    let ticket = format!("{payload}::{}", sign(shared, &payload));
    let csrf_payload = format!("{now:08X}");
    let csrf = format!(
        "{csrf_payload}:{}",
        sign(shared, &format!("csrf:{user}:{csrf_payload}"))
    );
    (ticket, csrf)
}

/// The user of a valid, unexpired ticket.
pub(crate) fn verify_ticket(shared: &Shared, ticket: &str) -> Option<String> {
    let (payload, sig) = ticket.split_once("::")?;
    let rest = payload.strip_prefix("PVE:")?;
    let (user, time) = rest.rsplit_once(':')?;
    if sign(shared, payload) != sig {
        return None;
    }
    let issued = i64::from_str_radix(time, 16).ok()?;
    let age = shared.clock.now() - issued;
    let lifetime = shared.cfg.ticket_lifetime_secs as i64;
    // PVE accepts tickets up to 5 minutes "from the future" (clock skew between nodes).
    (-300..lifetime).contains(&age).then(|| user.to_owned())
}

fn verify_csrf(shared: &Shared, user: &str, token: &str) -> bool {
    let Some((time, sig)) = token.split_once(':') else {
        return false;
    };
    let Ok(issued) = i64::from_str_radix(time, 16) else {
        return false;
    };
    let age = shared.clock.now() - issued;
    sign(shared, &format!("csrf:{user}:{time}")) == sig
        && (-300..shared.cfg.ticket_lifetime_secs as i64).contains(&age)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The authenticated user (for tokens `USER@REALM!TOKENID`), or the 401 PVE would send.
pub(crate) fn authenticate(
    shared: &Shared,
    method: &Method,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    if let Some(auth) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(token) = auth.strip_prefix("PVEAPIToken=") {
            let c = &shared.creds;
            return match parse_token(token.trim()) {
                Some((id, secret))
                    if id == c.token_id && secret == c.token_secret.expose_secret() =>
                {
                    Ok(id.to_owned())
                }
                Some((id, secret))
                    if id == c.audit_token_id && secret == c.audit_token_secret.expose_secret() =>
                {
                    Ok(id.to_owned())
                }
                _ => Err(ApiError::Unauthorized("authentication failure")),
            };
        }
    }
    let Some(ticket) = cookie(headers, "PVEAuthCookie") else {
        return Err(ApiError::Unauthorized("No ticket"));
    };
    let ticket = ticket.replace("%3A", ":").replace("%3a", ":");
    let user = verify_ticket(shared, &ticket).ok_or(ApiError::Unauthorized(
        "permission denied - invalid PVE ticket",
    ))?;
    if method != Method::GET {
        let csrf = headers
            .get("CSRFPreventionToken")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !verify_csrf(shared, &user, csrf) {
            return Err(ApiError::Unauthorized(
                "Permission denied - invalid csrf token",
            ));
        }
    }
    Ok(user)
}

/// The privilege PVE would check for a write, named in its 403 text.
fn privilege(template: &str) -> &'static str {
    if template.ends_with("/agent/exec") || template.ends_with("/agent/exec-status") {
        "VM.GuestAgent.Unrestricted"
    } else if template.ends_with("/clone") {
        "VM.Clone"
    } else if template.contains("/status/") {
        "VM.PowerMgmt"
    } else if template.contains("/snapshot") {
        "VM.Snapshot"
    } else if template.ends_with("/resize") {
        "VM.Config.Disk"
    } else if template.ends_with("/config") {
        "VM.Config.Options"
    } else if template.starts_with("/pools") {
        "Pool.Allocate"
    } else if template.contains("{vmid}") {
        "VM.Allocate"
    } else {
        "Sys.Modify"
    }
}

/// Reads that need more than audit rights: a command's output is as sensitive as running it
/// (`VM.GuestAgent.Unrestricted`, as the schema says).
fn privileged_read(template: &str) -> bool {
    template.ends_with("/agent/exec-status")
}

/// The audit token may read everything (but a command's output) and change nothing: the rest
/// gets PVE's 403.
pub(crate) fn authorize(
    shared: &Shared,
    user: &str,
    method: &Method,
    template: &str,
    path: &str,
) -> Result<(), ApiError> {
    if user != shared.creds.audit_token_id || (method == Method::GET && !privileged_read(template))
    {
        return Ok(());
    }
    let mut parts = path.split('/');
    let vmid = parts
        .by_ref()
        .skip_while(|p| *p != "qemu" && *p != "lxc")
        .nth(1)
        .filter(|v| v.chars().all(|c| c.is_ascii_digit()) && !v.is_empty());
    let object = vmid.map_or_else(|| "/".to_owned(), |v| format!("/vms/{v}"));
    Err(ApiError::Status(
        axum::http::StatusCode::FORBIDDEN,
        format!(
            "Permission check failed ({object}, {})",
            privilege(template)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_splits_into_its_id_and_secret() {
        assert_eq!(
            parse_token("root@pam!ci=abc-123"),
            Some(("root@pam!ci", "abc-123"))
        );
        assert_eq!(parse_token("root@pam=abc"), None);
        assert_eq!(parse_token("root!ci=abc"), None);
    }
}
