//! The operations endpoint on `[http] listen`: `GET /healthz` and `GET /metrics`, for a
//! monitoring system or a container orchestrator. No other path exists and nothing is ever
//! changed through it.
//!
//! - `/healthz`: 200 with a small JSON report when every check passes, 503 with the same
//!   report when one fails ([`health`]).
//! - `/metrics`: the Prometheus text format ([`metrics`]).
//!
//! It tells about the lab (class names, cluster addresses in errors): listen on loopback or a
//! management network, not where students reach it.

pub mod health;
pub mod metrics;

use std::io;
use std::net::SocketAddr;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pvelab_core::Lab;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use health::{Check, Health, HealthReport};
pub use metrics::Metrics;

/// What the endpoints read.
#[derive(Debug, Clone)]
pub struct OpsState {
    /// The lab, for the figures `/metrics` reads at each scrape.
    pub lab: Lab,
    /// What `/healthz` checks.
    pub health: Health,
    /// What `/metrics` shows.
    pub metrics: Metrics,
}

/// The routes, for serving or for calling in tests.
pub fn router(state: OpsState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .with_state(state)
}

async fn healthz(State(state): State<OpsState>) -> (StatusCode, Json<HealthReport>) {
    let report = state.health.check().await;
    let status = if report.is_healthy() {
        StatusCode::OK
    } else {
        tracing::warn!(?report, "health check failed");
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}

async fn metrics_text(State(state): State<OpsState>) -> Response {
    if let Err(e) = state.metrics.refresh_lab(&state.lab).await {
        // A failed scrape is the honest answer: stale pool figures would look current.
        tracing::warn!("metrics: the lab could not be read: {e}");
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the lab could not be read: {e}\n"),
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        state.metrics.encode(),
    )
        .into_response()
}

/// The endpoint, serving until its stop token is cancelled.
#[derive(Debug)]
pub struct OpsServer {
    addr: SocketAddr,
    task: JoinHandle<io::Result<()>>,
}

impl OpsServer {
    /// Listens on `listen` (port 0 picks a free port) and serves until `stop` is cancelled;
    /// requests in progress then finish before it ends.
    ///
    /// # Errors
    /// When the address cannot be bound (in use, not an address of this machine, a privileged
    /// port); the message names the address.
    pub async fn start(
        listen: SocketAddr,
        state: OpsState,
        stop: CancellationToken,
    ) -> io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot listen on {listen} for /healthz and /metrics ([http] listen): {e}"),
            )
        })?;
        let addr = listener.local_addr()?;
        let app = router(state);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        });
        tracing::info!("operations endpoint on http://{addr} (/healthz, /metrics)");
        Ok(Self { addr, task })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until it stopped (after its stop token was cancelled).
    ///
    /// # Errors
    /// When serving failed.
    pub async fn stopped(self) -> io::Result<()> {
        self.task.await.map_err(io::Error::other)?
    }
}
