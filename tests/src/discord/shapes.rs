//! Every object the fake sends, deserialized with serenity 0.12.5's own types.
//!
//! serenity drops a dispatch it cannot deserialize with only a warning, so a missing field
//! would show up in an end-to-end test as "the bot never answered". These tests say which
//! object and which field instead.

use std::sync::Arc;

use serde_json::{json, Value};
use serenity::all::{
    BotGateway, Command, CommandDataOptionValue, CurrentApplicationInfo, CurrentUser,
    DiscordJsonError, Event, GatewayEvent, Interaction, Message, PrivateChannel, ResolvedValue,
};

use super::config::{FakeDiscordConfig, FakeGuild, Member};
use super::gateway::{dispatch_frame, heartbeat_ack, hello, invalid_session};
use super::payloads::{self, MessageOrigin};
use super::request::RecordedFile;
use super::state::Shared;
use super::{ButtonPress, SlashCommand};

fn shared() -> Arc<Shared> {
    let mut config = FakeDiscordConfig::default();
    config.guilds[0] = config.guilds[0].clone().with_role(77, "student");
    Arc::new(Shared::new(
        config,
        "http://127.0.0.1:1".into(),
        "ws://127.0.0.1:2/".into(),
    ))
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, value: Value) -> T {
    serde_json::from_value(value).unwrap_or_else(|e| panic!("serenity cannot read {what}: {e}"))
}

#[test]
fn the_handshake_frames_are_what_serenity_expects() {
    assert!(matches!(
        parse::<GatewayEvent>("HELLO", hello(41_250)),
        GatewayEvent::Hello(41_250)
    ));
    assert!(matches!(
        parse::<GatewayEvent>("HEARTBEAT_ACK", heartbeat_ack()),
        GatewayEvent::HeartbeatAck
    ));
    assert!(matches!(
        parse::<GatewayEvent>("INVALID_SESSION", invalid_session()),
        GatewayEvent::InvalidateSession(false)
    ));
}

#[test]
fn ready_names_the_bot_the_application_and_the_guilds() {
    let shared = shared();
    let config = &shared.config;
    let ready = payloads::ready(config, "s-1", &shared.gateway_url);
    let GatewayEvent::Dispatch(1, Event::Ready(event)) =
        parse("READY", dispatch_frame(1, "READY", ready))
    else {
        panic!("READY did not become Event::Ready");
    };
    assert_eq!(event.ready.user.id.get(), config.bot_user_id);
    assert!(event.ready.user.bot);
    assert_eq!(event.ready.application.id.get(), config.application_id);
    assert_eq!(event.ready.guilds[0].id.get(), config.guilds[0].id);
    assert_eq!(event.ready.session_id, "s-1");
}

#[test]
fn guild_create_carries_the_roles_and_channels() {
    let shared = shared();
    let guild: &FakeGuild = &shared.config.guilds[0];
    let data = payloads::guild_create(guild, &shared.config);
    let GatewayEvent::Dispatch(2, Event::GuildCreate(event)) =
        parse("GUILD_CREATE", dispatch_frame(2, "GUILD_CREATE", data))
    else {
        panic!("GUILD_CREATE did not become Event::GuildCreate");
    };
    assert_eq!(event.guild.id.get(), guild.id);
    let mut roles: Vec<(u64, String)> = event
        .guild
        .roles
        .values()
        .map(|r| (r.id.get(), r.name.clone()))
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        vec![(77, "student".into()), (guild.id, "@everyone".into())]
    );
    assert_eq!(event.guild.channels.len(), 1);
}

fn interaction_create(payload: &super::InteractionPayload) -> Interaction {
    let frame = dispatch_frame(3, "INTERACTION_CREATE", payload.json.clone());
    match parse("INTERACTION_CREATE", frame) {
        GatewayEvent::Dispatch(_, Event::InteractionCreate(event)) => event.interaction,
        other => panic!("INTERACTION_CREATE became {other:?}"),
    }
}

#[test]
fn a_sub_command_with_every_option_kind_reaches_serenity_intact() {
    let shared = shared();
    let picked = Member::new(555, "grace").with_roles([77]);
    let payload = SlashCommand::new(Arc::clone(&shared), "vm create")
        .by(Member::new(42, "ada").with_roles([77, 78]))
        .option("name", "web-1")
        .option("cores", 4)
        .option("start", true)
        .option("owner", picked)
        .build();
    let Interaction::Command(command) = interaction_create(&payload) else {
        panic!("a slash command must become Interaction::Command");
    };
    assert_eq!(command.id.get(), payload.id);
    assert_eq!(command.token, payload.token);
    let member = command
        .member
        .as_ref()
        .expect("a guild interaction has a member");
    assert_eq!(member.user.id.get(), 42);
    let roles: Vec<u64> = member.roles.iter().map(|r| r.get()).collect();
    assert_eq!(roles, vec![77, 78]);
    assert_eq!(command.data.name, "vm");
    let CommandDataOptionValue::SubCommand(options) = &command.data.options[0].value else {
        panic!("`create` must be a sub-command");
    };
    assert_eq!(command.data.options[0].name, "create");
    assert_eq!(options.len(), 4);
    let resolved = command.data.options();
    let ResolvedValue::SubCommand(values) = &resolved[0].value else {
        panic!("resolved `create` must be a sub-command");
    };
    assert!(matches!(values[0].value, ResolvedValue::String("web-1")));
    assert!(matches!(values[1].value, ResolvedValue::Integer(4)));
    assert!(matches!(values[2].value, ResolvedValue::Boolean(true)));
    let ResolvedValue::User(user, Some(member)) = values[3].value else {
        panic!("a user option resolves to the user and the member");
    };
    assert_eq!((user.id.get(), member.roles[0].get()), (555, 77));
}

