//! Commands run through console scripts against a real lab: the same code Discord will run.

use crate::support::{answer, token_in, World};

#[tokio::test]
async fn a_teacher_makes_a_class_and_a_token_and_students_join_get_vms_or_wait() {
    let world = World::new().await;
    let out = world
        .run(
            "tom:teacher /class create name:net101 template:9000 pool:3 cpu:4 memory:4G\n\
             tom:teacher /class token class:net101 expires:7d\n",
        )
        .await;
    let created = answer(
        &out,
        "tom:teacher /class create name:net101 template:9000 pool:3 cpu:4 memory:4G",
    );
    assert!(created.starts_with("Class net101 created\n"), "{created}");
    assert!(
        created.contains("each VM: 4 cores, 4096 MiB memory, 32 GB disk"),
        "{created}"
    );
    assert!(
        created.contains("[Make a join token] /class token class:net101"),
        "{created}"
    );
    let token = token_in(&out);
    assert!(
        out.contains(&format!("Students type: /join token:{token}")),
        "{out}"
    );

    world.add_student_vms("net101", &[1, 2]).await;
    let script = format!(
        "alice /join token:{token}\nbob /join token:{token}\ncarol /join token:{token}\n\
         alice /join token:{token}\nalice /myvm\ncarol /myvm\n"
    );
    let out = world.run(&script).await;
    let alice = answer(&out, &format!("alice /join token:{token}"));
    assert!(
        alice.starts_with("You joined net101\n  Your VM: VM 101 (net101-01) on pve1"),
        "{alice}"
    );
    assert!(alice.contains("[My VM] /myvm class:net101"), "{alice}");
    let bob = answer(&out, &format!("bob /join token:{token}"));
    assert!(bob.contains("Your VM: VM 102"), "{bob}");
    let carol = answer(&out, &format!("carol /join token:{token}"));
    assert!(
        carol.contains("you are number 1 on the waitlist"),
        "{carol}"
    );
    assert!(
        out.contains("You are in net101 already\n  Your VM: VM 101"),
        "{out}"
    );
    let myvm = answer(&out, "alice /myvm");
    assert!(
        myvm.contains("net101: VM 101 (net101-01) on pve1:"),
        "{myvm}"
    );
    assert!(myvm.contains("node: pve2"), "{myvm}");
    assert!(myvm.contains("address: not known yet"), "{myvm}");
    assert!(myvm.contains("usage: 0.0 hours (no limit)"), "{myvm}");
    assert!(
        myvm.contains("allowed hours: any time (you may start it now)"),
        "{myvm}"
    );
    assert!(myvm.contains("[Start] /vm start class:net101"), "{myvm}");
    let waiting = answer(&out, "carol /myvm");
    assert!(waiting.contains("You have no VM yet."), "{waiting}");
    assert!(
        waiting.contains("net101: you are number 1 on the waitlist"),
        "{waiting}"
    );
    // This lab's cluster is not reachable: the state says so instead of guessing.
    assert!(
        myvm.contains("state: not known yet (Proxmox does not answer now)"),
        "{myvm}"
    );

    // The pool grows by one VM: the waitlisted student gets it.
    world.add_student_vms("net101", &[3]).await;
    let out = world
        .run("carol /myvm class:net101\ntom:teacher /class students class:net101\nalice /leave class:net101\n")
        .await;
    assert!(
        answer(&out, "carol /myvm class:net101").contains("VM 103"),
        "{out}"
    );
    let students = answer(&out, "tom:teacher /class students class:net101");
    for (name, vm) in [("alice", "101"), ("bob", "102"), ("carol", "103")] {
        assert!(
            students
                .lines()
                .any(|l| l.trim_start().starts_with(name) && l.contains(vm)),
            "{students}"
        );
    }
    let left = answer(&out, "alice /leave class:net101");
    assert!(
        left.starts_with("You left net101.\nVM 101 (net101-01) on pve1 went back"),
        "{left}"
    );
}

