//! A console script through in-VM checks and a submission, against the simulated cluster: a
//! teacher defines a check (shown back, then confirmed with its button's command), runs it on
//! the students' VMs with a CSV, a student runs it on their own VM and submits, the teacher
//! lists submissions, rolls the student's VM back to one and sets a deadline; a student may not
//! define checks.

use pvelab_bot::app::clusters::operator;
use pvelab_bot::app::SimLab;
use pvelab_bot::console::{run_session, SessionOptions};
use pvelab_core::model::CheckName;
use pvelab_core::types::ClassName;
use pvelab_pve_sim::{ExecMatch, ExecOutcome};

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

/// The command of the button labelled `label` in `output`.
fn button<'o>(output: &'o str, label: &str) -> &'o str {
    let mark = format!("[{label}] ");
    output
        .lines()
        .find_map(|l| l.trim().strip_prefix(mark.as_str()))
        .unwrap_or_else(|| panic!("no button {label} in:\n{output}"))
}

#[tokio::test]
async fn a_check_run_and_a_submission_through_the_console() {
    let lab = SimLab::start().await.expect("simulated lab");
    let out = run(
        &lab,
        "tom:teacher /class create name:net101 template:9000 pool:2\n\
         tom:teacher /class token class:net101\n",
    )
    .await;
    let token = token_in(&out);
    // The class's VMs are built from the template: 201 and 202, stopped. Alice's (201) runs
    // the check's command successfully once started; bob's stays stopped.
    lab.sim
        .set_exec_outcome(
            ExecMatch::vm(201).command(["systemctl", "is-active", "nginx"]),
            ExecOutcome::success("active\n"),
        )
        .expect("script");

    // The check is shown back before it is saved; its button adds it.
    let add = "tom:teacher /check add class:net101 name:web command:\"systemctl is-active nginx\" \
               expect-output:^active$";
    let refused = "alice /check add class:net101 name:evil command:\"rm -rf /\" confirm:yes";
    let out = run(
        &lab,
        &format!(
            "alice /join token:{token}\nbob /join token:{token}\nalice /vm start\n{add}\n\
             {refused}\n"
        ),
    )
    .await;
    assert!(
        answer(&out, "alice /vm start").contains("it is running now"),
        "{out}"
    );
    // The guest agent answers a while after the start, on the simulator's clock.
    lab.sim.advance_clock(600.0);
    let shown = answer(&out, add);
    assert!(shown.starts_with("Add check web to net101?\n"), "{shown}");
    assert!(
        shown.contains("command: systemctl is-active nginx"),
        "{shown}"
    );
    assert!(shown.contains("timeout: 30 s"), "{shown}");
    assert!(
        shown.contains("passes when: output matches ^active$"),
        "{shown}"
    );
    assert!(shown.contains("as root"), "{shown}");
    let confirm = button(shown, "Add check");
    assert!(confirm.ends_with(" confirm:yes"), "{confirm}");
    let refusal = answer(&out, refused);
    assert!(
        refusal.contains("You may not define or remove in-VM checks"),
        "{refusal}"
    );

    let run_line = "tom:teacher /check run class:net101 check:web csv:yes";
    let out = run(
        &lab,
        &format!(
            "tom:teacher {confirm}\n{run_line}\nalice /vm check\nbob /vm check class:net101\n\
             alice /vm submit\n"
        ),
    )
    .await;
    let added = answer(&out, &format!("tom:teacher {confirm}"));
    assert!(added.starts_with("Check web added to net101\n"), "{added}");
    assert!(
        added.contains("[Run it now] /check run class:net101 check:web"),
        "{added}"
    );
    let table = answer(&out, run_line);
    assert!(
        table.starts_with("  … running check web on the student VMs of net101\n"),
        "{table}"
    );
    assert!(
        table.contains("\nCheck web on net101: 1 of 2 pass\n"),
        "{table}"
    );
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(
        rows.contains(&vec!["alice", "201", "pass", "active"]),
        "{table}"
    );
    assert!(rows.contains(&vec!["bob", "202", "stopped"]), "{table}");
    assert!(
        table.contains("attached: net101-web-results.csv ("),
        "{table}"
    );
    let csv = lab
        .lab
        .check_results_csv(
            &operator(&lab.lab).await.expect("operator"),
            lab.lab
                .class_by_name(
                    &operator(&lab.lab).await.expect("operator"),
                    None,
                    &ClassName::parse("net101").expect("name"),
                )
                .await
                .expect("class")
                .id,
            &CheckName::parse("web").expect("name"),
        )
        .await
        .expect("csv");
    assert!(csv.contains(",sim,201,pass,0,active,"), "{csv}");
    assert!(csv.contains(",sim,202,stopped,,,"), "{csv}");

    let alice = answer(&out, "alice /vm check");
    assert!(
        alice.starts_with("Checks of your VM 201 in net101: 1 of 1 pass"),
        "{alice}"
    );
    let bob = answer(&out, "bob /vm check class:net101");
    assert!(
        bob.lines()
            .any(|l| l.split_whitespace().eq(["web", "stopped"])),
        "{bob}"
    );
    let submitted = answer(&out, "alice /vm submit");
    assert!(
        submitted.starts_with("Your work in net101 is submitted\n"),
        "{submitted}"
    );
    let snapshot = submitted
        .split_whitespace()
        .find(|w| w.starts_with("submit-"))
        .expect("the snapshot's name");

    // The teacher lists it, rolls alice's VM back to it (asked first), and sets a deadline.
    let rollback =
        format!("tom:teacher /pool rollback class:net101 user:alice snapshot:{snapshot}");
    let out = run(
        &lab,
        &format!(
            "tom:teacher /class submissions class:net101\n{rollback}\n\
             tom:teacher /class deadline class:net101 at:2d\nbob /class submissions class:net101\n"
        ),
    )
    .await;
    let listed = answer(&out, "tom:teacher /class submissions class:net101");
    assert!(listed.contains("deadline: none"), "{listed}");
    let row = listed
        .lines()
        .find(|l| l.contains(snapshot))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(row.trim().starts_with("alice"), "{row}");
    assert!(row.ends_with("by the student"), "{row}");
    let asked = answer(&out, &rollback);
    assert!(
        asked.starts_with(&format!("Roll alice's VM back to {snapshot}?")),
        "{asked}"
    );
    let confirm = button(asked, "Roll back");
    let deadline = answer(&out, "tom:teacher /class deadline class:net101 at:2d");
    assert!(
        deadline.contains("every student VM is snapshotted then"),
        "{deadline}"
    );
    let bob_sees = answer(&out, "bob /class submissions class:net101");
    assert!(
        !bob_sees.contains(snapshot),
        "students see only their own: {bob_sees}"
    );

    let out = run(&lab, &format!("tom:teacher {confirm}\n")).await;
    let done = answer(&out, &format!("tom:teacher {confirm}"));
    assert!(
        done.starts_with(&format!("VM 201 of alice is back at {snapshot}")),
        "{done}"
    );
    lab.stop().await;
}
