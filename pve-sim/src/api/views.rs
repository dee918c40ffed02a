//! JSON views of guests and nodes, shared by the list, status and cluster endpoints.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::model::{Guest, Kind, Node, World};

/// Live figures of a guest at simulated time `now`.
pub(crate) struct Live {
    pub(crate) cpu: f64,
    pub(crate) mem: u64,
    pub(crate) uptime: u64,
    pub(crate) netin: u64,
    pub(crate) netout: u64,
}

pub(crate) fn live(g: &Guest, now: f64) -> Live {
    if !g.running {
        return Live {
            cpu: 0.0,
            mem: 0,
            uptime: 0,
            netin: 0,
            netout: 0,
        };
    }
    let t = now.floor() as i64;
    let cpu = g.load.at(t, g.vmid);
    let uptime = (now - g.started_at).max(0.0) as u64;
    Live {
        cpu,
        mem: (g.maxmem() as f64 * (0.25 + 0.5 * cpu)) as u64,
        uptime,
        netin: uptime * 1_800 + (cpu * uptime as f64 * 50_000.0) as u64,
        netout: uptime * 900 + (cpu * uptime as f64 * 20_000.0) as u64,
    }
}

fn put(m: &mut Map<String, Value>, k: &str, v: impl Into<Value>) {
    m.insert(k.to_owned(), v.into());
}

/// An entry of `GET /nodes/{node}/qemu|lxc` (and the base of `status/current`).
pub(crate) fn guest_entry(g: &Guest, now: f64) -> Map<String, Value> {
    let l = live(g, now);
    let mut m = Map::new();
    put(&mut m, "vmid", g.vmid);
    put(&mut m, "name", g.name());
    put(
        &mut m,
        "status",
        if g.running { "running" } else { "stopped" },
    );
    put(&mut m, "cpu", l.cpu);
    put(&mut m, "cpus", g.cores());
    put(&mut m, "maxmem", g.maxmem());
    put(&mut m, "mem", l.mem);
    put(&mut m, "maxdisk", g.maxdisk());
    put(
        &mut m,
        "disk",
        if g.kind == Kind::Lxc { g.disk_bytes } else { 0 },
    );
    put(&mut m, "netin", l.netin);
    put(&mut m, "netout", l.netout);
    put(&mut m, "diskread", l.uptime * 4096);
    put(&mut m, "diskwrite", l.uptime * 2048);
    put(&mut m, "uptime", l.uptime);
    if g.kind == Kind::Lxc {
        put(&mut m, "type", "lxc");
        put(&mut m, "maxswap", 512u64 << 20);
    }
    if g.running && g.kind == Kind::Qemu {
        put(&mut m, "pid", 10_000 + g.vmid);
    }
    if let Some(l) = g.lock() {
        put(&mut m, "lock", l);
    }
    if let Some(t) = g.tags() {
        put(&mut m, "tags", t);
    }
    if g.is_template() {
        put(&mut m, "template", 1);
    }
    m
}

/// `GET .../status/current`.
pub(crate) fn guest_status(g: &Guest, now: f64) -> Value {
    let mut m = guest_entry(g, now);
    put(&mut m, "ha", json!({ "managed": 0 }));
    if g.kind == Kind::Qemu {
        put(
            &mut m,
            "qmpstatus",
            if g.running { "running" } else { "stopped" },
        );
        if g.has_agent() {
            put(&mut m, "agent", 1);
        }
        if g.running {
            put(&mut m, "running-machine", "pc-i440fx-10.0+pve0");
            put(&mut m, "running-qemu", "10.0.2");
        }
    }
    Value::Object(m)
}

/// An entry of `GET /cluster/resources` for a guest, serialized directly: with 10,000 guests
/// this list is the biggest answer the simulator gives.
#[derive(Serialize)]
pub(crate) struct Resource<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    node: &'a str,
    vmid: u32,
    name: String,
    template: u8,
    maxcpu: u64,
    maxmem: u64,
    maxdisk: u64,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mem: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    netin: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    netout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diskread: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diskwrite: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uptime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<&'a str>,
}

pub(crate) fn resource_entry(g: &Guest, now: f64, node_online: bool) -> Resource<'_> {
    // The status daemon has no fresh data from an offline node: status unknown, no figures.
    let l = node_online.then(|| live(g, now));
    Resource {
        id: format!("{}/{}", g.kind.as_str(), g.vmid),
        kind: g.kind.as_str(),
        node: &g.node,
        vmid: g.vmid,
        name: g.name(),
        template: u8::from(g.is_template()),
        maxcpu: g.cores(),
        maxmem: g.maxmem(),
        maxdisk: g.maxdisk(),
        status: match (node_online, g.running) {
            (false, _) => "unknown",
            (true, true) => "running",
            (true, false) => "stopped",
        },
        cpu: l.as_ref().map(|l| l.cpu),
        mem: l.as_ref().map(|l| l.mem),
        disk: l
            .as_ref()
            .map(|_| if g.kind == Kind::Lxc { g.disk_bytes } else { 0 }),
        netin: l.as_ref().map(|l| l.netin),
        netout: l.as_ref().map(|l| l.netout),
        diskread: l.as_ref().map(|l| l.uptime * 4096),
        diskwrite: l.as_ref().map(|l| l.uptime * 2048),
        uptime: l.as_ref().map(|l| l.uptime),
        lock: g.lock(),
        tags: g.tags(),
        pool: g.pool.as_deref(),
    }
}

/// CPU and memory use of a node: the sum of its running guests.
fn node_usage(w: &World, node: &Node, now: f64) -> (f64, u64) {
    let (mut cpu, mut mem) = (0.0, 2u64 << 30);
    for g in w
        .guests
        .values()
        .filter(|g| g.node == node.name && g.running)
    {
        let l = live(g, now);
        cpu += l.cpu * g.cores() as f64;
        mem += l.mem;
    }
    (
        (cpu / f64::from(node.cores.max(1))).min(1.0),
        mem.min(node.memory),
    )
}

/// An entry of `GET /nodes` (and, with `id`/`type`, of `cluster/resources`).
pub(crate) fn node_entry(
    w: &World,
    node: &Node,
    now: f64,
    fingerprint: &str,
) -> Map<String, Value> {
    let mut m = Map::new();
    put(&mut m, "node", node.name.clone());
    put(
        &mut m,
        "status",
        if node.online { "online" } else { "offline" },
    );
    put(&mut m, "ssl_fingerprint", fingerprint);
    put(&mut m, "level", "");
    if node.online {
        let (cpu, mem) = node_usage(w, node, now);
        put(&mut m, "cpu", cpu);
        put(&mut m, "maxcpu", node.cores);
        put(&mut m, "mem", mem);
        put(&mut m, "maxmem", node.memory);
        put(&mut m, "uptime", (now as i64 - node.booted_at).max(0));
    }
    m
}