#[tokio::test]
async fn students_cannot_manage_classes_and_teachers_cannot_manage_the_lab() {
    let world = World::new().await;
    let out = world
        .run(
            "alice /class create name:mine template:9000 pool:1\n\
             tom:teacher /settings get\n\
             tom:teacher /role set user:tom role:adminer\n",
        )
        .await;
    assert!(
        out.contains("line 1: You may not create a class: that needs the teacher role."),
        "{out}"
    );
    assert!(
        out.contains("line 2: You may not manage system settings"),
        "{out}"
    );
    assert!(
        out.contains("line 3: You may not change users' roles"),
        "{out}"
    );
}

#[tokio::test]
async fn a_stored_role_lets_a_person_act_without_the_console_role() {
    let world = World::new().await;
    let out = world
        .run(
            "ada:adminer /role set user:tom role:teacher\n\
             tom /class create name:net101 template:debian-12 pool:1\n",
        )
        .await;
    assert!(out.contains("tom now has the teacher role."), "{out}");
    assert!(out.contains("Class net101 created"), "{out}");
}

#[tokio::test]
async fn another_teacher_needs_to_be_a_co_owner_to_manage_a_class() {
    let world = World::new().await;
    let out = world
        .run(
            "tom:teacher /class create name:net101 template:9000 pool:1\n\
             sue:teacher /class students class:net101\n\
             tom:teacher /class coowner add class:net101 user:sue\n\
             sue:teacher /class students class:net101\n\
             tom:teacher /class coowner remove class:net101 user:sue\n\
             tom:teacher /class coowner remove class:net101 user:sue\n\
             sue:teacher /class token class:net101\n",
        )
        .await;
    // Another teacher's class is not visible at all (not even its existence) until they co-own it.
    assert!(
        out.contains("line 2: There is no class \"net101\"."),
        "{out}"
    );
    assert!(out.contains("sue now co-owns net101"), "{out}");
    assert_eq!(
        out.matches("Students of net101").count(),
        1,
        "once a co-owner: {out}"
    );
    assert!(out.contains("sue no longer co-owns net101."), "{out}");
    assert!(
        out.contains("sue was not a co-owner of net101; nothing changed."),
        "{out}"
    );
    // Once no longer a co-owner, the class is hidden again.
    assert!(
        out.contains("line 7: There is no class \"net101\"."),
        "{out}"
    );
}

#[tokio::test]
async fn class_settings_change_what_is_given_and_info_shows_them() {
    let world = World::new().await;
    let out = world
        .run(
            "tom:teacher /class create name:net101 template:9000 pool:2\n\
             tom:teacher /class settings class:net101 hours:22-06 timezone:Europe/Berlin quota:40h idle:45m disk:64G\n\
             tom:teacher /class settings class:net101\n\
             tom:teacher /class settings class:net101 hours:always idle:off\n\
             tom:teacher /class info class:net101\n",
        )
        .await;
    let changed = answer(&out, "tom:teacher /class settings class:net101 hours:22-06 timezone:Europe/Berlin quota:40h idle:45m disk:64G");
    assert!(
        changed.contains("allowed hours: 22:00-06:00 Europe/Berlin"),
        "{changed}"
    );
    assert!(
        changed.contains("usage quota: 40 hours per student"),
        "{changed}"
    );
    assert!(
        changed.contains("idle shutdown: after 45 min below"),
        "{changed}"
    );
    assert!(changed.contains("64 GB disk"), "{changed}");
    // The lab never reached a cluster, so the class has no VM yet: nothing to reconfigure.
    assert!(
        changed.contains("no VM is built yet: the class's VMs get these specs when they are built"),
        "{changed}"
    );
    let shown = answer(&out, "tom:teacher /class settings class:net101");
    assert!(shown.starts_with("Settings of net101\n"), "{shown}");
    assert!(shown.contains("Change one with"), "{shown}");
    let info = answer(&out, "tom:teacher /class info class:net101");
    assert!(info.contains("teacher: tom"), "{info}");
    assert!(info.contains("allowed hours: any time"), "{info}");
    assert!(info.contains("idle shutdown: off"), "{info}");
    assert!(info.contains("join token: none"), "{info}");
}

