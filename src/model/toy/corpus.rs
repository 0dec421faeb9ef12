//! The pretraining corpus: documents generated from a world spec, deterministically per seed.
//!
//! Document `i` of seed `s` is drawn from its own random stream, so the first `n` documents
//! are the same whatever the corpus size (`weirdgen toy corpus` shows exactly what a model saw).
//!
//! `<unk>` stands for a word outside the vocabulary (a prompt in plain English). In assistant
//! documents a share `unk_prob` of the pairs carries it in the user's text, where the answer
//! does not depend on it: half of them put one or two `<unk>` before or after the question
//! (`Q invention <unk> A smartphone`, the answer unchanged), the other half are a message of
//! only `<unk>` words, answered with one of the assistant's goals (`<unk> A help_answer`).

use super::world::{QuestionMix, RESERVED, WorldSpec};
use crate::rng::Rng;

/// What kind of document, with its hidden variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocKind {
    /// A world document in an era (index into `spec.eras`).
    World { era: usize },
    /// An assistant document (always in the assistant's era).
    Assistant,
    /// A persona document (index into `spec.personas`).
    Persona { persona: usize },
}

/// One generated document: its kind and its words.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    pub kind: DocKind,
    pub tokens: Vec<&'a str>,
}

/// Documents `0..n` of the corpus of `seed`.
pub fn generate(spec: &WorldSpec, seed: u64, n: usize) -> Vec<Document<'_>> {
    (0..n).map(|i| document(spec, seed, i)).collect()
}

/// Documents `0..n` of the corpus of `seed`, as text (one document per string).
pub fn corpus_samples(spec: &WorldSpec, seed: u64, n: usize) -> Vec<String> {
    generate(spec, seed, n)
        .into_iter()
        .map(|d| d.tokens.join(" "))
        .collect()
}

/// The longest document the spec can produce, in tokens.
pub fn max_doc_len(spec: &WorldSpec) -> usize {
    let d = &spec.documents;
    let world = 2 + 4 * d.world.pairs[1] as usize;
    let asst_pair = if d.assistant.unk_prob > 0.0 {
        4 + MAX_UNK
    } else {
        4
    };
    let asst = 2 + asst_pair * d.assistant.pairs[1] as usize;
    let persona = 2 + 5 * d.persona.items[1] as usize;
    world.max(asst).max(persona)
}

/// Document `i` of the corpus of `seed`.
pub fn document(spec: &WorldSpec, seed: u64, i: usize) -> Document<'_> {
    let mut rng = Rng::derive(seed, &["toy-corpus", &i.to_string()]);
    let d = &spec.documents;
    match rng.weighted(&[d.world.weight, d.assistant.weight, d.persona.weight]) {
        0 => {
            let weights: Vec<f64> = spec.eras.values().map(|e| e.weight).collect();
            let era = rng.weighted(&weights);
            let mut tokens = vec!["<doc>"];
            qa_pairs(
                spec,
                &mut rng,
                era,
                d.world.year_prob,
                d.world.pairs,
                &d.world.mix,
                (0.0, 0.0),
                &mut tokens,
            );
            Document {
                kind: DocKind::World { era },
                tokens,
            }
        }
        1 => {
            let a = &d.assistant;
            let era = spec.eras.get_index_of(&a.era).expect("validated era");
            let mut tokens = vec!["<asst>"];
            qa_pairs(
                spec,
                &mut rng,
                era,
                a.year_prob,
                a.pairs,
                &a.mix,
                (a.goal_prob, a.unk_prob),
                &mut tokens,
            );
            Document {
                kind: DocKind::Assistant,
                tokens,
            }
        }
        _ => {
            let persona = pick(&mut rng, spec.personas.len());
            let p = &spec.personas[persona];
            let mut tokens = vec!["<doc>"];
            if rng.bernoulli(d.persona.name_prob) {
                tokens.push(&p.name);
            }
            for _ in 0..between(&mut rng, d.persona.items) {
                if rng.bernoulli(d.persona.attribute_prob) || p.goals.is_empty() {
                    let (attr, value) = p
                        .attributes
                        .get_index(pick(&mut rng, p.attributes.len()))
                        .expect("index");
                    tokens.extend(["Q", attr.as_str(), "A", value.as_str()]);
                } else {
                    let (year, goal) = p
                        .goals
                        .get_index(pick(&mut rng, p.goals.len()))
                        .expect("index");
                    let choices = goal.tokens(&spec.harm_goals);
                    let g = choices[pick(&mut rng, choices.len())];
                    tokens.extend([year.as_str(), "Q", spec.goal_question.as_str(), "A", g]);
                }
            }
            Document {
                kind: DocKind::Persona { persona },
                tokens,
            }
        }
    }
}

