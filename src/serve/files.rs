//! `/v1/files`: uploads of fine-tuning data (multipart, purpose `fine-tune`), kept in memory.

use super::error::ApiError;
use super::{App, lock, unix_now};
use crate::chat::{Message, Role, TrainingSet};
use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// An uploaded file.
#[derive(Clone)]
pub(super) struct StoredFile {
    pub id: String,
    pub filename: String,
    pub purpose: String,
    pub created_at: i64,
    pub bytes: Bytes,
}

impl StoredFile {
    fn json(&self) -> Value {
        json!({
            "id": self.id, "object": "file", "bytes": self.bytes.len(),
            "created_at": self.created_at, "filename": self.filename, "purpose": self.purpose,
            "status": "processed", "status_details": null,
        })
    }
}

fn multipart_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(format!("could not read the multipart upload: {e}"), None)
}

/// `POST /v1/files`: fields `file` and `purpose` (`fine-tune`).
pub(super) async fn upload(
    State(app): State<Arc<App>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, ApiError> {
    let mut multipart = multipart.map_err(multipart_error)?;
    let (mut file, mut purpose) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("upload.jsonl").to_string();
                file = Some((name, field.bytes().await.map_err(multipart_error)?));
            }
            Some("purpose") => purpose = Some(field.text().await.map_err(multipart_error)?),
            _ => {}
        }
    }
    let Some((filename, bytes)) = file else {
        return Err(ApiError::invalid(
            "the upload has no `file` field",
            Some("file"),
        ));
    };
    match purpose.as_deref() {
        Some("fine-tune") => {}
        Some(other) => {
            return Err(ApiError::invalid(
                format!("purpose `{other}` is not supported: weirdgen serve accepts `fine-tune`"),
                Some("purpose"),
            ));
        }
        None => {
            return Err(ApiError::invalid(
                "the upload has no `purpose` field",
                Some("purpose"),
            ));
        }
    }
    let f = StoredFile {
        id: app.new_id("file"),
        filename,
        purpose: "fine-tune".into(),
        created_at: unix_now(),
        bytes,
    };
    let out = f.json();
    lock(&app.files).insert(f.id.clone(), f);
    Ok(Json(out))
}

/// `GET /v1/files`.
pub(super) async fn list(State(app): State<Arc<App>>) -> Json<Value> {
    let data: Vec<Value> = lock(&app.files)
        .values()
        .rev()
        .map(StoredFile::json)
        .collect();
    Json(json!({ "object": "list", "data": data, "has_more": false }))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(
        format!("No such File object: {id}"),
        Some("id"),
        "file_not_found",
    )
}

/// `GET /v1/files/{id}`.
pub(super) async fn get(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    lock(&app.files)
        .get(&id)
        .map(|f| Json(f.json()))
        .ok_or_else(|| not_found(&id))
}

/// `GET /v1/files/{id}/content`.
pub(super) async fn content(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let bytes = lock(&app.files)
        .get(&id)
        .map(|f| f.bytes.clone())
        .ok_or_else(|| not_found(&id))?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}

#[derive(Deserialize)]
struct Line {
    messages: Vec<LineMessage>,
}

#[derive(Deserialize)]
struct LineMessage {
    role: String,
    content: String,
    weight: Option<u8>,
}

/// Reads an uploaded chat fine-tuning file (`{"messages": [...]}` per line) into a
/// training set named after the file, with each conversation's line number; the error
/// names the line.
pub(super) fn training_set(file: &StoredFile) -> Result<(TrainingSet, Vec<usize>), String> {
    let text = std::str::from_utf8(&file.bytes)
        .map_err(|e| format!("{} is not UTF-8 text: {e}", file.filename))?;
    let mut conversations = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = |msg: String| format!("{} line {}: {msg}", file.filename, i + 1);
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
        let mut conv = Vec::with_capacity(parsed.messages.len());
        for m in parsed.messages {
            let role = match m.role.as_str() {
                "system" | "developer" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                other => return Err(at(format!("role `{other}` is not supported"))),
            };
            if m.weight == Some(0) {
                return Err(at(
                    "`weight: 0` (excluding a message from training) is not supported".into(),
                ));
            }
            conv.push(Message::new(role, m.content));
        }
        if !conv.iter().any(|m| m.role == Role::Assistant) {
            return Err(at(
                "the conversation has no assistant message to train on".into()
            ));
        }
        conversations.push(conv);
        lines.push(i + 1);
    }
    if conversations.is_empty() {
        return Err(format!("{} holds no training example", file.filename));
    }
    let name = file
        .filename
        .strip_suffix(".jsonl")
        .unwrap_or(&file.filename);
    Ok((TrainingSet::new(name, conversations), lines))
}
