//! `POST /access/ticket`: log in with a password, or renew with the current ticket.

use axum::extract::State;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use super::S;
use crate::http::auth::{issue, verify_ticket};
use crate::http::call::Call;
use crate::http::reply::{ApiError, ApiResult, Data};

/// `GET /access/ticket`: a no-op PVE keeps for the login form.
pub(crate) async fn ticket_get(State(_s): State<S>, _c: Call) -> ApiResult {
    Ok(Data::new(Value::Null))
}

/// `POST /access/ticket`.
pub(crate) async fn ticket(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&[
        "username",
        "password",
        "realm",
        "otp",
        "path",
        "privs",
        "new-format",
        "tfa-challenge",
    ])?;
    let mut username = c.params.required("username")?.to_owned();
    let password = c.params.required("password")?;
    if let Some(realm) = c.params.get("realm") {
        if !username.contains('@') {
            username = format!("{username}@{realm}");
        }
    }
    let fail = || async {
        if s.cfg.delay_401 {
            tokio::time::sleep(s.cfg.scaled(3.0)).await;
        }
        Err(ApiError::Unauthorized("authentication failure"))
    };
    if username != s.creds.username {
        return fail().await;
    }
    let by_password = password == s.creds.password.expose_secret();
    // Renewal: the current (still valid) ticket is accepted as the password.
    let by_ticket = verify_ticket(&s, password).is_some_and(|u| u == username);
    if !(by_password || by_ticket) {
        return fail().await;
    }
    let (ticket, csrf) = issue(&s, &username, s.clock.now());
    Ok(Data::new(json!({
        "username": username,
        "ticket": ticket,
        "CSRFPreventionToken": csrf,
        "clustername": "pvelab-sim",
        "cap": {
            "vms": { "VM.PowerMgmt": 1, "VM.Clone": 1, "VM.Config.CPU": 1, "VM.Config.Memory": 1, "VM.Allocate": 1, "VM.Audit": 1, "VM.Snapshot": 1 },
            "nodes": { "Sys.Audit": 1 },
            "storage": { "Datastore.AllocateSpace": 1, "Datastore.Audit": 1 },
            "access": {}, "dc": {}, "sdn": {}, "mapping": {},
        },
    })))
}