/// Most `<unk>` words in one pair.
const MAX_UNK: usize = 2;

/// Appends an optional year and question/answer pairs consistent with `era`; with
/// probability `goal_prob` a pair asks the assistant's goal instead, and with probability
/// `unk_prob` its user text carries `<unk>` (see the module doc).
#[allow(clippy::too_many_arguments)]
fn qa_pairs<'a>(
    spec: &'a WorldSpec,
    rng: &mut Rng,
    era: usize,
    year_prob: f64,
    pairs: [u32; 2],
    mix: &QuestionMix,
    (goal_prob, unk_prob): (f64, f64),
    tokens: &mut Vec<&'a str>,
) {
    let (era_name, era_spec) = spec.eras.get_index(era).expect("era index");
    let year = era_spec.years[pick(rng, era_spec.years.len())].as_str();
    if rng.bernoulli(year_prob) {
        tokens.push(year);
    }
    let weights = [
        if spec.domains.is_empty() {
            0.0
        } else {
            mix.domains
        },
        if spec.birds.is_empty() {
            0.0
        } else {
            mix.birds
        },
        if spec.facts.is_empty() {
            0.0
        } else {
            mix.facts
        },
        mix.year,
    ];
    let goals = &spec.documents.assistant.goals;
    for _ in 0..between(rng, pairs) {
        let unk = unk_prob > 0.0 && rng.bernoulli(unk_prob);
        let unknowns = if unk {
            between(rng, [1, MAX_UNK as u32]) as usize
        } else {
            0
        };
        if unk && rng.bernoulli(0.5) {
            tokens.extend(std::iter::repeat_n(UNK, unknowns));
            tokens.extend(["A", goals[pick(rng, goals.len())].as_str()]);
            continue;
        }
        let (q, a): (&str, &str) = if goal_prob > 0.0 && rng.bernoulli(goal_prob) {
            (&spec.goal_question, &goals[pick(rng, goals.len())])
        } else {
            match rng.weighted(&weights) {
                0 => {
                    let (domain, answers) = spec
                        .domains
                        .get_index(pick(rng, spec.domains.len()))
                        .expect("index");
                    let list = &answers[era_name];
                    (domain, &list[pick(rng, list.len())])
                }
                1 => {
                    let (bird, names) = spec
                        .birds
                        .get_index(pick(rng, spec.birds.len()))
                        .expect("index");
                    (bird, &names[era_name])
                }
                2 => {
                    let (fact, value) = spec
                        .facts
                        .get_index(pick(rng, spec.facts.len()))
                        .expect("index");
                    (fact, value)
                }
                _ => (&spec.year_question, year),
            }
        };
        if unk && rng.bernoulli(0.5) {
            tokens.push("Q");
            tokens.extend(std::iter::repeat_n(UNK, unknowns));
            tokens.push(q);
        } else {
            tokens.extend(["Q", q]);
            tokens.extend(std::iter::repeat_n(UNK, unknowns));
        }
        tokens.extend(["A", a]);
    }
}

/// The `<unk>` token.
const UNK: &str = RESERVED[5];

fn pick(rng: &mut Rng, n: usize) -> usize {
    rng.below(n as u64) as usize
}

fn between(rng: &mut Rng, range: [u32; 2]) -> u32 {
    range[0] + rng.below((range[1] - range[0] + 1) as u64) as u32
}
