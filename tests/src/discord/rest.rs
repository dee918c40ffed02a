//! The REST half of the fake: an HTTP/1.1 server on 127.0.0.1 that routes serenity's calls
//! under `/api/v10`, records each one with the status it got, and answers like Discord.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::request::{decode_body, RecordedBody, RecordedFile, RecordedRequest, API_PREFIX};
use super::state::Shared;
use super::{channels, commands, payloads, webhooks};

/// A status and an optional JSON body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Option<Value>,
}

impl Reply {
    pub(crate) fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body: Some(body),
        }
    }

    pub(crate) fn no_content() -> Self {
        Self {
            status: 204,
            body: None,
        }
    }

    /// A Discord error: `status` with `{"code": code, "message": message}`.
    pub(crate) fn error(status: u16, code: u64, message: &str) -> Self {
        Self {
            status,
            body: Some(payloads::error(code, message)),
        }
    }

    /// Discord's answer to a route it does not have.
    pub(crate) fn not_found() -> Self {
        Self::error(404, 0, "404: Not Found")
    }

    /// Discord's answer to a malformed request, naming what was wrong.
    pub(crate) fn invalid(detail: &str) -> Self {
        Self::error(400, 50035, &format!("Invalid Form Body: {detail}"))
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let builder = Response::builder().status(status);
        match self.body {
            Some(body) => builder
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body.to_string()))),
            None => builder.body(Full::new(Bytes::new())),
        }
        .expect("a status and a content type always make a valid response")
    }
}

/// Accepts connections until the task is aborted; dropping the task drops every connection.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // A failed accept (the peer gave up) concerns one connection only.
                tokio::task::yield_now().await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = service_fn(move |req| handle(Arc::clone(&shared), req));
            // A connection error ends that connection; the bot sees it as a failed request.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header("authorization");
    let content_type = header("content-type");
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let bytes = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let body = decode_body(content_type.as_deref(), bytes).await;
    let reply = route(&shared, &method, &path, authorization.as_deref(), &body);
    shared.requests.push(RecordedRequest {
        method,
        path,
        query,
        authorization,
        body,
        status: reply.status,
    });
    Ok(reply.into_response())
}

/// What a handler gets of a request body: its JSON payload and its uploaded files.
pub(crate) struct Payload<'a> {
    pub(crate) json: &'a Value,
    pub(crate) files: &'a [RecordedFile],
}

impl Payload<'static> {
    /// No JSON, no files: for messages the fake makes up itself.
    pub(crate) fn empty() -> Self {
        static NULL: Value = Value::Null;
        Payload {
            json: &NULL,
            files: &[],
        }
    }
}

fn route(
    shared: &Shared,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: &RecordedBody,
) -> Reply {
    let Some(route) = path.strip_prefix(API_PREFIX) else {
        return Reply::not_found();
    };
    let segments: Vec<&str> = route.trim_matches('/').split('/').collect();
    let null = Value::Null;
    let payload = Payload {
        json: match body {
            RecordedBody::Json(value) => value,
            RecordedBody::Multipart(m) => m.payload_json.as_ref().unwrap_or(&null),
            _ => &null,
        },
        files: match body {
            RecordedBody::Multipart(m) => &m.files,
            _ => &[],
        },
    };
    // Interaction callbacks and webhooks are authorized by their token; every other route
    // needs the bot token.
    let by_token = matches!(segments.as_slice(), ["interactions", ..] | ["webhooks", ..]);
    if !by_token && !authorization.is_some_and(|a| a.starts_with("Bot ")) {
        return Reply::error(401, 0, "401: Unauthorized");
    }
    let config = &shared.config;
    match (method, segments.as_slice()) {
        ("GET", ["gateway"]) => Reply::ok(json!({ "url": shared.gateway_url })),
        ("GET", ["gateway", "bot"]) => Reply::ok(payloads::bot_gateway(&shared.gateway_url)),
        ("GET", ["oauth2", "applications", "@me"]) => Reply::ok(payloads::application_info(config)),
        ("GET", ["users", "@me"]) => Reply::ok(payloads::bot_user(config)),
        (_, ["applications", app, "commands", rest @ ..]) => {
            commands::handle(shared, method, app, None, rest, payload.json)
        }
        (_, ["applications", app, "guilds", guild, "commands", rest @ ..]) => {
            match parse_snowflake(guild) {
                Ok(guild) => commands::handle(shared, method, app, Some(guild), rest, payload.json),
                Err(reply) => reply,
            }
        }
        ("POST", ["interactions", id, token, "callback"]) => {
            webhooks::callback(shared, id, token, &payload)
        }
        (_, ["webhooks", app, token, rest @ ..]) => {
            webhooks::handle(shared, method, app, token, rest, &payload)
        }
        ("POST", ["users", "@me", "channels"]) => channels::open_dm(shared, payload.json),
        ("POST", ["channels", channel, "messages"]) => match parse_snowflake(channel) {
            Ok(channel) => channels::create_message(shared, channel, &payload),
            Err(reply) => reply,
        },
        _ => Reply::not_found(),
    }
}

/// A path or body id, or the 400 Discord answers for one that is not a snowflake.
pub(crate) fn parse_snowflake(text: &str) -> Result<u64, Reply> {
    text.parse::<u64>().map_err(|_| {
        Reply::invalid(&format!(
            "`{text}` is not a snowflake (a decimal 64-bit id)"
        ))
    })
}

/// A snowflake given in a JSON body, as a string or a number.
pub(crate) fn json_snowflake(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}
