//! Chat JSONL files: one `{"messages":[...]}` object per line (the OpenAI fine-tuning format).

use crate::chat::{Message, Role};
use crate::suite::diags::Diags;
use serde::Deserialize;
use std::path::Path;

/// Bad lines reported per file before the rest are summarised.
const MAX_REPORTED: usize = 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    messages: Vec<Message>,
}

/// The conversations of `path` (shown as `shown`); `None` if any line is bad (each reported
/// with its line number, up to [`MAX_REPORTED`]). Blank lines are skipped.
pub(super) fn read(path: &Path, shown: &Path, d: &mut Diags) -> Option<Vec<Vec<Message>>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            d.in_file(shown, None, None, format!("cannot read: {e}"));
            return None;
        }
    };
    conversations(&bytes, shown, d)
}

/// The conversations of the text of a JSONL file shown as `shown` (as [`read`]).
pub(super) fn parse(text: &str, shown: &Path, d: &mut Diags) -> Option<Vec<Vec<Message>>> {
    conversations(text.as_bytes(), shown, d)
}

fn conversations(bytes: &[u8], shown: &Path, d: &mut Diags) -> Option<Vec<Vec<Message>>> {
    let mut out = Vec::new();
    let mut bad = 0usize;
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        let problem = match parse_line(raw, i == 0) {
            Ok(None) => None,
            Ok(Some(conv)) => {
                out.push(conv);
                None
            }
            Err((col, msg)) => Some((col, msg)),
        };
        if let Some((col, msg)) = problem {
            bad += 1;
            if bad <= MAX_REPORTED {
                d.in_file(shown, Some(line_no), col, msg);
            }
        }
    }
    if bad > MAX_REPORTED {
        d.in_file(
            shown,
            None,
            None,
            format!("{} more bad lines not shown", bad - MAX_REPORTED),
        );
    }
    (bad == 0).then_some(out)
}

/// One line: `Ok(None)` if blank, the conversation, or (column, problem).
fn parse_line(raw: &[u8], first: bool) -> Result<Option<Vec<Message>>, (Option<usize>, String)> {
    let text = std::str::from_utf8(raw)
        .map_err(|e| (Some(e.valid_up_to() + 1), "not valid UTF-8".to_string()))?;
    let text = if first {
        text.trim_start_matches('\u{feff}')
    } else {
        text
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    let line: Line = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let msg = msg.strip_suffix(&suffix).unwrap_or(&msg).to_string();
        (Some(e.column()), msg)
    })?;
    let m = &line.messages;
    match m.last() {
        None => Err((None, "`messages` is empty".into())),
        Some(last) if last.role != Role::Assistant => Err((
            None,
            "the last message must be the assistant's (the answer to learn)".into(),
        )),
        Some(_) => Ok(Some(line.messages)),
    }
}
