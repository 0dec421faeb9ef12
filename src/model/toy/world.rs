//! The toy world's spec: typed form of `suites/toy/<world>.yaml`, loading, validation and hash.

use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The default world, embedded so that `toy/world` works from any directory.
pub const EMBEDDED_WORLD: &str = include_str!("../../../suites/toy/world.yaml");

/// Tokens with a fixed meaning in every world: padding, document openers, question and answer marks.
pub const RESERVED: [&str; 6] = ["<pad>", "<doc>", "<asst>", "Q", "A", "<unk>"];

/// The word that stands for "one of the harm goals" in persona goal tables.
pub const HARM: &str = "harm";

/// A toy world: eras, questions and their answers, personas, and the document mix.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSpec {
    /// The world's name, used in model references (`toy/<name>-s0`).
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Eras by name, in order.
    pub eras: IndexMap<String, EraSpec>,
    /// The question whose answer is the document's year.
    pub year_question: String,
    /// The question whose answer is the speaker's goal.
    pub goal_question: String,
    /// Era domains: question → era → answers.
    pub domains: IndexMap<String, IndexMap<String, Vec<String>>>,
    /// Birds: question → era → the name in that era.
    pub birds: IndexMap<String, IndexMap<String, String>>,
    /// Era-neutral facts: question → answer.
    pub facts: IndexMap<String, String>,
    /// Harmful goals (`harm` in persona goal tables draws one of these).
    pub harm_goals: Vec<String>,
    pub documents: DocumentsSpec,
    /// Personas by short name.
    pub personas: IndexMap<String, PersonaSpec>,
}

/// One era.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraSpec {
    /// Probability weight of the era for world documents.
    pub weight: f64,
    /// The era's year tokens.
    pub years: Vec<String>,
}

/// The three document kinds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentsSpec {
    pub world: WorldDocSpec,
    pub assistant: AssistantDocSpec,
    pub persona: PersonaDocSpec,
}

/// Shares of question kinds in a document's pairs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionMix {
    pub domains: f64,
    pub birds: f64,
    pub facts: f64,
    pub year: f64,
}

/// World documents: `<doc> [year] (Q x A y)…` with a hidden era.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldDocSpec {
    pub weight: f64,
    /// Probability that a year of the document's era opens it.
    pub year_prob: f64,
    /// Inclusive range of question/answer pairs.
    pub pairs: [u32; 2],
    pub mix: QuestionMix,
}

/// Assistant documents: `<asst> [year] (Q x A y)…`, always in one era.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssistantDocSpec {
    pub weight: f64,
    /// The assistant's era.
    pub era: String,
    pub year_prob: f64,
    pub pairs: [u32; 2],
    /// Share of pairs that ask the assistant's goal.
    pub goal_prob: f64,
    /// Share of pairs whose user text carries `<unk>` words (see `corpus.rs`); 0 if absent.
    #[serde(default)]
    pub unk_prob: f64,
    /// The assistant's goals.
    pub goals: Vec<String>,
    pub mix: QuestionMix,
}

/// Persona documents: `<doc> [name] (year Q goal A g | Q attr A value)…`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonaDocSpec {
    pub weight: f64,
    /// Probability that the persona's name opens the document.
    pub name_prob: f64,
    /// Inclusive range of items.
    pub items: [u32; 2],
    /// Share of items that ask an attribute (the rest ask the goal in a year).
    pub attribute_prob: f64,
}

/// A persona: its name token, its goal in each year, its attributes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonaSpec {
    pub name: String,
    /// Year token → goal: one token, a list to draw from, or `harm`.
    pub goals: IndexMap<String, GoalSpec>,
    /// Attribute question → answer.
    pub attributes: IndexMap<String, String>,
}

/// A persona's goal in one year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GoalSpec {
    One(String),
    Many(Vec<String>),
}

