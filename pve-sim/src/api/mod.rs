//! The simulated `/api2/json` endpoints, one file per area.

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::http::reply::ApiError;
use crate::model::{conf_path, Guest, Kind, World};
use crate::state::Shared;

mod access;
mod agent;
mod agent_exec;
mod clone;
mod cluster;
mod guests;
mod lifecycle;
mod power;
mod resize;
mod rrd;
mod snapshots;
mod storage;
mod tasks;
pub(crate) mod views;

type S = Arc<Shared>;

/// A handler closure that passes extra arguments (the guest kind) to an API function.
macro_rules! h {
    ($f:path, $($extra:expr),*) => {
        move |s: axum::extract::State<S>, c: crate::http::call::Call| $f(s, c, $($extra),*)
    };
}

/// The guest `vmid` of `kind` on `node`, or PVE's "does not exist" error.
pub(crate) fn guest_mut<'w>(
    w: &'w mut World,
    kind: Kind,
    node: &str,
    vmid: u32,
) -> Result<&'w mut Guest, ApiError> {
    match w.guests.get_mut(&vmid) {
        Some(g) if g.kind == kind && g.node == node => Ok(g),
        _ => Err(ApiError::fail(format!(
            "Configuration file '{}' does not exist",
            conf_path(kind, node, vmid)
        ))),
    }
}

/// PVE's refusal for a locked guest.
pub(crate) fn check_lock(g: &Guest, skiplock: bool) -> Result<(), ApiError> {
    match g.lock() {
        Some(l) if !skiplock => Err(ApiError::fail(format!("{} is locked ({l})", g.kind.noun()))),
        _ => Ok(()),
    }
}

/// A task on `node` about guest `vmid`, typed as PVE types it (`qm<what>` or `vz<what>`).
pub(crate) fn guest_task(
    s: &Shared,
    w: &mut World,
    node: &str,
    kind: Kind,
    vmid: u32,
    what: &str,
    user: &str,
) -> String {
    let ttype = format!("{}{what}", kind.task_prefix());
    crate::tasks::new_task(s, w, node, &ttype, &vmid.to_string(), user)
}

/// The guest a running task works on, or the task's failure text when it vanished meanwhile
/// (deleted behind the task's back).
pub(crate) fn task_guest(w: &mut World, kind: Kind, vmid: u32) -> Result<&mut Guest, String> {
    w.guests
        .get_mut(&vmid)
        .ok_or_else(|| format!("{} {vmid} does not exist", kind.noun()))
}

/// The same check as text, for failures inside tasks.
pub(crate) fn lock_text(g: &Guest) -> Option<String> {
    g.lock()
        .map(|l| format!("{} is locked ({l})", g.kind.noun()))
}

/// Every route of the API (paths relative to `/api2/json`).
pub(crate) fn routes() -> Router<S> {
    let mut r = Router::new()
        .route("/version", get(cluster::version))
        .route(
            "/access/ticket",
            post(access::ticket).get(access::ticket_get),
        )
        .route("/cluster/resources", get(cluster::resources))
        .route("/cluster/nextid", get(cluster::nextid))
        .route("/pools", get(cluster::pools).post(cluster::create_pool))
        .route("/nodes", get(cluster::nodes))
        .route("/nodes/{node}/status", get(cluster::node_status))
        .route("/nodes/{node}/storage", get(storage::list))
        .route(
            "/nodes/{node}/storage/{storage}/content",
            get(storage::content),
        )
        .route("/nodes/{node}/tasks", get(tasks::list))
        .route("/nodes/{node}/tasks/{upid}/status", get(tasks::status))
        .route("/nodes/{node}/tasks/{upid}/log", get(tasks::log))
        .route(
            "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces",
            get(agent::network_get_interfaces),
        )
        .route(
            "/nodes/{node}/qemu/{vmid}/agent/exec",
            post(agent_exec::exec),
        )
        .route(
            "/nodes/{node}/qemu/{vmid}/agent/exec-status",
            get(agent_exec::exec_status),
        )
        .route(
            "/nodes/{node}/qemu/{vmid}/agent/get-users",
            get(agent_exec::get_users),
        )
        .route(
            "/nodes/{node}/lxc/{vmid}/interfaces",
            get(agent::lxc_interfaces),
        );
    for kind in [Kind::Qemu, Kind::Lxc] {
        let base = format!("/nodes/{{node}}/{}", kind.as_str());
        let one = format!("{base}/{{vmid}}");
        r = r
            .route(&base, get(h!(guests::list, kind)))
            .route(
                &one,
                get(h!(guests::index, kind)).delete(h!(lifecycle::destroy, kind)),
            )
            .route(
                &format!("{one}/status/current"),
                get(h!(guests::status, kind)),
            )
            .route(&format!("{one}/config"), {
                let config = get(h!(guests::config, kind)).put(h!(guests::set_config, kind, false));
                // Containers have no `POST .../config`: PVE answers 501.
                match kind {
                    Kind::Qemu => config.post(h!(guests::set_config, kind, true)),
                    Kind::Lxc => config,
                }
            })
            .route(&format!("{one}/pending"), get(h!(guests::pending, kind)))
            .route(
                &format!("{one}/resize"),
                axum::routing::put(h!(resize::resize, kind)),
            )
            .route(
                &format!("{one}/template"),
                post(h!(lifecycle::template, kind)),
            )
            .route(&format!("{one}/rrddata"), get(h!(rrd::rrddata, kind)))
            .route(&format!("{one}/clone"), post(h!(clone::clone, kind)))
            .route(
                &format!("{one}/snapshot"),
                get(h!(snapshots::list, kind)).post(h!(snapshots::create, kind)),
            )
            .route(
                &format!("{one}/snapshot/{{snapname}}"),
                get(h!(snapshots::index, kind)).delete(h!(snapshots::delete, kind)),
            )
            .route(
                &format!("{one}/snapshot/{{snapname}}/rollback"),
                post(h!(snapshots::rollback, kind)),
            );
        let actions: &[&str] = match kind {
            Kind::Qemu => &["start", "stop", "shutdown", "reboot", "reset"],
            Kind::Lxc => &["start", "stop", "shutdown", "reboot"],
        };
        for &action in actions {
            r = r.route(
                &format!("{one}/status/{action}"),
                post(h!(power::power, kind, action)),
            );
        }
    }
    r
}
