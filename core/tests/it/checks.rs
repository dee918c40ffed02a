//! In-VM checks against the simulated cluster: scripted guest-agent outcomes (pass, fail with
//! an exit code and output, a program missing, no agent, a stopped VM, a hang past the
//! timeout), results stored and read back as CSV, a student's run on their own VM, and who may
//! do what.

use pvelab_core::model::{
    CheckCommand, CheckDefinition, CheckName, CheckOutcome, CheckTimeout, ExitCode, OutputPattern,
    PassRule,
};
use pvelab_core::types::{ClassId, Role};
use pvelab_core::{Entity, Error};
use pvelab_pve_sim::{ExecMatch, ExecOutcome, SimConfig};

use crate::checks_support::{sim_class, sim_class_on, sim_vm, SimClass};
use crate::support::{name, pool_size, user};

fn check_name(text: &str) -> CheckName {
    CheckName::parse(text).expect("name")
}

fn definition(
    check: &str,
    command: &[&str],
    timeout: i64,
    exit: Option<i64>,
    output: Option<&str>,
) -> CheckDefinition {
    CheckDefinition::new(
        check_name(check),
        CheckCommand::new(command.iter().copied()).expect("command"),
        CheckTimeout::from_secs(timeout).expect("timeout"),
        PassRule::new(
            exit.map(|c| ExitCode::new(c).expect("code")),
            output.map(|p| OutputPattern::parse(p).expect("pattern")),
        ),
    )
}

const NGINX: &[&str] = &["systemctl", "is-active", "nginx"];

fn nginx_check() -> CheckDefinition {
    definition("nginx", NGINX, 1, None, Some("^active$"))
}

/// Students on VMs 102 (running; its node hint is wrong, pve1 instead of pve3), 103
/// (stopped), 104, 106 (running, no guest agent), 108, 110 (running) and 115 (not on the
/// cluster at all).
async fn class_of_seven() -> SimClass {
    sim_class(
        12,
        &[
            (2, Some("pve1")),
            (3, None),
            (4, Some("pve2")),
            (6, None),
            (8, None),
            (10, None),
            (15, None),
        ],
    )
    .await
}