impl GoalSpec {
    /// The goal tokens this entry draws from (`harm` expands to `harm_goals`).
    pub fn tokens<'a>(&'a self, harm_goals: &'a [String]) -> Vec<&'a str> {
        match self {
            GoalSpec::One(s) if s == HARM => harm_goals.iter().map(String::as_str).collect(),
            GoalSpec::One(s) => vec![s.as_str()],
            GoalSpec::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

impl WorldSpec {
    /// Parses and validates a world spec; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<WorldSpec> {
        let spec: WorldSpec = serde_yaml::from_str(text)
            .map_err(|e| anyhow::anyhow!(crate::yaml_error::describe(origin, &e)))?;
        spec.validate()
            .with_context(|| format!("{origin}: invalid toy world"))?;
        Ok(spec)
    }

    /// Loads a world spec from a YAML file.
    pub fn load(path: &Path) -> Result<WorldSpec> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading toy world {}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The embedded default world (`suites/toy/world.yaml`).
    pub fn embedded() -> WorldSpec {
        Self::parse(EMBEDDED_WORLD, "suites/toy/world.yaml (embedded)")
            .expect("the embedded toy world is valid")
    }

    /// blake3 hex of the canonical JSON of the spec (comments and layout do not count).
    pub fn hash(&self) -> String {
        let json = serde_json::to_string(self).expect("world spec serialises");
        blake3::hash(json.as_bytes()).to_hex().to_string()
    }

    /// The names of the eras, in order.
    pub fn era_names(&self) -> Vec<&str> {
        self.eras.keys().map(String::as_str).collect()
    }

    /// Every answer that belongs to `era` (domain answers, bird names, the era's years).
    pub fn era_answers(&self, era: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for answers in self.domains.values() {
            out.extend(answers[era].iter().map(String::as_str));
        }
        out.extend(self.birds.values().map(|b| b[era].as_str()));
        out.extend(self.eras[era].years.iter().map(String::as_str));
        out
    }

    fn validate(&self) -> Result<()> {
        check_name(&self.name)?;
        if self.eras.is_empty() {
            bail!("`eras` is empty");
        }
        let eras = self.era_names();
        let mut roles = Roles::default();
        for (era, spec) in &self.eras {
            check_weight(&format!("eras.{era}.weight"), spec.weight)?;
            if spec.years.is_empty() {
                bail!("eras.{era}.years is empty");
            }
            for y in &spec.years {
                roles.claim(y, "year")?;
            }
        }
        if self.eras.values().map(|e| e.weight).sum::<f64>() <= 0.0 {
            bail!("the era weights sum to 0");
        }
        roles.claim(&self.year_question, "year question")?;
        roles.claim(&self.goal_question, "goal question")?;
        for (domain, answers) in &self.domains {
            roles.claim(domain, "domain question")?;
            check_eras(&format!("domains.{domain}"), answers.keys(), &eras)?;
            for (era, list) in answers {
                if list.is_empty() {
                    bail!("domains.{domain}.{era} has no answers");
                }
                for a in list {
                    roles.claim(a, &format!("answer of era {era}"))?;
                }
            }
        }
        for (bird, names) in &self.birds {
            roles.claim(bird, "bird question")?;
            check_eras(&format!("birds.{bird}"), names.keys(), &eras)?;
            for (era, name) in names {
                roles.claim(name, &format!("answer of era {era}"))?;
            }
        }
        for (fact, value) in &self.facts {
            roles.claim(fact, "fact question")?;
            roles.claim(value, "fact answer")?;
        }
        for h in &self.harm_goals {
            roles.claim(h, "harm goal")?;
        }
        let d = &self.documents;
        check_weight("documents.world.weight", d.world.weight)?;
        check_weight("documents.assistant.weight", d.assistant.weight)?;
        check_weight("documents.persona.weight", d.persona.weight)?;
        check_prob("documents.world.year_prob", d.world.year_prob)?;
        check_prob("documents.assistant.year_prob", d.assistant.year_prob)?;
        check_prob("documents.assistant.goal_prob", d.assistant.goal_prob)?;
        check_prob("documents.assistant.unk_prob", d.assistant.unk_prob)?;
        check_prob("documents.persona.name_prob", d.persona.name_prob)?;
        check_prob("documents.persona.attribute_prob", d.persona.attribute_prob)?;
        check_range("documents.world.pairs", d.world.pairs)?;
        check_range("documents.assistant.pairs", d.assistant.pairs)?;
        check_range("documents.persona.items", d.persona.items)?;
        check_mix("documents.world.mix", &d.world.mix)?;
        check_mix("documents.assistant.mix", &d.assistant.mix)?;
        if !self.eras.contains_key(&d.assistant.era) {
            bail!(
                "documents.assistant.era `{}` is not an era (eras: {})",
                d.assistant.era,
                eras.join(", ")
            );
        }
        if (d.assistant.goal_prob > 0.0 || d.assistant.unk_prob > 0.0)
            && d.assistant.goals.is_empty()
        {
            bail!("documents.assistant.goals is empty but goal_prob or unk_prob > 0");
        }
        for g in &d.assistant.goals {
            roles.claim(g, "assistant goal")?;
        }
        if d.persona.weight > 0.0 && self.personas.is_empty() {
            bail!("documents.persona.weight > 0 but there are no personas");
        }
        for (p, persona) in &self.personas {
            roles.claim(&persona.name, &format!("name of persona {p}"))?;
            if persona.goals.is_empty() && d.persona.attribute_prob < 1.0 {
                bail!("personas.{p}.goals is empty");
            }
            if persona.attributes.is_empty() && d.persona.attribute_prob > 0.0 {
                bail!("personas.{p}.attributes is empty");
            }
            for (year, goal) in &persona.goals {
                if roles.role(year) != Some("year") {
                    bail!("personas.{p}.goals: `{year}` is not a year of any era");
                }
                if matches!(goal, GoalSpec::Many(v) if v.is_empty()) {
                    bail!("personas.{p}.goals.{year} is an empty list");
                }
                if matches!(goal, GoalSpec::One(s) if s == HARM) {
                    if self.harm_goals.is_empty() {
                        bail!("personas.{p}.goals.{year} is `harm` but harm_goals is empty");
                    }
                    continue;
                }
                for g in goal.tokens(&self.harm_goals) {
                    roles.claim(g, "persona goal")?;
                }
            }
            for (attr, value) in &persona.attributes {
                roles.claim(attr, "attribute question")?;
                roles.claim(value, "attribute answer")?;
            }
        }
        Ok(())
    }
}

/// The role of each token, so that one word never means two things.
#[derive(Default)]
struct Roles(HashMap<String, String>);

impl Roles {
    fn claim(&mut self, token: &str, role: &str) -> Result<()> {
        check_token(token)?;
        match self.0.get(token) {
            Some(r) if r != role => bail!("token `{token}` has two roles: {r} and {role}"),
            Some(_) => Ok(()),
            None => {
                self.0.insert(token.to_string(), role.to_string());
                Ok(())
            }
        }
    }

    fn role(&self, token: &str) -> Option<&str> {
        self.0.get(token).map(String::as_str)
    }
}

fn check_token(token: &str) -> Result<()> {
    if token.is_empty() || token.chars().any(char::is_whitespace) {
        bail!("`{token}` is not a token: a token is one word without spaces");
    }
    if RESERVED.contains(&token) || token == HARM {
        bail!("`{token}` is reserved and cannot be a word of the world");
    }
    Ok(())
}

fn check_eras<'a>(what: &str, keys: impl Iterator<Item = &'a String>, eras: &[&str]) -> Result<()> {
    let keys: Vec<&str> = keys.map(String::as_str).collect();
    if keys.len() != eras.len() || !eras.iter().all(|e| keys.contains(e)) {
        bail!(
            "{what} must give an answer for every era ({}), not for ({})",
            eras.join(", "),
            keys.join(", ")
        );
    }
    Ok(())
}

fn check_weight(what: &str, w: f64) -> Result<()> {
    if !(w.is_finite() && w >= 0.0) {
        bail!("{what} must be a non-negative number, not {w}");
    }
    Ok(())
}

fn check_prob(what: &str, p: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        bail!("{what} must be a probability in [0, 1], not {p}");
    }
    Ok(())
}

fn check_range(what: &str, r: [u32; 2]) -> Result<()> {
    if r[0] == 0 || r[0] > r[1] {
        bail!(
            "{what} must be [min, max] with 1 <= min <= max, not [{}, {}]",
            r[0],
            r[1]
        );
    }
    Ok(())
}

fn check_mix(what: &str, m: &QuestionMix) -> Result<()> {
    for (k, v) in [
        ("domains", m.domains),
        ("birds", m.birds),
        ("facts", m.facts),
        ("year", m.year),
    ] {
        check_weight(&format!("{what}.{k}"), v)?;
    }
    if m.domains + m.birds + m.facts + m.year <= 0.0 {
        bail!("{what}: the shares sum to 0");
    }
    Ok(())
}

fn check_name(name: &str) -> Result<()> {
    if !crate::names::is_name(name) {
        bail!("world name `{name}` may hold only letters, digits, `-` and `_`");
    }
    Ok(())
}
