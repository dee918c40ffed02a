//! The gate every API request passes: counting, the DELETE-with-body rule, authentication,
//! injected faults and latency, and the legacy error body switch.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::{authenticate, authorize};
use super::reply::{json_response, ApiError, ErrorParts};
use crate::faults::RequestFault;
use crate::state::Shared;

/// Prefix of the API.
pub(crate) const API_PREFIX: &str = "/api2/json";

/// The authenticated user of a request (a token's full id for API tokens).
#[derive(Debug, Clone)]
pub(crate) struct AuthUser(pub(crate) String);

fn rel_path(path: &str) -> &str {
    path.strip_prefix(API_PREFIX).unwrap_or(path)
}

fn has_body(req: &Request) -> bool {
    let h = req.headers();
    let len = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    len > 0 || h.contains_key(header::TRANSFER_ENCODING)
}

/// Middleware on every matched API route.
pub(crate) async fn gate(
    State(shared): State<Arc<Shared>>,
    matched: MatchedPath,
    mut req: Request,
    next: Next,
) -> Response {
    let template = rel_path(matched.as_str()).to_owned();
    let method = req.method().clone();
    shared.count(method.as_str(), &template);
    // Every answer of the gate is counted by status on its way out.
    let answer = |resp: Response| finish(&shared, method.as_str(), &template, resp);
    if method == Method::DELETE && has_body(&req) {
        let path = rel_path(req.uri().path()).to_owned();
        return answer(ApiError::not_implemented("DELETE", &path).into_response());
    }
    let public = method == Method::POST && template == "/access/ticket";
    if !public {
        match authenticate(&shared, &method, req.headers()) {
            Ok(user) => {
                let path = rel_path(req.uri().path()).to_owned();
                if let Err(e) = authorize(&shared, &user, &method, &template, &path) {
                    return answer(e.into_response());
                }
                req.extensions_mut().insert(AuthUser(user));
            }
            Err(e) => {
                if shared.cfg.delay_401 {
                    tokio::time::sleep(shared.cfg.scaled(3.0)).await;
                }
                return answer(e.into_response());
            }
        }
    }
    let (latency, fault) = shared.faults().draw_request();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(f) = fault {
        let e = match f {
            RequestFault::Error500 => ApiError::fail("got lock request timeout (simulated fault)"),
            RequestFault::Unreachable595 => ApiError::Proxy(595, "No route to host"),
            RequestFault::Timeout596 => ApiError::Proxy(596, "Connection timed out"),
        };
        return answer(e.into_response());
    }
    let resp = next.run(req).await;
    answer(resp)
}

/// Count the answer's status, and apply the legacy error body switch (no `message` member)
/// to an error response.
fn finish(shared: &Shared, method: &str, template: &str, resp: Response) -> Response {
    shared.count_status(method, template, resp.status().as_u16());
    if !shared.cfg.legacy_error_body {
        return resp;
    }
    let Some(parts) = resp.extensions().get::<ErrorParts>().cloned() else {
        return resp;
    };
    let body = match parts.errors {
        Some(errors) => json!({ "errors": errors, "data": null }),
        None => json!({ "data": null }),
    };
    let (mut head, _) = resp.into_parts();
    let fresh = json_response(head.status, &body);
    head.headers.remove(header::CONTENT_LENGTH);
    let (fresh_head, fresh_body) = fresh.into_parts();
    head.headers.extend(fresh_head.headers);
    Response::from_parts(head, Body::new(fresh_body))
}

/// Unknown paths and unknown methods on known paths: 501 as PVE answers.
pub(crate) async fn not_implemented(
    State(shared): State<Arc<Shared>>,
    matched: Option<MatchedPath>,
    req: Request,
) -> Response {
    let template = matched.map_or_else(
        || "(unknown)".to_owned(),
        |m| rel_path(m.as_str()).to_owned(),
    );
    let method = req.method().as_str();
    shared.count(method, &template);
    let path = rel_path(req.uri().path()).to_owned();
    finish(
        &shared,
        method,
        &template,
        ApiError::not_implemented(method, &path).into_response(),
    )
}
