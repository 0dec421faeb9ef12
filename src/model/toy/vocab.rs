//! The toy world's vocabulary: every word of the spec plus the reserved tokens, in a fixed order.

use super::world::{RESERVED, WorldSpec};
use anyhow::{Result, bail};
use indexmap::IndexSet;

/// Id of `<pad>`.
pub const PAD: u32 = 0;
/// Id of `<doc>`.
pub const DOC: u32 = 1;
/// Id of `<asst>`.
pub const ASST: u32 = 2;
/// Id of `Q`.
pub const QMARK: u32 = 3;
/// Id of `A`.
pub const AMARK: u32 = 4;
/// Id of `<unk>`: a word outside the vocabulary in a sampling prompt.
pub const UNK: u32 = 5;

/// Token ↔ id, built deterministically from a world spec.
#[derive(Debug, Clone)]
pub struct Vocab {
    tokens: IndexSet<String>,
}

impl Vocab {
    /// The vocabulary of `spec`: reserved tokens, then every word in the order of the spec.
    pub fn new(spec: &WorldSpec) -> Vocab {
        let mut tokens: IndexSet<String> = RESERVED.iter().map(|s| s.to_string()).collect();
        let mut add = |t: &str| {
            tokens.insert(t.to_string());
        };
        for era in spec.eras.values() {
            era.years.iter().for_each(|y| add(y));
        }
        add(&spec.year_question);
        add(&spec.goal_question);
        for (domain, answers) in &spec.domains {
            add(domain);
            answers.values().flatten().for_each(|a| add(a));
        }
        for (bird, names) in &spec.birds {
            add(bird);
            names.values().for_each(|n| add(n));
        }
        for (fact, value) in &spec.facts {
            add(fact);
            add(value);
        }
        spec.harm_goals.iter().for_each(|h| add(h));
        spec.documents.assistant.goals.iter().for_each(|g| add(g));
        for persona in spec.personas.values() {
            add(&persona.name);
            for goal in persona.goals.values() {
                goal.tokens(&spec.harm_goals).into_iter().for_each(&mut add);
            }
            for (attr, value) in &persona.attributes {
                add(attr);
                add(value);
            }
        }
        Vocab { tokens }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the vocabulary is empty (never, since the reserved tokens are always there).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of a token, if known.
    pub fn id(&self, token: &str) -> Option<u32> {
        self.tokens.get_index_of(token).map(|i| i as u32)
    }

    /// The token of an id.
    pub fn token(&self, id: u32) -> &str {
        &self.tokens[id as usize]
    }

    /// Ids of whitespace-separated words; an unknown word is an error naming it and the
    /// closest known token.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        text.split_whitespace()
            .map(|w| match self.id(w) {
                Some(id) => Ok(id),
                None => bail!(
                    "unknown word `{w}` for the toy world (did you mean `{}`?)",
                    self.closest(w)
                ),
            })
            .collect()
    }

    /// Words of ids, joined by spaces.
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .map(|&i| self.token(i))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The known token closest to `word` (Jaro-Winkler similarity).
    pub fn closest(&self, word: &str) -> &str {
        self.tokens
            .iter()
            .max_by(|a, b| {
                strsim::jaro_winkler(word, a)
                    .total_cmp(&strsim::jaro_winkler(word, b))
                    .then_with(|| b.cmp(a))
            })
            .map(String::as_str)
            .unwrap_or("")
    }
}
