//! Console sessions that build pools on the simulated cluster: the scripted session of a class
//! (create with VMs cloned, token, three students for two VMs, one leaves, the pool grows, the
//! waitlisted student gets a VM), and the commands that work on Proxmox, each with a success
//! and a refusal.

use std::io::Cursor;

use pvelab_bot::app::SimLab;
use pvelab_bot::console::{run_session, SessionOptions};

use crate::support::{answer, token_in};

/// Runs `script` against the simulated lab with echo on and returns what it printed.
async fn run(lab: &SimLab, script: &str) -> String {
    let mut out = Vec::new();
    run_session(
        &lab.lab,
        Cursor::new(script.as_bytes().to_vec()),
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

/// A simulated lab with class net101 (pool of `pool`, built from the simulator's Debian
/// template) and its join token.
async fn lab_with_class(pool: u16) -> (SimLab, String) {
    let lab = SimLab::start().await.expect("simulated lab");
    let out = run(
        &lab,
        &format!(
            "tom:teacher /class create name:net101 template:debian-13-tmpl pool:{pool}\n\
             tom:teacher /class token class:net101\n"
        ),
    )
    .await;
    assert!(out.contains("Class net101 created"), "{out}");
    let token = token_in(&out);
    (lab, token)
}

#[tokio::test]
async fn a_class_is_built_students_join_one_leaves_the_pool_grows_and_the_waitlisted_student_gets_a_vm(
) {
    let lab = SimLab::start().await.expect("simulated lab");
    let out = run(
        &lab,
        "tom:teacher /class create name:net101 template:9000 pool:2\n\
         tom:teacher /class token class:net101 expires:7d\n",
    )
    .await;
    let created = answer(
        &out,
        "tom:teacher /class create name:net101 template:9000 pool:2",
    );
    // The teacher VM, the base VM and two student VMs, counted as they become ready. The
    // simulator's own guests hold VMIDs 100-199, so the class gets the next range.
    assert!(
        created.starts_with(
            "  … VMs ready: 0/4\n  … VMs ready: 1/4\n  … VMs ready: 2/4\n  … VMs ready: 3/4\n  \
             … VMs ready: 4/4\nClass net101 created\n  template: 9000 (debian-13-tmpl) on sim\n  \
             pool:\n    4 of 4 VMs ready\n  settings:\n    pool: 2 student VMs (classic plan, \
             VMIDs 200-299)\n"
        ),
        "{created}"
    );
    let token = token_in(&out);

    let out = run(
        &lab,
        &format!(
            "alice /join token:{token}\nbob /join token:{token}\ncarol /join token:{token}\n\
             tom:teacher /pool status class:net101\n"
        ),
    )
    .await;
    let alice = answer(&out, &format!("alice /join token:{token}"));
    assert!(
        alice.starts_with("You joined net101\n  Your VM: VM 201 (net101-01) on sim\n"),
        "{alice}"
    );
    let bob = answer(&out, &format!("bob /join token:{token}"));
    assert!(bob.contains("Your VM: VM 202"), "{bob}");
    let carol = answer(&out, &format!("carol /join token:{token}"));
    assert!(
        carol.contains("No VM is free yet: you are number 1 on the waitlist."),
        "{carol}"
    );
    let status = answer(&out, "tom:teacher /pool status class:net101");
    assert!(
        status.contains("2 of 2 student VMs exist; 0 free."),
        "{status}"
    );
    assert!(status.contains("waitlist:\n    1. carol"), "{status}");

    // Bob leaves: his VM is reset before anyone gets it. The pool grows by one: the new VM is
    // built, and carol, first on the waitlist, gets a VM and a message saying so.
    let out = run(
        &lab,
        "bob /leave class:net101\n\
         tom:teacher /pool resize class:net101 size:3\n\
         carol /myvm class:net101\n\
         tom:teacher /class students class:net101\n",
    )
    .await;
    let left = answer(&out, "bob /leave class:net101");
    assert!(left.starts_with("You left net101.\n"), "{left}");
    let resize = answer(&out, "tom:teacher /pool resize class:net101 size:3");
    assert!(
        resize.contains("Pool of net101 resized from 2 to 3 student VMs"),
        "{resize}"
    );
    assert!(
        resize.contains("  … VMs ready: "),
        "progress lines: {resize}"
    );
    assert!(
        resize.contains("[dm to carol]"),
        "carol hears of it: {resize}"
    );
    let carol = answer(&out, "carol /myvm class:net101");
    assert!(carol.contains("net101: VM 20"), "{carol}");
    let students = answer(&out, "tom:teacher /class students class:net101");
    assert!(!students.contains("waitlist #"), "nobody waits: {students}");

    let audit = lab
        .lab
        .audit_pool(
            &pvelab_bot::app::clusters::operator(&lab.lab).await.unwrap(),
            class_id(&lab, "net101").await,
        )
        .await
        .expect("audit");
    assert!(audit.is_clean(), "{audit:?}");
    lab.stop().await;
}

async fn class_id(lab: &SimLab, name: &str) -> pvelab_core::types::ClassId {
    let admin = pvelab_bot::app::clusters::operator(&lab.lab).await.unwrap();
    lab.lab
        .class_by_name(
            &admin,
            None,
            &pvelab_core::types::ClassName::parse(name).unwrap(),
        )
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn a_student_starts_stops_reverts_and_reimages_their_vm_and_gets_its_address_and_rdp_file() {
    let (lab, token) = lab_with_class(1).await;
    let first = run(
        &lab,
        &format!("alice /join token:{token}\nalice /vm start\n"),
    )
    .await;
    // The guest agent answers a while after the start, on the simulator's clock.
    lab.sim.advance_clock(600.0);
    let out = run(
        &lab,
        "ada:adminer /sync now what:inventory\n\
         ada:adminer /sync now what:ips\n\
         alice /vm ip class:net101\n\
         alice /myvm\n\
         alice /vm rdp\n\
         alice /vm restart\n\
         alice /vm stop\n\
         alice /myvm class:net101\n\
         alice /vm revert\n\
         alice /vm reimage\n\
         dave /vm start\n\
         dave /vm rdp class:net101\n",
    )
    .await;
    let start = answer(&first, "alice /vm start");
    assert!(
        start.contains("Your VM was started; it is running now.\n  [Stop] /vm stop class:net101"),
        "{start}"
    );
    let ip = answer(&out, "alice /vm ip class:net101");
    assert!(ip.contains("state: running"), "{ip}");
    let address = ip
        .lines()
        .find_map(|l| l.trim().strip_prefix("address: "))
        .expect("an address line")
        .to_owned();
    assert_ne!(address, "not known yet", "{out}");
    let myvm = answer(&out, "alice /myvm");
    assert!(myvm.contains("state: running"), "{myvm}");
    assert!(myvm.contains(&format!("address: {address}")), "{myvm}");
    let stopped = answer(&out, "alice /myvm class:net101");
    assert!(stopped.contains("state: stopped"), "{stopped}");
    let rdp = answer(&out, "alice /vm rdp");
    assert!(rdp.contains(&format!("to connect to {address}.")), "{rdp}");
    assert!(rdp.contains("attached: net101-201.rdp ("), "{rdp}");
    assert!(
        answer(&out, "alice /vm restart").contains("restarted; it is running now."),
        "{out}"
    );
    assert!(
        answer(&out, "alice /vm stop").contains("shut down; it is stopped now."),
        "{out}"
    );
    assert!(
        answer(&out, "alice /vm revert").contains("reverted to the state it was built in"),
        "{out}"
    );
    let reimage = answer(&out, "alice /vm reimage");
    assert!(reimage.contains("VMs ready: 1/1"), "{reimage}");
    assert!(
        reimage.contains("It is a fresh copy of the class's template; it is still yours."),
        "{reimage}"
    );
    // Someone without a VM is told so, and how to get one.
    let dave = answer(&out, "dave /vm start");
    assert!(dave.contains("There is no VM held by you."), "{dave}");
    assert!(dave.contains("/myvm shows your VMs"), "{dave}");
    assert!(
        answer(&out, "dave /vm rdp class:net101").contains("There is no VM held by you in net101."),
        "{out}"
    );
    lab.stop().await;
}

/// What a teacher reads with /audit after building a class, a student's own reimage, a resize
/// and co-owner changes: one entry per change, naming whom it concerns; the student's own
/// reimage and the co-owner changes that changed nothing are not there.
#[tokio::test]
async fn the_audit_trail_has_one_entry_per_change_and_not_a_students_own_reimage() {
    let (lab, token) = lab_with_class(1).await;
    let out = run(
        &lab,
        &format!(
            "alice /join token:{token}
             alice /vm reimage
             tom:teacher /pool resize class:net101 size:2
             sue:teacher /class list
             tom:teacher /class coowner add class:net101 user:sue
             tom:teacher /class coowner add class:net101 user:sue
             tom:teacher /class coowner add class:net101 user:tom
             tom:teacher /class coowner remove class:net101 user:sue
             tom:teacher /class coowner remove class:net101 user:sue
             tom:teacher /audit class:net101
"
        ),
    )
    .await;
    assert!(
        answer(&out, "alice /vm reimage").contains("it is still yours"),
        "{out}"
    );
    assert!(out.contains("sue co-owns net101 already."), "{out}");
    let own = answer(&out, "tom:teacher /class coowner add class:net101 user:tom");
    assert!(
        own.contains("co-owner: \"tom\" is not allowed.")
            && own.contains("net101's primary teacher (tom owns the class already)"),
        "{own}"
    );
    assert!(
        out.contains("sue was not a co-owner of net101; nothing changed."),
        "{out}"
    );

    let trail = answer(&out, "tom:teacher /audit class:net101");
    // The entries as /audit lists them, newest first (not the audit feed's `[audit]` lines).
    let lines: Vec<&str> = trail
        .lines()
        .filter(|l| l.contains(" · net101 · ") && !l.starts_with("[audit]"))
        .collect();
    let actions: Vec<&str> = lines
        .iter()
        .map(|l| l.split(" · ").nth(3).unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        [
            "manage_co_owners",
            "manage_co_owners",
            "manage_co_owners",
            "resize_pool",
            "manage_join_token",
            "create_class",
        ],
        "{trail}"
    );
    // People by name, not by number.
    assert!(
        lines.iter().all(|l| l.contains(" · tom (teacher) · ")),
        "{trail}"
    );
    assert!(
        lines[0].contains("manage_co_owners · done · about sue")
            && lines[0].ends_with("sue no longer a co-owner"),
        "{trail}"
    );
    assert!(
        lines[1].contains("manage_co_owners · failed · invalid co-owner: \"tom\""),
        "{trail}"
    );
    assert!(
        lines[2].contains("manage_co_owners · done · about sue")
            && lines[2].ends_with("sue added as a co-owner"),
        "{trail}"
    );
    assert!(
        lines[3].ends_with("resize_pool · done · pool size 1 -> 2"),
        "{trail}"
    );
    assert!(
        lines[5].ends_with(
            "create_class · done · class net101 with 1 student VM, built on cluster sim"
        ),
        "{trail}"
    );
    lab.stop().await;
}

#[tokio::test]
async fn a_student_in_two_classes_names_the_class_of_the_vm() {
    let (lab, token) = lab_with_class(1).await;
    let out = run(
        &lab,
        "tom:teacher /class create name:web201 template:debian-13-tmpl pool:1\n\
         tom:teacher /class token class:web201\n",
    )
    .await;
    let web = token_in(&out);
    let out = run(
        &lab,
        &format!("alice /join token:{token}\nalice /join token:{web}\nalice /vm ip\n"),
    )
    .await;
    let ip = answer(&out, "alice /vm ip");
    assert!(
        ip.contains("You hold VMs in several classes: net101, web201.")
            || ip.contains("You hold VMs in several classes: web201, net101."),
        "{ip}"
    );
    assert!(ip.contains("Add class: to say which one"), "{ip}");
    lab.stop().await;
}

#[tokio::test]
async fn pool_resize_refuses_other_teachers_and_bad_sizes_naming_the_value() {
    let (lab, _) = lab_with_class(1).await;
    let out = run(
        &lab,
        "eve:teacher /pool resize class:net101 size:2\n\
         tom:teacher /pool resize class:net101 size:lots\n\
         tom:teacher /pool resize class:net101 size:999\n\
         alice /pool resize class:net101 size:2\n",
    )
    .await;
    assert!(
        answer(&out, "eve:teacher /pool resize class:net101 size:2")
            .contains("There is no class \"net101\""),
        "{out}"
    );
    assert!(
        answer(&out, "tom:teacher /pool resize class:net101 size:lots")
            .contains("option `size`: \"lots\" is not valid"),
        "{out}"
    );
    assert!(
        answer(&out, "tom:teacher /pool resize class:net101 size:999")
            .contains("option `size`: \"999\" is not valid; a whole number of student VMs from 0"),
        "{out}"
    );
    assert!(
        answer(&out, "alice /pool resize class:net101 size:2").starts_with("line 4:"),
        "{out}"
    );
    lab.stop().await;
}

#[tokio::test]
async fn a_class_needs_a_template_pvelab_knows_and_the_refusal_names_it() {
    let lab = SimLab::start().await.expect("simulated lab");
    let out = run(
        &lab,
        "tom:teacher /template list\n\
         alice /template list\n\
         tom:teacher /class create name:net101 template:no-such-tmpl pool:1\n\
         tom:teacher /class create name:net101 template:9000 pool:1 cluster:elsewhere\n",
    )
    .await;
    let list = answer(&out, "tom:teacher /template list");
    for row in ["9000", "debian-13-tmpl", "9001", "ubuntu-24.04-tmpl"] {
        assert!(list.contains(row), "{list}");
    }
    assert!(
        answer(&out, "alice /template list").contains("You may not create a class"),
        "{out}"
    );
    let unknown = answer(
        &out,
        "tom:teacher /class create name:net101 template:no-such-tmpl pool:1",
    );
    assert!(
        unknown.contains("template: \"no-such-tmpl\" is not a template pvelab knows."),
        "{unknown}"
    );
    assert!(unknown.contains("e.g. 9000 (debian-13-tmpl)"), "{unknown}");
    assert!(
        answer(
            &out,
            "tom:teacher /class create name:net101 template:9000 pool:1 cluster:elsewhere"
        )
        .contains("is not a template pvelab knows on cluster elsewhere"),
        "{out}"
    );
    lab.stop().await;
}

#[tokio::test]
async fn publishing_a_template_asks_first_and_only_the_class_teachers_may() {
    let (lab, _) = lab_with_class(1).await;
    let out = run(
        &lab,
        "tom:teacher /template publish class:net101\n\
         tom:teacher /template publish class:net101 when:tomorrow\n\
         eve:teacher /template publish class:net101 when:now confirm:yes\n\
         tom:teacher /template publish class:net101 when:next-stop confirm:yes\n",
    )
    .await;
    let ask = answer(&out, "tom:teacher /template publish class:net101");
    assert!(
        ask.starts_with("Publish the teacher VM of net101?"),
        "{ask}"
    );
    assert!(
        ask.contains("[Publish now] /template publish class:net101 when:now confirm:yes"),
        "{ask}"
    );
    assert!(
        ask.contains(
            "[Publish at next stop] /template publish class:net101 when:next-stop confirm:yes"
        ),
        "{ask}"
    );
    assert!(
        answer(
            &out,
            "tom:teacher /template publish class:net101 when:tomorrow"
        )
        .contains("option `when`: \"tomorrow\" is not valid; one of now, next-stop"),
        "{out}"
    );
    assert!(
        answer(
            &out,
            "eve:teacher /template publish class:net101 when:now confirm:yes"
        )
        .contains("There is no class \"net101\""),
        "{out}"
    );
    let done = answer(
        &out,
        "tom:teacher /template publish class:net101 when:next-stop confirm:yes",
    );
    assert!(
        done.starts_with("net101-v1 is the new template of net101"),
        "{done}"
    );
    assert!(
        done.contains(
            "Student VMs to rebuild from it: 1 (0 now, as they are stopped; 1 at their next stop)."
        ),
        "{done}"
    );
    lab.stop().await;
}

#[tokio::test]
async fn adminers_test_and_set_clusters_sync_and_list_isos_and_others_may_not() {
    let lab = SimLab::start().await.expect("simulated lab");
    let out = run(
        &lab,
        "ada:adminer /cluster test\n\
         ada:adminer /cluster test cluster:sim\n\
         ada:adminer /cluster set cluster:sim priority:5000\n\
         ada:adminer /cluster set cluster:sim\n\
         ada:adminer /cluster set cluster:sim priority:10 iso-sync:yes cache-ttl:30\n\
         ada:adminer /cluster set cluster:nowhere priority:1\n\
         tom:teacher /cluster set cluster:sim priority:1\n\
         ada:adminer /sync now what:isos\n\
         ada:adminer /sync now what:everything\n\
         ada:adminer /iso list\n\
         tom:teacher /iso list\n\
         tom:teacher /sync now\n",
    )
    .await;
    let all = answer(&out, "ada:adminer /cluster test");
    assert!(all.contains("  sim:\n    answers: Proxmox VE 9"), "{all}");
    assert!(all.contains("pve1: online"), "{all}");
    let one = answer(&out, "ada:adminer /cluster test cluster:sim");
    assert!(
        one.starts_with("Cluster sim answers\n  Proxmox VE 9"),
        "{one}"
    );
    assert!(
        answer(&out, "ada:adminer /cluster set cluster:sim priority:5000").contains(
            "option `priority`: \"5000\" is not valid; a whole number from -1000 to 1000"
        ),
        "{out}"
    );
    assert!(
        answer(&out, "ada:adminer /cluster set cluster:sim")
            .contains("Nothing to change on cluster sim."),
        "{out}"
    );
    let set = answer(
        &out,
        "ada:adminer /cluster set cluster:sim priority:10 iso-sync:yes cache-ttl:30",
    );
    for line in ["priority: 10", "ISO sync: yes", "VM state fresh for: 30 s"] {
        assert!(set.contains(line), "{set}");
    }
    assert!(
        answer(&out, "ada:adminer /cluster set cluster:nowhere priority:1")
            .contains("There is no cluster nowhere"),
        "{out}"
    );
    assert!(
        answer(&out, "tom:teacher /cluster set cluster:sim priority:1").starts_with("line 7:"),
        "{out}"
    );
    let sync = answer(&out, "ada:adminer /sync now what:isos");
    assert!(sync.starts_with("Synced isos\n"), "{sync}");
    assert!(sync.contains("sim      isos  done: "), "{sync}");
    assert!(
        answer(&out, "ada:adminer /sync now what:everything")
            .contains("option `what`: \"everything\" is not valid"),
        "{out}"
    );
    let isos = answer(&out, "ada:adminer /iso list");
    assert!(isos.starts_with("ISO images\n"), "{isos}");
    assert!(isos.contains(".iso"), "{isos}");
    assert!(
        answer(&out, "tom:teacher /iso list").starts_with("line 11:"),
        "{out}"
    );
    assert!(
        answer(&out, "tom:teacher /sync now").starts_with("line 12:"),
        "{out}"
    );
    lab.stop().await;
}

#[tokio::test]
async fn a_teacher_imports_existing_vms_of_a_prefix_as_a_class() {
    let lab = SimLab::start().await.expect("simulated lab");
    let out = run(
        &lab,
        "tom:teacher /class import cluster:sim prefix:1\n\
         tom:teacher /class import cluster:sim prefix:twelve\n\
         alice /class import cluster:sim prefix:2\n",
    )
    .await;
    let imported = answer(&out, "tom:teacher /class import cluster:sim prefix:1");
    assert!(
        imported.contains("Class import-1 imported from cluster sim"),
        "{imported}"
    );
    assert!(
        imported.contains("Students type: /join token:"),
        "{imported}"
    );
    assert!(
        answer(&out, "tom:teacher /class import cluster:sim prefix:twelve")
            .contains("option `prefix`: \"twelve\" is not valid"),
        "{out}"
    );
    assert!(
        answer(&out, "alice /class import cluster:sim prefix:2").contains("You may not"),
        "{out}"
    );
    lab.stop().await;
}

#[tokio::test]
async fn deleting_a_built_class_deletes_its_vms() {
    let (lab, _) = lab_with_class(2).await;
    let out = run(&lab, "tom:teacher /class delete class:net101 confirm:yes\n").await;
    let deleted = answer(&out, "tom:teacher /class delete class:net101 confirm:yes");
    assert!(deleted.contains("Class net101 is deleted"), "{deleted}");
    assert!(deleted.contains("4 VMs deleted"), "{deleted}");
    lab.stop().await;
}

#[tokio::test]
async fn the_reconciliation_at_start_gives_up_on_a_cluster_that_does_not_answer() {
    use pvelab_bot::app::background::{reconcile_at_start, StartReconcile};
    use pvelab_pve_sim::OutageMode;
    use std::time::Duration;

    let (lab, _) = lab_with_class(1).await;
    assert_eq!(
        reconcile_at_start(&lab.lab, Duration::from_secs(60)).await,
        StartReconcile::Done
    );
    // Connections are accepted, nothing is ever answered: a reconciliation would wait for the
    // client's timeouts and retries, minutes per call.
    lab.sim.set_outage(Some(OutageMode::Hang));
    assert!(
        tokio::time::timeout(Duration::from_secs(1), lab.lab.reconcile())
            .await
            .is_err(),
        "the reconciliation waits on the cluster"
    );
    assert_eq!(
        reconcile_at_start(&lab.lab, Duration::from_millis(300)).await,
        StartReconcile::TimedOut
    );
    // The console serves at once, and once the cluster answers again all is as it was.
    lab.sim.set_outage(None);
    let out = run(&lab, "tom:teacher /pool status class:net101\n").await;
    assert!(out.contains("net101"), "{out}");
    assert_eq!(
        reconcile_at_start(&lab.lab, Duration::from_secs(60)).await,
        StartReconcile::Done
    );
}

#[tokio::test]
async fn new_specs_reach_the_built_vms_and_a_resize_after_reports_every_vm_ready() {
    let (lab, _) = lab_with_class(2).await;
    let sim = lab.sim.control();
    sim.reset_counters();
    let settings = run(
        &lab,
        "tom:teacher /class settings class:net101 memory:4096\n",
    )
    .await;
    assert!(
        settings.contains("each VM: 2 cores, 4096 MiB memory"),
        "{settings}"
    );
    // The two student VMs, the teacher's and the base VM take the new memory, in place.
    assert!(settings.contains("4 VMs updated in place"), "{settings}");
    assert!(
        settings.contains("once it is stopped and started again"),
        "{settings}"
    );
    assert_eq!(sim.count("PUT", "/nodes/{node}/qemu/{vmid}/config"), 4);
    assert_eq!(sim.count("POST", "/nodes/{node}/qemu/{vmid}/clone"), 0);

    let out = run(&lab, "tom:teacher /pool resize class:net101 size:3\n").await;
    let resize = answer(&out, "tom:teacher /pool resize class:net101 size:3");
    assert!(resize.contains("1 of 1 VM ready"), "{resize}");
    assert!(!resize.contains("failed"), "{resize}");
}

#[tokio::test]
async fn a_disk_below_the_templates_is_refused_naming_the_least() {
    let (lab, _) = lab_with_class(1).await;
    let out = run(
        &lab,
        "tom:teacher /class settings class:net101 disk:1\n\
         tom:teacher /class settings class:net101\n",
    )
    .await;
    let refused = answer(&out, "tom:teacher /class settings class:net101 disk:1");
    assert!(
        refused.contains(r#"disk: "1 GB" is not allowed"#),
        "{refused}"
    );
    assert!(refused.contains("at least 32 GB"), "{refused}");
    let shown = answer(&out, "tom:teacher /class settings class:net101");
    assert!(shown.contains("32 GB disk"), "unchanged: {shown}");
}

#[tokio::test]
async fn naming_someone_unknown_in_unassign_or_reset_usage_is_refused_and_creates_nobody() {
    let (lab, _) = lab_with_class(1).await;
    let out = run(
        &lab,
        "tom:teacher /pool unassign class:net101 user:zed\n\
         tom:teacher /pool reset-usage class:net101 user:zed\n",
    )
    .await;
    for line in [
        "tom:teacher /pool unassign class:net101 user:zed",
        "tom:teacher /pool reset-usage class:net101 user:zed",
    ] {
        let refused = answer(&out, line);
        assert!(
            refused.contains("zed has not used pvelab yet") && refused.contains("Check the name."),
            "{refused}"
        );
    }
    let admin = pvelab_bot::app::clusters::operator(&lab.lab).await.unwrap();
    let zed = pvelab_core::types::ExternalId::parse("console:zed").unwrap();
    assert!(matches!(
        lab.lab.user_by_external_id(&admin, &zed).await,
        Err(pvelab_core::Error::NotFound { .. })
    ));
}
