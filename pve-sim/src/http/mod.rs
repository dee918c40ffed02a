//! The HTTP side: router, gate, parameters, replies, authentication and the TLS server.

use std::sync::Arc;

use axum::middleware::{from_fn_with_state, map_response_with_state};
use axum::Router;

use crate::state::Shared;

pub(crate) mod auth;
pub(crate) mod call;
pub(crate) mod control;
pub(crate) mod date;
pub(crate) mod gate;
pub(crate) mod params;
pub(crate) mod reply;
pub(crate) mod server;

/// The whole application: `/api2/json/...` and the control API under `/_sim/...`; every
/// answer's `Date` shows the simulated clock.
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    let api = crate::api::routes()
        .route_layer(from_fn_with_state(shared.clone(), gate::gate))
        .method_not_allowed_fallback(gate::not_implemented);
    Router::new()
        .nest(gate::API_PREFIX, api)
        .nest("/_sim", control::routes())
        .fallback(gate::not_implemented)
        .layer(map_response_with_state(shared.clone(), date::stamp))
        .with_state(shared)
}
