//! The real poise/serenity stack against the fake Discord: a small framework defined here runs
//! with `client.start()`, the tests push interactions over the fake gateway and assert on what
//! the bot sent back. This is also the worked example of plugging a bot into the fake.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use poise::serenity_prelude as serenity;
use pvelab_tests::discord::{FakeDiscord, FakeDiscordConfig, Member, RecordedRequest};
use serde_json::json;
use tokio::task::JoinHandle;

const TOKEN: &str = "fake-bot-token";
const STUDENT_ROLE: u64 = 1_100_000_000_000_000_777;
const TEACHER_ROLE: u64 = 1_100_000_000_000_000_778;
const EPHEMERAL: u64 = 64;

struct Data;
type Error = Box<dyn std::error::Error + Send + Sync>;
type Context<'a> = poise::Context<'a, Data, Error>;

/// Replies only to the invoker.
#[poise::command(slash_command, ephemeral)]
async fn ping(ctx: Context<'_>) -> Result<(), Error> {
    ctx.say("pong").await?;
    Ok(())
}

/// Defers (as anything touching Proxmox must), then edits in the report as a file.
#[poise::command(slash_command)]
async fn report(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    let poise::Context::Application(app) = ctx else {
        return Err("report is a slash command".into());
    };
    let csv = serenity::CreateAttachment::bytes(b"vmid,state\n101,running\n".to_vec(), "vms.csv");
    let edit = serenity::EditInteractionResponse::new()
        .content("1 VM running")
        .new_attachment(csv);
    app.interaction.edit_response(ctx.http(), edit).await?;
    Ok(())
}

/// Asks for confirmation with a button and answers the press by updating the message.
#[poise::command(slash_command)]
async fn reset(ctx: Context<'_>) -> Result<(), Error> {
    let custom_id = format!("reset-confirm-{}", ctx.id());
    let wanted = custom_id.clone();
    // Collect before sending, so the press cannot arrive before the collector exists.
    let mut presses = serenity::ComponentInteractionCollector::new(ctx)
        .filter(move |press| press.data.custom_id == wanted)
        .timeout(Duration::from_secs(10))
        .stream();
    let button = serenity::CreateButton::new(custom_id)
        .label("Reset")
        .style(serenity::ButtonStyle::Danger);
    let reply = poise::CreateReply::default()
        .content("Reset your VM?")
        .ephemeral(true)
        .components(vec![serenity::CreateActionRow::Buttons(vec![button])]);
    ctx.send(reply).await?;
    let Some(press) = presses.next().await else {
        return Ok(());
    };
    let update = serenity::CreateInteractionResponseMessage::new()
        .content(format!("Reset confirmed by {}", press.user.name))
        .components(vec![]);
    press
        .create_response(
            ctx,
            serenity::CreateInteractionResponse::UpdateMessage(update),
        )
        .await?;
    Ok(())
}

/// DMs the invoker, and says whether that worked.
#[poise::command(slash_command, ephemeral)]
async fn remind(ctx: Context<'_>) -> Result<(), Error> {
    let dm = serenity::CreateMessage::new().content("Your lab closes at 18:00");
    let reply = match ctx.author().direct_message(ctx, dm).await {
        Ok(_) => "Sent you a DM",
        Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(e)))
            if e.error.code == 50007 =>
        {
            "Your DMs are closed"
        }
        Err(e) => return Err(e.into()),
    };
    ctx.say(reply).await?;
    Ok(())
}

async fn template_names(_ctx: Context<'_>, typed: &str) -> serenity::CreateAutocompleteResponse {
    ["debian-12", "ubuntu-22.04", "ubuntu-24.04"]
        .into_iter()
        .filter(|name| name.starts_with(typed))
        .fold(
            serenity::CreateAutocompleteResponse::new(),
            |response, name| response.add_string_choice(name, name),
        )
}

/// Clones a template (the reply says what it understood).
#[poise::command(slash_command)]
async fn clone(
    ctx: Context<'_>,
    #[description = "Template"]
    #[autocomplete = "template_names"]
    template: String,
    #[description = "How many"] count: Option<i64>,
) -> Result<(), Error> {
    ctx.say(format!("{}× {template}", count.unwrap_or(1)))
        .await?;
    Ok(())
}

