//! The bot's real Discord front end end to end: `pvelab run`'s [`Service`] with its Discord
//! client (poise and serenity, as in production) against the fake Discord on loopback, over a
//! real SQLite lab. Slash commands arrive as INTERACTION_CREATE dispatches; the tests assert on
//! what the bot sent back: interaction callbacks, edits, follow-ups and direct messages.
//!
//! The progress editor's throttling is tested on an interaction of its own; a deferred
//! `/pool resize` and `/vm rdp` run against the simulated cluster.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pvelab_bot::app::clusters::operator;
use pvelab_bot::app::{register_commands, RegisterTarget, Service};
use pvelab_bot::commands::{CommandQuota, Progress};
use pvelab_bot::config::{self, EnvVars};
use pvelab_bot::discord::{application_commands, progress_editor, Outgoing, Responder, Stash};
use pvelab_core::model::{ClassSettings, ClusterCredential, NewClass, NewCluster, NewPoolVm};
use pvelab_core::types::{ApiTokenId, ClassName, ClusterId, Host, PoolSize, Scope};
use pvelab_core::Lab;
use pvelab_tests::discord::{
    FakeDiscord, FakeDiscordConfig, FakeGuild, InteractionPayload, Member, RecordedRequest,
    DEFAULT_CHANNEL_ID, DEFAULT_GUILD_ID,
};
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const ADMIN_ROLE: u64 = 1_200_000_000_000_000_001;
const TEACHER_ROLE: u64 = 1_200_000_000_000_000_002;
const STUDENT_ROLE: u64 = 1_200_000_000_000_000_003;
const EPHEMERAL: u64 = 64;
/// Interaction response types.
const MESSAGE: u64 = 4;
const DEFERRED: u64 = 5;
const AUTOCOMPLETE: u64 = 8;

fn teacher() -> Member {
    Member::new(1_300_000_000_000_000_001, "tom").with_roles([TEACHER_ROLE])
}

fn student(n: u64, name: &str) -> Member {
    Member::new(1_300_000_000_000_000_100 + n, name).with_roles([STUDENT_ROLE])
}

/// The service of `pvelab run` with its Discord front end, connected to a fake Discord.
struct Bot {
    fake: FakeDiscord,
    lab: Lab,
    health: pvelab_bot::http::Health,
    stop: CancellationToken,
    running: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

/// A configuration file for the fake: one server with adminer, teacher and student roles,
/// commands registered when the bot connects; the token and sealing key in the environment.
fn configuration(dir: &std::path::Path, fake: &FakeDiscord) -> (PathBuf, EnvVars) {
    let file = dir.join("pvelab.toml");
    std::fs::write(
        &file,
        format!(
            "database = \"lab.db\"\n\
             [discord]\n\
             api_url = \"{api}\"\n\
             register_on_start = true\n\
             [[discord.guild]]\n\
             id = \"{DEFAULT_GUILD_ID}\"\n\
             adminer_roles = [\"{ADMIN_ROLE}\"]\n\
             teacher_roles = [\"{TEACHER_ROLE}\"]\n\
             student_role = \"{STUDENT_ROLE}\"\n",
            api = fake.api_url()
        ),
    )
    .unwrap();
    let env: EnvVars = [
        ("PVELAB_DISCORD_TOKEN", "fake-bot-token"),
        ("PVELAB_SEALING_KEY", &"ab".repeat(32)),
    ]
    .into_iter()
    .collect();
    (file, env)
}

fn fake_config() -> FakeDiscordConfig {
    FakeDiscordConfig {
        guilds: vec![FakeGuild::new(DEFAULT_GUILD_ID, "school")
            .with_channel(DEFAULT_CHANNEL_ID)
            .with_role(ADMIN_ROLE, "Admins")
            .with_role(TEACHER_ROLE, "Teachers")
            .with_role(STUDENT_ROLE, "Students")],
        ..FakeDiscordConfig::default()
    }
}

impl Bot {
    async fn start() -> Self {
        Self::start_with(None).await
    }

