//! The bot's metrics, served on `/metrics` in the Prometheus text format (version 0.0.4).
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client: metrics live in an
//! explicit registry owned by this value rather than in a process-wide recorder, so every test
//! (and every lab in one process) counts on its own, and the text format is produced by the
//! same project that defines it.
//!
//! Two kinds of figures:
//! - counted as things happen: commands by name and outcome (in the
//!   [`Dispatcher`](crate::commands::Dispatcher), the one place every command passes), direct
//!   messages by outcome (in the [`Courier`](crate::notify::Courier));
//! - read from the lab when scraped ([`Metrics::refresh_lab`]): pool sizes, the student VMs of
//!   each pool by status, waitlist lengths, and per cluster and background job the last run's
//!   duration and the failures in a row (a cluster whose Proxmox fails shows there), and the
//!   Proxmox API requests sent and failed per cluster (the core counts them; a scrape adds what
//!   came since the last one, so the counters only grow). Reading at scrape time keeps them true however
//!   the lab changed (another process on the same database, too).
//!
//! Labels are bounded: command names come from the catalogue, outcomes from fixed lists, and
//! classes are the lab's classes. No person is ever a label.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use pvelab_core::model::{VmRole, VmStatus};
use pvelab_core::Lab;

/// The `Content-Type` of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotificationLabels {
    consumer: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabels {
    class_id: String,
    class: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClusterLabels {
    cluster: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    cluster: String,
    job: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolVmLabels {
    class_id: String,
    class: String,
    status: &'static str,
}

struct Inner {
    registry: Registry,
    commands: Family<CommandLabels, Counter>,
    notifications: Family<NotificationLabels, Counter>,
    pool_size: Family<ClassLabels, Gauge>,
    pool_vms: Family<PoolVmLabels, Gauge>,
    waitlist: Family<ClassLabels, Gauge>,
    job_duration: Family<JobLabels, Gauge<f64, AtomicU64>>,
    job_failures: Family<JobLabels, Gauge>,
    proxmox_requests: Family<ClusterLabels, Counter>,
    proxmox_errors: Family<ClusterLabels, Counter>,
    /// The core's request counts at the last scrape, per cluster.
    proxmox_seen: std::sync::Mutex<std::collections::HashMap<String, (u64, u64)>>,
    /// One scrape at a time: the lab's gauges are cleared and refilled as a whole.
    scrape: tokio::sync::Mutex<()>,
}

/// The metrics of one running bot. Cheap to clone; clones count together.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric of the bot, all at zero, names prefixed `pvelab_`.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("pvelab");
        // Always present, so a scrape shows which pvelab answers even before anything happened.
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register("build_info", "The running pvelab's version", build);
        let commands = Family::<CommandLabels, Counter>::default();
        registry.register(
            "commands",
            "Commands run, by command and outcome (ok, refused, invalid, rate_limited, \
             failed)",
            commands.clone(),
        );
        let notifications = Family::<NotificationLabels, Counter>::default();
        registry.register(
            "notifications",
            "Outbox events handled by a delivery consumer, by outcome (delivered, unreachable, \
             no_recipient, failed)",
            notifications.clone(),
        );
        let pool_size = Family::<ClassLabels, Gauge>::default();
        registry.register(
            "pool_size",
            "Student VMs a class's pool should have",
            pool_size.clone(),
        );
        let pool_vms = Family::<PoolVmLabels, Gauge>::default();
        registry.register(
            "pool_vms",
            "Student VMs registered in a class's pool, by status (available, assigned, deleting)",
            pool_vms.clone(),
        );
        let waitlist = Family::<ClassLabels, Gauge>::default();
        registry.register(
            "waitlist_length",
            "Students waiting for a VM of a class",
            waitlist.clone(),
        );
        let job_duration = Family::<JobLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "job_last_duration_seconds",
            "How long the last finished run of a background job took on a cluster",
            job_duration.clone(),
        );
        let job_failures = Family::<JobLabels, Gauge>::default();
        registry.register(
            "job_consecutive_failures",
            "Failed runs in a row of a background job on a cluster (0 after a success)",
            job_failures.clone(),
        );
        let proxmox_requests = Family::<ClusterLabels, Counter>::default();
        registry.register(
            "proxmox_requests",
            "Proxmox API requests sent to a cluster (every attempt of a retried request)",
            proxmox_requests.clone(),
        );
        let proxmox_errors = Family::<ClusterLabels, Counter>::default();
        registry.register(
            "proxmox_errors",
            "Proxmox API requests to a cluster that got no answer or an answer outside 2xx",
            proxmox_errors.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry,
                proxmox_requests,
                proxmox_errors,
                proxmox_seen: std::sync::Mutex::new(std::collections::HashMap::new()),
                commands,
                notifications,
                pool_size,
                job_duration,
                job_failures,
                pool_vms,
                waitlist,
                scrape: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Counts one command (`/class create`) with its outcome.
    pub fn count_command(&self, command: &str, outcome: &'static str) {
        self.inner
            .commands
            .get_or_create(&CommandLabels {
                command: command.to_owned(),
                outcome,
            })
            .inc();
    }

    /// How many times `command` ended with `outcome` so far.
    pub fn commands(&self, command: &str, outcome: &'static str) -> u64 {
        self.inner
            .commands
            .get(&CommandLabels {
                command: command.to_owned(),
                outcome,
            })
            .map_or(0, |c| c.get())
    }

    /// Counts one outbox event handled by `consumer` with its outcome.
    pub fn count_notification(&self, consumer: &str, outcome: &'static str) {
        self.inner
            .notifications
            .get_or_create(&NotificationLabels {
                consumer: consumer.to_owned(),
                outcome,
            })
            .inc();
    }

    /// Reads pool sizes, pool VMs and waitlists of every class from the lab, replacing what
    /// the last scrape read (deleted classes disappear).
    ///
    /// # Errors
    /// The core's error when the lab cannot be read; the figures are then left as they were.
    pub async fn refresh_lab(&self, lab: &Lab) -> Result<(), pvelab_core::Error> {
        let _one_at_a_time = self.inner.scrape.lock().await;
        let actor = crate::app::clusters::program_actor(lab).await?;
        let mut figures = Vec::new();
        for class in lab.classes(&actor, None).await? {
            let pool = lab.pool(&actor, class.id).await?;
            let waiting = lab.waitlist(&actor, class.id).await?.len();
            figures.push((class, pool, waiting));
        }
        let jobs = lab.sync_status(&actor, None).await?;
        let requests = lab.proxmox_requests(&actor)?;
        let inner = &self.inner;
        {
            let mut seen = inner.proxmox_seen.lock().unwrap_or_else(|p| p.into_inner());
            for counts in requests {
                let cluster = counts.cluster.to_string();
                let (sent, failed) = seen.get(&cluster).copied().unwrap_or((0, 0));
                let labels = ClusterLabels {
                    cluster: cluster.clone(),
                };
                inner
                    .proxmox_requests
                    .get_or_create(&labels)
                    .inc_by(counts.requests.saturating_sub(sent));
                inner
                    .proxmox_errors
                    .get_or_create(&labels)
                    .inc_by(counts.failures.saturating_sub(failed));
                seen.insert(cluster, (counts.requests, counts.failures));
            }
        }
        inner.job_duration.clear();
        inner.job_failures.clear();
        for status in jobs {
            let labels = JobLabels {
                cluster: status.cluster.to_string(),
                job: status.job.name(),
            };
            if let (Some(started), Some(finished)) =
                (status.last_started_at, status.last_finished_at)
            {
                if finished >= started {
                    let took = finished.duration_since(started).as_secs_f64();
                    inner.job_duration.get_or_create(&labels).set(took);
                }
            }
            inner
                .job_failures
                .get_or_create(&labels)
                .set(i64::from(status.consecutive_failures));
        }
        inner.pool_size.clear();
        inner.pool_vms.clear();
        inner.waitlist.clear();
        for (class, pool, waiting) in figures {
            let labels = ClassLabels {
                class_id: class.id.to_string(),
                class: class.name.to_string(),
            };
            inner
                .pool_size
                .get_or_create(&labels)
                .set(i64::from(class.pool_size.get()));
            inner
                .waitlist
                .get_or_create(&labels)
                .set(i64::try_from(waiting).unwrap_or(i64::MAX));
            for status in [VmStatus::Available, VmStatus::Assigned, VmStatus::Deleting] {
                let count = pool
                    .iter()
                    .filter(|vm| matches!(vm.role, VmRole::Student { .. }) && vm.status == status)
                    .count();
                inner
                    .pool_vms
                    .get_or_create(&PoolVmLabels {
                        class_id: labels.class_id.clone(),
                        class: labels.class.clone(),
                        status: status_name(status),
                    })
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
        }
        Ok(())
    }

    /// Every metric in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.inner.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

fn status_name(status: VmStatus) -> &'static str {
    match status {
        VmStatus::Available => "available",
        VmStatus::Assigned => "assigned",
        VmStatus::Deleting => "deleting",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_counted_by_name_and_outcome_in_the_text_format() {
        let metrics = Metrics::new();
        metrics.count_command("/myvm", "ok");
        metrics.count_command("/myvm", "ok");
        metrics.count_command("/class create", "refused");
        let text = metrics.encode();
        assert!(
            text.contains(&format!(
                "pvelab_build_info{{version=\"{}\"}} 1\n",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
        assert!(
            text.contains("# TYPE pvelab_commands_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("pvelab_commands_total{command=\"/myvm\",outcome=\"ok\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "pvelab_commands_total{command=\"/class create\",outcome=\"refused\"} 1\n"
            ),
            "{text}"
        );
        assert_eq!(metrics.commands("/myvm", "ok"), 2);
        assert_eq!(metrics.commands("/myvm", "failed"), 0);
    }

    #[test]
    fn two_registries_count_apart() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.count_command("/join", "ok");
        assert_eq!(b.commands("/join", "ok"), 0);
        assert!(!b.encode().contains("/join"));
    }
}
