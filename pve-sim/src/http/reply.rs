//! Answers in PVE's envelope: `{"data": ...}` on success; on failure the reason phrase is the
//! message's first line and the body is `{"data":null,"message":"...\n"}` (plus `errors` for
//! parameter errors), or empty for 401 and the proxy errors 595/596.

use std::collections::BTreeMap;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A successful answer.
pub(crate) struct Data {
    pub(crate) data: Value,
    pub(crate) total: Option<u64>,
    /// `data` already serialized (big lists skip the intermediate `Value` tree).
    pub(crate) raw: Option<String>,
}

impl Data {
    pub(crate) fn new(data: impl Into<Value>) -> Self {
        Self {
            data: data.into(),
            total: None,
            raw: None,
        }
    }

    /// An answer whose `data` is the given JSON text.
    pub(crate) fn raw(json_text: String) -> Self {
        Self {
            data: Value::Null,
            total: None,
            raw: Some(json_text),
        }
    }
}

impl IntoResponse for Data {
    fn into_response(self) -> Response {
        if let Some(raw) = self.raw {
            let mut r = (StatusCode::OK, format!("{{\"data\":{raw}}}")).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json;charset=UTF-8"),
            );
            return r;
        }
        let body = match self.total {
            Some(total) => json!({ "data": self.data, "total": total }),
            None => json!({ "data": self.data }),
        };
        json_response(StatusCode::OK, &body)
    }
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r
}

/// A failed API call, rendered the way pve-http-server renders it.
#[derive(Debug, Clone)]
pub(crate) enum ApiError {
    /// 400 "Parameter verification failed." with one text per parameter.
    Params(BTreeMap<String, String>),
    /// Any status with a message (usually 500 for semantic errors, 403, 501).
    Status(StatusCode, String),
    /// 401 with an empty body; the text is the reason phrase.
    Unauthorized(&'static str),
    /// 595/596 from the proxy: empty body, the text is the reason phrase.
    Proxy(u16, &'static str),
}

/// The parts of an error body, kept on the response so the gate can drop `message` when the
/// legacy body format is switched on.
#[derive(Debug, Clone)]
pub(crate) struct ErrorParts {
    pub(crate) errors: Option<BTreeMap<String, String>>,
}

impl ApiError {
    pub(crate) fn param(name: &str, text: impl Into<String>) -> Self {
        ApiError::Params(BTreeMap::from([(name.to_owned(), text.into())]))
    }

    /// A 500 with PVE's message text (without the trailing newline).
    pub(crate) fn fail(text: impl Into<String>) -> Self {
        ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR, text.into())
    }

    pub(crate) fn not_implemented(method: &str, path: &str) -> Self {
        ApiError::Status(
            StatusCode::NOT_IMPLEMENTED,
            format!("Method '{method} {path}' not implemented"),
        )
    }
}

fn with_reason(mut r: Response, reason: &str) -> Response {
    let first = reason.lines().next().unwrap_or_default();
    if let Ok(p) = hyper::ext::ReasonPhrase::try_from(first.as_bytes()) {
        r.extensions_mut().insert(p);
    }
    // PVE closes the connection after every error.
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Params(errors) => {
                let msg = "Parameter verification failed.";
                let body = json!({ "data": null, "message": format!("{msg}\n"), "errors": errors });
                let mut r = json_response(StatusCode::BAD_REQUEST, &body);
                r.extensions_mut().insert(ErrorParts {
                    errors: Some(errors),
                });
                with_reason(r, msg)
            }
            ApiError::Status(status, msg) => {
                let body = json!({ "data": null, "message": format!("{msg}\n") });
                let mut r = json_response(status, &body);
                r.extensions_mut().insert(ErrorParts { errors: None });
                with_reason(r, &msg)
            }
            ApiError::Unauthorized(reason) => {
                with_reason(StatusCode::UNAUTHORIZED.into_response(), reason)
            }
            ApiError::Proxy(code, reason) => {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                with_reason(status.into_response(), reason)
            }
        }
    }
}

/// The result of an API handler.
pub(crate) type ApiResult = Result<Data, ApiError>;
