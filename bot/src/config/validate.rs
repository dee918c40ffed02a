//! From the merged configuration tree to [`Settings`]: every key read, every rule checked,
//! every problem recorded with its key path.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use figment::value::Dict;
use pvelab_core::SealingKey;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::env::EnvVars;
use super::problems::{ConfigError, Problems};
use super::reader::Table;
use super::settings::{DiscordSettings, GuildSettings, HttpSettings, Settings};
use super::{cluster, resolve, secrets};
use crate::parse::people::Snowflake;

/// The variable that may hold the sealing key instead of `sealing_key_file`.
pub const SEALING_KEY_VAR: &str = "PVELAB_SEALING_KEY";
/// The variable that may hold the Discord token instead of `discord.token_file`.
pub const DISCORD_TOKEN_VAR: &str = "PVELAB_DISCORD_TOKEN";
/// Discord's origin when `discord.api_url` is not set.
pub const DISCORD_ORIGIN: &str = "https://discord.com";

/// Checks the whole tree; relative paths are read from `base` (the configuration's folder).
pub(crate) fn settings(root: &Dict, base: &Path, env: &EnvVars) -> Result<Settings, ConfigError> {
    let mut p = Problems::default();
    let mut t = Table::root(root);

    let database = match t.string("database", &mut p) {
        Some(text) if !text.trim().is_empty() => {
            let path = resolve(base, &text);
            let folder = path.parent().filter(|f| !f.as_os_str().is_empty());
            if folder.is_some_and(|f| !f.is_dir()) {
                p.add(
                    "database",
                    format!("the folder of {} does not exist", path.display()),
                );
            }
            Some(path)
        }
        _ => {
            p.add(
                "database",
                "missing: the SQLite file, e.g. database = \"pvelab.db\"",
            );
            None
        }
    };
    let key_file = t.string("sealing_key_file", &mut p);
    let discord = t
        .table("discord", &mut p)
        .and_then(|d| discord(d, base, env, &mut p));
    let cluster_tables = t.tables("cluster", &mut p);
    let any_cluster = !cluster_tables.is_empty();
    let mut clusters = Vec::new();
    for table in cluster_tables {
        if let Some(c) = cluster::read(table, base, env, &mut p) {
            clusters.push(c);
        }
    }
    let http = t.table("http", &mut p).and_then(|h| http(h, &mut p));
    t.finish(&mut p);

    // Rules across clusters, on the ones that read cleanly.
    let mut first_use: HashMap<String, usize> = HashMap::new();
    for (i, c) in clusters.iter().enumerate() {
        if let Some(first) = first_use.insert(c.id.to_string(), i) {
            p.add(
                format!("cluster[{i}].id"),
                format!("\"{}\" is already the id of cluster[{first}]", c.id),
            );
        }
    }
    let defaults: Vec<String> = clusters
        .iter()
        .filter(|c| c.is_default)
        .map(|c| c.id.to_string())
        .collect();
    if defaults.len() > 1 {
        p.add(
            "cluster",
            format!(
                "only one cluster may have is_default = true (found {})",
                defaults.join(", ")
            ),
        );
    }

    let sealing_key = sealing_key(key_file, base, env, &mut p);
    if sealing_key.is_none() && any_cluster && !p.mentions("sealing_key_file", SEALING_KEY_VAR) {
        p.add(
            "sealing_key_file",
            format!(
                "missing: cluster secrets are sealed in the database with this key; set \
                 sealing_key_file or {SEALING_KEY_VAR} (make a key with `openssl rand -hex 32`)"
            ),
        );
    }
    let database = database.unwrap_or_default();
    p.into_result(Settings {
        database,
        sealing_key,
        discord,
        clusters,
        http,
    })
}

/// The reason of a core sealing error, without the core's generic prefix.
fn sealing_reason(e: pvelab_core::Error) -> String {
    match e {
        pvelab_core::Error::Sealing { reason } => reason,
        other => other.to_string(),
    }
}

fn sealing_key(
    key_file: Option<String>,
    base: &Path,
    env: &EnvVars,
    p: &mut Problems,
) -> Option<SealingKey> {
    if let Some(text) = env.get(SEALING_KEY_VAR) {
        return SealingKey::from_text(text)
            .map_err(|e| p.add(SEALING_KEY_VAR, sealing_reason(e)))
            .ok();
    }
    let path = resolve(base, &key_file?);
    if !path.is_file() {
        p.add(
            "sealing_key_file",
            format!(
                "{} does not exist (make one with `openssl rand -hex 32 > {}`, readable only by \
                 pvelab)",
                path.display(),
                path.display()
            ),
        );
        return None;
    }
    SealingKey::from_key_file(&path)
        .map_err(|e| p.add("sealing_key_file", sealing_reason(e)))
        .ok()
}

