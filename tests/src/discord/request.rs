//! What the fake Discord records of each REST call, and how bodies are decoded.
//!
//! Bodies are decoded once, when the request arrives, so tests assert on JSON values and on
//! attachment names and bytes rather than on raw multipart text.

use std::fmt;

use hyper::body::Bytes;
use serde_json::Value;

/// The path prefix serenity 0.12 puts in front of every REST route.
pub const API_PREFIX: &str = "/api/v10";

/// One REST call the bot made, as the fake received and answered it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    pub method: String,
    /// The full path, `/api/v10/...`, without the query string.
    pub path: String,
    /// The query string without `?`, if any.
    pub query: Option<String>,
    /// The `Authorization` header (`Bot <token>` for serenity).
    pub authorization: Option<String>,
    /// The decoded body.
    pub body: RecordedBody,
    /// The status code the fake answered with.
    pub status: u16,
}

/// A request body, decoded by its content type.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordedBody {
    /// No body at all.
    Empty,
    /// `application/json`.
    Json(Value),
    /// `multipart/form-data`, as serenity sends attachments.
    Multipart(MultipartBody),
    /// Anything else, or a body that failed to decode as its content type claimed.
    Other {
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
        /// The raw bytes.
        bytes: Vec<u8>,
    },
}

/// A decoded `multipart/form-data` body: Discord's `payload_json` plus `files[n]` parts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MultipartBody {
    /// The `payload_json` part, parsed.
    pub payload_json: Option<Value>,
    /// Every part that carried a file name, in order.
    pub files: Vec<RecordedFile>,
    /// Other text parts, by name.
    pub fields: Vec<(String, String)>,
}

/// One uploaded file.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedFile {
    /// The form field, `files[0]` for serenity's first attachment.
    pub field: String,
    /// The file name the bot gave.
    pub filename: String,
    /// The part's content type, if any.
    pub content_type: Option<String>,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

impl RecordedRequest {
    /// The path after `/api/v10`, e.g. `/interactions/1/tok/callback`.
    pub fn route(&self) -> &str {
        self.path.strip_prefix(API_PREFIX).unwrap_or(&self.path)
    }

    /// Whether this is `method` on `route` (the path after `/api/v10`).
    pub fn is(&self, method: &str, route: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.route() == route
    }

    /// The JSON payload: the body itself, or a multipart body's `payload_json`.
    pub fn json(&self) -> Option<&Value> {
        match &self.body {
            RecordedBody::Json(value) => Some(value),
            RecordedBody::Multipart(multipart) => multipart.payload_json.as_ref(),
            RecordedBody::Empty | RecordedBody::Other { .. } => None,
        }
    }

    /// The JSON payload, or `Value::Null` when there is none, for terse assertions such as
    /// `req.payload()["data"]["flags"]`.
    pub fn payload(&self) -> &Value {
        self.json().unwrap_or(&Value::Null)
    }

    /// The uploaded files (empty unless the body was multipart).
    pub fn files(&self) -> &[RecordedFile] {
        match &self.body {
            RecordedBody::Multipart(multipart) => &multipart.files,
            _ => &[],
        }
    }

    /// The file uploaded under `filename`, if any.
    pub fn file(&self, filename: &str) -> Option<&RecordedFile> {
        self.files().iter().find(|f| f.filename == filename)
    }
}

/// One line per request, for the listing a failed wait prints.
impl fmt::Display for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(query) = &self.query {
            write!(f, "?{query}")?;
        }
        write!(f, " -> {}", self.status)?;
        match &self.body {
            RecordedBody::Empty => Ok(()),
            RecordedBody::Json(value) => write!(f, " {}", clip(&value.to_string())),
            RecordedBody::Multipart(multipart) => {
                let payload = multipart
                    .payload_json
                    .as_ref()
                    .map_or_else(String::new, Value::to_string);
                write!(f, " multipart {}", clip(&payload))?;
                for file in &multipart.files {
                    write!(f, " +{}({} bytes)", file.filename, file.bytes.len())?;
                }
                Ok(())
            }
            RecordedBody::Other {
                content_type,
                bytes,
            } => write!(
                f,
                " <{} bytes of {}>",
                bytes.len(),
                content_type.as_deref().unwrap_or("no content type")
            ),
        }
    }
}

