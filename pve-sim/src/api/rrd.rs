//! `GET .../rrddata`: samples computed from each guest's power history and CPU load.

use axum::extract::State;
use serde_json::{json, Value};

use super::{guest_mut, S};
use crate::http::call::Call;
use crate::http::reply::ApiResult;
use crate::http::reply::Data;
use crate::model::Kind;

/// Resolution in seconds of each timeframe (PVE keeps 70 points per timeframe).
fn resolution(timeframe: &str) -> i64 {
    match timeframe {
        "hour" => 60,
        "day" => 1_800,
        "week" => 10_800,
        "month" => 43_200,
        _ => 604_800,
    }
}

/// `GET /nodes/{node}/qemu|lxc/{vmid}/rrddata?timeframe=hour&cf=AVERAGE`.
pub(crate) async fn rrddata(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    c.params.allow(&["timeframe", "cf"])?;
    c.params.required("timeframe")?;
    let tf = c
        .params
        .one_of(
            "timeframe",
            &["hour", "day", "week", "month", "year", "decade"],
        )?
        .unwrap_or("hour");
    c.params.one_of("cf", &["AVERAGE", "MAX"])?;
    let res = resolution(tf);
    let now = s.clock.now();
    let mut w = s.world();
    let g = guest_mut(&mut w, kind, c.node(), c.vmid())?;
    let last = now / res * res;
    let maxmem = g.maxmem();
    let maxcpu = g.cores();
    let out: Vec<Value> = (0..70)
        .rev()
        .map(|i| {
            let t = last - i * res;
            if t < g.created {
                // No data yet: only the time, as rrdtool answers.
                return json!({ "time": t });
            }
            let (cpu, mem, netin, netout) = if g.running_at(t) {
                let cpu = g.load.at(t, g.vmid);
                (
                    cpu,
                    (maxmem as f64 * (0.25 + 0.5 * cpu)) as u64,
                    1_800.0 + cpu * 50_000.0,
                    900.0 + cpu * 20_000.0,
                )
            } else {
                (0.0, 0, 0.0, 0.0)
            };
            json!({
                "time": t, "cpu": cpu, "maxcpu": maxcpu, "mem": mem, "maxmem": maxmem,
                "netin": netin, "netout": netout, "disk": 0, "maxdisk": g.maxdisk(),
                "diskread": 0.0, "diskwrite": 0.0,
            })
        })
        .collect();
    Ok(Data::new(out))
}
