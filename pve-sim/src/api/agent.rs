//! Guest agent and container interfaces: addresses appear `agent_delay_secs` (scaled) after a
//! start; before that the calls fail with PVE's texts.

use axum::extract::State;
use serde_json::{json, Value};

use super::{guest_mut, S};
use crate::http::call::Call;
use crate::http::reply::{ApiError, ApiResult, Data};
use crate::model::{AgentNet, Guest, Kind};
use crate::state::Shared;

/// The addresses a guest gets: IPv4 from its VMID, IPv6 ULA and link-local.
fn addresses(g: &Guest) -> (String, String, String) {
    let v = g.vmid;
    let v4 = format!(
        "10.{}.{}.{}",
        (v >> 16) & 0xff,
        (v >> 8) & 0xff,
        (v & 0xff).clamp(2, 254)
    );
    let v6 = format!("fd00:5e11::{v:x}");
    let ll = format!(
        "fe80::be24:11ff:fe{:02x}:{:04x}",
        (v >> 16) & 0xff,
        v & 0xffff
    );
    (v4, v6, ll)
}

/// What decides whether a guest agent answers, read before the world lock is taken: the
/// simulated time, the boot delay and the `agent_never_answers` fault.
pub(crate) struct AgentCheck {
    now: f64,
    delay: f64,
    never: bool,
}

impl AgentCheck {
    pub(crate) fn read(s: &Shared) -> Self {
        AgentCheck {
            now: s.clock.now_f64(),
            delay: s.cfg.timing.agent_delay_secs * s.cfg.time_scale,
            never: s.faults().config().agent_never_answers,
        }
    }

    /// Whether the agent of `g` can take the qmp command `qmp` now, checked in PVE's order:
    /// configured (a stopped VM without an agent says that it has none, which is the thing to
    /// fix), VM running, agent up (`agent_delay_secs` after the start), agent answering.
    pub(crate) fn ready(&self, g: &Guest, qmp: &str) -> Result<(), ApiError> {
        let vmid = g.vmid;
        if !g.has_agent() {
            return Err(ApiError::fail("No QEMU guest agent configured"));
        }
        if !g.running {
            return Err(ApiError::fail(format!("VM {vmid} is not running")));
        }
        if self.now - g.started_at < self.delay {
            return Err(ApiError::fail("QEMU guest agent is not running"));
        }
        if self.never {
            return Err(ApiError::fail(format!(
                "VM {vmid} qmp command '{qmp}' failed - got timeout"
            )));
        }
        Ok(())
    }
}

/// `GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces`.
pub(crate) async fn network_get_interfaces(State(s): State<S>, c: Call) -> ApiResult {
    let check = AgentCheck::read(&s);
    let mut w = s.world();
    let g = guest_mut(&mut w, Kind::Qemu, c.node(), c.vmid())?;
    check.ready(g, "guest-network-get-interfaces")?;
    let mac = g.mac().unwrap_or_default().to_lowercase();
    let (v4, v6, ll) = addresses(g);
    let mut ips = Vec::new();
    if g.agent_net == AgentNet::DualStack {
        ips.push(json!({ "ip-address": v4, "ip-address-type": "ipv4", "prefix": 24 }));
    } else {
        ips.push(json!({ "ip-address": v6, "ip-address-type": "ipv6", "prefix": 64 }));
    }
    ips.push(json!({ "ip-address": ll, "ip-address-type": "ipv6", "prefix": 64 }));
    let stats = json!({ "rx-bytes": 1_048_576, "rx-packets": 4_096, "rx-errs": 0, "rx-dropped": 0,
                        "tx-bytes": 524_288, "tx-packets": 2_048, "tx-errs": 0, "tx-dropped": 0 });
    let mut lo_ips = vec![json!({ "ip-address": "::1", "ip-address-type": "ipv6", "prefix": 128 })];
    if g.agent_net == AgentNet::DualStack {
        lo_ips.insert(
            0,
            json!({ "ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8 }),
        );
    }
    Ok(Data::new(json!({
        "result": [
            { "name": "lo", "hardware-address": "00:00:00:00:00:00", "ip-addresses": lo_ips, "statistics": stats },
            { "name": "ens18", "hardware-address": mac, "ip-addresses": ips, "statistics": stats },
        ]
    })))
}

/// `GET /nodes/{node}/lxc/{vmid}/interfaces`.
pub(crate) async fn lxc_interfaces(State(s): State<S>, c: Call) -> ApiResult {
    let mut w = s.world();
    let vmid = c.vmid();
    let g = guest_mut(&mut w, Kind::Lxc, c.node(), vmid)?;
    if !g.running {
        return Err(ApiError::fail(format!("CT {vmid} not running")));
    }
    let mac = g.mac().unwrap_or_default().to_lowercase();
    let (v4, _v6, ll) = addresses(g);
    let entry = |name: &str, mac: &str, inet: &str, inet6: &str| -> Value {
        let (a4, p4) = inet.split_once('/').unwrap_or((inet, "32"));
        let (a6, p6) = inet6.split_once('/').unwrap_or((inet6, "128"));
        json!({
            "name": name, "hwaddr": mac, "hardware-address": mac, "inet": inet, "inet6": inet6,
            "ip-addresses": [
                { "ip-address": a4, "ip-address-type": "inet", "prefix": p4.parse::<u32>().unwrap_or(32) },
                { "ip-address": a6, "ip-address-type": "inet6", "prefix": p6.parse::<u32>().unwrap_or(128) },
            ],
        })
    };
    Ok(Data::new(json!([
        entry("lo", "00:00:00:00:00:00", "127.0.0.1/8", "::1/128"),
        entry("eth0", &mac, &format!("{v4}/24"), &format!("{ll}/64")),
    ])))
}