/// Lab commands.
#[poise::command(slash_command, subcommands("lab_status"))]
async fn lab(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Shows a member's lab status, then follows up.
#[poise::command(slash_command, rename = "status")]
async fn lab_status(
    ctx: Context<'_>,
    #[description = "Whose"] student: serenity::User,
    #[description = "With details"] verbose: bool,
) -> Result<(), Error> {
    let invoker = ctx.author_member().await.ok_or("no member")?;
    let roles: Vec<u64> = invoker.roles.iter().map(|r| r.get()).collect();
    ctx.say(format!(
        "{} asks about {} ({verbose})",
        invoker.user.name, student.name
    ))
    .await?;
    ctx.say(format!("roles {roles:?}")).await?;
    Ok(())
}

/// The fake, and the bot running against it.
struct Bot {
    fake: FakeDiscord,
    shards: Arc<serenity::ShardManager>,
    client: JoinHandle<Result<(), serenity::Error>>,
    http: Arc<serenity::Http>,
}

async fn start_bot() -> Bot {
    start_bot_with(FakeDiscordConfig::default()).await
}

async fn start_bot_with(config: FakeDiscordConfig) -> Bot {
    let fake = FakeDiscord::start_with(config)
        .await
        .expect("the fake starts");
    let guild = serenity::GuildId::new(fake.config().guilds[0].id);
    let http = serenity::HttpBuilder::new(TOKEN)
        .proxy(fake.api_url())
        .ratelimiter_disabled(true)
        .build();
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: vec![ping(), report(), reset(), remind(), clone(), lab()],
            ..Default::default()
        })
        // The builder's flag overrides `FrameworkOptions::initialize_owners`: set it here.
        .initialize_owners(false)
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                poise::builtins::register_in_guild(ctx, &framework.options().commands, guild)
                    .await?;
                Ok(Data)
            })
        })
        .build();
    let mut client =
        serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::empty())
            .framework(framework)
            .await
            .expect("the client builds");
    let shards = Arc::clone(&client.shard_manager);
    let http = Arc::clone(&client.http);
    let client = tokio::spawn(async move { client.start().await });
    fake.wait_bot_ready()
        .await
        .expect("the bot connects and registers");
    Bot {
        fake,
        shards,
        client,
        http,
    }
}

impl Bot {
    /// Shuts the shards down, waits (bounded) for `client.start()` to return, stops the fake.
    async fn stop(self) {
        self.shards.shutdown_all().await;
        let stopped = tokio::time::timeout(Duration::from_secs(10), self.client)
            .await
            .expect("client.start() returns within 10 s of shutdown_all");
        stopped
            .expect("the client task does not panic")
            .expect("the client stops without error");
        self.fake.shutdown().await;
    }
}