#[test]
fn a_sub_command_group_without_options_still_carries_empty_options() {
    let payload = SlashCommand::new(shared(), "class member list").build();
    let Interaction::Command(command) = interaction_create(&payload) else {
        panic!("a slash command must become Interaction::Command");
    };
    let CommandDataOptionValue::SubCommandGroup(subs) = &command.data.options[0].value else {
        panic!("`member` must be a group");
    };
    assert_eq!(subs[0].name, "list");
    assert!(matches!(&subs[0].value, CommandDataOptionValue::SubCommand(o) if o.is_empty()));
}

#[test]
fn an_autocomplete_request_has_its_focused_value_as_text() {
    let payload = SlashCommand::autocomplete(shared(), "pick", "fruit", "ap")
        .option("count", 2)
        .build();
    let Interaction::Autocomplete(request) = interaction_create(&payload) else {
        panic!("an autocomplete request must become Interaction::Autocomplete");
    };
    let focused = request.data.autocomplete().expect("one option is focused");
    assert_eq!((focused.name, focused.value), ("fruit", "ap"));
}

#[test]
fn a_button_press_carries_its_message() {
    let shared = shared();
    let origin = MessageOrigin {
        id: 9_001,
        channel_id: 1_100_000_000_000_000_200,
        guild_id: Some(1_100_000_000_000_000_100),
        author: payloads::bot_user(&shared.config),
        application_id: Some(shared.config.application_id),
    };
    let body = json!({
        "content": "Sure?", "flags": 64,
        "components": [{"type": 1, "components": [
            {"type": 2, "style": 4, "label": "Yes", "custom_id": "yes"}
        ]}],
    });
    let message = payloads::message(&origin, &body, &[], &mut || 1);
    let payload = ButtonPress::new(shared, "yes", &message).build();
    let Interaction::Component(press) = interaction_create(&payload) else {
        panic!("a button press must become Interaction::Component");
    };
    assert_eq!(press.data.custom_id, "yes");
    assert_eq!(press.message.id.get(), 9_001);
    assert_eq!(press.message.components.len(), 1);
}

#[test]
fn a_message_with_an_upload_lists_it_as_an_attachment() {
    let shared = shared();
    let origin = MessageOrigin {
        id: 9_002,
        channel_id: 5,
        guild_id: None,
        author: payloads::bot_user(&shared.config),
        application_id: None,
    };
    let file = RecordedFile {
        field: "files[0]".into(),
        filename: "report.txt".into(),
        content_type: Some("text/plain".into()),
        bytes: b"42 VMs".to_vec(),
    };
    let body = json!({"content": "here", "attachments": [{"id": 0, "filename": "report.txt"}]});
    let message: Message = parse(
        "a message",
        payloads::message(&origin, &body, &[file], &mut || 9_003),
    );
    assert_eq!(message.content, "here");
    assert_eq!(message.attachments[0].filename, "report.txt");
    assert_eq!(message.attachments[0].size, 6);
}

#[test]
fn the_rest_answers_are_what_serenity_expects() {
    let shared = shared();
    let config = &shared.config;
    let app: CurrentApplicationInfo = parse("application info", payloads::application_info(config));
    assert_eq!(app.id.get(), config.application_id);
    let me: CurrentUser = parse("the bot user", payloads::bot_user(config));
    assert_eq!(me.id.get(), config.bot_user_id);
    let gateway: BotGateway = parse("gateway/bot", payloads::bot_gateway("ws://x/"));
    assert_eq!(gateway.shards, 1);
    let channel: PrivateChannel = parse(
        "a DM channel",
        payloads::private_channel(8, payloads::user(9, "ada", false)),
    );
    assert_eq!(channel.recipient.id.get(), 9);
    let definition = json!({"name": "ping", "description": "Pong", "options": []});
    let command: Command = parse(
        "a registered command",
        payloads::registered_command(&definition, 10, config.application_id, Some(11)),
    );
    assert_eq!((command.id.get(), command.name.as_str()), (10, "ping"));
    let error: DiscordJsonError = parse("an error", payloads::error(50007, "closed"));
    assert_eq!(error.code, 50007);
}
