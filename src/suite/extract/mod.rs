//! Locators: text read out of a pinned file of the suite's `source` (questions, judge
//! prompts), never copied into the suite.
//!
//! A locator names the file and one way to read it, with a path of steps into the value:
//! `.key` (a dict key, a call's keyword argument or a YAML item's key) and `[i]` (a list
//! item, a call's positional argument) or `["key"]`.
//!
//! - `python: NAME.paraphrases[0]`: a top-level assignment of a Python file (`python.rs`).
//! - `python: NAME()`: the f-string a top-level Python function returns, as a template
//!   whose placeholders are the function's parameters (`python_fn.rs`).
//! - `llmcomp: ten_questions.paraphrases`: an item of an llmcomp (`name:`) or llmcompare
//!   (`id:`) question YAML file, by its name; a judge named by a question is followed into
//!   its item, in the same file or a sibling (`q.judges.col.paraphrases[0]`).
//! - `jsonl: question`: the path applied to every line of a JSONL file, giving a list.
//! - `chat: expected`: a chat JSONL file as probe rows, each line's user turn a question and
//!   its assistant turn the value of the named variable (`chat.rs`).
//!
//! A judge's `rules_from` locates Python scoring lambdas and reads them as `regex` rules
//! (`predicate.rs`).

mod chat;
mod predicate;
mod python;
mod python_fn;

pub use chat::ChatRow;
pub use predicate::startswith_patterns;

use super::source::Checkout;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where a text (or a list of texts) lives in a file of the suite's `source`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Locator {
    /// A file listed in `source.files`.
    pub file: String,
    /// A top-level assignment of a Python file and a path into it, or `NAME()`: the
    /// f-string that function returns, as a template of its parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// An item of an llmcomp/llmcompare question YAML file (by `name` or `id`) and a path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llmcomp: Option<String>,
    /// A path applied to every line of a JSONL file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jsonl: Option<String>,
    /// A chat JSONL file as probe rows: each line's user turn is asked, and its assistant
    /// turn is the value of the variable named here (the expected answer). Probes only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
}

/// Text declared in the suite around a located question (a prefix or suffix), with where
/// the paper or its repository states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Affix {
    pub text: String,
    /// Where it is stated (file and line, or the paper's section).
    pub stated_in: String,
}

