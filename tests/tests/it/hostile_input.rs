//! Hostile text in every free-text option, through the console front end against a real lab
//! on a SQLite file: each value is stored verbatim (read back through the core) or refused
//! with an error that names the option; no reply carries a live mass or role mention, a
//! control character or the whole of a huge value; the database stays whole.
//!
//! Display names, which only Discord supplies, go in through the command layer as a Discord
//! user would, and come out in a teacher's console listing.

use std::io::Cursor;

use pvelab_bot::app::clusters::operator;
use pvelab_bot::commands::catalogue::find;
use pvelab_bot::commands::{dispatch, CommandContext, Invocation, Invoker};
use pvelab_bot::console::grammar::quote_value;
use pvelab_bot::console::{run_session, SessionOptions};
use pvelab_bot::parse::people::{Snowflake, UserRef};
use pvelab_core::model::{ClusterCredential, NewCluster, NewPoolVm};
use pvelab_core::types::{ClassName, ClusterId, Role};
use pvelab_core::{Lab, LabConfig, SealingKey};
use secrecy::SecretString;

/// The hostile values, each with a name for failure messages.
fn hostile() -> Vec<(&'static str, String)> {
    vec![
        ("sql", "'; DROP TABLE classes; --".to_owned()),
        // Only characters a class name allows, so it is stored: SQL kept as data.
        ("sql in a name", "x) DROP TABLE classes --".to_owned()),
        (
            "control characters",
            "a\u{1}b\u{7}c\u{1b}[31md\u{7f}".to_owned(),
        ),
        ("100 kB", "A".repeat(100 * 1024)),
        ("right-to-left override", "abc\u{202E}fed".to_owned()),
        ("zero-width space", "net\u{200B}101".to_owned()),
        ("@everyone", "@everyone".to_owned()),
        ("@here", "@here".to_owned()),
        ("role mention", "<@&123>".to_owned()),
    ]
}

/// One free-text option: the console line that sets it to a value, and the words a refusal
/// must contain to name it.
struct Case {
    option: &'static str,
    line: fn(&str) -> String,
    names: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            option: "class name",
            line: |v| format!("tom:teacher /class create name:{v} template:9000 pool:1"),
            names: &["`name`"],
        },
        Case {
            option: "template",
            line: |v| format!("tom:teacher /class create name:t1 template:{v} pool:1"),
            names: &["`template`"],
        },
        Case {
            option: "node",
            line: |v| format!("tom:teacher /class create name:t2 template:9000 pool:1 node:{v}"),
            names: &["`node`"],
        },
        Case {
            option: "cluster",
            line: |v| format!("tom:teacher /class create name:t3 template:9000 pool:1 cluster:{v}"),
            names: &["`cluster`"],
        },
        Case {
            option: "class (lookup)",
            line: |v| format!("tom:teacher /class info class:{v}"),
            names: &["`class`", "no class"],
        },
        Case {
            option: "join token",
            line: |v| format!("alice /join token:{v}"),
            names: &["`token`"],
        },
        Case {
            option: "co-owner",
            line: |v| format!("tom:teacher /class coowner add class:net101 user:{v}"),
            names: &["`user`"],
        },
        Case {
            option: "role user",
            line: |v| format!("ada:adminer /role set user:{v} role:teacher"),
            names: &["`user`"],
        },
        Case {
            option: "setting key",
            line: |v| format!("ada:adminer /settings set key:{v} value:5"),
            names: &["`key`", "setting"],
        },
        Case {
            option: "time zone setting",
            line: |v| format!("ada:adminer /settings set key:default_time_zone value:{v}"),
            names: &["default_time_zone"],
        },
        Case {
            option: "token lifetime setting",
            line: |v| format!("ada:adminer /settings set key:token.default_lifetime value:{v}"),
            names: &["token.default_lifetime"],
        },
        Case {
            option: "hours",
            line: |v| format!("tom:teacher /class settings class:net101 hours:{v}"),
            names: &["`hours`"],
        },
        Case {
            option: "time zone",
            line: |v| format!("tom:teacher /class settings class:net101 timezone:{v}"),
            names: &["`timezone`"],
        },
        Case {
            option: "idle",
            line: |v| format!("tom:teacher /class settings class:net101 idle:{v}"),
            names: &["`idle`"],
        },
        Case {
            option: "memory",
            line: |v| format!("tom:teacher /class settings class:net101 memory:{v}"),
            names: &["`memory`"],
        },
        Case {
            option: "token expiry",
            line: |v| format!("tom:teacher /class token class:net101 expires:{v}"),
            names: &["`expires`"],
        },
    ]
}

/// A lab on a SQLite file with a sealing key, cluster `pve1` and class `net101`.
struct World {
    dir: tempfile::TempDir,
    lab: Lab,
}

