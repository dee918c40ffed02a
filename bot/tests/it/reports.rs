//! A console script through a usage report and a capacity plan against the simulated cluster:
//! a student's recorded hours show in `/report usage` with a CSV file and a PNG chart; a student
//! may not read the report; a bad day is refused naming the option; `/pool plan` says whether a
//! size fits the nodes' memory and, when it does not, by how much and where there is room.

use jiff::SignedDuration;
use pvelab_bot::app::clusters::operator;
use pvelab_bot::app::{SimLab, SIM_CLUSTER};
use pvelab_bot::console::{run_session, SessionOptions};
use pvelab_core::types::{ClassName, ClusterId, VmRef};

use crate::support::{answer, token_in};

async fn run(lab: &SimLab, script: &str) -> String {
    let mut out = Vec::new();
    run_session(
        &lab.lab,
        std::io::Cursor::new(script.as_bytes().to_vec()),
        &mut out,
        &SessionOptions {
            echo: true,
            prompt: false,
            ..SessionOptions::default()
        },
    )
    .await
    .expect("session");
    String::from_utf8(out).expect("utf-8")
}

/// The VM of the class's first student slot (built by `/class create`), which the first
/// student to join gets.
async fn first_student_vm(lab: &SimLab, class: &str) -> VmRef {
    let admin = operator(&lab.lab).await.expect("operator");
    let class = lab
        .lab
        .class_by_name(&admin, None, &ClassName::parse(class).expect("name"))
        .await
        .expect("class");
    VmRef::new(
        ClusterId::parse(SIM_CLUSTER).expect("id"),
        class.scheme.student_vmid(1).expect("slot"),
    )
}

#[tokio::test]
async fn a_usage_report_and_a_capacity_plan_through_the_console() {
    let lab = SimLab::start().await.expect("simulated lab");
    let out = run(
        &lab,
        "tom:teacher /class create name:net101 template:9000 pool:5 memory:4G\n\
         tom:teacher /class token class:net101\n",
    )
    .await;
    let token = token_in(&out);
    run(&lab, &format!("alice /join token:{token}\n")).await;
    let vm = first_student_vm(&lab, "net101").await;
    let admin = operator(&lab.lab).await.expect("operator");
    lab.lab
        .record_usage(&admin, &vm, SignedDuration::from_mins(90))
        .await
        .expect("usage");

    let report = "tom:teacher /report usage class:net101";
    let student = "alice /report usage class:net101";
    let bad_day = "tom:teacher /report usage class:net101 from:15.01.2027";
    let fits = "tom:teacher /pool plan class:net101 size:5";
    let too_big = "tom:teacher /pool plan class:net101 size:200";
    let out = run(
        &lab,
        &format!("{report}\n{student}\n{bad_day}\n{fits}\n{too_big}\n"),
    )
    .await;

    let shown = answer(&out, report);
    assert!(shown.starts_with("Usage of net101: "), "{shown}");
    assert!(
        shown.contains("1.5 VM-hours, about 45 Wh at 30 Wh per VM-hour"),
        "{shown}"
    );
    let row: Vec<&str> = shown
        .lines()
        .find(|l| l.trim_start().starts_with("alice"))
        .unwrap_or_else(|| panic!("no row for alice:\n{shown}"))
        .split_whitespace()
        .collect();
    assert_eq!(row, ["alice", "1.5", "0.0", "0", "no", "limit"], "{shown}");
    assert!(
        shown.contains("attached: usage-net101-") && shown.contains(".csv ("),
        "{shown}"
    );
    assert!(shown.contains(".png ("), "{shown}");

    let denied = answer(&out, student);
    assert!(denied.contains("You may not"), "{denied}");
    let refused = answer(&out, bad_day);
    assert!(
        refused.contains("from") && refused.contains("YYYY-MM-DD"),
        "{refused}"
    );

    let plan = answer(&out, fits);
    assert!(
        plan.starts_with("Plan for net101 with 5 student VMs on sim\n"),
        "{plan}"
    );
    assert!(
        plan.contains("Fits: every VM finds a node within 100%"),
        "{plan}"
    );
    assert!(
        plan.contains("Needs 24576 MiB memory and 12 vCPUs for 6 running VMs"),
        "{plan}"
    );
    assert!(
        plan.contains("Sizes from the class's settings and its template's cached specs."),
        "{plan}"
    );

    // 201 VMs of 4 GiB on three nodes of 256 GiB: 64 a node, 192 in all.
    let plan = answer(&out, too_big);
    assert!(
        plan.contains("Does not fit: 9 VMs (36864 MiB) find no node within 100%"),
        "{plan}"
    );
    assert!(
        plan.contains(
            "At most 191 student VMs fit now. Nodes with room: pve1 (64), pve2 (64), pve3 (64)."
        ),
        "{plan}"
    );
    lab.stop().await;
}