#[tokio::test]
async fn deleting_a_class_asks_first_and_then_deletes_it() {
    let world = World::new().await;
    let out = world
        .run(
            "tom:teacher /class create name:\"Lab 7\" template:9000 pool:1\n\
             tom:teacher /class delete class:\"Lab 7\"\n\
             tom:teacher /class delete class:\"Lab 7\" confirm:yes\n\
             tom:teacher /class info class:\"Lab 7\"\n",
        )
        .await;
    let asked = answer(&out, "tom:teacher /class delete class:\"Lab 7\"");
    assert!(asked.starts_with("Delete Lab 7?"), "{asked}");
    assert!(
        asked.contains("[Delete Lab 7] /class delete class:\"Lab 7\" confirm:yes"),
        "{asked}"
    );
    assert!(out.contains("Class Lab 7 is deleted"), "{out}");
    assert!(out.contains("line 4: There is no class"), "{out}");
}

#[tokio::test]
async fn tokens_can_be_revoked_and_a_revoked_token_no_longer_works() {
    let world = World::new().await;
    let out = world
        .run(
            "tom:teacher /class create name:net101 template:9000 pool:1\n\
             tom:teacher /class token class:net101 expires:90m\n",
        )
        .await;
    assert!(out.contains("It works until "), "{out}");
    let token = token_in(&out);
    let out = world
        .run(&format!(
            "tom:teacher /class revoke-token class:net101\n\
             tom:teacher /class revoke-token class:net101\n\
             alice /join token:{token}\n"
        ))
        .await;
    assert!(
        out.contains("The join token of net101 no longer works"),
        "{out}"
    );
    assert!(
        out.contains("net101 has no join token; nothing changed."),
        "{out}"
    );
    assert!(
        out.contains("line 3: This join token is not valid."),
        "{out}"
    );
}

#[tokio::test]
async fn teachers_assign_take_back_and_reset_vms_and_see_the_pool() {
    let world = World::new().await;
    world
        .run("tom:teacher /class create name:net101 template:9000 pool:2\n")
        .await;
    world.add_student_vms("net101", &[1, 2]).await;
    let out = world
        .run(
            "tom:teacher /pool assign class:net101 user:dan vm:102\n\
             tom:teacher /pool assign class:net101 user:dan\n\
             tom:teacher /pool status class:net101\n\
             tom:teacher /pool reset-usage class:net101 user:dan\n\
             tom:teacher /pool reset-usage class:net101\n\
             tom:teacher /pool unassign class:net101 user:dan\n\
             tom:teacher /pool unassign class:net101 user:dan\n",
        )
        .await;
    assert!(out.contains("dan now holds VM 102 in net101."), "{out}");
    assert!(
        out.contains("line 2: This student already holds VM 102 in this class."),
        "{out}"
    );
    let status = answer(&out, "tom:teacher /pool status class:net101");
    assert!(
        status.contains("2 of 2 student VMs exist; 1 free."),
        "{status}"
    );
    assert!(
        status
            .lines()
            .any(|l| l.contains("102") && l.contains("assigned") && l.contains("dan")),
        "{status}"
    );
    assert!(
        out.contains("Usage reset to 0 hours for dan in net101 ("),
        "{out}"
    );
    assert!(
        out.contains("Usage reset to 0 hours for every student of net101 ("),
        "{out}"
    );
    assert!(out.contains("VM 102 was taken back from dan"), "{out}");
    assert!(out.contains("line 7: There is no VM"), "{out}");
}

#[tokio::test]
async fn adminers_read_and_change_settings_and_see_clusters() {
    let world = World::new().await;
    let out = world
        .run(
            "ada:adminer /settings set key:waitlist.enabled value:off\n\
             ada:adminer /settings get key:waitlist.enabled\n\
             ada:adminer /settings set key:rate_limit.join_per_minute value:1000\n\
             ada:adminer /settings get key:nope\n\
             ada:adminer /cluster list\n",
        )
        .await;
    assert!(out.contains("waitlist.enabled is now false."), "{out}");
    assert!(
        answer(&out, "ada:adminer /settings get key:waitlist.enabled")
            .lines()
            .any(|l| l.trim_start().starts_with("waitlist.enabled  false")),
        "{out}"
    );
    assert!(out.contains("line 3: rate_limit.join_per_minute: \"1000\" is not allowed.\n  Allowed: a whole number from 1 to 60."), "{out}");
    assert!(
        out.contains("line 4: setting: \"nope\" is not allowed."),
        "{out}"
    );
    let clusters = answer(&out, "ada:adminer /cluster list");
    assert!(
        clusters.contains("pve1     10.0.0.2:8006  pvelab@pve!bot  no"),
        "{clusters}"
    );
    assert!(!out.contains("s3cret"));
}

