//! `pvelab run`: the long-running service, and the parts a front end plugs into.
//!
//! A [`Service`] opens the configured lab, registers the configured clusters, and starts the
//! operations endpoint when `[http]` is configured. It hands out what a front end needs: the
//! lab, the [`Dispatcher`] every command goes through (per-user rate limits, counted in the
//! metrics), the shared [`Health`] (the Discord adapter sets its connection flag there), and
//! [`Service::spawn_delivery`] for direct messages from the outbox. Every task runs under one
//! stop token; [`Service::run_until_stopped`] waits for it and then for every task to reach
//! its safe point.
//!
//! The lab's background work ([`Background`]: the job scheduler, the reconciler, due
//! submissions) starts with the service and stops with it, at its safe points.
//!
//! The Discord front end plugs in with [`Service::start_discord`]: the gateway client (which
//! reports its connection to health and reconnects until the stop token), and the delivery of
//! the outbox as direct messages (consumer [`DISCORD_DM`]).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;

use pvelab_core::events::ConsumerName;
use pvelab_core::Lab;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::background::{Background, BackgroundIntervals};
use super::{clusters, open_lab, AppError};
use crate::commands::{CommandQuota, Dispatcher, RateLimits};
use crate::config::{self, DiscordSettings, EnvVars, Settings};
use crate::discord::{run_client, Connection, DiscordBot, DiscordNotifier};
use crate::http::{Health, Metrics, OpsServer, OpsState};
use crate::notify::{Courier, DeliveryLoop, Notifier, DISCORD_DM};

/// The running service of `pvelab run`.
#[derive(Debug)]
pub struct Service {
    lab: Lab,
    health: Health,
    metrics: Metrics,
    dispatcher: Dispatcher,
    stop: CancellationToken,
    tasks: TaskTracker,
    http: Option<SocketAddr>,
}

impl Service {
    /// Opens the lab of `settings` (creating or upgrading its database), registers the
    /// configured clusters, starts the lab's background work (jobs, reconciliation, due
    /// submissions), and starts `/healthz` and `/metrics` when `[http]` is configured.
    /// Health expects a Discord connection when `[discord]` is configured. Everything stops
    /// when `stop` is cancelled.
    ///
    /// # Errors
    /// [`AppError::Core`] when the lab cannot be opened or a cluster not registered;
    /// [`AppError::Io`] when the endpoint's address cannot be bound.
    pub async fn start(settings: &Settings, stop: CancellationToken) -> Result<Self, AppError> {
        let lab = open_lab(settings).await?;
        clusters::register(&lab, &settings.clusters).await?;
        let metrics = Metrics::new();
        let mut health = Health::new(lab.clone());
        if settings.discord.is_some() {
            health = health.expecting_discord();
        }
        let dispatcher = Dispatcher::new(
            RateLimits::per_user(CommandQuota::DEFAULT, lab.clock().clone()),
            metrics.clone(),
        );
        let tasks = TaskTracker::new();
        let background =
            Background::start(&lab, stop.child_token(), BackgroundIntervals::default());
        tasks.spawn(background.stop_when(stop.clone()));
        let http = match &settings.http {
            Some(http) => {
                let state = OpsState {
                    lab: lab.clone(),
                    health: health.clone(),
                    metrics: metrics.clone(),
                };
                let server = OpsServer::start(http.listen, state, stop.child_token()).await?;
                let addr = server.addr();
                tasks.spawn(async move {
                    if let Err(e) = server.stopped().await {
                        tracing::error!("the operations endpoint failed: {e}");
                    }
                });
                Some(addr)
            }
            None => None,
        };
        Ok(Self {
            lab,
            health,
            metrics,
            dispatcher,
            stop,
            tasks,
            http,
        })
    }

    /// The same service with per-user command limits of `quota` instead of
    /// [`CommandQuota::DEFAULT`]. Call it before front ends start: they keep the dispatcher
    /// they were given.
    pub fn with_command_quota(mut self, quota: CommandQuota) -> Self {
        self.dispatcher = Dispatcher::new(
            RateLimits::per_user(quota, self.lab.clock().clone()),
            self.metrics.clone(),
        );
        self
    }

