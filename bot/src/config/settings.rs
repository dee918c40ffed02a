//! The typed configuration, as the rest of the program uses it. Built only by
//! [`super::load`], so every value here has been checked; secrets are `secrecy` types and no
//! `Debug` shows them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use pvelab_core::types::ClusterId;
use pvelab_core::SealingKey;
use secrecy::SecretString;
use url::Url;

use crate::parse::people::Snowflake;

/// The whole configuration.
#[derive(Debug)]
pub struct Settings {
    /// The SQLite file.
    pub database: PathBuf,
    /// The key that seals cluster secrets in the database (required when clusters are
    /// configured).
    pub sealing_key: Option<SealingKey>,
    /// The Discord bot, when configured.
    pub discord: Option<DiscordSettings>,
    /// The Proxmox clusters, in file order.
    pub clusters: Vec<ClusterSettings>,
    /// The operations endpoint, when configured.
    pub http: Option<HttpSettings>,
}

/// The Discord bot's settings.
pub struct DiscordSettings {
    /// The bot token.
    pub token: SecretString,
    /// Discord's origin (`https://discord.com`; tests give a local stand-in's).
    pub api_url: Url,
    /// The servers the bot serves, with their role mapping.
    pub guilds: Vec<GuildSettings>,
    /// Register the slash commands in every configured server each time the bot connects.
    /// Off by default: Discord allows 200 command creations a day per server, so commands are
    /// registered on demand with `pvelab register-commands`.
    pub register_on_start: bool,
}

impl fmt::Debug for DiscordSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordSettings")
            .field("token", &"[hidden]")
            .field("api_url", &self.api_url.as_str())
            .field("guilds", &self.guilds)
            .field("register_on_start", &self.register_on_start)
            .finish()
    }
}

/// One Discord server and how its roles map to pvelab roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildSettings {
    /// The server's id.
    pub id: Snowflake,
    /// Members with any of these roles are adminers.
    pub adminer_roles: Vec<Snowflake>,
    /// Members with any of these roles are teachers.
    pub teacher_roles: Vec<Snowflake>,
    /// When set, only members with this role may `/join`.
    pub student_role: Option<Snowflake>,
    /// When set, every audit entry of the server's classes (and of changes outside classes) is
    /// posted to this channel as it happens (`audit_channel = "id"`).
    pub audit_channel: Option<Snowflake>,
    /// Where session announcements of the server's classes go (`announce_channel = "id"`);
    /// without it they go to the audit channel, if any.
    pub announce_channel: Option<Snowflake>,
}

/// How pvelab logs in to a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterAuth {
    /// An API token `USER@REALM!TOKENID`; the secret is the token's secret.
    ApiToken {
        /// The token id, `USER@REALM!TOKENID`.
        id: String,
    },
    /// A user and password (ticket authentication); the secret is the password.
    Password {
        /// The user with its realm, `root@pam`.
        user: String,
    },
}

impl ClusterAuth {
    /// The Proxmox user: the token's user, or the password user.
    pub fn user(&self) -> &str {
        match self {
            ClusterAuth::ApiToken { id } => id.split('!').next().unwrap_or(id),
            ClusterAuth::Password { user } => user,
        }
    }
}

/// How a cluster's TLS certificate is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsTrust {
    /// Pinned SHA-256 fingerprint, as 32 upper-case hex bytes with colons.
    Fingerprint(String),
    /// Certificates signed by this CA (PEM file).
    CaFile(PathBuf),
    /// No verification (an explicit choice; for labs on a closed network only).
    Insecure,
}

