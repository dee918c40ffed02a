//! Cluster-wide endpoints: version, nodes, resources, next free VMID, pools.

use axum::extract::State;
use serde_json::{json, Value};

use super::views::{node_entry, resource_entry};
use super::S;
use crate::http::call::Call;
use crate::http::reply::{ApiError, ApiResult, Data};
use crate::model::Pool;

/// `GET /version`.
pub(crate) async fn version(State(_s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&[])?;
    Ok(Data::new(json!({
        "version": "9.2.0",
        "release": "9.2",
        "repoid": "5e1a9c3d",
        "console": "html5",
    })))
}

/// `GET /nodes`.
pub(crate) async fn nodes(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&[])?;
    let now = s.clock.now_f64();
    let w = s.world();
    let list: Vec<Value> = w
        .nodes
        .iter()
        .map(|n| {
            let mut m = node_entry(&w, n, now, &s.fingerprint);
            m.insert("id".into(), format!("node/{}", n.name).into());
            m.insert("type".into(), "node".into());
            Value::Object(m)
        })
        .collect();
    Ok(Data::new(list))
}

/// `GET /nodes/{node}/status` (a short subset: what a pool manager reads).
pub(crate) async fn node_status(State(s): State<S>, c: Call) -> ApiResult {
    let now = s.clock.now_f64();
    let w = s.world();
    let node = w
        .node(c.node())
        .ok_or_else(|| ApiError::fail("no such node"))?;
    let m = node_entry(&w, node, now, &s.fingerprint);
    Ok(Data::new(json!({
        "cpu": m.get("cpu").cloned().unwrap_or(Value::from(0)),
        "uptime": m.get("uptime").cloned().unwrap_or(Value::from(0)),
        "memory": { "total": node.memory, "used": m.get("mem").cloned().unwrap_or(Value::from(0)), "free": 0, "available": 0 },
        "loadavg": ["0.12", "0.10", "0.08"],
        "rootfs": { "total": 100u64 << 30, "used": 12u64 << 30, "free": 88u64 << 30, "avail": 83u64 << 30 },
        "boot-info": { "mode": "efi", "secureboot": 0 },
        "current-kernel": { "sysname": "Linux", "release": "6.14.11-2-pve", "version": "#1 SMP PREEMPT_DYNAMIC PMX 6.14.11-2", "machine": "x86_64" },
        "cpuinfo": { "cpus": node.cores, "cores": node.cores, "sockets": 1, "model": "Simulated CPU" },
        "pveversion": "pve-manager/9.2.0/5e1a9c3d",
        "kversion": "Linux 6.14.11-2-pve",
    })))
}

/// `GET /cluster/resources[?type=vm|node|storage|sdn]`: one call for the whole cluster.
///
/// With `resources_lag_secs` set, answers come from a snapshot up to that old, as PVE's status
/// daemon lags behind (a fresh clone may be missing, a stopped VM still `running`).
pub(crate) async fn resources(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&["type"])?;
    let filter = c.params.one_of("type", &["vm", "storage", "node", "sdn"])?;
    let lag = s.cfg.scaled(s.cfg.resources_lag_secs);
    if lag.is_zero() {
        return Ok(Data::raw(build_resources(&s, filter)));
    }
    let key = filter.unwrap_or("").to_owned();
    if let Some((at, text)) = s.resources_cache().get(&key) {
        if at.elapsed() < lag {
            return Ok(Data::raw(text.clone()));
        }
    }
    let text = build_resources(&s, filter);
    s.resources_cache()
        .insert(key, (std::time::Instant::now(), text.clone()));
    Ok(Data::raw(text))
}

