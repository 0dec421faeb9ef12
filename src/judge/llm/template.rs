//! A minimal filler for `{name}` placeholders with `{{` and `}}` for literal braces: the
//! template syntax of suites. (To be replaced by the suite language's own filler.)

use anyhow::{Result, anyhow, bail};

/// One piece of a parsed template; text is already unescaped.
#[derive(Debug, Clone, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Line and column (1-based, in characters) of byte offset `at` in `s`.
fn position(s: &str, at: usize) -> String {
    let before = &s[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("line {line}, column {col}")
}

fn parse(template: &str) -> Result<Vec<Piece<'_>>> {
    let mut pieces = Vec::new();
    let bytes = template.as_bytes();
    let (mut i, mut start) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'}' if bytes.get(i + 1) == Some(&bytes[i]) => {
                pieces.push(Piece::Text(&template[start..=i]));
                i += 2;
                start = i;
            }
            b'{' => {
                let end = template[i + 1..].find(['{', '}']).map(|k| i + 1 + k);
                let Some(end) = end.filter(|&e| bytes[e] == b'}') else {
                    bail!(
                        "unclosed `{{` at {} (write `{{{{` for a literal brace)",
                        position(template, i)
                    );
                };
                let name = &template[i + 1..end];
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !valid {
                    bail!(
                        "bad placeholder `{{{name}}}` at {}: a name holds letters, digits, `_` and `-` (write `{{{{` for a literal brace)",
                        position(template, i)
                    );
                }
                pieces.push(Piece::Text(&template[start..i]));
                pieces.push(Piece::Var(name));
                i = end + 1;
                start = i;
            }
            b'}' => bail!(
                "lone `}}` at {} (write `}}}}` for a literal brace)",
                position(template, i)
            ),
            _ => i += 1,
        }
    }
    pieces.push(Piece::Text(&template[start..]));
    pieces.retain(|p| *p != Piece::Text(""));
    Ok(pieces)
}

/// The placeholder names of `template`, in order of first use; an error for bad syntax.
pub(super) fn placeholders(template: &str) -> Result<Vec<&str>> {
    let mut names = Vec::new();
    for p in parse(template)? {
        if let Piece::Var(n) = p
            && !names.contains(&n)
        {
            names.push(n);
        }
    }
    Ok(names)
}

/// `template` with each placeholder replaced by `lookup(name)`; an error names a placeholder
/// that `lookup` does not know. Values are inserted verbatim (never parsed as templates).
pub(super) fn fill<'v>(template: &str, lookup: impl Fn(&str) -> Option<&'v str>) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    for p in parse(template)? {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Var(n) => {
                out.push_str(lookup(n).ok_or_else(|| anyhow!("no value for `{{{n}}}`"))?)
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<&'static str> {
        match name {
            "question" => Some("Q {answer}?"),
            "year" => Some("1984"),
            _ => None,
        }
    }

    #[test]
    fn fills_placeholders_and_escapes() {
        let out = fill("In {year}: {question} {{literal}} }}{{", vars).unwrap();
        assert_eq!(out, "In 1984: Q {answer}? {literal} }{");
        assert_eq!(placeholders("{a}{b}{a}{{c}}").unwrap(), vec!["a", "b"]);
    }

    #[test]
    fn rejects_bad_syntax_with_position() {
        let e = fill("ok\nab {year", vars).unwrap_err().to_string();
        assert!(e.contains("unclosed `{` at line 2, column 4"), "{e}");
        let e = fill("a } b", vars).unwrap_err().to_string();
        assert!(e.contains("lone `}` at line 1, column 3"), "{e}");
        let e = fill("{a b}", vars).unwrap_err().to_string();
        assert!(e.contains("bad placeholder `{a b}`"), "{e}");
        let e = fill("{}", vars).unwrap_err().to_string();
        assert!(e.contains("bad placeholder `{}`"), "{e}");
        let e = fill("{nope}", vars).unwrap_err().to_string();
        assert!(e.contains("no value for `{nope}`"), "{e}");
    }
}
