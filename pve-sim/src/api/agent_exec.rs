//! `agent/exec`, `agent/exec-status` and `agent/get-users`: commands play the outcomes scripted
//! in `exec.rs`; the agent's availability is checked as for every agent call.

use axum::extract::State;
use serde_json::json;

use super::agent::AgentCheck;
use super::{guest_mut, S};
use crate::exec::ExecRecord;
use crate::http::call::Call;
use crate::http::reply::{ApiError, ApiResult, Data};
use crate::model::Kind;

/// PVE's `maxLength` of `input-data`, in characters.
const MAX_INPUT_DATA: usize = 64 * 1024;

/// `POST /nodes/{node}/qemu/{vmid}/agent/exec` (`command` repeated per item, `input-data`).
pub(crate) async fn exec(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&["command", "input-data"])?;
    let command = c.params.all("command").to_vec();
    if command.is_empty() {
        return Err(ApiError::param(
            "command",
            "property is missing and it is not optional",
        ));
    }
    let input_data = c.params.get("input-data").map(str::to_owned);
    if input_data
        .as_deref()
        .is_some_and(|d| d.chars().count() > MAX_INPUT_DATA)
    {
        return Err(ApiError::param(
            "input-data",
            format!("value may only be {MAX_INPUT_DATA} characters long"),
        ));
    }
    let vmid = c.vmid();
    let check = AgentCheck::read(&s);
    let mut script = s.exec();
    let mut w = s.world();
    let g = guest_mut(&mut w, Kind::Qemu, c.node(), vmid)?;
    check.ready(g, "guest-exec")?;
    let outcome = script.outcome(vmid, &command);
    let mut record = ExecRecord {
        command,
        input_data,
        pid: None,
    };
    if outcome.not_found {
        let program = record.command[0].clone();
        script.record(vmid, record);
        return Err(ApiError::fail(format!(
            "Agent error: Guest agent command failed, error was 'Failed to execute child process \u{201c}{program}\u{201d} (No such file or directory)'"
        )));
    }
    let pid = g.agent.spawn(outcome, s.clock.now_f64(), s.cfg.time_scale);
    record.pid = Some(pid);
    script.record(vmid, record);
    Ok(Data::new(json!({ "pid": pid })))
}

/// `GET /nodes/{node}/qemu/{vmid}/agent/exec-status?pid=N`.
pub(crate) async fn exec_status(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&["pid"])?;
    c.params.required("pid")?;
    let pid = c.params.int("pid")?;
    let check = AgentCheck::read(&s);
    let mut w = s.world();
    let g = guest_mut(&mut w, Kind::Qemu, c.node(), c.vmid())?;
    check.ready(g, "guest-exec-status")?;
    let status = pid
        .and_then(|p| u32::try_from(p).ok())
        .and_then(|p| g.agent.status(p, s.clock.now_f64()));
    status
        .map(Data::new)
        .ok_or_else(|| ApiError::fail("Agent error: Invalid parameter 'pid'"))
}

/// `GET /nodes/{node}/qemu/{vmid}/agent/get-users`.
pub(crate) async fn get_users(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&[])?;
    let check = AgentCheck::read(&s);
    let mut w = s.world();
    let g = guest_mut(&mut w, Kind::Qemu, c.node(), c.vmid())?;
    check.ready(g, "guest-get-users")?;
    Ok(Data::new(json!({ "result": g.agent.users })))
}
