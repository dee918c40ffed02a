//! The `inventory`, `commands` and `scale` benchmark scenarios run at a tiny size through the real `bench`
//! program with `--json`, so they keep working between benchmark runs: the report has its
//! figures and references, and the counts say every user got what the scenario promises.

use std::process::Command;

use serde_json::Value;

/// Runs `bench ARGS --json` and returns its report.
fn bench(args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(args)
        .arg("--json")
        .output()
        .expect("the bench program runs");
    assert!(
        output.status.success(),
        "bench {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "bench {args:?} printed no JSON report ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The figures every report has: operations as asked, positive rates, a ratio.
fn assert_figures(report: &Value, operations: u64) {
    for side in ["measured", "reference"] {
        let t = &report[side];
        assert_eq!(t["operations"], operations, "{side}: {report:#}");
        assert!(
            t["per_second"].as_f64().unwrap() > 0.0,
            "{side}: {report:#}"
        );
        assert!(t["p99_ms"].as_f64().unwrap() >= t["p50_ms"].as_f64().unwrap());
    }
    assert!(report["ratio"].as_f64().unwrap() > 0.0, "{report:#}");
    assert!(report["reference_name"]
        .as_str()
        .is_some_and(|n| !n.is_empty()));
}

#[test]
fn the_inventory_scenario_makes_one_resources_call_per_tick_and_writes_every_guest_first() {
    let report = bench(&["inventory", "--vms", "40", "--nodes", "2", "--ticks", "3"]);
    assert_eq!(report["scenario"], "inventory");
    assert_figures(&report, 3);
    let counts = &report["counts"];
    let guests = counts["guests"].as_u64().unwrap();
    assert!(guests > 40, "the VMs, templates and containers: {report:#}");
    assert_eq!(
        counts["rows_inserted_by_the_first_tick"], guests,
        "{report:#}"
    );
    // `sync_now`'s probe and the one `cluster/resources` call, counted in the simulator's
    // process.
    assert_eq!(counts["api_calls_per_tick"], 2.0, "{report:#}");
    assert_eq!(
        counts["cluster_resources_calls_per_tick"], 1.0,
        "{report:#}"
    );
    assert!(
        counts["payload_bytes"].as_u64().unwrap() > guests * 100,
        "{report:#}"
    );
}

#[test]
fn the_commands_scenario_answers_every_user_and_reports_memory() {
    let report = bench(&[
        "commands",
        "--users",
        "12",
        "--vms",
        "150",
        "--nodes",
        "2",
        "--class-size",
        "5",
    ]);
    assert_eq!(report["scenario"], "commands");
    assert_figures(&report, 12);
    let join = &report["more"][0];
    assert_eq!(join["name"], "/join", "{report:#}");
    assert_eq!(join["measured"]["operations"], 12);
    assert_eq!(join["reference"]["operations"], 12);
    let counts = &report["counts"];
    // 12 users in classes of 5: three classes per set, two sets.
    assert_eq!(counts["classes"], 6, "{report:#}");
    assert_eq!(counts["joined_with_a_vm_by_command"], 12, "{report:#}");
    assert_eq!(counts["joined_with_a_vm_by_core"], 12, "{report:#}");
    assert_eq!(counts["myvm_replies_with_two_vms"], 12, "{report:#}");
    assert_eq!(counts["myvm_reference_with_two_vms"], 12, "{report:#}");
    assert!(
        counts["guests_in_inventory"].as_u64().unwrap() >= 150,
        "{report:#}"
    );
    let peak = counts["peak_resident_mib (VmHWM)"].as_f64().unwrap();
    assert!(peak > 1.0, "{report:#}");
    assert!(counts["peak_resident_within_goal"].is_boolean());
}

#[test]
fn the_scale_scenario_fills_every_cluster_and_says_where_it_stops() {
    let report = bench(&[
        "scale",
        "--clusters",
        "3",
        "--classes",
        "6",
        "--users",
        "20",
        "--requests",
        "8",
    ]);
    assert_eq!(report["scenario"], "scale");
    assert_figures(&report, 8);
    let counts = &report["counts"];
    assert_eq!(counts["clusters"], 3, "{report:#}");
    assert_eq!(counts["classes"], 6, "{report:#}");
    // 20 users over 6 classes: 4 students each, 24 VMs, everyone with one.
    assert_eq!(counts["student_vms"], 24, "{report:#}");
    assert_eq!(counts["users_joined"], 20, "{report:#}");
    // Every cluster's inventory holds its student VMs and the simulator's templates.
    let templates = pvelab_pve_sim::TEMPLATE_VMIDS.len() as u64;
    assert_eq!(
        counts["guests_in_inventory"],
        24 + 3 * templates,
        "{report:#}"
    );
    assert!(counts["db_bytes"].as_u64().unwrap() > 0, "{report:#}");
    // The fill is told in two parts, classes with their VMs and users joining, that add up.
    let part = |key: &str| counts[key].as_f64().unwrap();
    let (classes, joins) = (
        part("fill_classes_and_vms_s"),
        part("fill_users_and_joins_s"),
    );
    assert!(classes > 0.0 && joins > 0.0, "{report:#}");
    assert!(
        (classes + joins - part("fill_s")).abs() < 1e-6,
        "{report:#}"
    );
    assert!(counts["tick_per_cluster_p50_ms"].as_f64().unwrap() > 0.0);
    assert!(counts["tick_all_clusters_wall_ms"].as_f64().unwrap() > 0.0);
    assert!(counts["where_one_instance_stops"]
        .as_str()
        .is_some_and(|v| v.contains("ticks of all 3 clusters")));
}