#[tokio::test]
async fn a_check_runs_on_every_student_vm_and_each_ends_as_its_vm_allows() {
    let w = class_of_seven().await;
    let exec = |vmid: u32, outcome: ExecOutcome| {
        w.sim
            .set_exec_outcome(ExecMatch::vm(vmid).command(NGINX.iter().copied()), outcome)
            .expect("script");
    };
    exec(102, ExecOutcome::success("active\n"));
    exec(104, ExecOutcome::exit(3).with_stdout("inactive\n"));
    exec(108, ExecOutcome::hang());
    exec(110, ExecOutcome::not_found());
    let defined = w
        .lab
        .define_check(&w.teacher, w.class.id, nginx_check())
        .await
        .expect("define");
    assert_eq!(defined.definition, nginx_check());

    let run = w
        .lab
        .run_check(&w.teacher, w.class.id, &check_name("nginx"))
        .await
        .expect("run");

    let got: Vec<(u32, CheckOutcome, Option<i64>, &str)> = run
        .rows
        .iter()
        .map(|r| {
            (
                r.vm.vmid.get(),
                r.outcome,
                r.exit_code,
                r.first_line.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got[..5],
        [
            (102, CheckOutcome::Pass, Some(0), "active"),
            (103, CheckOutcome::Stopped, None, ""),
            (104, CheckOutcome::Fail, Some(3), "inactive"),
            (
                106,
                CheckOutcome::NoAgent,
                None,
                "No QEMU guest agent configured"
            ),
            (108, CheckOutcome::Timeout, None, "still running after 1 s"),
        ]
    );
    let (missing_program, gone) = (&run.rows[5], &run.rows[6]);
    assert_eq!(
        (missing_program.vm.vmid.get(), missing_program.outcome),
        (110, CheckOutcome::Fail)
    );
    assert!(
        missing_program
            .first_line
            .contains("Failed to execute child process"),
        "{missing_program:?}"
    );
    assert_eq!(
        (gone.vm.vmid.get(), gone.outcome),
        (115, CheckOutcome::Error)
    );
    assert_eq!(gone.first_line, "no VM 115 on sim");
    assert!(run.rows.iter().all(|r| r.ran_at == run.ran_at));
    assert_eq!(run.ran_at, w.clock.now());
    assert_eq!(run.count(CheckOutcome::Pass), 1);
    assert_eq!(
        run.rows[0].student.display_name.as_deref(),
        Some("student1")
    );
    // A stopped VM's agent is never asked; running ones got exactly the command.
    assert!(w.sim.exec_history(103).is_empty());
    assert_eq!(w.sim.exec_history(102)[0].command, NGINX);

    let csv = w
        .lab
        .check_results_csv(&w.teacher, w.class.id, &check_name("nginx"))
        .await
        .expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "check,student,user_id,cluster,vmid,outcome,exit_code,first_line,ran_at"
    );
    assert_eq!(lines.len(), 8, "{csv}");
    let first: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(
        first[..3],
        ["nginx", "student1", &run.rows[0].student.id.to_string()]
    );
    assert_eq!(first[3..8], ["sim", "102", "pass", "0", "active"]);
    assert_eq!(first[8], run.ran_at.to_string());
    assert!(lines[3].contains(",104,fail,3,inactive,"), "{csv}");
    assert!(
        lines[4].contains(",106,no_agent,,No QEMU guest agent configured,"),
        "{csv}"
    );
    assert!(
        lines[5].contains(",108,timeout,,still running after 1 s,"),
        "{csv}"
    );
}

#[tokio::test]
async fn results_pile_up_per_run_and_student_output_cannot_become_a_formula() {
    let w = sim_class(12, &[(2, None)]).await;
    let check = definition("hello", &["cat", "/etc/motd"], 5, Some(0), None);
    w.lab
        .define_check(&w.teacher, w.class.id, check)
        .await
        .expect("define");
    w.sim
        .set_exec_outcome(
            ExecMatch::vm(102),
            ExecOutcome::success("=HYPERLINK(\"http://x\",\"y\")\n"),
        )
        .expect("script");
    let first = w
        .lab
        .run_check(&w.teacher, w.class.id, &check_name("hello"))
        .await
        .expect("run");
    assert_eq!(first.rows[0].first_line, "=HYPERLINK(\"http://x\",\"y\")");
    w.clock.advance(jiff::SignedDuration::from_mins(5));
    w.sim
        .set_exec_outcome(ExecMatch::vm(102), ExecOutcome::exit(1))
        .expect("script");
    let second = w
        .lab
        .run_check(&w.teacher, w.class.id, &check_name("hello"))
        .await
        .expect("run");
    assert_eq!(second.rows[0].outcome, CheckOutcome::Fail);
    assert!(second.ran_at > first.ran_at);

    let csv = w
        .lab
        .check_results_csv(&w.teacher, w.class.id, &check_name("hello"))
        .await
        .expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains(",pass,0,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\","),
        "{csv}"
    );
    assert!(lines[2].contains(",fail,1,,"), "{csv}");
}

