//! Power actions. Like PVE they always answer with a UPID; refusals ("already running",
//! "is locked") become the task's exit status.

use axum::extract::State;

use super::{guest_mut, guest_task, lock_text, S};
use crate::http::call::Call;
use crate::http::reply::{ApiResult, Data};
use crate::model::Kind;
use crate::tasks;

fn allowed(kind: Kind, action: &str) -> &'static [&'static str] {
    match (kind, action) {
        (Kind::Qemu, "start") => &[
            "skiplock",
            "timeout",
            "machine",
            "force-cpu",
            "migratedfrom",
            "migration_network",
            "migration_type",
            "stateuri",
            "targetstorage",
            "nets-host-mtu",
            "with-conntrack-state",
        ],
        (Kind::Qemu, "stop") => &[
            "skiplock",
            "timeout",
            "keepActive",
            "migratedfrom",
            "overrule-shutdown",
        ],
        (Kind::Qemu, "shutdown") => &["forceStop", "timeout", "keepActive", "skiplock"],
        (Kind::Qemu, "reset") => &["skiplock"],
        (Kind::Lxc, "start") => &["skiplock", "debug"],
        (Kind::Lxc, "stop") => &["skiplock", "overrule-shutdown"],
        (Kind::Lxc, "shutdown") => &["forceStop", "timeout"],
        _ => &["timeout"],
    }
}

/// `POST .../status/{start|stop|shutdown|reboot|reset}`.
pub(crate) async fn power(
    State(s): State<S>,
    c: Call,
    kind: Kind,
    action: &'static str,
) -> ApiResult {
    c.params.allow(allowed(kind, action))?;
    let skiplock = c.params.bool("skiplock")?.unwrap_or(false);
    c.params.bool("forceStop")?;
    c.params.int("timeout")?;
    let vmid = c.vmid();
    let upid = {
        let mut w = s.world();
        let g = guest_mut(&mut w, kind, c.node(), vmid)?;
        let node = g.node.clone();
        guest_task(&s, &mut w, &node, kind, vmid, action, &c.user)
    };
    tasks::spawn(&s, upid.clone(), move |ctx| async move {
        let noun = kind.noun();
        let (running, template, locked) = {
            let w = ctx.shared.world();
            match w.guests.get(&vmid) {
                Some(g) => (g.running, g.is_template(), lock_text(g)),
                None => return Err(format!("{noun} {vmid} does not exist")),
            }
        };
        if let Some(l) = locked.filter(|_| !skiplock) {
            return Err(l);
        }
        let t = ctx.shared.cfg.timing;
        let (secs, after) = match action {
            "start" => {
                if template {
                    return Err(format!(
                        "you can't start a {} if it's a template",
                        noun.to_lowercase()
                    ));
                }
                if running {
                    return Err(format!("{noun} {vmid} already running"));
                }
                (t.start_secs, true)
            }
            "stop" => {
                if !running {
                    ctx.log(format!("{noun} {vmid} not running"));
                }
                (t.stop_secs, false)
            }
            "shutdown" => {
                if !running {
                    return Err(format!("{noun} {vmid} not running"));
                }
                (t.shutdown_secs, false)
            }
            _ => {
                // reboot and reset
                if !running {
                    return Err(format!("{noun} {vmid} not running"));
                }
                (
                    t.stop_secs
                        + if action == "reboot" {
                            t.start_secs
                        } else {
                            0.0
                        },
                    true,
                )
            }
        };
        ctx.work(secs).await;
        if let Some(e) = ctx.injected_failure() {
            return Err(e);
        }
        let now = ctx.shared.clock.now_f64();
        let mut w = ctx.shared.world();
        let Some(g) = w.guests.get_mut(&vmid) else {
            return Err(format!("{noun} {vmid} does not exist"));
        };
        if action == "reboot" || action == "reset" {
            g.set_running(false, now);
        }
        g.set_running(after, now);
        Ok(0)
    });
    Ok(Data::new(upid))
}
