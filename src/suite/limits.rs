//! Bounds on what a suite file may ask for, checked before anything grows with it: the file's
//! size, its nesting and alias expansion (before the YAML is deserialised), then the cells,
//! replicas and samples it declares (before any cell is expanded). Each error names its limit
//! and points at the line and column where the file crosses it.

use super::diags::Diags;
use super::error::{Diagnostic, KeyPath, SuiteError};
use super::types::{ProbeSpec, Suite, VarValues};
use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// The largest suite file, in bytes.
pub(crate) const MAX_FILE_BYTES: usize = 4 << 20;
/// The deepest nesting of mappings and sequences.
pub(crate) const MAX_DEPTH: usize = 64;
/// The most YAML nodes once every alias is expanded.
pub(crate) const MAX_NODES: usize = 2_000_000;
/// The most cells one probe expands to.
pub(crate) const MAX_PROBE_CELLS: u128 = 100_000;
/// The most cells of all probes together.
pub(crate) const MAX_CELLS: u128 = 200_000;
/// The most replicas (or seeds) of one arm.
pub(crate) const MAX_REPLICAS: u64 = 1_000;
/// The most samples drawn per cell.
pub(crate) const MAX_SAMPLES: u32 = 100_000;
/// The most problems reported for one suite (the rest are counted).
pub(crate) const MAX_DIAGNOSTICS: usize = 50;

/// Reads the suite at `path`, refusing a file over [`MAX_FILE_BYTES`] without reading it all.
pub(crate) fn read(path: &Path) -> Result<String, SuiteError> {
    let cannot =
        |e: std::io::Error| SuiteError::whole_file(path, format!("cannot read the suite: {e}"));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() > MAX_FILE_BYTES {
        let (line, column) = position(&bytes, MAX_FILE_BYTES);
        return Err(at(
            path,
            line,
            column,
            format!("the file exceeds the limit `file size` ({MAX_FILE_BYTES} bytes) here"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let (line, column) = position(e.as_bytes(), e.utf8_error().valid_up_to());
        at(path, line, column, "cannot read the suite: it is not UTF-8")
    })
}

/// Refuses flow collections (`[`, `{`) nested deeper than [`MAX_DEPTH`] before the YAML parser
/// sees them (its time grows with the square of their depth). A lexical scan: quoted text and
/// comments are skipped, and a bracket counts only where a collection can start.
pub(crate) fn flow_depth(path: &Path, text: &str) -> Result<(), SuiteError> {
    let (mut depth, mut line, mut column) = (0usize, 1usize, 0usize);
    let mut prev = '\n'; // the last character outside quotes that is not a space
    let mut spaced = true; // whether a space (or the line's start) came just before
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut comment = false;
    for c in text.chars() {
        column += 1;
        if c == '\n' {
            (line, column, comment, prev, spaced) = (line + 1, 0, false, '\n', true);
            continue;
        }
        if comment {
            continue;
        }
        if let Some(q) = quote {
            match (c, escaped) {
                ('\\', false) if q == '"' => escaped = true,
                (c, false) if c == q => quote = None,
                _ => escaped = false,
            }
            continue;
        }
        if c == ' ' || c == '\t' {
            spaced = true;
            continue;
        }
        let starts_node = matches!(prev, '\n' | '-' | ':' | '[' | '{' | ',' | '?');
        match c {
            '#' if spaced => comment = true,
            '"' | '\'' if starts_node => quote = Some(c),
            '[' | '{' if starts_node => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(at(path, line, column, depth_message()));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        (prev, spaced) = (c, false);
    }
    Ok(())
}

/// Walks the whole document as the YAML parser gives it, aliases expanded, refusing more than
/// [`MAX_NODES`] nodes, nesting deeper than [`MAX_DEPTH`] and a key repeated in a mapping
/// (pointing at the repeat). Syntax errors are found here too.
pub(crate) fn walk(text: &str) -> Result<(), serde_yaml::Error> {
    let mut b = Budget { nodes: 0, depth: 0 };
    Node { b: &mut b }
        .deserialize(serde_yaml::Deserializer::from_str(text))
        .map_err(|e| {
            // serde_yaml's own bound on alias repetition (lower than ours in a small file)
            // comes without a position: say which limit it is.
            match e.to_string().starts_with("repetition limit exceeded") {
                true => de::Error::custom(nodes_message()),
                false => e,
            }
        })
}

fn nodes_message() -> String {
    format!(
        "the file exceeds the limit `expanded nodes` ({MAX_NODES} values once every alias `*name` is replaced by its anchor's content)"
    )
}

fn depth_message() -> String {
    format!("nesting exceeds the limit `nesting depth` ({MAX_DEPTH} levels)")
}

/// Nodes seen so far and the current depth.
struct Budget {
    nodes: usize,
    depth: usize,
}

impl Budget {
    fn node<E: de::Error>(&mut self) -> Result<(), E> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(E::custom(nodes_message()));
        }
        Ok(())
    }

    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        self.node()?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(E::custom(depth_message()));
        }
        Ok(())
    }
}