#[tokio::test]
async fn bad_option_values_name_the_option_and_what_is_allowed() {
    let world = World::new().await;
    let out = world
        .run(
            "tom:teacher /class create name:net101 template:9000 pool:2 memory:4X\n\
             tom:teacher /class create name:@everyone template:9000 pool:2\n\
             alice /join token:short\n\
             tom:teacher /class token class:net101 expires:soon\n",
        )
        .await;
    assert!(
        out.contains("line 1: option `memory`: \"4X\" is not valid; MiB as a number"),
        "{out}"
    );
    assert!(
        out.contains("line 2: option `name`: \"@\u{200B}everyone\" is not valid"),
        "{out}"
    );
    assert!(
        out.contains("line 3: option `token`: the value is not valid"),
        "{out}"
    );
    assert!(!out.contains("\"short\""), "a token is never echoed: {out}");
    assert!(
        out.contains("line 4: option `expires`: \"soon\" is not valid; never, or a duration"),
        "{out}"
    );
}

#[tokio::test]
async fn commands_that_need_proxmox_answer_what_is_missing_in_a_lab_that_never_reached_it() {
    let world = World::new().await;
    let (out, summary) = world
        .run_counted(
            "tom:teacher /pool resize class:net101 size:5
             alice /vm start
             tom:teacher /template list
             tom:teacher /class create name:net101 template:9000 pool:1
             tom:teacher /pool resize class:net101 size:2
",
        )
        .await;
    // A class made before any template was known has nothing to clone from: growing it is
    // refused with the reason and the way out, and nothing is started.
    assert!(
        out.contains(
            "line 5: pool size: \"2\" is not allowed.\n  Allowed: class net101 has no template \
             to build VMs from"
        ),
        "{out}"
    );
    assert!(
        out.contains("line 1: There is no class \"net101\".\n  Check the name; /class list"),
        "{out}"
    );
    assert!(
        out.contains("line 2: There is no VM held by you.\n  /myvm shows your VMs"),
        "{out}"
    );
    assert!(
        answer(&out, "tom:teacher /template list")
            .contains("pvelab has not recorded any template yet."),
        "{out}"
    );
    assert!(
        answer(
            &out,
            "tom:teacher /class create name:net101 template:9000 pool:1"
        )
        .contains(
            "template: 9000 (pvelab has not recorded any template of an active cluster yet, so \
             no VMs are cloned: the template sync records them, or an administrator runs /sync \
             now what:templates)"
        ),
        "{out}"
    );
    assert!(!out.contains("not available"), "{out}");
    assert_eq!(summary.commands, 5);
}

/// The console has no server scope: a teacher's `/class list` shows the classes they teach,
/// another teacher's shows none of them, an adminer's shows every class.
#[tokio::test]
async fn a_teacher_lists_their_own_classes_in_the_console() {
    let world = World::new().await;
    let out = world
        .run(
            "tom:teacher /class create name:net101 template:9000 pool:1\n\
             tom:teacher /class list\n\
             eve:teacher /class list\n\
             ada:adminer /class list\n",
        )
        .await;
    let tom = answer(&out, "tom:teacher /class list");
    assert!(tom.starts_with("Your classes\n"), "{tom}");
    assert!(tom.contains("net101"), "{tom}");
    let eve = answer(&out, "eve:teacher /class list");
    assert!(eve.starts_with("Your classes"), "{eve}");
    assert!(!eve.contains("net101"), "{eve}");
    let ada = answer(&out, "ada:adminer /class list");
    assert!(ada.starts_with("Classes\n"), "{ada}");
    assert!(ada.contains("net101"), "{ada}");
}