    /// The service with its Discord front end, once the bot identified and registered its
    /// commands.
    async fn start_with(quota: Option<CommandQuota>) -> Self {
        let fake = FakeDiscord::start_with(fake_config()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (file, env) = configuration(dir.path(), &fake);
        let settings = config::load(&file, &env).expect("a valid configuration");
        let stop = CancellationToken::new();
        let mut service = Service::start(&settings, stop.clone()).await.unwrap();
        if let Some(quota) = quota {
            service = service.with_command_quota(quota);
        }
        service.start_discord(settings.discord.as_ref().unwrap());
        let lab = service.lab().clone();
        let health = service.health().clone();
        let running = tokio::spawn(service.run_until_stopped());
        fake.wait_bot_ready()
            .await
            .expect("the bot connects and registers");
        Self {
            fake,
            lab,
            health,
            stop,
            running,
            _dir: dir,
        }
    }

    /// Stops the service as SIGTERM does and checks that everything ended.
    async fn stop(self) {
        assert_no_mass_mentions(&self.fake);
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.running)
            .await
            .expect("the service stops within 15 s")
            .expect("the service task does not panic");
        let report = self.health.check().await;
        assert!(!report.discord.unwrap().ok, "disconnected after the stop");
        self.fake.shutdown().await;
    }

    /// Runs a slash command and returns its interaction.
    async fn run(&self, by: &Member, path: &str, options: &[(&str, Value)]) -> InteractionPayload {
        let mut command = self.fake.slash_command(path).by(by.clone());
        for (name, value) in options {
            command = match value {
                Value::String(s) => command.option(*name, s.as_str()),
                Value::Bool(b) => command.option(*name, *b),
                Value::Number(n) => command.option(*name, n.as_i64().unwrap()),
                other => panic!("no option of type {other}"),
            };
        }
        let interaction = command.build();
        self.fake.send_interaction(&interaction).await.unwrap();
        interaction
    }

    /// The answer to a command that is not deferred: its first response.
    async fn answer(&self, interaction: &InteractionPayload) -> RecordedRequest {
        let callback = self.fake.wait_for_callback(interaction).await.unwrap();
        assert_eq!(callback.status, 204, "{callback}");
        assert_eq!(
            callback.payload()["type"],
            MESSAGE,
            "{:#}",
            callback.payload()
        );
        callback
    }

    /// The answer to a deferred command: the deferral, then the edit of the original.
    async fn deferred_answer(
        &self,
        interaction: &InteractionPayload,
    ) -> (RecordedRequest, RecordedRequest) {
        let callback = self.fake.wait_for_callback(interaction).await.unwrap();
        assert_eq!(
            callback.payload()["type"],
            DEFERRED,
            "{:#}",
            callback.payload()
        );
        let edit = self.fake.wait_for_original_edit(interaction).await.unwrap();
        assert_eq!(edit.status, 200, "{edit}");
        (callback, edit)
    }

    /// Creates a class as the teacher and returns a join token for it.
    async fn class_with_token(&self, name: &str, pool: i64) -> String {
        let create = self
            .run(
                &teacher(),
                "class create",
                &[
                    ("name", json!(name)),
                    ("template", json!("9000")),
                    ("pool", json!(pool)),
                ],
            )
            .await;
        let (_, edit) = self.deferred_answer(&create).await;
        assert_eq!(
            edit.payload()["embeds"][0]["title"],
            format!("Class {name} created"),
            "{:#}",
            edit.payload()
        );
        let token = self
            .run(&teacher(), "class token", &[("class", json!(name))])
            .await;
        let answer = self.answer(&token).await;
        assert_eq!(
            flags(&answer),
            EPHEMERAL,
            "a join token is shown to the teacher only"
        );
        token_in(answer.payload())
    }