/// A Discord id at `key`, or a problem.
fn snowflake(key: String, text: &str, p: &mut Problems) -> Option<Snowflake> {
    let id = Snowflake::parse(text);
    if id.is_none() {
        p.add(key, format!("\"{text}\" is not a Discord id (digits only)"));
    }
    id
}

fn discord(
    mut t: Table<'_>,
    base: &Path,
    env: &EnvVars,
    p: &mut Problems,
) -> Option<DiscordSettings> {
    let before = p.len();
    let token_file = t.string("token_file", p);
    let token = match (env.get(DISCORD_TOKEN_VAR), token_file) {
        (Some(token), _) => Some(SecretString::from(token.to_owned())),
        (None, Some(file)) => secrets::read_file(&resolve(base, &file))
            .map_err(|e| p.add(t.key("token_file"), e))
            .ok(),
        (None, None) => {
            p.add(
                t.key("token_file"),
                format!("missing: the bot token; set token_file or {DISCORD_TOKEN_VAR}"),
            );
            None
        }
    };
    if token
        .as_ref()
        .is_some_and(|s| s.expose_secret().contains(char::is_whitespace))
    {
        p.add(
            t.key("token_file"),
            "the token holds spaces; copy it exactly from the Discord developer portal",
        );
    }
    let api_text = t
        .string("api_url", p)
        .unwrap_or_else(|| DISCORD_ORIGIN.to_owned());
    let api_url = discord_origin(&api_text)
        .map_err(|why| p.add(t.key("api_url"), format!("\"{api_text}\" {why}")))
        .ok();
    let register_on_start = t.bool("register_on_start", p).unwrap_or(false);
    let mut guilds: Vec<GuildSettings> = Vec::new();
    for mut g in t.tables("guild", p) {
        let id = match g.string("id", p) {
            Some(text) => snowflake(g.key("id"), &text, p),
            None => {
                p.add(g.key("id"), "missing: the Discord server (guild) id");
                None
            }
        };
        let roles = |name: &'static str, g: &mut Table<'_>, p: &mut Problems| {
            let list = g.strings(name, p);
            let key = g.key(name);
            list.iter()
                .enumerate()
                .filter_map(|(i, r)| snowflake(format!("{key}[{i}]"), r, p))
                .collect::<Vec<_>>()
        };
        let adminer_roles = roles("adminer_roles", &mut g, p);
        let teacher_roles = roles("teacher_roles", &mut g, p);
        let student_role = g
            .string("student_role", p)
            .and_then(|r| snowflake(g.key("student_role"), &r, p));
        let audit_channel = g
            .string("audit_channel", p)
            .and_then(|c| snowflake(g.key("audit_channel"), &c, p));
        let announce_channel = g
            .string("announce_channel", p)
            .and_then(|c| snowflake(g.key("announce_channel"), &c, p));
        if let Some(id) = id {
            if guilds.iter().any(|other| other.id == id) {
                p.add(g.key("id"), format!("guild {id} is configured twice"));
            }
        }
        let path = g.path().to_owned();
        g.finish(p);
        if let Some(id) = id {
            if adminer_roles.is_empty() && teacher_roles.is_empty() {
                tracing::debug!(guild = %path, "no adminer or teacher roles: everyone is a user");
            }
            guilds.push(GuildSettings {
                id,
                adminer_roles,
                teacher_roles,
                student_role,
                audit_channel,
                announce_channel,
            });
        }
    }
    t.finish(p);
    if p.len() > before {
        return None;
    }
    Some(DiscordSettings {
        token: token?,
        api_url: api_url?,
        guilds,
        register_on_start,
    })
}

/// Discord's origin: `https://…`, or `http://` on a loopback address for a local stand-in.
fn discord_origin(text: &str) -> Result<Url, &'static str> {
    let url = Url::parse(text).map_err(|_| "is not a URL; write https://discord.com")?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("must use https (http only for a stand-in on 127.0.0.1)"),
    }
    if !(url.path().is_empty() || url.path() == "/") || url.query().is_some() {
        return Err("must be an origin without a path, such as https://discord.com");
    }
    Ok(url)
}

fn http(mut t: Table<'_>, p: &mut Problems) -> Option<HttpSettings> {
    let listen = match t.string("listen", p) {
        Some(text) => text
            .parse::<SocketAddr>()
            .map_err(|_| {
                p.add(
                    t.key("listen"),
                    format!("\"{text}\" is not an address and port such as 127.0.0.1:9187"),
                )
            })
            .ok(),
        None => {
            p.add(t.key("listen"), "missing: e.g. listen = \"127.0.0.1:9187\"");
            None
        }
    };
    t.finish(p);
    listen.map(|listen| HttpSettings { listen })
}
