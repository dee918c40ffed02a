//! The extractor every API handler takes: path values, merged parameters, the user, and a
//! worker of the addressed node held for the duration of the call.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{header, StatusCode};
use tokio::sync::OwnedSemaphorePermit;

use super::gate::AuthUser;
use super::params::{check_int, Params};
use super::reply::ApiError;
use crate::state::Shared;

/// The largest request body pve-http-server reads (`$limit_max_post`).
const MAX_BODY: usize = 512 * 1024;

/// One API call, ready for a handler.
pub(crate) struct Call {
    pub(crate) params: Params,
    pub(crate) path: HashMap<String, String>,
    pub(crate) user: String,
    _worker: Option<OwnedSemaphorePermit>,
}

impl Call {
    /// The `{node}` path value (already checked to exist and be online).
    pub(crate) fn node(&self) -> &str {
        self.path.get("node").map_or("", String::as_str)
    }

    /// The `{vmid}` path value (already checked to be an integer from 100).
    pub(crate) fn vmid(&self) -> u32 {
        self.path
            .get("vmid")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    pub(crate) fn path(&self, key: &str) -> &str {
        self.path.get(key).map_or("", String::as_str)
    }
}

impl FromRequest<Arc<Shared>> for Call {
    type Rejection = ApiError;

    async fn from_request(req: Request, shared: &Arc<Shared>) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let path: HashMap<String, String> =
            Path::<HashMap<String, String>>::from_request_parts(&mut parts, shared)
                .await
                .map(|Path(p)| p)
                .unwrap_or_default();
        if let Some(v) = path.get("vmid") {
            let n = check_int("vmid", v)?;
            if n < 100 {
                return Err(ApiError::param(
                    "vmid",
                    "value must have a minimum value of 100",
                ));
            }
            if n > 999_999_999 {
                return Err(ApiError::param("vmid", "value may not exceed 999999999"));
            }
        }
        let mut worker = None;
        if let Some(node) = path.get("node") {
            let online = shared.world().node(node).map(|n| n.online);
            match online {
                None => {
                    return Err(ApiError::fail(format!(
                        "hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known"
                    )))
                }
                Some(false) => return Err(ApiError::Proxy(595, "No route to host")),
                Some(true) => {}
            }
            if let Some(sem) = shared.workers.get(node) {
                worker = sem.clone().acquire_owned().await.ok();
            }
        }
        let service = shared.cfg.scaled(shared.cfg.timing.api_service_secs);
        if !service.is_zero() {
            tokio::time::sleep(service).await;
        }
        let user = parts
            .extensions
            .get::<AuthUser>()
            .map_or_else(|| shared.creds.username.clone(), |u| u.0.clone());
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // PVE 9 refuses bodies above 512 KiB (64 KiB before 2025) with 501.
        let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
            ApiError::Status(StatusCode::NOT_IMPLEMENTED, "for data too large".into())
        })?;
        let params = Params::parse(parts.uri.query(), content_type.as_deref(), &bytes)?;
        Ok(Call {
            params,
            path,
            user,
            _worker: worker,
        })
    }
}