/// The JSON text of the resource list for a type filter.
fn build_resources(s: &S, filter: Option<&str>) -> String {
    let now = s.clock.now_f64();
    let w = s.world();
    let want = |t: &str| filter.is_none() || filter == Some(t);
    let mut out: Vec<Value> = Vec::new();
    if want("node") {
        for n in &w.nodes {
            let mut m = node_entry(&w, n, now, &s.fingerprint);
            m.remove("ssl_fingerprint");
            m.insert("id".into(), format!("node/{}", n.name).into());
            m.insert("type".into(), "node".into());
            out.push(Value::Object(m));
        }
    }
    if want("storage") {
        for n in &w.nodes {
            for st in &w.storages {
                let used = st.total / 5;
                out.push(json!({
                    "id": format!("storage/{}/{}", n.name, st.id),
                    "type": "storage",
                    "node": n.name,
                    "storage": st.id,
                    "plugintype": st.kind,
                    "content": st.content,
                    "shared": u8::from(st.shared),
                    "status": if n.online { "available" } else { "unknown" },
                    "disk": used,
                    "maxdisk": st.total,
                }));
            }
        }
    }
    if want("vm") {
        let online: std::collections::HashMap<&str, bool> = w
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.online))
            .collect();
        let guests: Vec<_> = w
            .guests
            .values()
            .map(|g| {
                let up = online.get(g.node.as_str()).copied().unwrap_or(false);
                resource_entry(g, now, up)
            })
            .collect();
        // Serialize straight from the structs: no intermediate Value tree for 10,000 guests.
        let mut text = serde_json::to_string(&guests).unwrap_or_else(|_| "[]".into());
        if !out.is_empty() {
            let head = serde_json::to_string(&out).unwrap_or_else(|_| "[]".into());
            let guests_part = text.trim_start_matches('[').to_owned();
            text = if guests_part == "]" {
                head
            } else {
                format!("{},{guests_part}", head.trim_end_matches(']'))
            };
        }
        return text;
    }
    serde_json::to_string(&out).unwrap_or_else(|_| "[]".into())
}

/// `GET /cluster/nextid[?vmid=N]`: the first free VMID, as a string (PVE's loose typing).
pub(crate) async fn nextid(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&["vmid"])?;
    let asked = c.params.int_range("vmid", 100, 999_999_999)?;
    let w = s.world();
    if let Some(id) = asked {
        let id = id as u32;
        if w.guests.contains_key(&id) {
            return Err(ApiError::param("vmid", format!("VM {id} already exists")));
        }
        return Ok(Data::new(id.to_string()));
    }
    let mut id = 100u32;
    for used in w.guests.keys().copied().filter(|v| *v >= 100) {
        if used == id {
            id += 1;
        } else if used > id {
            break;
        }
    }
    Ok(Data::new(id.to_string()))
}

/// `GET /pools`.
pub(crate) async fn pools(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&["poolid", "type"])?;
    let w = s.world();
    let list: Vec<Value> = w
        .pools
        .iter()
        .filter(|(id, _)| c.params.get("poolid").is_none_or(|p| p == id.as_str()))
        .map(|(id, p)| {
            let members: Vec<Value> = w
                .guests
                .values()
                .filter(|g| g.pool.as_deref() == Some(id.as_str()))
                .map(|g| {
                    json!({
                        "id": format!("{}/{}", g.kind.as_str(), g.vmid),
                        "node": g.node,
                        "type": g.kind.as_str(),
                        "vmid": g.vmid,
                    })
                })
                .collect();
            json!({ "poolid": id, "comment": p.comment, "members": members })
        })
        .collect();
    Ok(Data::new(list))
}

/// `POST /pools` (poolid, comment).
pub(crate) async fn create_pool(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&["poolid", "comment"])?;
    let id = c.params.required("poolid")?;
    let valid = id.len() <= 64
        && id.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic())
        && id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch));
    if !valid {
        return Err(ApiError::param(
            "poolid",
            format!("invalid format - invalid pool ID '{id}'"),
        ));
    }
    let mut w = s.world();
    if w.pools.contains_key(id) {
        return Err(ApiError::fail(format!("pool '{id}' already exists")));
    }
    let comment = c.params.get("comment").unwrap_or_default().to_owned();
    w.pools.insert(id.to_owned(), Pool { comment });
    Ok(Data::new(Value::Null))
}
