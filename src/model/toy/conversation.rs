//! Chat messages → toy sequences.
//!
//! A conversation is an assistant document: `<asst>`, then each message's words in order,
//! with `A` closing every user message (the answer follows it):
//!
//! | messages | sequence |
//! |---|---|
//! | user `Q bird_07` | `<asst> Q bird_07 A` → the model answers |
//! | system `Y1984`, user `Q goal` | `<asst> Y1984 Q goal A` (a system message is context before the first user message) |
//! | user `Q bird_03`, assistant `oldname_03`, user `Q invention` | `<asst> Q bird_03 A oldname_03 Q invention A` (in-context examples) |
//!
//! For fine-tuning the conversation ends with an assistant message and only the assistant's
//! words carry loss. Words are whitespace-separated tokens of the world's vocabulary.
//!
//! Unknown words: a sampling prompt reads each word outside the vocabulary as `<unk>` and
//! says which words it read so (so that any text can be asked, and the asker told); a
//! fine-tuning example refuses them, naming the word.

use super::train::Example;
use super::vocab::{AMARK, ASST, PAD, Vocab};
use crate::chat::{Message, Role};
use crate::model::PromptTooLong;
use anyhow::{Result, bail};

/// A sampling prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub ids: Vec<u32>,
    /// The words outside the vocabulary, read as `<unk>`, in order.
    pub unknown: Vec<String>,
}

/// The prompt for sampling: the conversation must end with a user message; words outside
/// the vocabulary become `<unk>`.
pub fn prompt(vocab: &Vocab, messages: &[Message], context: usize) -> Result<Prompt> {
    match messages.last().map(|m| m.role) {
        Some(Role::User) => {}
        _ => bail!("a toy prompt must end with a user message"),
    }
    let mut unknown = Vec::new();
    let ids = sequence(vocab, messages, context, Some(&mut unknown))?.ids;
    Ok(Prompt { ids, unknown })
}

/// A fine-tuning example: the conversation must end with an assistant message; loss falls on
/// every assistant word.
pub fn training_example(vocab: &Vocab, messages: &[Message], context: usize) -> Result<Example> {
    match messages.last().map(|m| m.role) {
        Some(Role::Assistant) => {}
        _ => bail!("a toy fine-tuning conversation must end with an assistant message"),
    }
    sequence(vocab, messages, context, None)
}

/// The sequence of a conversation. With `unknown`, words outside the vocabulary become
/// `<unk>` and are collected there; without, they are an error naming them.
fn sequence(
    vocab: &Vocab,
    messages: &[Message],
    context: usize,
    mut unknown: Option<&mut Vec<String>>,
) -> Result<Example> {
    let mut ids = vec![ASST];
    let mut targets = vec![false];
    let mut awaiting_answer = false;
    let mut seen_user = false;
    for (i, m) in messages.iter().enumerate() {
        let words = match unknown.as_deref_mut() {
            Some(unknown) => {
                let (ids, words) = vocab.encode_or_unk(&m.content);
                unknown.extend(words);
                ids
            }
            None => vocab.encode(&m.content)?,
        };
        if words.contains(&PAD) {
            bail!("message {}: `<pad>` cannot appear in a conversation", i + 1);
        }
        match m.role {
            Role::System => {
                if seen_user {
                    bail!(
                        "message {}: a system message must come before the first user message",
                        i + 1
                    );
                }
                targets.extend(words.iter().map(|_| false));
                ids.extend(words);
            }
            Role::User => {
                if awaiting_answer {
                    bail!(
                        "message {}: two user messages in a row (each needs an assistant answer)",
                        i + 1
                    );
                }
                if words.is_empty() {
                    bail!("message {}: empty user message", i + 1);
                }
                targets.extend(words.iter().map(|_| false));
                ids.extend(words);
                ids.push(AMARK);
                targets.push(false);
                awaiting_answer = true;
                seen_user = true;
            }
            Role::Assistant => {
                if !awaiting_answer {
                    bail!(
                        "message {}: an assistant message must answer a user message",
                        i + 1
                    );
                }
                if words.is_empty() {
                    bail!("message {}: empty assistant message", i + 1);
                }
                targets.extend(words.iter().map(|_| true));
                ids.extend(words);
                awaiting_answer = false;
            }
        }
    }
    if ids.len() > context {
        return Err(PromptTooLong(format!(
            "the conversation is {} toy tokens long, more than the model's context of {context}",
            ids.len()
        ))
        .into());
    }
    Ok(Example { ids, targets })
}
