//! The console scripted through a lab session and the audit trail, against the simulated
//! cluster with the lab's manual clock: a teacher schedules a session (bad days, dates, times,
//! an end before the start, both day and date, an overlap are refused with what is allowed),
//! the next session shows in `/myvm` and `/class info`, the sessions job warm-starts a stopped
//! student VM before it (the class hears the announcement, the student a DM), and `/audit`
//! shows the trail to the teacher but not to students.

use jiff::SignedDuration;
use pvelab_bot::app::clusters::operator;
use pvelab_bot::console::{run_session, SessionOptions};
use pvelab_core::model::{ClusterCredential, NewCluster, NewPoolVm};
use pvelab_core::types::{
    ApiTokenId, ClassName, ClusterId, ClusterTrust, Fingerprint, Host, NodeName,
};
use pvelab_core::{Lab, LabConfig, ManualClock, SealingKey};
use pvelab_pve_sim::{Sim, SimConfig, SimHandle};
use secrecy::SecretString;

use crate::support::{answer, token_in};

struct ClockLab {
    sim: SimHandle,
    lab: Lab,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

/// A lab on the simulator whose clock stands at Friday 2027-01-15 07:00 UTC.
async fn clock_lab() -> ClockLab {
    let sim = Sim::start(SimConfig::fast()).await.expect("simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new("2027-01-15T07:00:00Z".parse().unwrap());
    let lab = Lab::open(
        LabConfig::file(dir.path().join("lab.db"))
            .with_sealing_key(SealingKey::generate())
            .with_clock(clock.clone()),
    )
    .await
    .expect("lab");
    let token = sim.api_token();
    let (id, secret) = token.split_once('=').unwrap();
    let mut cluster = NewCluster::new(
        ClusterId::parse("sim").unwrap(),
        Host::parse("127.0.0.1").unwrap(),
        ClusterCredential::ApiToken {
            id: ApiTokenId::parse(id).unwrap(),
            secret: SecretString::from(secret.to_owned()),
        },
    )
    .port(sim.addr().port())
    .trust(ClusterTrust::Fingerprint(
        Fingerprint::parse(&sim.fingerprint()).unwrap(),
    ));
    cluster.is_default = true;
    lab.add_cluster(&operator(&lab).await.unwrap(), cluster)
        .await
        .expect("cluster");
    ClockLab {
        sim,
        lab,
        clock,
        _dir: dir,
    }
}

async fn run(lab: &Lab, script: &str) -> String {
    let mut out = Vec::new();
    run_session(
        lab,
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

/// Registers the simulator's VMs 102 (running) and 103 (stopped, on pve1) as slots 2 and 3.
async fn register_vms(world: &ClockLab) {
    let admin = operator(&world.lab).await.unwrap();
    let class = world
        .lab
        .class_by_name(&admin, None, &ClassName::parse("net101").unwrap())
        .await
        .unwrap();
    for (slot, node) in [(2, "pve3"), (3, "pve1")] {
        let vm = NewPoolVm {
            cluster_id: ClusterId::parse("sim").unwrap(),
            vmid: class.scheme.student_vmid(slot).unwrap(),
            manual: false,
            node: Some(NodeName::parse(node).unwrap()),
            name: None,
            mac_address: None,
        };
        world.lab.register_vm(&admin, class.id, vm).await.unwrap();
    }
}

#[tokio::test]
async fn a_session_through_the_console_with_its_refusals_its_warm_start_and_the_audit_trail() {
    let world = clock_lab().await;
    let out = run(
        &world.lab,
        "tom:teacher /class create name:net101 template:9000 pool:5\n\
         tom:teacher /class token class:net101\n",
    )
    .await;
    let token = token_in(&out);
    register_vms(&world).await;
    run(
        &world.lab,
        &format!("alice /join token:{token}\nbob /join token:{token}\n"),
    )
    .await;

    let add = "tom:teacher /class session add class:net101 date:2027-01-15 start:08:00 end:09:00";
    let bad_day = "tom:teacher /class session add class:net101 day:funday start:09:00 end:11:00";
    let bad_date =
        "tom:teacher /class session add class:net101 date:2027-02-30 start:09:00 end:11:00";
    let bad_time = "tom:teacher /class session add class:net101 day:monday start:25:00 end:26:00";
    let backwards = "tom:teacher /class session add class:net101 day:monday start:11:00 end:09:00";
    let both = "tom:teacher /class session add class:net101 day:monday date:2027-01-18 start:09:00 end:10:00";
    let overlap = "tom:teacher /class session add class:net101 day:friday start:08:30 end:10:00";
    let student = "alice /class session add class:net101 day:monday start:09:00 end:10:00";
    let out = run(
        &world.lab,
        &format!(
            "{add}\n{bad_day}\n{bad_date}\n{bad_time}\n{backwards}\n{both}\n{overlap}\n{student}\n\
             tom:teacher /class session list class:net101\nalice /myvm\n\
             tom:teacher /class info class:net101\n"
        ),
    )
    .await;
    let added = answer(&out, add);
    assert!(added.starts_with("Session 1 of net101 added\n"), "{added}");
    assert!(added.contains("on 2027-01-15 08:00-09:00"), "{added}");
    let e = answer(&out, bad_day);
    assert!(e.contains("funday") && e.contains("monday, tuesday"), "{e}");
    let e = answer(&out, bad_date);
    assert!(e.contains("2027-02-30") && e.contains("YYYY-MM-DD"), "{e}");
    let e = answer(&out, bad_time);
    assert!(e.contains("25:00") && e.contains("HH:MM"), "{e}");
    let e = answer(&out, backwards);
    assert!(e.contains("after the start (11:00)"), "{e}");
    let e = answer(&out, both);
    assert!(e.contains("not both"), "{e}");
    let e = answer(&out, overlap);
    assert!(e.contains("overlaps session 1"), "{e}");
    let e = answer(&out, student);
    assert!(e.contains("add or remove class sessions"), "{e}");
    let list = answer(&out, "tom:teacher /class session list class:net101");
    assert!(list.contains("on 2027-01-15"), "{list}");
    assert!(
        list.contains("next session: Fri 2027-01-15 08:00-09:00 UTC (starts"),
        "{list}"
    );
    let myvm = answer(&out, "alice /myvm");
    assert!(
        myvm.contains("next session: Fri 2027-01-15 08:00-09:00 UTC"),
        "{myvm}"
    );
    let info = answer(&out, "tom:teacher /class info class:net101");
    assert!(
        info.contains("next session: Fri 2027-01-15 08:00-09:00 UTC"),
        "{info}"
    );

    // Ten minutes before: bob's stopped VM 103 is started, the class hears of the session.
    world.sim.stop_guest(103).unwrap();
    world.clock.advance(SignedDuration::from_mins(50));
    world.sim.advance_clock(3000.0);
    let report = world.lab.run_sessions().await.unwrap();
    // Alice's VM 102 is running (her `/myvm` above read its state), so only bob's is started.
    assert_eq!(
        report.started.iter().map(|v| v.get()).collect::<Vec<_>>(),
        [103],
        "{report:?}"
    );
    let out = run(&world.lab, "alice /myvm\n").await;
    assert!(
        out.contains("[class net101] Session 1 opens at 08:00 and lasts until 09:00 (UTC)"),
        "{out}"
    );
    assert!(
        out.contains("[dm to bob] Your VM in net101 (VM 103) was started for the class session"),
        "{out}"
    );
    assert!(
        answer(&out, "alice /myvm").contains("(starts 2027-01-15 08:00 UTC)"),
        "{out}"
    );
    world.clock.advance(SignedDuration::from_mins(15));
    let out = run(&world.lab, "alice /myvm\n").await;
    assert!(
        answer(&out, "alice /myvm").contains("08:00-09:00 UTC (running now)"),
        "{out}"
    );

    let out = run(
        &world.lab,
        "tom:teacher /audit class:net101\ntom:teacher /audit\nalice /audit class:net101\n\
         tom:teacher /class session remove class:net101 session:9\n\
         tom:teacher /class session remove class:net101 session:1\n",
    )
    .await;
    let trail = answer(&out, "tom:teacher /audit class:net101");
    assert!(trail.starts_with("Audit trail: net101\n"), "{trail}");
    assert!(
        trail.contains("system · net101 · vm_started_for_session · done"),
        "{trail}"
    );
    assert!(
        trail.contains("manage_sessions · done · session 1 added"),
        "{trail}"
    );
    assert!(trail.contains("manage_sessions · refused"), "{trail}");
    assert!(trail.contains("create_class · done"), "{trail}");
    let everything = answer(&out, "tom:teacher /audit");
    assert!(
        everything.contains("read the whole audit trail"),
        "{everything}"
    );
    let refused = answer(&out, "alice /audit class:net101");
    assert!(!refused.contains("Audit trail"), "{refused}");
    let unknown = answer(
        &out,
        "tom:teacher /class session remove class:net101 session:9",
    );
    assert!(
        unknown.contains("no session 9 in class net101"),
        "{unknown}"
    );
    let removed = answer(
        &out,
        "tom:teacher /class session remove class:net101 session:1",
    );
    assert!(
        removed.starts_with("Session 1 of net101 removed."),
        "{removed}"
    );
    assert!(
        removed.contains("[audit] 2027-01-15 08:05 UTC · tom (teacher) · "),
        "entries written during a console session are printed: {removed}"
    );
    assert!(
        removed.contains("· net101 · manage_sessions · done · session 1 removed"),
        "{removed}"
    );
}

#[test]
fn a_server_names_its_audit_and_announcement_channels_and_a_bad_id_is_named() {
    use pvelab_bot::config::{parse_toml, EnvVars};
    use secrecy::ExposeSecret;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("key"),
        SealingKey::generate().to_hex().expose_secret(),
    )
    .unwrap();
    std::fs::write(dir.path().join("discord"), "a-token").unwrap();
    let base = "database = \"pvelab.db\"\nsealing_key_file = \"key\"\n[discord]\n\
                token_file = \"discord\"\n[[discord.guild]]\nid = \"123\"\n";
    let settings = parse_toml(
        &format!("{base}audit_channel = \"555\"\nannounce_channel = \"666\"\n"),
        dir.path(),
        &EnvVars::default(),
    )
    .expect("valid configuration");
    let guild = &settings.discord.expect("discord").guilds[0];
    assert_eq!(guild.audit_channel.map(|c| c.get()), Some(555));
    assert_eq!(guild.announce_channel.map(|c| c.get()), Some(666));

    let bad = parse_toml(
        &format!("{base}audit_channel = \"general\"\n"),
        dir.path(),
        &EnvVars::default(),
    )
    .expect_err("a channel is an id");
    let text = bad.to_string();
    assert!(
        text.contains("audit_channel") && text.contains("general"),
        "{text}"
    );
}