/// A value read from a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Call {
        name: String,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    },
    /// Something not read (a number, a name): its source text.
    Other(String),
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Splits `NAME.key[0]["k"]` into the head `NAME` and its steps.
fn parse_path(path: &str) -> Result<(String, Vec<Step>), String> {
    let bad = || format!("`{path}` is not a path like `NAME.key[0]` or `NAME[\"key\"]`");
    let head_end = path.find(['.', '[']).unwrap_or(path.len());
    let head = path[..head_end].trim().to_string();
    if head.is_empty() {
        return Err(bad());
    }
    let mut steps = Vec::new();
    let mut r = &path[head_end..];
    while !r.is_empty() {
        if let Some(rest) = r.strip_prefix('.') {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end == 0 {
                return Err(bad());
            }
            steps.push(Step::Key(rest[..end].to_string()));
            r = &rest[end..];
        } else if let Some(rest) = r.strip_prefix('[') {
            let end = rest.find(']').ok_or_else(bad)?;
            let inner = rest[..end].trim();
            let step = if let Some(k) = inner
                .strip_prefix('"')
                .and_then(|k| k.strip_suffix('"'))
                .or_else(|| inner.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
            {
                Step::Key(k.to_string())
            } else {
                Step::Index(inner.parse().map_err(|_| bad())?)
            };
            steps.push(step);
            r = &rest[end + 1..];
        } else {
            return Err(bad());
        }
    }
    Ok((head, steps))
}

fn walk(mut v: Value, steps: &[Step], path: &str) -> Result<Value, String> {
    for s in steps {
        let next = match (v, s) {
            (Value::List(items), Step::Index(i)) => items.into_iter().nth(*i),
            (Value::Dict(items), Step::Key(k)) => items
                .into_iter()
                .find(|(key, _)| matches!(key, Value::Str(x) if x == k))
                .map(|(_, v)| v),
            (Value::Call { kwargs, .. }, Step::Key(k)) => {
                kwargs.into_iter().find(|(key, _)| key == k).map(|(_, v)| v)
            }
            (Value::Call { args, .. }, Step::Index(i)) => args.into_iter().nth(*i),
            _ => None,
        };
        v = next.ok_or_else(|| format!("`{path}`: nothing at step {s:?}"))?;
    }
    Ok(v)
}

/// [`walk`] through llmcomp items: a judge given by name (`judges: {column: NAME}`) is
/// followed, as llmcomp follows it, to the item `NAME` of the same file or else of another
/// pinned question file of its folder, so that `q.judges.column.paraphrases[0]` is the
/// prompt of the judge question `q` uses.
fn walk_llmcomp(
    co: &Checkout,
    file: &str,
    text: &str,
    mut v: Value,
    steps: &[Step],
    path: &str,
) -> Result<Value, String> {
    for s in steps {
        if let (Value::Str(name), Step::Key(_)) = (&v, s) {
            v = judge_item(co, file, text, name)?;
        }
        v = walk(v, std::slice::from_ref(s), path).map_err(|e| format!("{file}: {e}"))?;
    }
    Ok(v)
}

/// The llmcomp item `name` of `file` (whose text is `text`), or else of exactly one other
/// pinned YAML file of the same folder.
fn judge_item(co: &Checkout, file: &str, text: &str, name: &str) -> Result<Value, String> {
    if let Ok(v) = llmcomp_item(text, name) {
        return Ok(v);
    }
    let folder = |f: &str| f.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    let mut found = Vec::new();
    for other in co.spec.files.keys() {
        if other == file
            || folder(other) != folder(file)
            || !(other.ends_with(".yaml") || other.ends_with(".yml"))
        {
            continue;
        }
        if let Ok(v) = llmcomp_item(&co.read_text(other)?, name) {
            found.push((other.clone(), v));
        }
    }
    match found.len() {
        1 => Ok(found.remove(0).1),
        0 => Err(format!(
            "{file}: no item `{name}` in it or in another pinned question file of its folder"
        )),
        _ => Err(format!(
            "{file}: `{name}` is an item of several files of its folder: {}",
            found
                .iter()
                .map(|(f, _)| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Reads the value `loc` points at, from the pinned file.
pub fn locate(co: &Checkout, loc: &Locator) -> Result<Value, String> {
    let text = co.read_text(&loc.file)?;
    let at = |e: String| format!("{}: {e}", loc.file);
    if loc.chat.is_some() {
        return Err(at(
            "`chat` reads probe rows, for a probe's `from` only".into()
        ));
    }
    match (&loc.python, &loc.llmcomp, &loc.jsonl) {
        (Some(p), None, None) => {
            let (head, steps) = parse_path(p).map_err(at)?;
            let v = match head.strip_suffix("()") {
                Some(function) => python_fn::returned_template(&text, function),
                None => python::assignment(&text, &head),
            }
            .map_err(at)?;
            walk(v, &steps, p).map_err(at)
        }
        (None, Some(p), None) => {
            let (head, steps) = parse_path(p).map_err(at)?;
            let item = llmcomp_item(&text, &head).map_err(at)?;
            walk_llmcomp(co, &loc.file, &text, item, &steps, p)
        }
        (None, None, Some(p)) => {
            let (head, mut steps) = parse_path(p).map_err(at)?;
            steps.insert(0, Step::Key(head));
            let mut out = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let json: serde_json::Value =
                    serde_json::from_str(line).map_err(|e| at(format!("line {}: {e}", i + 1)))?;
                out.push(
                    walk(from_json(json), &steps, p)
                        .map_err(|e| at(format!("line {}: {e}", i + 1)))?,
                );
            }
            Ok(Value::List(out))
        }
        _ => Err(at(
            "give exactly one of `python`, `llmcomp`, `jsonl` and `chat`".into(),
        )),
    }
}

/// The rows of the chat JSONL file a `chat` locator points at.
pub fn locate_chat(co: &Checkout, loc: &Locator) -> Result<Vec<ChatRow>, String> {
    let at = |e: String| format!("{}: {e}", loc.file);
    if loc.python.is_some() || loc.llmcomp.is_some() || loc.jsonl.is_some() {
        return Err(at(
            "give exactly one of `python`, `llmcomp`, `jsonl` and `chat`".into(),
        ));
    }
    chat::rows(&co.read_text(&loc.file)?).map_err(at)
}

/// The text `loc` points at; an error if it is not one string.
pub fn locate_text(co: &Checkout, loc: &Locator) -> Result<String, String> {
    match locate(co, loc)? {
        Value::Str(s) => Ok(s),
        other => Err(format!("{}: not a string but {}", loc.file, kind(&other))),
    }
}

/// The texts `loc` points at: a list of strings, or one string as a list of one.
pub fn locate_texts(co: &Checkout, loc: &Locator) -> Result<Vec<String>, String> {
    match locate(co, loc)? {
        Value::Str(s) => Ok(vec![s]),
        Value::List(items) => items
            .into_iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s),
                other => Err(format!(
                    "{}: a list item is {}, not a string",
                    loc.file,
                    kind(&other)
                )),
            })
            .collect(),
        other => Err(format!(
            "{}: not a string or a list of strings but {}",
            loc.file,
            kind(&other)
        )),
    }
}

fn kind(v: &Value) -> String {
    match v {
        Value::Str(_) => "a string".into(),
        Value::List(_) => "a list".into(),
        Value::Dict(_) => "a dict".into(),
        Value::Call { name, .. } => format!("a call of `{name}`"),
        Value::Other(t) => format!("`{t}`"),
    }
}

/// The item named `name` of an llmcomp (`name:`) or llmcompare (`id:`) question file: a YAML
/// list of mappings.
fn llmcomp_item(text: &str, name: &str) -> Result<Value, String> {
    let doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    let items = doc
        .as_sequence()
        .ok_or("an llmcomp question file is a list of items")?;
    let key_of = |item: &serde_yaml::Value| {
        ["name", "id"]
            .iter()
            .find_map(|k| item.get(*k).and_then(|v| v.as_str()).map(str::to_string))
    };
    let found: Vec<&serde_yaml::Value> = items
        .iter()
        .filter(|i| key_of(i).as_deref() == Some(name))
        .collect();
    match found.as_slice() {
        [one] => Ok(from_yaml((*one).clone())),
        [] => Err(format!("no item with `name` or `id` `{name}`")),
        _ => Err(format!("`{name}` names {} items", found.len())),
    }
}

fn from_yaml(v: serde_yaml::Value) -> Value {
    match v {
        serde_yaml::Value::String(s) => Value::Str(s),
        serde_yaml::Value::Sequence(items) => {
            Value::List(items.into_iter().map(from_yaml).collect())
        }
        serde_yaml::Value::Mapping(m) => Value::Dict(
            m.into_iter()
                .map(|(k, v)| (from_yaml(k), from_yaml(v)))
                .collect(),
        ),
        other => Value::Other(
            serde_yaml::to_string(&other)
                .unwrap_or_default()
                .trim()
                .to_string(),
        ),
    }
}

fn from_json(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::String(s) => Value::Str(s),
        serde_json::Value::Array(items) => Value::List(items.into_iter().map(from_json).collect()),
        serde_json::Value::Object(m) => Value::Dict(
            m.into_iter()
                .map(|(k, v)| (Value::Str(k), from_json(v)))
                .collect(),
        ),
        other => Value::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        assert_eq!(
            parse_path("J.paraphrases[0]").unwrap(),
            (
                "J".into(),
                vec![Step::Key("paraphrases".into()), Step::Index(0)]
            )
        );
        assert_eq!(
            parse_path("Q[2][\"question\"]").unwrap().1,
            vec![Step::Index(2), Step::Key("question".into())]
        );
        assert!(parse_path("J..x").is_err());
        assert!(parse_path("[0]").is_err());
    }

    #[test]
    fn llmcomp_items_by_name_or_id() {
        let old = "- id: q\n  type: free_form\n  paraphrases: [a, b]\n- id: j\n  paraphrases: [\"x {answer}\"]\n";
        let v = walk(
            llmcomp_item(old, "q").unwrap(),
            &parse_path("q.paraphrases[1]").unwrap().1,
            "",
        )
        .unwrap();
        assert_eq!(v, Value::Str("b".into()));
        let new = "- name: q\n  paraphrases: [c]\n";
        assert!(llmcomp_item(new, "q").is_ok());
        assert!(llmcomp_item(new, "z").is_err());
        assert!(llmcomp_item("a: 1", "q").is_err());
    }
}
