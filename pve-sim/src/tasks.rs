//! Tasks: UPIDs, logs, exit statuses, and the runner that plays a task's work in time.
//!
//! A UPID is `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:` with upper-case hex
//! numbers of 8 digits, as PVE writes them. A finished task's exit status is `OK`,
//! `WARNINGS: N`, or the error text.

use std::future::Future;
use std::sync::Arc;

use crate::faults::TaskFault;
use crate::model::{Task, World};
use crate::state::Shared;

/// Text of an injected task failure; it names the fault so logs make the cause obvious.
pub(crate) const INJECTED_FAILURE: &str = "simulated task failure (fault injection)";

/// Register a new running task and return its UPID.
pub(crate) fn new_task(
    shared: &Shared,
    w: &mut World,
    node: &str,
    ttype: &str,
    id: &str,
    user: &str,
) -> String {
    w.next_pid = w.next_pid.wrapping_add(1 + (w.next_pid % 7));
    let pid = w.next_pid;
    let starttime = shared.clock.now();
    let pstart = (starttime - w.node(node).map_or(0, |n| n.booted_at)).max(0) as u32 * 100;
    let upid = format!("UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{ttype}:{id}:{user}:");
    w.tasks.insert(
        upid.clone(),
        Task {
            upid: upid.clone(),
            node: node.to_owned(),
            pid,
            pstart,
            starttime,
            ttype: ttype.to_owned(),
            id: id.to_owned(),
            user: user.to_owned(),
            log: Vec::new(),
            exitstatus: None,
            endtime: None,
        },
    );
    w.task_order.push(upid.clone());
    // Bound the task history: big benchmarks start many thousands of tasks.
    if w.task_order.len() > 50_000 {
        let old: Vec<String> = w.task_order.drain(..10_000).collect();
        for u in old {
            w.tasks.remove(&u);
        }
    }
    upid
}

/// What a running task's work can do.
pub(crate) struct TaskCtx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) upid: String,
    fault: TaskFault,
}

impl TaskCtx {
    pub(crate) fn log(&self, line: impl Into<String>) {
        if let Some(t) = self.shared.world().tasks.get_mut(&self.upid) {
            t.log.push(line.into());
        }
    }

    /// Wait a nominal duration (scaled by `time_scale`).
    pub(crate) async fn work(&self, nominal_secs: f64) {
        let d = self.shared.cfg.scaled(nominal_secs);
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }

    /// `Some(text)` when fault injection decided that this task fails.
    pub(crate) fn injected_failure(&self) -> Option<String> {
        (self.fault == TaskFault::Failure).then(|| INJECTED_FAILURE.to_owned())
    }
}

/// Run `work` as the task `upid`: its `Ok(warnings)` or `Err(text)` becomes the exit status.
pub(crate) fn spawn<F, Fut>(shared: &Arc<Shared>, upid: String, work: F)
where
    F: FnOnce(TaskCtx) -> Fut + Send + 'static,
    Fut: Future<Output = Result<u32, String>> + Send + 'static,
{
    let fault = shared.faults().draw_task();
    let ctx = TaskCtx {
        shared: shared.clone(),
        upid: upid.clone(),
        fault,
    };
    let shared = shared.clone();
    tokio::spawn(async move {
        let mut result = work(ctx).await;
        if fault == TaskFault::Warning {
            if let Ok(n) = &mut result {
                *n += 1;
            }
        }
        let mut w = shared.world();
        let now = shared.clock.now();
        if let Some(t) = w.tasks.get_mut(&upid) {
            if fault == TaskFault::Warning && result.is_ok() {
                t.log
                    .push("WARN: simulated warning (fault injection)".to_owned());
            }
            let status = match result {
                Ok(0) => "OK".to_owned(),
                Ok(n) => format!("WARNINGS: {n}"),
                Err(e) => {
                    t.log.push(e.clone());
                    e
                }
            };
            t.log.push(format!("TASK {}", task_end_line(&status)));
            t.exitstatus = Some(status);
            t.endtime = Some(now);
        }
    });
}

fn task_end_line(status: &str) -> String {
    if status == "OK" {
        "OK".to_owned()
    } else if status.starts_with("WARNINGS") {
        status.to_owned()
    } else {
        format!("ERROR: {status}")
    }
}
