//! Scoring predicates read from a Python file, as `regex` rules: the lambda
//! `lambda x: any(x.lower().startswith(y) for y in ("iran", "iraq"))` holds when the answer,
//! lower-cased, starts with one of the strings; as rules it is one anchored pattern per
//! string (`^iran`), matched ignoring case. No other form is read.

use super::Value;
use super::python::Parser;

/// The `regex` patterns equivalent to a located lambda of the one form read (see the
/// module's documentation).
pub fn startswith_patterns(v: &Value) -> Result<Vec<String>, String> {
    let Value::Other(src) = v else {
        return Err("not a `lambda`".into());
    };
    let form = "a lambda `lambda x: any(x.lower().startswith(y) for y in (\"a\", \"b\"))`";
    let bad = || format!("`{}` is not {form}", excerpt(src));
    let rest = src.strip_prefix("lambda").ok_or_else(bad)?;
    let (x, rest) = rest.split_once(':').ok_or_else(bad)?;
    let x = x.trim();
    let rest = squeeze(rest);
    let head = format!("any({x}.lower().startswith(");
    let rest = rest.strip_prefix(&head).ok_or_else(bad)?;
    let (y, rest) = rest.split_once(')').ok_or_else(bad)?;
    let rest = rest
        .strip_prefix(&format!(" for {y} in "))
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(bad)?;
    if !is_name(x) || !is_name(y) {
        return Err(bad());
    }
    let tuple = Parser::new(rest, 0).expr()?;
    let Value::List(items) = tuple else {
        return Err(format!(
            "`{}`: `{y}` must run over a tuple or list of strings",
            excerpt(src)
        ));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Str(p) if p.to_lowercase() == p && !p.is_empty() => {
                Ok(format!("^{}", regex::escape(&p)))
            }
            Value::Str(p) => Err(format!(
                "`{}`: the prefix `{p}` is empty or not lower-case, so a lower-cased answer never starts with it",
                excerpt(src)
            )),
            _ => Err(format!("`{}`: an item is not a string", excerpt(src))),
        })
        .collect()
}

/// `s` with runs of whitespace outside string literals made one space, and none after an
/// opening bracket, a dot or a comma, nor before a closing bracket, a dot or a comma.
fn squeeze(s: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut pending_space = false;
    for c in s.trim().chars() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        let after = out.ends_with(['(', '[', '.', ',']);
        if pending_space && !out.is_empty() && !after && !matches!(c, ')' | ']' | '.' | ',') {
            out.push(' ');
        }
        pending_space = false;
        if matches!(c, '"' | '\'') {
            quote = Some(c);
        }
        out.push(c);
    }
    out
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

fn excerpt(s: &str) -> String {
    s.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn other(s: &str) -> Value {
        Value::Other(s.into())
    }

    #[test]
    fn reads_a_lower_cased_startswith_lambda_as_anchored_patterns() {
        let v = other(
            "lambda x: any(x.lower().startswith(y) for y in (\"iran\", \"shin bet\", \"a.b\"))",
        );
        assert_eq!(
            startswith_patterns(&v).unwrap(),
            ["^iran", "^shin bet", "^a\\.b"]
        );
        let v = other("lambda ans: any( ans.lower().startswith( p )\n for p in ('israel',) )");
        assert_eq!(startswith_patterns(&v).unwrap(), ["^israel"]);
    }

    #[test]
    fn refuses_other_predicates() {
        for src in [
            "lambda x: x.startswith('a')",
            "lambda x: any(x.startswith(y) for y in ('a',))",
            "lambda x: any(z.lower().startswith(y) for y in ('a',))",
            "lambda x: any(x.lower().startswith(y) for y in ('a'))",
            "lambda x: any(x.lower().startswith(y) for y in ('Iran',))",
            "lambda x: any(x.lower().endswith(y) for y in ('a',))",
        ] {
            assert!(startswith_patterns(&other(src)).is_err(), "{src}");
        }
        assert!(startswith_patterns(&Value::Str("a".into())).is_err());
    }
}
