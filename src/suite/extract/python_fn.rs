//! The text a top-level Python function returns, read without running it: a function
//! `def NAME(a, b):` whose body returns an f-string (directly, or through one local name
//! assigned once) becomes a template whose placeholders are the function's parameters.
//! Its fields must be bare parameter names, so the template says exactly what the
//! function builds for any arguments (a judge prompt filled with `{question}` and
//! `{answer}`, say). Anything else is an error.

use super::Value;
use super::python::Parser;

/// The template the function `name` of `src` returns (see the module's documentation).
pub fn returned_template(src: &str, name: &str) -> Result<Value, String> {
    let (params, body) = function(src, name)?;
    let returns = statements(src, body, "return ");
    let (line, at) = match returns.as_slice() {
        [one] => *one,
        [] => return Err(format!("function `{name}` has no `return`")),
        many => {
            return Err(format!(
                "function `{name}` returns in {} places (lines {}): the text is ambiguous",
                many.len(),
                lines(many)
            ));
        }
    };
    let expr = src[at..].split('\n').next().unwrap_or("").trim();
    let start = if is_name(expr) {
        let assigned = statements(src, body, &format!("{expr} ="))
            .into_iter()
            .filter(|(_, i)| !src[*i..].starts_with('='))
            .collect::<Vec<_>>();
        match assigned.as_slice() {
            [(_, i)] => *i,
            [] => {
                return Err(format!(
                    "function `{name}` returns `{expr}` (line {line}), which its body never assigns"
                ));
            }
            many => {
                return Err(format!(
                    "function `{name}` assigns `{expr}` {} times (lines {}): the text is ambiguous",
                    many.len(),
                    lines(many)
                ));
            }
        }
    } else {
        at
    };
    let mut p = Parser::template(src, start, &params);
    match p.expr()? {
        Value::Str(s) => Ok(Value::Str(s)),
        _ => Err(format!(
            "function `{name}` does not return a string literal or f-string (line {line})"
        )),
    }
}

/// The parameter names of the top-level `def name(...)` and the byte range of its body.
fn function(src: &str, name: &str) -> Result<(Vec<String>, (usize, usize)), String> {
    let head = format!("def {name}(");
    let mut found = Vec::new();
    let mut offset = 0;
    for (i, line) in src.split_inclusive('\n').enumerate() {
        if line.starts_with(&head) {
            found.push((i + 1, offset));
        }
        offset += line.len();
    }
    let (line, start) = match found.as_slice() {
        [one] => *one,
        [] => return Err(format!("no top-level function `def {name}(...)`")),
        many => {
            return Err(format!(
                "function `{name}` is defined {} times (lines {})",
                many.len(),
                lines(many)
            ));
        }
    };
    let open = start + head.len();
    let close = open
        + src[open..]
            .find(')')
            .ok_or_else(|| format!("line {line}: the parameters of `{name}` are not closed"))?;
    let mut params = Vec::new();
    for p in src[open..close].split(',') {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let pname = p.split(':').next().unwrap_or("").trim();
        if !is_name(pname) || p.contains('=') {
            return Err(format!(
                "line {line}: parameter `{p}` of `{name}` is not a plain name (defaults and `*` are not read)"
            ));
        }
        params.push(pname.to_string());
    }
    let body_start = close
        + src[close..]
            .find('\n')
            .ok_or_else(|| format!("line {line}: `{name}` has no body"))?
        + 1;
    // The body ends at the next line that starts in the first column outside a
    // triple-quoted string.
    let mut end = body_start;
    let mut open: Option<&str> = None;
    for l in src[body_start..].split_inclusive('\n') {
        if open.is_none() && l.starts_with(|c: char| !c.is_whitespace()) {
            break;
        }
        let mut rest = l;
        loop {
            let next = match open {
                Some(q) => rest.find(q).map(|i| (i, q)),
                None => ["\"\"\"", "'''"]
                    .iter()
                    .filter_map(|q| rest.find(q).map(|i| (i, *q)))
                    .min(),
            };
            let Some((i, q)) = next else { break };
            open = if open.is_some() { None } else { Some(q) };
            rest = &rest[i + 3..];
        }
        end += l.len();
    }
    Ok((params, (body_start, end)))
}

/// The statements of the body that start with `head` (after their indentation): each one's
/// line number and the byte offset just after `head`.
fn statements(src: &str, (start, end): (usize, usize), head: &str) -> Vec<(usize, usize)> {
    let first_line = src[..start].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut offset = start;
    for (i, l) in src[start..end].split_inclusive('\n').enumerate() {
        let indent = l.len() - l.trim_start_matches([' ', '\t']).len();
        if indent > 0 && l[indent..].starts_with(head) {
            out.push((first_line + i, offset + indent + head.len()));
        }
        offset += l.len();
    }
    out
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

fn lines(found: &[(usize, usize)]) -> String {
    found
        .iter()
        .map(|(l, _)| l.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "def judge(question: str, answer: str) -> str:\n    prompt = f\"\"\"Q: {question}\n{{literal}} \\x7b\nA: {answer}\"\"\" ' {plain}'\n    return prompt\n\n\ndef direct(answer):\n    return f'Say {answer}'\n\ndef expr(answer):\n    return f'{answer.upper()}'\n\ndef twice(a):\n    if a:\n        return 'x'\n    return 'y'\n\ndef other(a):\n    return f'{b}'\n";

    #[test]
    fn reads_the_returned_f_string_as_a_template_of_the_parameters() {
        assert_eq!(
            returned_template(SRC, "judge").unwrap(),
            Value::Str("Q: {question}\n{{literal}} {{\nA: {answer} {{plain}}".into())
        );
        assert_eq!(
            returned_template(SRC, "direct").unwrap(),
            Value::Str("Say {answer}".into())
        );
    }

    #[test]
    fn refuses_what_it_cannot_read_exactly() {
        let err = |n: &str| returned_template(SRC, n).unwrap_err();
        assert!(
            err("expr").contains("not one of the function's parameters"),
            "{}",
            err("expr")
        );
        assert!(err("other").contains("(a)"), "{}", err("other"));
        assert!(
            err("twice").contains("returns in 2 places"),
            "{}",
            err("twice")
        );
        assert!(err("missing").contains("no top-level function"));
        assert!(
            returned_template("def f(a=1):\n    return f'{a}'\n", "f")
                .unwrap_err()
                .contains("not a plain name")
        );
        assert!(
            returned_template("def f(a):\n    return a\n", "f")
                .unwrap_err()
                .contains("never assigns")
        );
    }
}
