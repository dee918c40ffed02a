//! Walks every endpoint the simulator serves and checks each answer against the `returns`
//! schema of the PVE API description: always against the extract committed in
//! `pve-sim/schema/`, and also against the full apidoc-pve-9.2.json when `PVE_APIDOC` names it
//! (see [`schema`]).

mod schema;

use pvelab_pve_sim::SimConfig;
use reqwest::Method;
use serde_json::Value;

use self::schema::{Schemas, REGENERATE};
use crate::support::Api;

fn is_int(v: &Value) -> bool {
    v.is_i64() || v.is_u64() || v.as_str().is_some_and(|s| s.parse::<i64>().is_ok())
}

/// Check `v` against a schema in PVE's dialect; numbers may arrive as numeric strings and
/// booleans as 0/1, as PVE sends them.
fn check(schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    if v.is_null() && schema["optional"] == 1 {
        return; // an optional return value may be absent
    }
    let ty = schema["type"].as_str().unwrap_or("any");
    let ok = match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => is_int(v),
        "number" => v.is_number() || v.as_str().is_some_and(|s| s.parse::<f64>().is_ok()),
        "boolean" => v.is_boolean() || v.as_i64().is_some_and(|n| n == 0 || n == 1),
        "null" => v.is_null(),
        _ => true,
    };
    if !ok {
        errors.push(format!("{at}: expected {ty}, got {v}"));
        return;
    }
    if let (Some(allowed), Some(s)) = (schema["enum"].as_array(), v.as_str()) {
        if !allowed.iter().any(|a| a == s) {
            errors.push(format!("{at}: '{s}' is not one of {allowed:?}"));
        }
    }
    if let (Some(props), Some(obj)) = (schema["properties"].as_object(), v.as_object()) {
        for (name, p) in props {
            match obj.get(name) {
                Some(value) => check(p, value, &format!("{at}.{name}"), errors),
                None if p["optional"] != 1 => {
                    errors.push(format!("{at}.{name}: required, missing"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            check(items, item, &format!("{at}[{i}]"), errors);
        }
    }
}

/// One call of the walk: method, path template, concrete path, parameters.
type Step<'a> = (Method, &'a str, String, Vec<(&'a str, &'a str)>);

#[tokio::test]
async fn every_endpoint_answers_as_the_pve_schema_says() {
    let extract = Schemas::extract();
    let full = Schemas::full_from_env();
    let api = Api::start(SimConfig {
        vms: 8,
        ..SimConfig::fast()
    })
    .await;
    let mut errors = Vec::new();
    let mut walked = Vec::new();

    // (method, template, concrete path, parameters); clone and snapshot tasks first so that
    // later calls find what they need.
    let upid_clone = api
        .post(
            "/nodes/pve1/qemu/9000/clone",
            &[("newid", "500"), ("name", "conf-a")],
        )
        .await;
    let clone_upid = upid_clone.data().as_str().unwrap_or_default().to_owned();
    assert_eq!(api.wait_task(&clone_upid).await, "OK");
    walked.push((
        "POST".to_owned(),
        "/nodes/{node}/qemu/{vmid}/clone".to_owned(),
        upid_clone.body.clone(),
    ));

    let steps: Vec<Step> = vec![
        (Method::GET, "/version", "/version".into(), vec![]),
        (Method::GET, "/nodes", "/nodes".into(), vec![]),
        (
            Method::GET,
            "/nodes/{node}/status",
            "/nodes/pve1/status".into(),
            vec![],
        ),
        (
            Method::GET,
            "/cluster/resources",
            "/cluster/resources".into(),
            vec![],
        ),
        (
            Method::GET,
            "/cluster/resources",
            "/cluster/resources".into(),
            vec![("type", "vm")],
        ),
        (
            Method::GET,
            "/cluster/nextid",
            "/cluster/nextid".into(),
            vec![],
        ),
        (Method::GET, "/pools", "/pools".into(), vec![]),
        (
            Method::POST,
            "/pools",
            "/pools".into(),
            vec![("poolid", "conformance")],
        ),
        (
            Method::GET,
            "/nodes/{node}/storage",
            "/nodes/pve1/storage".into(),
            vec![("content", "iso")],
        ),
        (
            Method::GET,
            "/nodes/{node}/storage/{storage}/content",
            "/nodes/pve1/storage/local/content".into(),
            vec![("content", "iso")],
        ),
        (
            Method::GET,
            "/nodes/{node}/storage/{storage}/content",
            "/nodes/pve1/storage/local-lvm/content".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/qemu",
            "/nodes/pve1/qemu".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/qemu/{vmid}",
            "/nodes/pve1/qemu/100".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/qemu/{vmid}/status/current",
            "/nodes/pve1/qemu/100/status/current".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/qemu/{vmid}/status/current",
            "/nodes/pve1/qemu/9000/status/current".into(),
            vec![],
        ),
        (
            Method::PUT,
            "/nodes/{node}/qemu/{vmid}/config",
            "/nodes/pve1/qemu/100/config".into(),
            vec![("cores", "3"), ("delete", "vga")],
        ),
        (
            Method::GET,
            "/nodes/{node}/qemu/{vmid}/pending",
            "/nodes/pve1/qemu/100/pending".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/qemu/{vmid}/config",
            "/nodes/pve1/qemu/100/config".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/qemu/{vmid}/rrddata",
            "/nodes/pve1/qemu/100/rrddata".into(),
            vec![("timeframe", "hour"), ("cf", "AVERAGE")],
        ),
        (
            Method::GET,
            "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces",
            "/nodes/pve1/qemu/100/agent/network-get-interfaces".into(),
            vec![],
        ),
        (
            Method::PUT,
            "/nodes/{node}/qemu/{vmid}/config",
            "/nodes/pve1/qemu/500/config".into(),
            vec![("cores", "4"), ("memory", "4096")],
        ),
        (
            Method::POST,
            "/nodes/{node}/qemu/{vmid}/config",
            "/nodes/pve1/qemu/500/config".into(),
            vec![("description", "conformance")],
        ),
        (
            Method::PUT,
            "/nodes/{node}/qemu/{vmid}/resize",
            "/nodes/pve1/qemu/500/resize".into(),
            vec![("disk", "scsi0"), ("size", "+8G")],
        ),
        (
            Method::POST,
            "/nodes/{node}/qemu/{vmid}/snapshot",
            "/nodes/pve1/qemu/500/snapshot".into(),
            vec![("snapname", "baseline")],
        ),
        (
            Method::GET,
            "/nodes/{node}/qemu/{vmid}/snapshot",
            "/nodes/pve1/qemu/500/snapshot".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}",
            "/nodes/pve1/qemu/500/snapshot/baseline".into(),
            vec![],
        ),
        (
            Method::POST,
            "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback",
            "/nodes/pve1/qemu/500/snapshot/baseline/rollback".into(),
            vec![],
        ),
        (
            Method::DELETE,
            "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}",
            "/nodes/pve1/qemu/500/snapshot/baseline".into(),
            vec![],
        ),
        (
            Method::POST,
            "/nodes/{node}/qemu/{vmid}/status/start",
            "/nodes/pve1/qemu/500/status/start".into(),
            vec![],
        ),
        (
            Method::POST,
            "/nodes/{node}/qemu/{vmid}/status/reboot",
            "/nodes/pve1/qemu/500/status/reboot".into(),
            vec![],
        ),
        (
            Method::POST,
            "/nodes/{node}/qemu/{vmid}/status/reset",
            "/nodes/pve1/qemu/500/status/reset".into(),
            vec![],
        ),
        (
            Method::POST,
            "/nodes/{node}/qemu/{vmid}/status/shutdown",
            "/nodes/pve1/qemu/500/status/shutdown".into(),
            vec![],
        ),
        (
            Method::POST,
            "/nodes/{node}/qemu/{vmid}/status/stop",
            "/nodes/pve1/qemu/500/status/stop".into(),
            vec![],
        ),
        (
            Method::POST,
            "/nodes/{node}/qemu/{vmid}/template",
            "/nodes/pve1/qemu/500/template".into(),
            vec![],
        ),
        (
            Method::DELETE,
            "/nodes/{node}/qemu/{vmid}",
            "/nodes/pve1/qemu/500".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/lxc",
            "/nodes/pve1/lxc".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/lxc/{vmid}",
            "/nodes/pve1/lxc/108".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/lxc/{vmid}/status/current",
            "/nodes/pve1/lxc/108/status/current".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/lxc/{vmid}/config",
            "/nodes/pve1/lxc/108/config".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/lxc/{vmid}/interfaces",
            "/nodes/pve1/lxc/108/interfaces".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/lxc/{vmid}/rrddata",
            "/nodes/pve1/lxc/108/rrddata".into(),
            vec![("timeframe", "day")],
        ),
        (
            Method::PUT,
            "/nodes/{node}/lxc/{vmid}/config",
            "/nodes/pve1/lxc/108/config".into(),
            vec![("memory", "1024")],
        ),
        (
            Method::POST,
            "/nodes/{node}/lxc/{vmid}/clone",
            "/nodes/pve1/lxc/108/clone".into(),
            vec![("newid", "600"), ("hostname", "ct-copy")],
        ),
        (
            Method::GET,
            "/nodes/{node}/lxc/{vmid}/snapshot",
            "/nodes/pve1/lxc/108/snapshot".into(),
            vec![],
        ),
        (
            Method::POST,
            "/nodes/{node}/lxc/{vmid}/status/shutdown",
            "/nodes/pve1/lxc/108/status/shutdown".into(),
            vec![],
        ),
        (
            Method::POST,
            "/access/ticket",
            "/access/ticket".into(),
            vec![],
        ),
        (
            Method::GET,
            "/nodes/{node}/tasks",
            "/nodes/pve1/tasks".into(),
            vec![],
        ),
    ];
    for (method, template, path, params) in steps {
        let mut params = params;
        let password = api.sim.password();
        let username = api.sim.username();
        if template == "/access/ticket" {
            params = vec![
                ("username", username.as_str()),
                ("password", password.as_str()),
            ];
        }
        let a = api.call(method.clone(), &path, &params).await;
        assert!(
            a.status.is_success(),
            "{method} {path} failed: {} {} {}",
            a.status,
            a.reason,
            a.raw
        );
        // Let tasks finish before the next step relies on their effect.
        if let Some(upid) = a.data().as_str().filter(|s| s.starts_with("UPID:")) {
            let exit = api.wait_task(upid).await;
            assert!(
                exit == "OK" || exit.starts_with("WARNINGS"),
                "{method} {path}: task ended {exit}"
            );
        }
        walked.push((
            method.as_str().to_owned(),
            template.to_owned(),
            a.body.clone(),
        ));
    }
    // Task status and log of the clone task.
    let status_path = format!("/nodes/pve1/tasks/{clone_upid}/status");
    walked.push((
        "GET".to_owned(),
        "/nodes/{node}/tasks/{upid}/status".into(),
        api.get(&status_path).await.body,
    ));
    let log_path = format!("/nodes/pve1/tasks/{clone_upid}/log");
    let log = api.get(&log_path).await;
    assert!(
        log.body["total"].as_u64().unwrap_or(0) >= 2,
        "the clone task has a log: {}",
        log.raw
    );
    walked.push((
        "GET".to_owned(),
        "/nodes/{node}/tasks/{upid}/log".into(),
        log.body,
    ));

    for schemas in std::iter::once(&extract).chain(full.as_ref()) {
        for (method, template, body) in &walked {
            let Some(returns) = schemas.returns(method, template) else {
                let hint = if std::ptr::eq(schemas, &extract) {
                    format!("; if PVE has it, add its path to extract.py and {REGENERATE}")
                } else {
                    String::new()
                };
                errors.push(format!(
                    "{method} {template}: not in {}{hint}",
                    schemas.origin
                ));
                continue;
            };
            check(
                returns,
                &body["data"],
                &format!("{method} {template} ({})", schemas.origin),
                &mut errors,
            );
        }
    }
    if let Some(full) = &full {
        let faults = schema::unfaithful(&schema::extract_doc()["selection"], &extract, full);
        if !faults.is_empty() {
            errors.push(format!("the extract is out of date; {REGENERATE}"));
            errors.extend(faults);
        }
    }
    assert!(
        errors.is_empty(),
        "answers that break the schema:\n{}",
        errors.join("\n")
    );

    // Every route the simulator counted was walked (the counters name path templates).
    let counted: std::collections::BTreeSet<String> = api
        .sim
        .counters()
        .into_iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    for (method, template, _) in &walked {
        assert!(
            counted.contains(&format!("{method} {template}")),
            "{method} {template} was not counted"
        );
    }
    assert!(
        walked.len() >= 50,
        "the walk covers the API: {} calls",
        walked.len()
    );
}

#[test]
fn the_checker_rejects_a_missing_required_field_and_a_wrong_enum() {
    let schema = serde_json::json!({"type": "object", "properties": {
        "status": {"type": "string", "enum": ["running", "stopped"]},
        "vmid": {"type": "integer"},
        "name": {"type": "string", "optional": 1}}});
    let mut errors = Vec::new();
    check(
        &schema,
        &serde_json::json!({"status": "paused"}),
        "x",
        &mut errors,
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    let mut none = Vec::new();
    check(
        &schema,
        &serde_json::json!({"status": "running", "vmid": "100"}),
        "x",
        &mut none,
    );
    assert!(none.is_empty(), "{none:?}");
}
