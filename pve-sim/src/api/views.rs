//! JSON views of guests and nodes, shared by the list, status and cluster endpoints.

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

/// An entry of `GET /cluster/resources` for a guest.
pub(crate) fn resource_entry(g: &Guest, now: f64, node_online: bool) -> Value {
    let mut m = Map::with_capacity(24);
    put(&mut m, "id", format!("{}/{}", g.kind.as_str(), g.vmid));
    put(&mut m, "type", g.kind.as_str());
    put(&mut m, "node", g.node.clone());
    put(&mut m, "vmid", g.vmid);
    put(&mut m, "name", g.name());
    put(&mut m, "template", u8::from(g.is_template()));
    put(&mut m, "maxcpu", g.cores());
    put(&mut m, "maxmem", g.maxmem());
    put(&mut m, "maxdisk", g.maxdisk());
    if node_online {
        let l = live(g, now);
        put(
            &mut m,
            "status",
            if g.running { "running" } else { "stopped" },
        );
        put(&mut m, "cpu", l.cpu);
        put(&mut m, "mem", l.mem);
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
    } else {
        // The status daemon has no fresh data from an offline node.
        put(&mut m, "status", "unknown");
    }
    if let Some(l) = g.lock() {
        put(&mut m, "lock", l);
    }
    if let Some(t) = g.tags() {
        put(&mut m, "tags", t);
    }
    if let Some(p) = &g.pool {
        put(&mut m, "pool", p.clone());
    }
    Value::Object(m)
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