    /// Registers student VMs of the class in its slots (what provisioning will do).
    async fn register_vms(&self, class: &str, slots: &[u16]) {
        let admin = operator(&self.lab).await.unwrap();
        let cluster = ClusterId::parse("pve1").unwrap();
        if self.lab.clusters(&admin).await.unwrap().is_empty() {
            let credential = ClusterCredential::ApiToken {
                id: ApiTokenId::parse("pvelab@pve!bot").unwrap(),
                secret: SecretString::from("s3cret".to_owned()),
            };
            self.lab
                .add_cluster(
                    &admin,
                    NewCluster::new(
                        cluster.clone(),
                        Host::parse("127.0.0.1").unwrap(),
                        credential,
                    ),
                )
                .await
                .unwrap();
        }
        let class = self
            .lab
            .class_by_name(&admin, Some(&scope()), &ClassName::parse(class).unwrap())
            .await
            .unwrap();
        for &slot in slots {
            let vm = NewPoolVm {
                cluster_id: cluster.clone(),
                vmid: class.scheme.student_vmid(slot).unwrap(),
                manual: false,
                node: None,
                name: None,
                mac_address: None,
            };
            self.lab.register_vm(&admin, class.id, vm).await.unwrap();
        }
    }
}

/// The scope of the fake's server.
fn scope() -> Scope {
    Scope::parse(&DEFAULT_GUILD_ID.to_string()).unwrap()
}

impl Bot {
    /// The second direct message sent (or refused) to `member`, once it was attempted.
    async fn second_dm(&self, member: &Member) -> RecordedRequest {
        let first = self.fake.wait_for_dm(member.user_id).await.unwrap();
        let route = first.route().to_owned();
        let both = self
            .fake
            .wait_for_requests(&format!("two DMs to {}", member.username), 2, |r| {
                r.is("POST", &route)
            })
            .await
            .unwrap();
        both[1].clone()
    }
}

fn flags(request: &RecordedRequest) -> u64 {
    let payload = request.payload();
    payload["data"]["flags"]
        .as_u64()
        .or_else(|| payload["flags"].as_u64())
        .unwrap_or(0)
}

/// Everything a person reads in a message payload: content, embed titles, descriptions,
/// fields, footers.
fn text_of(message: &Value) -> String {
    let message = if message["data"].is_object() {
        &message["data"]
    } else {
        message
    };
    let mut text = message["content"].as_str().unwrap_or_default().to_owned();
    for embed in message["embeds"].as_array().into_iter().flatten() {
        for part in [
            &embed["title"],
            &embed["description"],
            &embed["footer"]["text"],
        ] {
            if let Some(s) = part.as_str() {
                text.push('\n');
                text.push_str(s);
            }
        }
        for field in embed["fields"].as_array().into_iter().flatten() {
            text.push_str(&format!(
                "\n{}\n{}",
                field["name"].as_str().unwrap_or_default(),
                field["value"].as_str().unwrap_or_default()
            ));
        }
    }
    text
}

/// The buttons of a message payload: (label, custom id).
fn buttons_of(message: &Value) -> Vec<(String, String)> {
    let message = if message["data"].is_object() {
        &message["data"]
    } else {
        message
    };
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .map(|b| {
            (
                b["label"].as_str().unwrap_or_default().to_owned(),
                b["custom_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The token of a `/class token` answer.
fn token_in(payload: &Value) -> String {
    text_of(payload)
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap_or_else(|| panic!("no token in {payload:#}"))
        .to_owned()
}

/// Every message the bot sent (responses, edits, follow-ups, direct messages) carried allowed
/// mentions that allow nothing.
fn assert_no_mass_mentions(fake: &FakeDiscord) {
    let mut messages = 0;
    for request in fake.requests() {
        let route = request.route().to_owned();
        let payload = request.payload();
        let message = if route.ends_with("/callback") {
            if !matches!(payload["type"].as_u64(), Some(4 | 7)) {
                continue;
            }
            &payload["data"]
        } else if (route.starts_with("/webhooks/")
            && matches!(request.method.as_str(), "POST" | "PATCH"))
            || (route.starts_with("/channels/") && route.ends_with("/messages"))
        {
            payload
        } else {
            continue;
        };
        messages += 1;
        assert_eq!(
            message["allowed_mentions"],
            json!({"parse": [], "users": [], "roles": []}),
            "{request}: {message:#}"
        );
    }
    assert!(messages > 0, "the bot sent no message at all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_makes_a_class_and_a_token_and_a_student_joins_and_sees_their_vm() {
    let bot = Bot::start().await;
    assert!(bot.health.check().await.discord.unwrap().ok, "connected");

    let token = bot.class_with_token("net101", 2).await;
    bot.register_vms("net101", &[1]).await;
    let ada = student(1, "ada");
    let join = bot.run(&ada, "join", &[("token", json!(token))]).await;
    let joined = bot.answer(&join).await;
    assert_eq!(flags(&joined), EPHEMERAL);
    assert!(
        text_of(joined.payload()).contains("You joined net101"),
        "{:#}",
        joined.payload()
    );

    let myvm = bot.run(&ada, "myvm", &[]).await;
    let (deferral, edit) = bot.deferred_answer(&myvm).await;
    assert_eq!(
        flags(&deferral),
        EPHEMERAL,
        "/myvm is personal from the start"
    );
    let shown = text_of(edit.payload());
    assert!(
        shown.contains("Your VMs") && shown.contains("net101"),
        "{shown}"
    );
    let buttons = buttons_of(edit.payload());
    assert!(
        buttons.contains(&("Start".to_owned(), "/vm start class:net101".to_owned())),
        "{buttons:?}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_creating_a_class_is_refused_privately_in_the_words_of_the_error_module() {
    let bot = Bot::start().await;
    let ada = student(1, "ada");

    let create = bot
        .run(
            &ada,
            "class create",
            &[
                ("name", json!("mine")),
                ("template", json!("9000")),
                ("pool", json!(3)),
            ],
        )
        .await;
    let (deferral, edit) = bot.deferred_answer(&create).await;

    assert_eq!(
        flags(&deferral),
        EPHEMERAL,
        "a command above the caller's role is deferred privately: its refusal is personal"
    );
    let shown = text_of(edit.payload());
    assert!(shown.starts_with("You may not "), "{shown}");
    assert!(shown.contains(": that needs "), "{shown}");
    assert!(
        shown.contains("If you should be able to, ask an administrator."),
        "{shown}"
    );
    assert!(bot
        .lab
        .classes(&operator(&bot.lab).await.unwrap(), Some(&scope()))
        .await
        .unwrap()
        .is_empty());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joining_student_needs_the_student_role_named_in_the_refusal() {
    let bot = Bot::start().await;
    let token = bot.class_with_token("net101", 2).await;
    let outsider = Member::new(1_300_000_000_000_000_999, "eve");

    let join = bot.run(&outsider, "join", &[("token", json!(token))]).await;
    let refusal = bot.answer(&join).await;

    assert_eq!(flags(&refusal), EPHEMERAL);
    let shown = text_of(refusal.payload());
    assert!(
        shown.contains("needs the student role \"Students\""),
        "{shown}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_edits_the_deferred_answer_at_most_once_per_interval_with_the_newest_update() {
    // An interaction the fake knows but no bot receives: the progress editor answers it.
    let fake = FakeDiscord::start_with(FakeDiscordConfig {
        wait_timeout: Duration::from_secs(2),
        ..FakeDiscordConfig::default()
    })
    .await
    .unwrap();
    let resize = fake
        .slash_command("pool resize")
        .option("class", "net101")
        .option("size", 3)
        .build();
    assert!(
        fake.send_interaction(&resize).await.is_err(),
        "no bot is connected"
    );
    let http = serenity::all::HttpBuilder::new("fake-bot-token")
        .proxy(fake.api_url())
        .ratelimiter_disabled(true)
        .application_id(serenity::all::ApplicationId::new(
            fake.config().application_id,
        ))
        .build();
    let responder = Responder::new(
        Arc::new(http),
        serenity::all::InteractionId::new(resize.id),
        resize.token.clone(),
    );

    responder.defer(false).await.unwrap();
    let (sink, editor) = progress_editor(responder.clone(), Duration::from_millis(300));
    sink.report(Progress::counted("VMs ready", 1, 3));
    let first = fake.wait_for_original_edit(&resize).await.unwrap();
    sink.report(Progress::counted("VMs ready", 2, 3));
    sink.report(Progress::counted("VMs ready", 3, 3));
    let edits = fake
        .wait_for_requests("two progress edits", 2, |r| {
            r.is("PATCH", &resize.original_route())
        })
        .await
        .unwrap();
    drop(sink);
    editor.await.unwrap();
    let stash = Stash::default();
    let answer =
        pvelab_bot::discord::Message::of(&pvelab_bot::commands::Reply::text("Pool net101: 3 VMs."));
    responder
        .edit(Outgoing::page(&stash, &answer, 0, None, true))
        .await
        .unwrap();

    assert_eq!(first.payload()["content"], "VMs ready: 1/3");
    assert_eq!(
        edits[1].payload()["content"],
        "VMs ready: 3/3",
        "2/3 was overtaken"
    );
    let patches = fake
        .requests()
        .iter()
        .filter(|r| r.is("PATCH", &resize.original_route()))
        .count();
    assert_eq!(patches, 3, "two progress edits and the answer");
    assert_eq!(
        fake.original_message(&resize).unwrap()["content"],
        "Pool net101: 3 VMs."
    );
    fake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_commands_are_refused_by_the_dispatchers_limit_with_when_to_retry() {
    let quota = CommandQuota::new(2, Duration::from_secs(3600)).unwrap();
    let bot = Bot::start_with(Some(quota)).await;
    let ada = student(1, "ada");

    for _ in 0..2 {
        let join = bot
            .run(&ada, "join", &[("token", json!("AAAAAAAAAAAAAAAAAAAAAA"))])
            .await;
        let refused = bot.answer(&join).await;
        assert!(
            !text_of(refused.payload()).contains("too quickly"),
            "{:#}",
            refused.payload()
        );
    }
    let third = bot
        .run(&ada, "join", &[("token", json!("AAAAAAAAAAAAAAAAAAAAAA"))])
        .await;
    let limited = bot.answer(&third).await;

    assert_eq!(flags(&limited), EPHEMERAL);
    let shown = text_of(limited.payload());
    assert!(
        shown.contains("You are running commands too quickly."),
        "{shown}"
    );
    assert!(shown.contains("Try again in 3600 seconds."), "{shown}");
    // The limit is per person: the teacher is not held up.
    let list = bot.run(&teacher(), "class list", &[]).await;
    assert!(!text_of(bot.answer(&list).await.payload()).contains("too quickly"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waitlisted_students_get_a_dm_when_a_vm_is_ready_and_closed_dms_hold_nobody_up() {
    let bot = Bot::start().await;
    let token = bot.class_with_token("net101", 3).await;
    let (ada, bea, cy) = (student(1, "ada"), student(2, "bea"), student(3, "cy"));
    bot.fake.set_dms_closed(bea.user_id, true);
    for who in [&ada, &bea, &cy] {
        let join = bot.run(who, "join", &[("token", json!(token))]).await;
        bot.answer(&join).await;
    }

    bot.register_vms("net101", &[1, 2, 3]).await;
    // Each student got "you are on the waitlist" when joining, then "your VM is ready".
    let to_ada = bot.second_dm(&ada).await;
    let to_bea = bot.second_dm(&bea).await;
    let to_cy = bot.second_dm(&cy).await;

    assert_eq!(to_ada.status, 200, "{to_ada}");
    let shown = text_of(to_ada.payload());
    assert!(shown.contains("Your VM in net101 is ready"), "{shown}");
    assert!(
        buttons_of(to_ada.payload())
            .contains(&("My VM".to_owned(), "/myvm class:net101".to_owned())),
        "{:#}",
        to_ada.payload()
    );
    assert_eq!(to_bea.status, 403, "bea's DMs are closed");
    assert_eq!(
        to_cy.status, 200,
        "the refusals for bea did not hold cy's messages up"
    );
    assert!(text_of(to_cy.payload()).contains("Your VM in net101 is ready"));
    let to_bea_again = bot
        .fake
        .requests()
        .iter()
        .filter(|r| r.is("POST", to_bea.route()))
        .count();
    assert_eq!(
        to_bea_again, 2,
        "one attempt per message: an unreachable student is not retried"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_runs_its_command_as_the_person_who_presses_it() {
    let bot = Bot::start().await;
    bot.class_with_token("net101", 2).await;
    let delete = bot
        .run(&teacher(), "class delete", &[("class", json!("net101"))])
        .await;
    let deferral = bot.fake.wait_for_callback(&delete).await.unwrap();
    let question = bot.fake.wait_for_followup(&delete).await.unwrap();
    assert_eq!(
        flags(&deferral),
        0,
        "a teacher's command is deferred publicly"
    );
    assert_eq!(
        flags(&question),
        EPHEMERAL,
        "the confirmation is for the teacher only"
    );
    bot.fake
        .wait_for_request("the public deferral removed", |r| {
            r.is("DELETE", &delete.original_route())
        })
        .await
        .unwrap();
    let buttons = buttons_of(question.payload());
    let (label, custom_id) = &buttons[0];
    assert_eq!(label, "Delete net101");
    assert_eq!(custom_id, "/class delete class:net101 confirm:yes");
    let message = bot.fake.followups(&delete)[0].clone();

    let by_student = bot
        .fake
        .button_press(custom_id, &message)
        .by(student(1, "ada"))
        .build();
    bot.fake.send_interaction(&by_student).await.unwrap();
    let (deferral, refusal) = bot.deferred_answer(&by_student).await;
    assert_eq!(
        flags(&deferral),
        EPHEMERAL,
        "a press is answered to the presser alone"
    );
    let shown = text_of(refusal.payload());
    assert!(
        shown.starts_with("There is no class \"net101\"."),
        "the press runs as the student, who does not see the class: {shown}"
    );
    let admin = operator(&bot.lab).await.unwrap();
    let name = ClassName::parse("net101").unwrap();
    assert!(
        bot.lab
            .class_by_name(&admin, Some(&scope()), &name)
            .await
            .is_ok(),
        "the student's press deleted nothing"
    );

    let by_teacher = bot
        .fake
        .button_press(custom_id, &message)
        .by(teacher())
        .build();
    bot.fake.send_interaction(&by_teacher).await.unwrap();
    let (_, done) = bot.deferred_answer(&by_teacher).await;
    assert!(
        text_of(done.payload()).contains("Class net101 is deleted"),
        "{:#}",
        done.payload()
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_names_autocomplete_from_the_classes_the_caller_sees() {
    let bot = Bot::start().await;
    let token = bot.class_with_token("net101", 2).await;
    bot.class_with_token("net202", 2).await;
    bot.class_with_token("linux1", 2).await;
    let ada = student(1, "ada");
    let join = bot.run(&ada, "join", &[("token", json!(token))]).await;
    bot.answer(&join).await;

    let by_teacher = bot
        .fake
        .autocomplete("class info", "class", "NET")
        .by(teacher())
        .build();
    bot.fake.send_interaction(&by_teacher).await.unwrap();
    let teacher_choices = bot.fake.wait_for_callback(&by_teacher).await.unwrap();
    let by_student = bot.fake.autocomplete("leave", "class", "").by(ada).build();
    bot.fake.send_interaction(&by_student).await.unwrap();
    let student_choices = bot.fake.wait_for_callback(&by_student).await.unwrap();

    assert_eq!(teacher_choices.payload()["type"], AUTOCOMPLETE);
    assert_eq!(
        teacher_choices.payload()["data"]["choices"],
        json!([{"name": "net101", "value": "net101"}, {"name": "net202", "value": "net202"}])
    );
    assert_eq!(
        student_choices.payload()["data"]["choices"],
        json!([{"name": "net101", "value": "net101"}]),
        "a student sees only the class they are in"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_with_everyone_pings_nobody() {
    let bot = Bot::start().await;
    bot.class_with_token("net101", 2).await;
    let admin = operator(&bot.lab).await.unwrap();
    let class = bot
        .lab
        .class_by_name(&admin, Some(&scope()), &ClassName::parse("net101").unwrap())
        .await
        .unwrap();
    let change = ClassSettings {
        description: Some(Some(format!(
            "Hello @everyone and @here, ask <@&{TEACHER_ROLE}>"
        ))),
        ..ClassSettings::default()
    };
    bot.lab
        .update_class(&admin, class.id, change)
        .await
        .unwrap();

    let info = bot
        .run(&teacher(), "class info", &[("class", json!("net101"))])
        .await;
    let answer = bot.answer(&info).await;

    let shown = text_of(answer.payload());
    assert!(
        shown.contains("Hello @\u{200B}everyone and @\u{200B}here"),
        "{shown}"
    );
    assert!(
        !shown.contains("@everyone") && !shown.contains("@here"),
        "{shown}"
    );
    assert!(!shown.contains("<@&"), "{shown}");
    assert_eq!(
        answer.payload()["data"]["allowed_mentions"],
        json!({"parse": [], "users": [], "roles": []})
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_direct_message_only_commands_about_ones_own_vm_run() {
    let bot = Bot::start().await;
    let in_dm = |path: &str| {
        let mut interaction = bot.fake.slash_command(path).by(student(1, "ada")).build();
        let json = interaction.json.as_object_mut().unwrap();
        let user = json["member"]["user"].clone();
        json.remove("member");
        json.remove("guild_id");
        json.insert("user".into(), user);
        json.insert("context".into(), json!(1));
        interaction.json["data"]
            .as_object_mut()
            .unwrap()
            .remove("guild_id");
        interaction
    };

    let list = in_dm("class list");
    bot.fake.send_interaction(&list).await.unwrap();
    let refused = bot.answer(&list).await;
    let myvm = in_dm("myvm");
    bot.fake.send_interaction(&myvm).await.unwrap();
    let (deferral, mine) = bot.deferred_answer(&myvm).await;

    assert_eq!(flags(&refused), EPHEMERAL);
    assert!(text_of(refused.payload()).starts_with("/class list works only in a server"));
    assert_eq!(flags(&deferral), EPHEMERAL, "/myvm is personal");
    assert!(
        text_of(mine.payload()).starts_with("You have no VM yet."),
        "{:#}",
        mine.payload()
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_is_paged_and_the_page_buttons_turn_it() {
    let bot = Bot::start().await;
    let admin = operator(&bot.lab).await.unwrap();
    for i in 0..70 {
        let mut class = NewClass::new(
            ClassName::parse(&format!("class-with-a-long-name-{i:03}")).unwrap(),
            PoolSize::new(1).unwrap(),
        );
        class.scope = Some(scope());
        bot.lab.create_class(&admin, class).await.unwrap();
    }
    let adminer = Member::new(1_300_000_000_000_000_002, "ada").with_roles([ADMIN_ROLE]);

    let list = bot.run(&adminer, "class list", &[]).await;
    let first = bot.answer(&list).await;
    let footer = first.payload()["data"]["embeds"][0]["footer"]["text"].clone();
    let next = buttons_of(first.payload())
        .into_iter()
        .find(|(label, _)| label.starts_with("Next"))
        .expect("a Next button");
    let message = bot.fake.original_message(&list).unwrap();
    let press = bot.fake.button_press(&next.1, &message).by(adminer).build();
    bot.fake.send_interaction(&press).await.unwrap();
    let turned = bot.fake.wait_for_callback(&press).await.unwrap();

    assert_eq!(footer, "page 1/2");
    assert_eq!(turned.payload()["type"], 7, "the message itself is updated");
    assert_eq!(
        turned.payload()["data"]["embeds"][0]["footer"]["text"],
        "page 2/2"
    );
    let shown = text_of(first.payload()) + &text_of(turned.payload());
    for i in 0..70 {
        assert!(
            shown.contains(&format!("class-with-a-long-name-{i:03}")),
            "{i}"
        );
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_commands_puts_the_catalogue_in_a_server_or_globally() {
    let fake = FakeDiscord::start_with(fake_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (file, env) = configuration(dir.path(), &fake);
    let expected = application_commands().len();

    let mut out = Vec::new();
    register_commands(&file, &env, RegisterTarget::ConfiguredGuilds, &mut out)
        .await
        .unwrap();
    register_commands(&file, &env, RegisterTarget::Global, &mut out)
        .await
        .unwrap();
    let bad = register_commands(&file, &env, RegisterTarget::Guild("abc".into()), &mut out).await;

    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains(&format!(
            "registered {expected} commands in server {DEFAULT_GUILD_ID}"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("registered {expected} commands globally")),
        "{out}"
    );
    assert_eq!(
        fake.registered_commands(Some(DEFAULT_GUILD_ID)).len(),
        expected
    );
    let global = fake.registered_commands(None);
    assert_eq!(global.len(), expected);
    assert!(global.iter().any(|c| c["name"] == "class"));
    assert!(bad
        .unwrap_err()
        .to_string()
        .contains("\"abc\" is not a Discord server id"));
    fake.shutdown().await;
}

/// A simulated Proxmox cluster registered in the bot's lab, with its templates recorded.
async fn simulator(bot: &Bot) -> pvelab_pve_sim::SimHandle {
    let sim = pvelab_pve_sim::Sim::start(pvelab_pve_sim::SimConfig {
        time_scale: 0.05,
        ..pvelab_pve_sim::SimConfig::default()
    })
    .await
    .expect("the simulator starts");
    pvelab_bot::app::register_simulator(&bot.lab, &sim)
        .await
        .expect("the simulator is registered");
    sim
}

impl Bot {
    /// Every edit of a deferred command's original message, up to the final answer (the first
    /// edit with an embed; progress edits are plain content).
    async fn edits_until_answer(&self, interaction: &InteractionPayload) -> Vec<RecordedRequest> {
        let callback = self.fake.wait_for_callback(interaction).await.unwrap();
        assert_eq!(callback.payload()["type"], DEFERRED, "{callback}");
        let route = interaction.original_route();
        for n in 1.. {
            let edits = self
                .fake
                .wait_for_requests(&format!("{n} edits"), n, |r| r.is("PATCH", &route))
                .await
                .unwrap();
            if edits.last().is_some_and(|e| {
                e.payload()["embeds"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
            }) {
                return edits;
            }
        }
        unreachable!()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_pool_resize_edits_its_progress_then_answers_and_the_waitlisted_student_gets_a_vm(
) {
    let bot = Bot::start().await;
    let sim = simulator(&bot).await;
    let create = bot
        .run(
            &teacher(),
            "class create",
            &[
                ("name", json!("net101")),
                ("template", json!("debian-13-tmpl")),
                ("pool", json!(1)),
            ],
        )
        .await;
    let edits = bot.edits_until_answer(&create).await;
    assert_eq!(
        edits[0].payload()["content"],
        "VMs ready: 0/3",
        "the first progress edit comes at once"
    );
    let created = text_of(edits.last().unwrap().payload());
    assert!(created.contains("3 of 3 VMs ready"), "{created}");
    let token = bot
        .run(&teacher(), "class token", &[("class", json!("net101"))])
        .await;
    let token = token_in(bot.answer(&token).await.payload());
    for (n, name) in [(1, "ada"), (2, "bea")] {
        let join = bot
            .run(&student(n, name), "join", &[("token", json!(token))])
            .await;
        bot.answer(&join).await;
    }

    let resize = bot
        .run(
            &teacher(),
            "pool resize",
            &[("class", json!("net101")), ("size", json!(3))],
        )
        .await;
    let edits = bot.edits_until_answer(&resize).await;
    assert!(edits.len() >= 2, "progress, then the answer: {edits:?}");
    let progress: Vec<String> = edits[..edits.len() - 1]
        .iter()
        .map(|e| {
            e.payload()["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(progress[0], "VMs ready: 0/2", "{progress:?}");
    assert!(
        progress.iter().all(|p| p.starts_with("VMs ready: ")),
        "{progress:?}"
    );
    let answer = text_of(edits.last().unwrap().payload());
    assert!(
        answer.contains("Pool of net101 resized from 1 to 3 student VMs")
            && answer.contains("2 of 2 VMs ready"),
        "{answer}"
    );
    // Bea waited for a VM: the new one is hers, and she hears of it.
    let dm = bot.second_dm(&student(2, "bea")).await;
    assert!(
        text_of(dm.payload()).contains("Your VM in net101 is ready (VM 20"),
        "{:#}",
        dm.payload()
    );
    bot.stop().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vm_rdp_attaches_an_rdp_file_for_the_vms_address_without_credentials() {
    let bot = Bot::start().await;
    let sim = simulator(&bot).await;
    let create = bot
        .run(
            &teacher(),
            "class create",
            &[
                ("name", json!("net101")),
                ("template", json!("9000")),
                ("pool", json!(1)),
            ],
        )
        .await;
    bot.edits_until_answer(&create).await;
    let token = bot
        .run(&teacher(), "class token", &[("class", json!("net101"))])
        .await;
    let token = token_in(bot.answer(&token).await.payload());
    let ada = student(1, "ada");
    let join = bot.run(&ada, "join", &[("token", json!(token))]).await;
    bot.answer(&join).await;
    let start = bot.run(&ada, "vm start", &[]).await;
    let (_, started) = bot.deferred_answer(&start).await;
    assert!(
        text_of(started.payload()).contains("it is running now"),
        "{:#}",
        started.payload()
    );
    // The guest agent answers a while after the start (on the simulator's clock); then the
    // inventory sees the VM running and the address job finds its address (what the scheduler
    // does every few minutes).
    sim.advance_clock(600.0);
    let admin = operator(&bot.lab).await.unwrap();
    let report = bot
        .lab
        .sync_now(&admin, pvelab_core::jobs::SyncWhat::All, None)
        .await
        .unwrap();
    assert!(report.all_ok(), "{report:?}");

    let rdp = bot.run(&ada, "vm rdp", &[]).await;
    let (deferral, edit) = bot.deferred_answer(&rdp).await;
    assert_eq!(flags(&deferral), EPHEMERAL, "an .rdp file is personal");
    let files = edit.files();
    assert_eq!(files.len(), 1, "{edit}");
    assert_eq!(
        files[0].filename, "net101-201.rdp",
        "the simulator's guests hold 100-199"
    );
    let text = String::from_utf8(files[0].bytes.clone()).unwrap();
    let address = text
        .lines()
        .next()
        .and_then(|l| l.trim_end().strip_prefix("full address:s:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        address.parse::<std::net::IpAddr>().is_ok(),
        "an address: {text}"
    );
    assert!(
        text_of(edit.payload()).contains(&format!("to connect to {address}.")),
        "{:#}",
        edit.payload()
    );
    for secret in ["password", "username", "token"] {
        assert!(!text.to_lowercase().contains(secret), "{text}");
    }
    bot.stop().await;
    sim.shutdown().await;
}
