//! The control API over HTTP: the operations of [`SimControl`] under `/_sim/` (a path PVE
//! never uses; no authentication, loopback only), answered in plain JSON.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::control::{OutageMode, SimControl};
use crate::error::{Error, Result};
use crate::exec::{ExecMatch, ExecOutcome, GuestUser};
use crate::faults::FaultConfig;
use crate::foreign::ForeignGuest;
use crate::load::CpuLoad;
use crate::state::Shared;

struct ControlError(Error);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match self.0 {
            Error::NoSuchGuest { .. } | Error::NoSuchNode { .. } => StatusCode::NOT_FOUND,
            Error::GuestExists { .. } => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({ "error": self.0.to_string() }))).into_response()
    }
}

type S = Arc<Shared>;
type Reply = std::result::Result<Json<serde_json::Value>, ControlError>;

fn ctl(s: S) -> SimControl {
    SimControl { shared: s }
}

fn done(r: Result<()>) -> Reply {
    r.map(|()| Json(json!({ "ok": true })))
        .map_err(ControlError)
}

#[derive(Deserialize)]
struct Advance {
    secs: f64,
}

/// Body of `PUT /_sim/exec`: which calls (`vmid`, `command`, both optional) and how they end.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecScriptBody {
    #[serde(default)]
    vmid: Option<u32>,
    #[serde(default)]
    command: Option<Vec<String>>,
    outcome: ExecOutcome,
}

pub(crate) fn routes() -> Router<S> {
    Router::new()
        .route(
            "/counters",
            get(|State(s): State<S>| async move {
                let list = ctl(s.clone()).counters();
                let total: u64 = list.iter().map(|c| c.count).sum();
                let map: BTreeMap<String, u64> = list
                    .into_iter()
                    .map(|c| (format!("{} {}", c.method, c.path), c.count))
                    .collect();
                let statuses: BTreeMap<String, u64> = ctl(s.clone())
                    .statuses()
                    .into_iter()
                    .map(|c| (format!("{} {} {}", c.method, c.path, c.status), c.count))
                    .collect();
                Json(json!({ "total": total, "counts": map, "statuses": statuses }))
            }),
        )
        .route(
            "/counters/reset",
            post(|State(s): State<S>| async move {
                ctl(s).reset_counters();
                Json(json!({ "ok": true }))
            }),
        )
        .route(
            "/faults",
            get(|State(s): State<S>| async move { Json(json!(ctl(s).faults())) }).put(
                |State(s): State<S>, Json(f): Json<FaultConfig>| async move {
                    done(ctl(s).set_faults(f))
                },
            ),
        )
        .route(
            "/nodes/{node}/{state}",
            post(
                |State(s): State<S>, Path((node, state)): Path<(String, String)>| async move {
                    let online = match state.as_str() {
                        "online" => true,
                        "offline" => false,
                        other => {
                            return done(Err(Error::InvalidValue {
                                what: "node state",
                                value: other.to_owned(),
                                allowed: "online or offline",
                            }))
                        }
                    };
                    done(ctl(s).set_node_online(&node, online))
                },
            ),
        )
        .route(
            "/outage",
            put(
                |State(s): State<S>, Json(mode): Json<Option<OutageMode>>| async move {
                    ctl(s).set_outage(mode);
                    Json(json!({ "ok": true }))
                },
            ),
        )
        .route(
            "/guests/{vmid}/cpu",
            put(
                |State(s): State<S>, Path(vmid): Path<u32>, Json(l): Json<CpuLoad>| async move {
                    done(ctl(s).set_cpu_load(vmid, l))
                },
            ),
        )
        .route(
            "/guests/{vmid}/stop",
            post(|State(s): State<S>, Path(vmid): Path<u32>| async move {
                done(ctl(s).stop_guest(vmid))
            }),
        )
        .route(
            "/guests/{vmid}/start",
            post(|State(s): State<S>, Path(vmid): Path<u32>| async move {
                done(ctl(s).start_guest(vmid))
            }),
        )
        .route(
            "/guests/{vmid}",
            delete(|State(s): State<S>, Path(vmid): Path<u32>| async move {
                done(ctl(s).delete_guest(vmid))
            }),
        )
        .route(
            "/guests",
            post(
                |State(s): State<S>, Json(g): Json<ForeignGuest>| async move {
                    done(ctl(s).create_guest(&g))
                },
            ),
        )
        .route(
            "/guests/{vmid}/users",
            put(
                |State(s): State<S>, Path(vmid): Path<u32>, Json(u): Json<Vec<GuestUser>>| async move {
                    done(ctl(s).set_guest_users(vmid, u))
                },
            ),
        )
        .route(
            "/guests/{vmid}/exec",
            get(|State(s): State<S>, Path(vmid): Path<u32>| async move {
                Json(json!(ctl(s).exec_history(vmid)))
            }),
        )
        .route(
            "/exec",
            put(
                |State(s): State<S>, Json(b): Json<ExecScriptBody>| async move {
                    let matching = ExecMatch {
                        vmid: b.vmid,
                        command: b.command,
                    };
                    done(ctl(s).set_exec_outcome(matching, b.outcome))
                },
            )
            .delete(|State(s): State<S>| async move {
                ctl(s).clear_exec_outcomes();
                Json(json!({ "ok": true }))
            }),
        )
        .route(
            "/clock",
            get(|State(s): State<S>| async move {
                Json(json!({ "now": s.clock.now(), "offset_secs": s.clock.offset_secs() }))
            }),
        )
        .route(
            "/clock/advance",
            post(|State(s): State<S>, Json(a): Json<Advance>| async move {
                if !(a.secs >= 0.0 && a.secs < 1e9) {
                    return done(Err(Error::InvalidValue {
                        what: "secs",
                        value: a.secs.to_string(),
                        allowed: "0 or more seconds",
                    }));
                }
                ctl(s.clone()).advance_clock(a.secs);
                Ok(Json(json!({ "now": s.clock.now() })))
            }),
        )
}