/// One Proxmox VE cluster. Field names follow the data model's cluster record.
pub struct ClusterSettings {
    /// The cluster's id in pvelab.
    pub id: ClusterId,
    /// A human name (default: the id).
    pub name: String,
    /// The API's origin.
    pub url: Url,
    /// Host of the API.
    pub host: String,
    /// Port of the API (8006 when the URL names none).
    pub port: u16,
    /// Login.
    pub auth: ClusterAuth,
    /// The token secret or password.
    pub secret: SecretString,
    /// TLS trust.
    pub tls: TlsTrust,
    /// Higher is chosen first for new VMs.
    pub priority: i64,
    /// The cluster for classes that name none (at most one).
    pub is_default: bool,
    /// Used at all.
    pub is_active: bool,
    /// New class VMs may be placed here.
    pub allow_vm_deployment: bool,
    /// Templates are synchronised from here.
    pub allow_template_sync: bool,
    /// ISO images are listed from here.
    pub allow_iso_sync: bool,
    /// Idle VMs here may be shut down automatically.
    pub auto_shutdown_enabled: bool,
    /// Storage for new VM disks.
    pub default_storage: Option<String>,
    /// Storage for templates.
    pub template_storage: Option<String>,
    /// Where qcow2 templates are kept on the nodes.
    pub qcow2_template_path: Option<String>,
    /// Where qcow2 images are kept on the nodes.
    pub qcow2_images_path: Option<String>,
    /// A Discord role id whose members administer this cluster.
    pub admin_group: Option<String>,
    /// User names or external ids that administer this cluster.
    pub admin_users: Vec<String>,
    /// Subnets searched for VM addresses by ARP (CIDR).
    pub arp_subnets: Vec<String>,
    /// Seconds a VM listing may be reused.
    pub vm_cache_ttl: Option<u32>,
    /// Look up VM addresses.
    pub enable_ip_lookup: bool,
    /// Keep last known addresses across restarts.
    pub enable_ip_persistence: bool,
    /// Free text.
    pub description: Option<String>,
}

impl fmt::Debug for ClusterSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterSettings")
            .field("id", &self.id)
            .field("url", &self.url.as_str())
            .field("auth", &self.auth)
            .field("secret", &"[hidden]")
            .field("tls", &self.tls)
            .field("priority", &self.priority)
            .field("is_default", &self.is_default)
            .finish_non_exhaustive()
    }
}

/// The operations endpoint (`/healthz`, `/metrics`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
}

impl Settings {
    /// A short summary for `check-config`, naming no secret.
    pub fn summary(&self) -> String {
        let mut lines = vec![format!("database: {}", self.database.display())];
        lines.push(format!(
            "sealing key: {}",
            if self.sealing_key.is_some() {
                "configured"
            } else {
                "none (needed once clusters are configured)"
            }
        ));
        match &self.discord {
            Some(d) => {
                let guilds: Vec<String> = d.guilds.iter().map(|g| g.id.to_string()).collect();
                lines.push(format!(
                    "discord: {} guild{} ({}) via {}",
                    d.guilds.len(),
                    if d.guilds.len() == 1 { "" } else { "s" },
                    if guilds.is_empty() {
                        "none".to_owned()
                    } else {
                        guilds.join(", ")
                    },
                    d.api_url.as_str().trim_end_matches('/')
                ));
            }
            None => lines.push("discord: not configured (`pvelab run` needs it)".to_owned()),
        }
        lines.push(format!("clusters: {}", self.clusters.len()));
        for c in &self.clusters {
            let auth = match &c.auth {
                ClusterAuth::ApiToken { id } => format!("token {id}"),
                ClusterAuth::Password { user } => format!("password of {user}"),
            };
            let tls = match &c.tls {
                TlsTrust::Fingerprint(_) => "pinned fingerprint".to_owned(),
                TlsTrust::CaFile(p) => format!("CA {}", p.display()),
                TlsTrust::Insecure => "TLS NOT VERIFIED".to_owned(),
            };
            lines.push(format!(
                "  {}: {}:{} ({auth}, {tls}){}",
                c.id,
                c.host,
                c.port,
                if c.is_default { ", default" } else { "" }
            ));
        }
        if let Some(http) = &self.http {
            lines.push(format!("http: {}", http.listen));
        }
        lines.join("\n")
    }
}