    /// Starts the Discord front end of `settings`: the gateway client with the bot's slash
    /// commands (reporting its connection to [`Service::health`], reconnecting after
    /// failures, stopping with the service), direct messages from the outbox, and the class
    /// feed (session announcements, audit entries) on servers that configure channels. Returns the
    /// bot's shared state.
    pub fn start_discord(&self, settings: &DiscordSettings) -> DiscordBot {
        let bot = DiscordBot::new(self.lab.clone(), self.dispatcher.clone(), &settings.guilds)
            .with_health(self.health.clone())
            .register_on_ready(settings.register_on_start);
        let connection = Connection::new(settings);
        let notifier =
            DiscordNotifier::new(std::sync::Arc::new(connection.http()), bot.shared_stash());
        let consumer = ConsumerName::parse(DISCORD_DM)
            .unwrap_or_else(|_| unreachable!("{DISCORD_DM} is a valid consumer name"));
        self.spawn_delivery(consumer, notifier);
        if let Some(poster) = crate::discord::ChannelPoster::new(
            self.lab.clone(),
            std::sync::Arc::new(connection.http()),
            &settings.guilds,
        ) {
            self.spawn(poster.run(self.stop.child_token()));
        }
        self.spawn(run_client(connection, bot.clone(), self.stop.child_token()));
        bot
    }

    /// The lab.
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// What `/healthz` reports; the Discord adapter sets its connection flag here.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// The metrics `/metrics` shows.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The dispatcher front ends run commands through (rate-limited, counted).
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    /// The token whose cancellation stops the service; front ends stop when it is cancelled.
    pub fn stop_token(&self) -> &CancellationToken {
        &self.stop
    }

    /// Where `/healthz` and `/metrics` are served, when `[http]` is configured.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http
    }

    /// Runs `task` as part of the service: [`Service::run_until_stopped`] waits for it. The
    /// task must end on its own once [`Service::stop_token`] is cancelled.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(task);
    }

    /// Delivers the outbox of `consumer` through `notifier` until the service stops (counted
    /// in the metrics).
    pub fn spawn_delivery<N>(&self, consumer: ConsumerName, notifier: N)
    where
        N: Notifier + 'static,
    {
        let courier =
            Courier::new(self.lab.clone(), consumer, notifier).with_metrics(self.metrics.clone());
        let stop = self.stop.child_token();
        self.tasks.spawn(DeliveryLoop::new(courier).run(stop));
    }

    /// Waits until the stop token is cancelled, then until every task of the service ended.
    pub async fn run_until_stopped(self) {
        self.stop.cancelled().await;
        self.tasks.close();
        self.tasks.wait().await;
        tracing::info!("stopped");
    }
}

/// `pvelab run`: the service over the configuration at `path`, until `stop` is cancelled
/// (the binary cancels it on SIGTERM or Ctrl-C); returns once everything stopped.
///
/// The Discord bot runs until stopped; `/healthz` reports whether it is connected, and a bot
/// that cannot connect keeps trying with a growing wait while the rest serves on.
///
/// # Errors
/// Configuration problems, a configuration without `[discord]`, and what
/// [`Service::start`] reports.
pub async fn run(path: &Path, env: &EnvVars, stop: CancellationToken) -> Result<(), AppError> {
    let settings = config::load(path, env)?;
    let Some(discord) = &settings.discord else {
        return Err(AppError::Config(config::ConfigError {
            problems: vec![config::Problem {
                key: "discord".to_owned(),
                message: format!(
                    "missing: `pvelab run` is the Discord bot; add a [discord] table with \
                     token_file (or set {})",
                    config::DISCORD_TOKEN_VAR
                ),
            }],
        }));
    };
    let service = Service::start(&settings, stop).await?;
    service.start_discord(discord);
    if service.http_addr().is_none() {
        tracing::info!("no [http] table: no operations endpoint");
    }
    service.run_until_stopped().await;
    Ok(())
}
