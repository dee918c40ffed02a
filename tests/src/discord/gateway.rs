//! The gateway half of the fake: a websocket server that speaks Discord's gateway protocol
//! (v10, JSON, plain text frames).
//!
//! HELLO → the bot's IDENTIFY → READY and one GUILD_CREATE per guild; heartbeats are
//! acknowledged; after READY the session carries whatever dispatches the test pushes. serenity
//! 0.12.5 asks for `compress: true` but reads text frames as they are (it only inflates binary
//! ones), so the fake never compresses. A RESUME is refused with INVALID_SESSION (not
//! resumable), which makes serenity identify afresh.

use std::fmt;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::payloads;
use super::state::Shared;

/// One frame the bot sent over the gateway.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewayFrame {
    /// The opcode: 1 heartbeat, 2 identify, 3 presence update, 6 resume, 8 request members.
    pub op: u64,
    /// The frame's data.
    pub d: Value,
}

impl fmt::Display for GatewayFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gateway op {} {}", self.op, self.d)
    }
}

/// A dispatch (op 0) waiting to go out: its event name and data.
pub(crate) struct Dispatch {
    pub(crate) event: String,
    pub(crate) data: Value,
}

/// Accepts websocket connections until the task is aborted; dropping the task drops every
/// session.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = JoinSet::new();
    let mut count = 0u64;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::task::yield_now().await;
                continue;
            }
        };
        while sessions.try_join_next().is_some() {}
        count += 1;
        sessions.spawn(session(stream, Arc::clone(&shared), count));
    }
}

type Ws = WebSocketStream<TcpStream>;

async fn session(stream: TcpStream, shared: Arc<Shared>, number: u64) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let interval = shared.config.heartbeat_interval.as_millis() as u64;
    if send(&mut ws, &hello(interval)).await.is_err() {
        return;
    }
    let (outbox, mut dispatches) = mpsc::unbounded_channel::<Dispatch>();
    let mut identified = false;
    let mut seq = 0u64;
    loop {
        tokio::select! {
            incoming = ws.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        close(&mut ws, 4002, "Decode error: the fake gateway reads JSON text")
                            .await;
                        break;
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    close(&mut ws, 4002, "Decode error: not JSON").await;
                    break;
                };
                let Some(op) = frame["op"].as_u64() else {
                    close(&mut ws, 4001, "Unknown opcode: missing").await;
                    break;
                };
                shared.frames.push(GatewayFrame { op, d: frame["d"].clone() });
                let answered = match op {
                    1 => send(&mut ws, &heartbeat_ack()).await,
                    2 if identified => {
                        close(&mut ws, 4005, "Already authenticated").await;
                        break;
                    }
                    2 => {
                        identified = true;
                        let greeted = greet(&mut ws, &shared, number, &mut seq).await;
                        if greeted.is_ok() {
                            shared.session.send_replace(Some(outbox.clone()));
                        }
                        greeted
                    }
                    6 => send(&mut ws, &invalid_session()).await,
                    3 | 4 | 8 => Ok(()),
                    other => {
                        close(&mut ws, 4001, &format!("Unknown opcode {other}")).await;
                        break;
                    }
                };
                if answered.is_err() {
                    break;
                }
            }
            Some(dispatch) = dispatches.recv() => {
                seq += 1;
                let frame = dispatch_frame(seq, &dispatch.event, dispatch.data);
                if send(&mut ws, &frame).await.is_err() {
                    break;
                }
            }
        }
    }
    // This session no longer takes dispatches.
    shared.session.send_if_modified(|current| {
        let ours = current.as_ref().is_some_and(|c| c.same_channel(&outbox));
        if ours {
            *current = None;
        }
        ours
    });
}

/// READY, then one GUILD_CREATE per guild.
async fn greet(
    ws: &mut Ws,
    shared: &Shared,
    number: u64,
    seq: &mut u64,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let session_id = format!("fake-session-{number}");
    let ready = payloads::ready(&shared.config, &session_id, &shared.gateway_url);
    *seq += 1;
    send(ws, &dispatch_frame(*seq, "READY", ready)).await?;
    for guild in &shared.config.guilds {
        *seq += 1;
        let data = payloads::guild_create(guild, &shared.config);
        send(ws, &dispatch_frame(*seq, "GUILD_CREATE", data)).await?;
    }
    Ok(())
}

/// HELLO (op 10): how often to heartbeat.
pub(crate) fn hello(heartbeat_interval_ms: u64) -> Value {
    json!({"op": 10, "d": {"heartbeat_interval": heartbeat_interval_ms}, "s": null, "t": null})
}

/// HEARTBEAT_ACK (op 11).
pub(crate) fn heartbeat_ack() -> Value {
    json!({"op": 11, "d": null, "s": null, "t": null})
}

/// INVALID_SESSION (op 9), not resumable.
pub(crate) fn invalid_session() -> Value {
    json!({"op": 9, "d": false, "s": null, "t": null})
}

/// A DISPATCH (op 0) frame.
pub(crate) fn dispatch_frame(seq: u64, event: &str, data: Value) -> Value {
    json!({"op": 0, "t": event, "s": seq, "d": data})
}

async fn send(ws: &mut Ws, frame: &Value) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    ws.send(Message::Text(frame.to_string())).await
}

async fn close(ws: &mut Ws, code: u16, reason: &str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    };
    // The bot may already be gone; the session ends either way.
    let _ = ws.send(Message::Close(Some(frame))).await;
}