fn flags(request: &RecordedRequest) -> u64 {
    request.payload()["data"]["flags"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_identifies_and_registers_its_commands_in_the_guild() {
    let bot = start_bot().await;

    let identify = bot.fake.wait_identified().await.unwrap();
    let registration = bot.fake.wait_commands_registered().await.unwrap();

    // serenity sends the token as it authorizes REST calls, with its "Bot " prefix.
    assert_eq!(identify["token"], format!("Bot {TOKEN}"));
    assert_eq!(
        registration.authorization.as_deref(),
        Some(format!("Bot {TOKEN}").as_str())
    );
    assert_eq!(identify["intents"], 0);
    assert_eq!(identify["compress"], true);
    let config = bot.fake.config();
    assert_eq!(
        registration.route(),
        format!(
            "/applications/{}/guilds/{}/commands",
            config.application_id, config.guilds[0].id
        )
    );
    let mut names: Vec<&str> = registration
        .payload()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["clone", "lab", "ping", "remind", "report", "reset"]);
    assert_eq!(
        bot.fake
            .registered_commands(Some(config.guilds[0].id))
            .len(),
        6
    );
    let requests: Vec<String> = bot
        .fake
        .requests()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        !requests
            .iter()
            .any(|r| r.contains("/oauth2/applications/@me")),
        "no owner lookup with initialize_owners(false): {requests:#?}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_replies_ephemerally_and_mentions_users_only() {
    let bot = start_bot().await;
    let ping = bot
        .fake
        .slash_command("ping")
        .by(Member::new(42, "ada").with_roles([STUDENT_ROLE]))
        .build();

    bot.fake.send_interaction(&ping).await.unwrap();
    let reply = bot.fake.wait_for_callback(&ping).await.unwrap();

    assert_eq!(reply.status, 204);
    assert_eq!(reply.payload()["type"], 4);
    assert_eq!(reply.payload()["data"]["content"], "pong");
    assert_eq!(flags(&reply), EPHEMERAL);
    // poise's default: ping users (and the replied-to user), never roles or @everyone.
    assert_eq!(
        reply.payload()["data"]["allowed_mentions"],
        json!({"parse": ["users"], "users": [], "roles": [], "replied_user": true})
    );
    let message = bot.fake.original_message(&ping).unwrap();
    assert_eq!(message["content"], "pong");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_command_edits_its_reply_with_an_attachment() {
    let bot = start_bot().await;
    let report = bot.fake.slash_command("report").build();

    bot.fake.send_interaction(&report).await.unwrap();
    let deferral = bot.fake.wait_for_callback(&report).await.unwrap();
    let edit = bot.fake.wait_for_original_edit(&report).await.unwrap();

    assert_eq!(deferral.payload()["type"], 5);
    assert_eq!(flags(&deferral), EPHEMERAL);
    assert_eq!(edit.status, 200);
    assert_eq!(edit.payload()["content"], "1 VM running");
    let file = edit.file("vms.csv").expect("the edit uploads vms.csv");
    assert_eq!(file.bytes, b"vmid,state\n101,running\n");
    // The bot reads its reply back as serenity sees it (GET .../messages/@original).
    let message = bot
        .http
        .get_original_interaction_response(&report.token)
        .await
        .unwrap();
    assert_eq!(message.content, "1 VM running");
    assert_eq!(message.attachments[0].filename, "vms.csv");
    assert_eq!(
        message.flags.map(|f| f.bits()),
        Some(EPHEMERAL),
        "the edit ends the loading state"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_press_is_collected_and_updates_the_message() {
    let bot = start_bot().await;
    let reset = bot.fake.slash_command("reset").build();
    bot.fake.send_interaction(&reset).await.unwrap();
    let question = bot.fake.wait_for_callback(&reset).await.unwrap();
    let button = &question.payload()["data"]["components"][0]["components"][0];
    let custom_id = button["custom_id"].as_str().unwrap();
    assert_eq!(button["label"], "Reset");
    assert_eq!(flags(&question), EPHEMERAL);

    let message = bot.fake.original_message(&reset).unwrap();
    let press = bot
        .fake
        .button_press(custom_id, &message)
        .by(Member::new(42, "ada"))
        .build();
    bot.fake.send_interaction(&press).await.unwrap();
    let update = bot.fake.wait_for_callback(&press).await.unwrap();

    assert_eq!(update.payload()["type"], 7);
    assert_eq!(
        update.payload()["data"]["content"],
        "Reset confirmed by ada"
    );
    assert_eq!(update.payload()["data"]["components"], json!([]));
    let message = bot.fake.original_message(&reset).unwrap();
    assert_eq!(message["content"], "Reset confirmed by ada");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_reaches_an_open_user_and_a_closed_one_is_told() {
    let bot = start_bot().await;
    let (open, closed) = (Member::new(42, "ada"), Member::new(43, "grace"));
    bot.fake.set_dms_closed(closed.user_id, true);
    let to_open = bot.fake.slash_command("remind").by(open.clone()).build();
    let to_closed = bot.fake.slash_command("remind").by(closed.clone()).build();

    bot.fake.send_interaction(&to_open).await.unwrap();
    bot.fake.send_interaction(&to_closed).await.unwrap();
    let delivered = bot.fake.wait_for_dm(open.user_id).await.unwrap();
    let refused = bot.fake.wait_for_dm(closed.user_id).await.unwrap();
    let open_reply = bot.fake.wait_for_callback(&to_open).await.unwrap();
    let closed_reply = bot.fake.wait_for_callback(&to_closed).await.unwrap();

    assert_eq!(delivered.status, 200);
    assert_eq!(delivered.payload()["content"], "Your lab closes at 18:00");
    assert_eq!(refused.status, 403);
    assert_eq!(open_reply.payload()["data"]["content"], "Sent you a DM");
    assert_eq!(
        closed_reply.payload()["data"]["content"],
        "Your DMs are closed"
    );
    assert_eq!(flags(&closed_reply), EPHEMERAL);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_offers_the_matching_templates_and_the_command_gets_the_choice() {
    let bot = start_bot().await;
    let typing = bot
        .fake
        .autocomplete("clone", "template", "ubu")
        .option("count", 2)
        .build();

    bot.fake.send_interaction(&typing).await.unwrap();
    let choices = bot.fake.wait_for_callback(&typing).await.unwrap();
    let invoke = bot
        .fake
        .slash_command("clone")
        .option("template", "ubuntu-24.04")
        .option("count", 3)
        .build();
    bot.fake.send_interaction(&invoke).await.unwrap();
    let reply = bot.fake.wait_for_callback(&invoke).await.unwrap();

    assert_eq!(choices.payload()["type"], 8);
    assert_eq!(
        choices.payload()["data"]["choices"],
        json!([
            {"name": "ubuntu-22.04", "value": "ubuntu-22.04"},
            {"name": "ubuntu-24.04", "value": "ubuntu-24.04"},
        ])
    );
    assert_eq!(reply.payload()["data"]["content"], "3× ubuntu-24.04");
    assert_eq!(flags(&reply), 0, "a plain reply is public");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sub_command_sees_the_invokers_roles_and_the_picked_user_then_follows_up() {
    let bot = start_bot().await;
    let teacher = Member::new(44, "hopper").with_roles([TEACHER_ROLE, STUDENT_ROLE]);
    let status = bot
        .fake
        .slash_command("lab status")
        .by(teacher)
        .option("student", Member::new(42, "ada"))
        .option("verbose", true)
        .build();

    bot.fake.send_interaction(&status).await.unwrap();
    let first = bot.fake.wait_for_callback(&status).await.unwrap();
    let followup = bot.fake.wait_for_followup(&status).await.unwrap();

    assert_eq!(
        first.payload()["data"]["content"],
        "hopper asks about ada (true)"
    );
    assert_eq!(followup.status, 200);
    assert_eq!(
        followup.payload()["content"],
        format!("roles [{TEACHER_ROLE}, {STUDENT_ROLE}]")
    );
    assert_eq!(bot.fake.followups(&status).len(), 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_first_response_is_refused_as_discord_does() {
    let bot = start_bot().await;
    let ping = bot.fake.slash_command("ping").build();
    bot.fake.send_interaction(&ping).await.unwrap();
    bot.fake.wait_for_callback(&ping).await.unwrap();

    let again = bot
        .http
        .create_interaction_response(
            serenity::InteractionId::new(ping.id),
            &ping.token,
            &json!({"type": 4, "data": {"content": "pong again"}}),
            Vec::new(),
        )
        .await;

    let Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(e))) = again else {
        panic!("a second response must fail, got {again:?}");
    };
    assert_eq!((e.status_code.as_u16(), e.error.code), (400, 40060));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_that_runs_out_lists_what_the_fake_received() {
    let config = FakeDiscordConfig {
        wait_timeout: Duration::from_millis(300),
        ..FakeDiscordConfig::default()
    };
    let bot = start_bot_with(config).await;
    let never_sent = bot.fake.slash_command("ping").build();

    let error = bot.fake.wait_for_callback(&never_sent).await.unwrap_err();

    let text = error.to_string();
    assert!(text.contains(&never_sent.callback_route()), "{text}");
    assert!(text.contains("GET /api/v10/gateway -> 200"), "{text}");
    assert!(text.contains("/commands -> 200"), "{text}");
    assert!(text.contains("op 2"), "{text}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushing_an_interaction_with_no_bot_connected_fails_with_a_reason() {
    let config = FakeDiscordConfig {
        wait_timeout: Duration::from_millis(100),
        ..FakeDiscordConfig::default()
    };
    let fake = FakeDiscord::start_with(config).await.unwrap();
    let ping = fake.slash_command("ping").build();

    let error = fake.send_interaction(&ping).await.unwrap_err();

    assert!(error.to_string().contains("no bot identified"), "{error}");
    fake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_acknowledged_so_the_session_stays_up() {
    let config = FakeDiscordConfig {
        heartbeat_interval: Duration::from_millis(50),
        ..FakeDiscordConfig::default()
    };
    let bot = start_bot_with(config).await;

    // serenity sends a heartbeat only after the previous one was acknowledged; otherwise it
    // reconnects (a second IDENTIFY or a RESUME).
    bot.fake
        .wait_for_frames("heartbeat (op 1)", 3, |f| f.op == 1)
        .await
        .unwrap();
    let ping = bot.fake.slash_command("ping").build();
    bot.fake.send_interaction(&ping).await.unwrap();
    bot.fake.wait_for_callback(&ping).await.unwrap();

    let ops: Vec<u64> = bot.fake.gateway_frames().iter().map(|f| f.op).collect();
    assert_eq!(ops.iter().filter(|op| **op == 2).count(), 1, "{ops:?}");
    assert!(!ops.contains(&6), "no resume: {ops:?}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_commands_are_created_one_by_one_and_listed_within_discords_limits() {
    let bot = start_bot().await;

    let status = serenity::CreateCommand::new("status").description("Show the lab's status");
    let created = serenity::Command::create_global_command(&bot.http, status)
        .await
        .unwrap();
    let listed = serenity::Command::get_global_commands(&bot.http)
        .await
        .unwrap();
    let too_long = "x".repeat(33);
    let refused = serenity::Command::create_global_command(
        &bot.http,
        serenity::CreateCommand::new(too_long.as_str()).description("d"),
    )
    .await;

    assert_eq!(created.name, "status");
    assert_eq!(
        created.application_id.get(),
        bot.fake.config().application_id
    );
    assert_eq!(
        listed
            .iter()
            .map(|c| (c.id, c.name.as_str()))
            .collect::<Vec<_>>(),
        vec![(created.id, "status")]
    );
    let Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(e))) = refused else {
        panic!("a 33-character name must be refused, got {refused:?}");
    };
    assert_eq!((e.status_code.as_u16(), e.error.code), (400, 50035));
    assert!(e.error.message.contains(&too_long), "{}", e.error.message);
    bot.stop().await;
}
