//! Task endpoints: status, log, list.

use axum::extract::State;
use serde_json::{json, Value};

use super::S;
use crate::http::call::Call;
use crate::http::reply::{ApiError, ApiResult, Data};
use crate::model::Task;

fn task_json(t: &Task, with_status: bool) -> Value {
    let mut v = json!({
        "upid": t.upid, "node": t.node, "pid": t.pid, "pstart": t.pstart,
        "starttime": t.starttime, "type": t.ttype, "id": t.id, "user": t.user,
    });
    if with_status {
        v["status"] = if t.exitstatus.is_some() {
            "stopped"
        } else {
            "running"
        }
        .into();
        if let Some(e) = &t.exitstatus {
            v["exitstatus"] = e.clone().into();
        }
    } else if let (Some(e), Some(end)) = (&t.exitstatus, t.endtime) {
        v["status"] = e.clone().into();
        v["endtime"] = end.into();
    }
    v
}

fn no_such_task() -> ApiError {
    ApiError::param("upid", "no such task")
}

/// `GET /nodes/{node}/tasks/{upid}/status`.
pub(crate) async fn status(State(s): State<S>, c: Call) -> ApiResult {
    let w = s.world();
    let t = w
        .tasks
        .get(c.path("upid"))
        .filter(|t| t.node == c.node())
        .ok_or_else(no_such_task)?;
    Ok(Data::new(task_json(t, true)))
}

/// `GET /nodes/{node}/tasks/{upid}/log?start=0&limit=50`: lines `{n, t}` plus `total`.
pub(crate) async fn log(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&["start", "limit", "download"])?;
    let start = c.params.int_range("start", 0, i64::MAX)?.unwrap_or(0) as usize;
    let limit = c.params.int_range("limit", 0, i64::MAX)?.unwrap_or(50) as usize;
    let w = s.world();
    let t = w
        .tasks
        .get(c.path("upid"))
        .filter(|t| t.node == c.node())
        .ok_or_else(no_such_task)?;
    let lines: Vec<Value> = t
        .log
        .iter()
        .enumerate()
        .skip(start)
        .take(limit)
        .map(|(i, l)| json!({ "n": i + 1, "t": l }))
        .collect();
    Ok(Data {
        total: Some(t.log.len() as u64),
        ..Data::new(lines)
    })
}

/// `GET /nodes/{node}/tasks`: newest first.
pub(crate) async fn list(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&[
        "start",
        "limit",
        "vmid",
        "typefilter",
        "userfilter",
        "errors",
        "source",
        "since",
        "until",
        "statusfilter",
    ])?;
    let start = c.params.int_range("start", 0, i64::MAX)?.unwrap_or(0) as usize;
    let limit = c.params.int_range("limit", 0, i64::MAX)?.unwrap_or(50) as usize;
    let vmid = c.params.int("vmid")?.map(|v| v.to_string());
    let errors = c.params.bool("errors")?.unwrap_or(false);
    let source = c
        .params
        .one_of("source", &["archive", "active", "all"])?
        .unwrap_or("archive");
    let w = s.world();
    let list: Vec<Value> = w
        .task_order
        .iter()
        .rev()
        .filter_map(|u| w.tasks.get(u))
        .filter(|t| t.node == c.node())
        .filter(|t| vmid.as_ref().is_none_or(|v| *v == t.id))
        .filter(|t| c.params.get("typefilter").is_none_or(|f| t.ttype == f))
        .filter(|t| {
            c.params
                .get("userfilter")
                .is_none_or(|f| t.user.contains(f))
        })
        .filter(|t| match source {
            "active" => t.exitstatus.is_none(),
            "archive" => t.exitstatus.is_some(),
            _ => true,
        })
        .filter(|t| !errors || t.exitstatus.as_deref().is_some_and(|e| e != "OK"))
        .skip(start)
        .take(limit)
        .map(|t| task_json(t, false))
        .collect();
    Ok(Data::new(list))
}
