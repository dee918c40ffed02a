//! Storages of a node and their content (ISOs, guest images).

use axum::extract::State;
use serde_json::{json, Value};

use super::S;
use crate::http::call::Call;
use crate::http::reply::{ApiError, ApiResult, Data};
use crate::model::Kind;

/// `GET /nodes/{node}/storage[?content=iso&storage=..&enabled=1]`.
pub(crate) async fn list(State(s): State<S>, c: Call) -> ApiResult {
    c.params
        .allow(&["content", "storage", "enabled", "format", "target"])?;
    c.params.bool("enabled")?;
    c.params.bool("format")?;
    let w = s.world();
    let content = c.params.get("content");
    let list: Vec<Value> = w
        .storages
        .iter()
        .filter(|st| {
            content.is_none_or(|ct| ct.split(',').all(|x| st.content.split(',').any(|y| y == x)))
        })
        .filter(|st| c.params.get("storage").is_none_or(|id| id == st.id))
        .map(|st| {
            let used = st.total / 5;
            json!({
                "storage": st.id, "type": st.kind, "content": st.content,
                "shared": u8::from(st.shared), "active": 1, "enabled": 1,
                "total": st.total, "used": used, "avail": st.total - used,
                "used_fraction": used as f64 / st.total as f64,
            })
        })
        .collect();
    Ok(Data::new(list))
}

/// `GET /nodes/{node}/storage/{storage}/content[?content=iso|images&vmid=N]`.
pub(crate) async fn content(State(s): State<S>, c: Call) -> ApiResult {
    c.params.allow(&["content", "vmid"])?;
    let vmid = c.params.int("vmid")?;
    let w = s.world();
    let id = c.path("storage");
    let st = w
        .storage(id)
        .ok_or_else(|| ApiError::fail(format!("storage '{id}' does not exist")))?;
    let want = |ct: &str| c.params.get("content").is_none_or(|x| x == ct);
    let mut out = Vec::new();
    if st.id == "local" && want("iso") && vmid.is_none() {
        for iso in &w.isos {
            out.push(json!({
                "volid": iso.volid, "content": "iso", "format": "iso",
                "size": iso.size, "ctime": iso.ctime,
            }));
        }
    }
    if want("images") || want("rootdir") {
        for g in w.guests.values() {
            if vmid.is_some_and(|v| v != i64::from(g.vmid)) {
                continue;
            }
            let Some(disk) = g.config.get(g.kind.disk_key()).and_then(Value::as_str) else {
                continue;
            };
            let volid = disk.split(',').next().unwrap_or_default();
            let on_this =
                volid.starts_with(&format!("{}:", st.id)) && (st.shared || g.node == c.node());
            if on_this {
                let mut v = json!({
                    "volid": volid, "content": match g.kind { Kind::Lxc => "rootdir", Kind::Qemu => "images" },
                    "format": "raw", "size": g.maxdisk(), "vmid": g.vmid, "ctime": g.created,
                });
                // A linked clone's volume names its base volume: PVE lists it as `parent`.
                if let Some((base, _)) = volid.split_once('/') {
                    v["parent"] = base.split_once(':').map_or(base, |(_, b)| b).into();
                }
                out.push(v);
            }
        }
    }
    Ok(Data::new(out))
}