/// Any node: counted, its children walked.
struct Node<'b> {
    b: &'b mut Budget,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.b.enter()?;
        while seq.next_element_seed(Node { b: self.b })?.is_some() {}
        self.b.depth -= 1;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.b.enter()?;
        let mut seen = HashSet::new();
        while map
            .next_key_seed(Key {
                b: self.b,
                seen: &mut seen,
            })?
            .is_some()
        {
            map.next_value_seed(Node { b: self.b })?;
        }
        self.b.depth -= 1;
        Ok(())
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let (_, variant) = data.variant::<de::IgnoredAny>()?;
        variant.newtype_variant_seed(Node { b: self.b })
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.b.node()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.b.node()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.b.node()
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.b.node()
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.b.node()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.b.node()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.b.node()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.b.node()
    }
}

/// A mapping key: counted, and refused when the mapping already has it. The error is raised
/// while the key itself is read, so it is located at the repeat.
struct Key<'b, 's> {
    b: &'b mut Budget,
    seen: &'s mut HashSet<String>,
}

impl Key<'_, '_> {
    fn scalar<E: de::Error>(self, kind: char, text: &str) -> Result<(), E> {
        self.b.node()?;
        if !self.seen.insert(format!("{kind}{text}")) {
            return Err(E::custom(format!("duplicate key `{text}`")));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar('s', v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar('n', &v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar('n', &v.to_string())
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<(), E> {
        self.scalar('n', &v.to_string())
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<(), E> {
        self.scalar('n', &v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar('f', &v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar('b', &v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar('u', "null")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Node { b: self.b }.visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        Node { b: self.b }.visit_map(map)
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        Node { b: self.b }.visit_enum(data)
    }
}

/// Checks the declared sizes: cells per probe and in all, replicas and seeds per arm, samples
/// per cell. Nothing is expanded; counts are computed from the declarations. `text` is the
/// suite's YAML, to locate the problems.
pub(crate) fn check(suite: &Suite, path: &Path, text: &str) -> Result<(), SuiteError> {
    let mut diags = Diags::new(path);
    let d = &mut diags;
    let root = KeyPath::root();
    let samples = |key: &KeyPath, n: Option<u32>, d: &mut Diags| {
        if let Some(n) = n.filter(|n| *n > MAX_SAMPLES) {
            d.at(
                key,
                format!("{n} exceeds the limit `samples` ({MAX_SAMPLES} per cell)"),
            );
        }
    };
    samples(
        &root.key("sampling").key("samples"),
        Some(suite.sampling.samples),
        d,
    );
    let mut total: u128 = 0;
    for (name, p) in &suite.probes {
        let key = root.key("probes").key(name.as_str());
        samples(&key.key("samples"), p.samples, d);
        let n = probe_cells(p);
        if n > MAX_PROBE_CELLS {
            d.at(
                &key,
                format!("{n} cells exceed the limit `cells per probe` ({MAX_PROBE_CELLS})"),
            );
        }
        total = total.saturating_add(n);
    }
    if total > MAX_CELLS {
        d.at(
            &root.key("probes"),
            format!("{total} cells in all exceed the limit `total cells` ({MAX_CELLS})"),
        );
    }
    for (name, a) in &suite.arms {
        let key = root.key("arms").key(name.as_str());
        if let Some(r) = a.replicas.filter(|r| u64::from(*r) > MAX_REPLICAS) {
            d.at(
                &key.key("replicas"),
                format!("{r} exceeds the limit `replicas` ({MAX_REPLICAS} per arm)"),
            );
        }
        for (list, len) in [
            ("seeds", a.seeds.as_ref().map(Vec::len)),
            ("models", a.models.as_ref().map(Vec::len)),
        ] {
            if let Some(n) = len.filter(|n| *n as u64 > MAX_REPLICAS) {
                d.at(
                    &key.key(list),
                    format!("{n} {list} exceed the limit `replicas` ({MAX_REPLICAS} per arm)"),
                );
            }
        }
    }
    diags.into_error(text).map_or(Ok(()), Err)
}

/// The number of cells a probe expands to: cases × the `vars` grid × wordings.
fn probe_cells(p: &ProbeSpec) -> u128 {
    let cases = p.cases.as_ref().map_or(1, Vec::len) as u128;
    let texts = match (&p.question, &p.paraphrases) {
        (Some(_), _) => 1,
        (None, Some(ps)) => ps.len() as u128,
        (None, None) => 0,
    };
    p.vars
        .values()
        .map(value_count)
        .fold(cases.saturating_mul(texts), u128::saturating_mul)
}

/// The number of values of a variable, without listing them.
fn value_count(v: &VarValues) -> u128 {
    match v {
        VarValues::List(vals) => vals.len() as u128,
        VarValues::Range { from, to, step } if *step > 0 && from <= to => {
            ((i128::from(*to) - i128::from(*from)) / i128::from(*step) + 1) as u128
        }
        VarValues::Range { .. } => 0,
    }
}

/// The 1-based (line, column) of byte `offset` in `bytes` (columns count characters).
fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// A single diagnostic at a line and column of the suite file.
fn at(path: &Path, line: usize, column: usize, message: impl Into<String>) -> SuiteError {
    SuiteError {
        file: path.to_path_buf(),
        diagnostics: vec![Diagnostic {
            file: path.to_path_buf(),
            line: Some(line),
            column: Some(column),
            key: String::new(),
            message: message.into(),
        }],
    }
}