/// Long bodies are cut in listings so one request stays one readable line.
fn clip(text: &str) -> String {
    const MAX: usize = 400;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Decodes a body by its `Content-Type`.
pub(crate) async fn decode_body(content_type: Option<&str>, bytes: Bytes) -> RecordedBody {
    if bytes.is_empty() {
        return RecordedBody::Empty;
    }
    let other = |bytes: &Bytes| RecordedBody::Other {
        content_type: content_type.map(str::to_string),
        bytes: bytes.to_vec(),
    };
    let essence = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|ct| ct.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/json") => serde_json::from_slice(&bytes)
            .map(RecordedBody::Json)
            .unwrap_or_else(|_| other(&bytes)),
        Some("multipart/form-data") => {
            let boundary = content_type.and_then(|ct| multer::parse_boundary(ct).ok());
            match boundary {
                Some(boundary) => match decode_multipart(bytes.clone(), boundary).await {
                    Ok(multipart) => RecordedBody::Multipart(multipart),
                    Err(_) => other(&bytes),
                },
                None => other(&bytes),
            }
        }
        _ => other(&bytes),
    }
}

async fn decode_multipart(bytes: Bytes, boundary: String) -> Result<MultipartBody, multer::Error> {
    let stream = futures_util::stream::once(async move { Ok::<_, multer::Error>(bytes) });
    let mut parts = multer::Multipart::new(stream, boundary);
    let mut body = MultipartBody::default();
    while let Some(part) = parts.next_field().await? {
        let field = part.name().unwrap_or_default().to_string();
        let filename = part.file_name().map(str::to_string);
        let content_type = part.content_type().map(ToString::to_string);
        let data = part.bytes().await?;
        match filename {
            Some(filename) => body.files.push(RecordedFile {
                field,
                filename,
                content_type,
                bytes: data.to_vec(),
            }),
            None if field == "payload_json" => {
                body.payload_json = Some(
                    serde_json::from_slice(&data)
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&data).into())),
                );
            }
            None => body
                .fields
                .push((field, String::from_utf8_lossy(&data).into_owned())),
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_multipart_body_yields_its_payload_json_and_files() {
        let raw = "--XyZ\r\n\
            Content-Disposition: form-data; name=\"files[0]\"; filename=\"report.txt\"\r\n\
            Content-Type: text/plain\r\n\r\n\
            hello\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"payload_json\"\r\n\r\n\
            {\"content\":\"see file\"}\r\n\
            --XyZ--\r\n";
        let body = decode_body(
            Some("multipart/form-data; boundary=XyZ"),
            Bytes::from(raw.as_bytes().to_vec()),
        )
        .await;
        let RecordedBody::Multipart(multipart) = body else {
            panic!("expected multipart, got {body:?}");
        };
        assert_eq!(
            multipart.payload_json,
            Some(serde_json::json!({"content": "see file"}))
        );
        assert_eq!(multipart.files.len(), 1);
        assert_eq!(multipart.files[0].field, "files[0]");
        assert_eq!(multipart.files[0].filename, "report.txt");
        assert_eq!(multipart.files[0].bytes, b"hello");
    }

    #[tokio::test]
    async fn a_body_that_is_not_the_json_it_claims_is_kept_raw() {
        let body = decode_body(Some("application/json"), Bytes::from_static(b"{nope")).await;
        assert_eq!(
            body,
            RecordedBody::Other {
                content_type: Some("application/json".into()),
                bytes: b"{nope".to_vec()
            }
        );
    }
}
