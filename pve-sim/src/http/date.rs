//! The `Date` header of every answer shows the simulated clock.
//!
//! A real node's `Date` is its own clock, and clients read it to measure ticket age on the
//! server's clock. When a test advances the simulated clock, the header must move with it,
//! or a client would never see the hours pass that its ticket has aged.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::Response;

use crate::state::Shared;

/// The HTTP date of the simulated `now` (whole seconds, as the header allows).
pub(crate) fn http_date(sim_now: f64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs_f64(sim_now.max(0.0)))
}

/// Response layer: replace hyper's wall-clock `Date` with the simulated one. Hyper keeps a
/// `Date` header that a response already carries.
pub(crate) async fn stamp(State(shared): State<Arc<Shared>>, mut resp: Response) -> Response {
    let date = http_date(shared.clock.now_f64());
    if let Ok(value) = HeaderValue::from_str(&date) {
        resp.headers_mut().insert(header::DATE, value);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_of_a_known_instant_is_formatted_as_http_requires() {
        // 2026-11-26 20:00:00 UTC.
        assert_eq!(http_date(1_795_723_200.4), "Thu, 26 Nov 2026 20:00:00 GMT");
    }
}
