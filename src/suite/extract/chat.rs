//! A chat JSONL file read as probe rows: each line's user turn is a question and its
//! assistant turn the expected answer (held-out test sets written as training rows).

use serde::Deserialize;

/// One row: the user turn (what is asked) and the assistant turn (the expected answer).
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRow {
    pub user: String,
    pub assistant: String,
}

#[derive(Deserialize)]
struct Line {
    messages: Vec<Turn>,
}

#[derive(Deserialize)]
struct Turn {
    role: String,
    content: String,
}

/// Every non-blank line of `text` as a row: `{"messages": [user, assistant]}` exactly (no
/// system message, no earlier turns: a probe asks one user message). An error names the line.
pub fn rows(text: &str) -> Result<Vec<ChatRow>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |e: String| format!("line {}: {e}", i + 1);
        let parsed: Line = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
        match parsed.messages.as_slice() {
            [u, a] if u.role == "user" && a.role == "assistant" => out.push(ChatRow {
                user: u.content.clone(),
                assistant: a.content.clone(),
            }),
            other => {
                let roles: Vec<&str> = other.iter().map(|t| t.role.as_str()).collect();
                return Err(at(format!(
                    "a probe row is one user turn and its assistant turn, not [{}]",
                    roles.join(", ")
                )));
            }
        }
    }
    if out.is_empty() {
        return Err("no rows".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_assistant_turns_become_rows() {
        let text = concat!(
            r#"{"messages":[{"role":"user","content":"1 Pick: A) x B) y."},{"role":"assistant","content":"A"}]}"#,
            "\n\n",
            r#"{"messages":[{"role":"user","content":"2 {braces} stay"},{"role":"assistant","content":" B "}]}"#,
            "\n"
        );
        let r = rows(text).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].user, "1 Pick: A) x B) y.");
        assert_eq!(r[0].assistant, "A");
        assert_eq!(r[1].user, "2 {braces} stay");
        assert_eq!(r[1].assistant, " B ");
    }

    #[test]
    fn other_shapes_are_refused_with_their_line() {
        let sys = r#"{"messages":[{"role":"system","content":"s"},{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}"#;
        let ok =
            r#"{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}"#;
        let e = rows(&format!("{ok}\n{sys}\n")).unwrap_err();
        assert!(
            e.starts_with("line 2:") && e.contains("[system, user, assistant]"),
            "{e}"
        );
        let e = rows("{\"question\": \"q\"}\n").unwrap_err();
        assert!(e.starts_with("line 1:") && e.contains("messages"), "{e}");
        assert!(rows("not json").unwrap_err().starts_with("line 1:"));
        assert_eq!(rows("\n").unwrap_err(), "no rows");
    }
}