impl World {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let lab = Lab::open(
            LabConfig::file(dir.path().join("lab.db")).with_sealing_key(SealingKey::generate()),
        )
        .await
        .expect("lab");
        let credential = ClusterCredential::ApiToken {
            id: pvelab_core::types::ApiTokenId::parse("pvelab@pve!bot").unwrap(),
            secret: SecretString::from("s3cret".to_owned()),
        };
        let admin = operator(&lab).await.expect("operator");
        lab.add_cluster(
            &admin,
            NewCluster::new(
                pve1(),
                pvelab_core::types::Host::parse("10.0.0.2").unwrap(),
                credential,
            ),
        )
        .await
        .expect("cluster");
        let world = Self { dir, lab };
        let out = world
            .run("tom:teacher /class create name:net101 template:9000 pool:2")
            .await;
        assert!(out.starts_with("Class net101 created"), "{out}");
        world
    }

    /// Runs one console line and returns what the session printed for it.
    async fn run(&self, line: &str) -> String {
        let mut out = Vec::new();
        run_session(
            &self.lab,
            Cursor::new(format!("{line}\n").into_bytes()),
            &mut out,
            &SessionOptions::default(),
        )
        .await
        .expect("session");
        String::from_utf8(out).expect("utf-8")
    }

    /// The class called `name` as the core reads it back, if it exists.
    async fn class_named(&self, name: &str) -> Option<String> {
        let admin = operator(&self.lab).await.expect("operator");
        let name = ClassName::parse(name).ok()?;
        let class = self.lab.class_by_name(&admin, None, &name).await.ok()?;
        Some(class.name.as_str().to_owned())
    }

    /// `PRAGMA integrity_check` and whether the classes table is still there, read from the
    /// file by a separate connection.
    fn database_is_whole(&self) -> (String, bool) {
        let db = rusqlite::Connection::open(self.dir.path().join("lab.db")).expect("open");
        let check: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        let classes: i64 = db
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'classes'",
                [],
                |r| r.get(0),
            )
            .expect("sqlite_master");
        (check, classes == 1)
    }
}

fn pve1() -> ClusterId {
    ClusterId::parse("pve1").expect("id")
}

/// What is wrong with a reply, if anything: a live `@everyone`/`@here` (any case) or role
/// mention, a control character other than a line break, or more text than a person reads.
fn reply_problem(reply: &str) -> Option<String> {
    let lower = reply.to_lowercase();
    for mention in ["@everyone", "@here", "<@&"] {
        if lower.contains(mention) {
            return Some(format!("holds a live {mention}"));
        }
    }
    if let Some(c) = reply.chars().find(|&c| c.is_control() && c != '\n') {
        return Some(format!("holds control character {c:?}"));
    }
    if reply.len() > 2000 {
        return Some(format!("is {} bytes long", reply.len()));
    }
    None
}

#[tokio::test]
async fn hostile_text_in_every_free_text_option_is_stored_verbatim_or_refused_by_name() {
    let world = World::new().await;
    let mut failures = Vec::new();
    let mut stored = Vec::new();
    for case in cases() {
        for (what, value) in hostile() {
            let line = (case.line)(&quote_value(&value));
            let reply = world.run(&line).await;
            let shown = format!("{} = {what}", case.option);
            if let Some(problem) = reply_problem(&reply) {
                failures.push(format!("{shown}: the reply {problem}:\n{reply}"));
            }
            let refused = reply.starts_with("line 1");
            if refused {
                if !case.names.iter().any(|n| reply.contains(n)) {
                    failures.push(format!(
                        "{shown}: the refusal does not name {:?}:\n{reply}",
                        case.names
                    ));
                }
                continue;
            }
            // Accepted: only a class name is stored as given, and it must read back exactly
            // (a lookup by that name then finds it).
            match case.option {
                "class name" | "class (lookup)" => match world.class_named(&value).await {
                    Some(name) if name == value => stored.push(shown),
                    other => failures.push(format!("{shown}: reads back as {other:?}:\n{reply}")),
                },
                _ => failures.push(format!("{shown}: accepted:\n{reply}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The SQL-shaped name passes the class-name rules, so it must have been stored as data.
    assert_eq!(
        stored,
        [
            "class name = sql in a name",
            "class (lookup) = sql in a name"
        ]
    );
    let (check, classes) = world.database_is_whole();
    assert_eq!(check, "ok");
    assert!(classes, "the classes table is gone");
    assert!(world.class_named("net101").await.is_some());
}

#[tokio::test]
async fn hostile_display_names_are_stored_as_given_and_never_ping_when_listed() {
    let world = World::new().await;
    let admin = operator(&world.lab).await.expect("operator");
    let class = world
        .lab
        .class_by_name(&admin, None, &ClassName::parse("net101").unwrap())
        .await
        .expect("class");
    for slot in 1..=2 {
        let vm = NewPoolVm {
            cluster_id: pve1(),
            vmid: class.scheme.student_vmid(slot).expect("slot"),
            manual: false,
            node: None,
            name: None,
            mac_address: None,
        };
        world
            .lab
            .register_vm(&admin, class.id, vm)
            .await
            .expect("vm");
    }
    let out = world.run("tom:teacher /class token class:net101").await;
    let token = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap_or_else(|| panic!("no token in {out}"))
        .to_owned();

    let mut failures = Vec::new();
    for (i, (what, name)) in hostile().into_iter().enumerate() {
        let id = Snowflake::parse(&format!("{}", 900_000 + i)).expect("an id");
        let who = UserRef::Discord(id);
        let ctx = CommandContext::new(
            world.lab.clone(),
            Invoker {
                who: who.clone(),
                display_name: name.clone(),
                role: Role::User,
            },
            None,
        );
        let join = find("join", &[]).expect("/join");
        let call = Invocation::new(join, vec![("token".to_owned(), token.clone())])
            .expect("an invocation");
        let reply = dispatch(&ctx, &call).await;
        assert!(reply.is_ok(), "{what}: {reply:?}");
        // Read back through the core: the display name as given (the core keeps the first
        // 100 characters, more than Discord allows).
        let user = world
            .lab
            .ensure_user(
                &pvelab_core::types::ExternalId::parse(&who.external_id()).unwrap(),
                None,
            )
            .await
            .expect("user");
        let expected: String = name.chars().take(100).collect();
        if user.display_name.as_deref() != Some(expected.as_str()) {
            failures.push(format!("{what}: stored as {:?}", user.display_name));
        }
    }
    let listing = world.run("tom:teacher /class students class:net101").await;
    if let Some(problem) = reply_problem(&listing) {
        failures.push(format!("the student listing {problem}:\n{listing}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let (check, classes) = world.database_is_whole();
    assert_eq!(check, "ok");
    assert!(classes);
}