#[tokio::test]
async fn a_student_runs_the_class_checks_on_their_own_vm_only() {
    let w = sim_class(12, &[(2, None), (4, None)]).await;
    for check in [
        definition("web", NGINX, 5, None, Some("^active$")),
        definition("config", &["test", "-f", "/etc/app.conf"], 5, None, None),
    ] {
        w.lab
            .define_check(&w.teacher, w.class.id, check)
            .await
            .expect("define");
    }
    w.sim
        .set_exec_outcome(
            ExecMatch::vm(102).command(NGINX.iter().copied()),
            ExecOutcome::success("active\n"),
        )
        .expect("script");
    w.sim
        .set_exec_outcome(
            ExecMatch::vm(102).command(["test", "-f", "/etc/app.conf"]),
            ExecOutcome::exit(1),
        )
        .expect("script");
    let (student, vm) = &w.students[0];

    let mine = w.lab.run_my_checks(student, w.class.id).await.expect("run");

    assert_eq!(mine.vm, *vm);
    let got: Vec<(&str, CheckOutcome)> = mine
        .rows
        .iter()
        .map(|r| (r.check.as_str(), r.outcome))
        .collect();
    assert_eq!(
        got,
        [("config", CheckOutcome::Fail), ("web", CheckOutcome::Pass)]
    );
    assert!(
        w.sim.exec_history(104).is_empty(),
        "only the student's own VM"
    );
    // Stored like a teacher's run.
    let csv = w
        .lab
        .check_results_csv(&w.teacher, w.class.id, &check_name("web"))
        .await
        .expect("csv");
    assert_eq!(csv.lines().count(), 2, "{csv}");

    // A student without a VM here, and one not in the class, hear the class or VM is not
    // theirs.
    let other = user(&w.lab, "outsider", Role::User).await;
    let refused = w.lab.run_my_checks(&other, w.class.id).await;
    assert!(
        matches!(
            refused,
            Err(Error::NotFound {
                entity: Entity::Class,
                ..
            })
        ),
        "{refused:?}"
    );
    w.lab
        .unassign(
            &w.teacher,
            w.class.id,
            w.students[1].0.user_id().expect("person"),
        )
        .await
        .expect("unassign");
    let refused = w.lab.run_my_checks(&w.students[1].0, w.class.id).await;
    assert!(
        matches!(refused, Err(Error::NotFound { entity: Entity::Vm, ref key }) if key.contains("held by you")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn only_the_class_teachers_define_run_list_export_and_remove_checks() {
    let w = sim_class(12, &[(2, None)]).await;
    let (student, _) = &w.students[0];
    let other_teacher = user(&w.lab, "other-teacher", Role::Teacher).await;
    w.lab
        .define_check(&w.teacher, w.class.id, nginx_check())
        .await
        .expect("define");
    let nginx = check_name("nginx");
    for actor in [student, &other_teacher] {
        let refusals = [
            w.lab
                .define_check(
                    actor,
                    w.class.id,
                    definition("rm", &["rm", "-rf", "/"], 5, None, None),
                )
                .await
                .err(),
            w.lab.run_check(actor, w.class.id, &nginx).await.err(),
            w.lab.checks(actor, w.class.id).await.err(),
            w.lab
                .check_results_csv(actor, w.class.id, &nginx)
                .await
                .err(),
            w.lab.remove_check(actor, w.class.id, &nginx).await.err(),
        ];
        for refusal in refusals {
            assert!(
                matches!(refusal, Some(Error::NotPermitted { .. })),
                "{refusal:?}"
            );
        }
    }
    // Nothing ran in the VM, and nothing was defined.
    assert!(w.sim.exec_history(102).is_empty());
    let listed = w.lab.checks(&w.teacher, w.class.id).await.expect("list");
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn check_names_are_unique_per_class_and_removing_one_removes_its_results() {
    let w = sim_class(12, &[(2, None)]).await;
    w.lab
        .define_check(&w.teacher, w.class.id, nginx_check())
        .await
        .expect("define");
    let twice = w
        .lab
        .define_check(&w.teacher, w.class.id, nginx_check())
        .await;
    assert!(
        matches!(twice, Err(Error::NameTaken { entity: Entity::Check, ref name }) if name == "nginx"),
        "{twice:?}"
    );
    // Another class of the same teacher may use the name.
    let other = w
        .lab
        .create_class(
            &w.teacher,
            pvelab_core::model::NewClass::new(name("net102"), pool_size(5)),
        )
        .await
        .expect("class");
    w.lab
        .define_check(&w.teacher, other.id, nginx_check())
        .await
        .expect("same name elsewhere");

    w.lab
        .run_check(&w.teacher, w.class.id, &check_name("nginx"))
        .await
        .expect("run");
    let removed = w
        .lab
        .remove_check(&w.teacher, w.class.id, &check_name("nginx"))
        .await
        .expect("remove");
    assert_eq!(removed.definition, nginx_check());
    for gone in [
        w.lab
            .run_check(&w.teacher, w.class.id, &check_name("nginx"))
            .await
            .err(),
        w.lab
            .check_results_csv(&w.teacher, w.class.id, &check_name("nginx"))
            .await
            .err(),
        w.lab
            .remove_check(&w.teacher, w.class.id, &check_name("nginx"))
            .await
            .err(),
    ] {
        assert!(
            matches!(
                gone,
                Some(Error::NotFound {
                    entity: Entity::Check,
                    ref key,
                }) if key == "\"nginx\""
            ),
            "{gone:?}"
        );
    }
    // Defined again, it starts without the old results.
    w.lab
        .define_check(&w.teacher, w.class.id, nginx_check())
        .await
        .expect("define again");
    let csv = w
        .lab
        .check_results_csv(&w.teacher, w.class.id, &check_name("nginx"))
        .await
        .expect("csv");
    assert_eq!(csv.lines().count(), 1, "{csv}");
    let unknown = w.lab.checks(&w.teacher, ClassId::new(999)).await;
    assert!(
        matches!(
            unknown,
            Err(Error::NotFound {
                entity: Entity::Class,
                ..
            })
        ),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn a_vm_just_started_has_no_agent_yet_and_a_signal_fails_the_check() {
    // The agent comes up 10 s after a start: long past this test's end.
    let mut config = SimConfig {
        vms: 12,
        ..SimConfig::fast()
    };
    config.timing.agent_delay_secs = 1000.0;
    let w = sim_class_on(config, &[(3, None), (2, None)]).await;
    w.lab
        .define_check(
            &w.teacher,
            w.class.id,
            definition("up", &["true"], 5, None, None),
        )
        .await
        .expect("define");
    // VM 103 starts now: its agent answers only after the simulated boot.
    w.sim.start_guest(103).expect("start");
    w.sim
        .set_exec_outcome(ExecMatch::vm(102), ExecOutcome::killed(9))
        .expect("script");

    let run = w
        .lab
        .run_check(&w.teacher, w.class.id, &check_name("up"))
        .await
        .expect("run");

    let booting = &run.rows[1];
    assert_eq!(
        (booting.vm.clone(), booting.outcome),
        (sim_vm(103), CheckOutcome::NoAgent)
    );
    assert!(booting.first_line.contains("not running"), "{booting:?}");
    let killed = &run.rows[0];
    assert_eq!(
        (killed.outcome, killed.exit_code),
        (CheckOutcome::Fail, None)
    );
    assert_eq!(killed.first_line, "killed by signal 9");
}

#[tokio::test]
async fn vms_are_checked_side_by_side_so_hangs_cost_one_timeout_not_one_each() {
    // Five running VMs whose command never ends, with a timeout of one second: one after the
    // other they would take five seconds.
    let w = sim_class(
        14,
        &[(2, None), (4, None), (8, None), (10, None), (12, None)],
    )
    .await;
    w.sim
        .set_exec_outcome(ExecMatch::any(), ExecOutcome::hang())
        .expect("script");
    w.lab
        .define_check(
            &w.teacher,
            w.class.id,
            definition("hang", &["sleep", "infinity"], 1, None, None),
        )
        .await
        .expect("define");
    let started = std::time::Instant::now();

    let run = w
        .lab
        .run_check(&w.teacher, w.class.id, &check_name("hang"))
        .await
        .expect("run");

    let took = started.elapsed();
    assert_eq!(run.count(CheckOutcome::Timeout), 5, "{run:?}");
    assert!(
        took < std::time::Duration::from_millis(3500),
        "took {took:?}"
    );
}
