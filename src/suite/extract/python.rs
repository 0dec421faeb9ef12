//! Reading literal values out of a Python file without running it: the right-hand side of a
//! top-level assignment `NAME = ...` (or `NAME: type = ...`), parsed as strings (plain, raw,
//! triple-quoted, adjacent ones joined), lists, tuples, dicts and calls with positional and
//! keyword arguments. Anything else (numbers, names, f-strings) is kept as opaque text, and
//! a path that ends on it is an error.

use super::Value;

/// The value assigned to `name` at the top level of `src`; an error if it is assigned
/// never or more than once, or its value does not parse.
pub fn assignment(src: &str, name: &str) -> Result<Value, String> {
    let mut found = Vec::new();
    let mut offset = 0;
    for (i, line) in src.split_inclusive('\n').enumerate() {
        if let Some(rest) = line.strip_prefix(name) {
            let after = rest.trim_start_matches([' ', '\t']);
            let after = match after.strip_prefix(':') {
                Some(annot) => annot.find('=').map(|k| &annot[k..]).unwrap_or(""),
                None => after,
            };
            if after.starts_with('=') && !after.starts_with("==") {
                let start = offset + (line.len() - after.len()) + 1;
                found.push((i + 1, start));
            }
        }
        offset += line.len();
    }
    match found.as_slice() {
        [] => Err(format!("no top-level assignment `{name} = ...`")),
        [(line, start)] => {
            let mut p = Parser::new(src, *start);
            p.expr()
                .map_err(|e| format!("in the value of `{name}` (line {line}): {e}"))
        }
        many => Err(format!(
            "`{name}` is assigned {} times (lines {}): the value is ambiguous",
            many.len(),
            many.iter()
                .map(|(l, _)| l.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

pub(super) struct Parser<'a> {
    s: &'a str,
    i: usize,
    /// Set when reading an f-string as a template: the names its fields may be.
    fields: Option<&'a [String]>,
}

impl<'a> Parser<'a> {
    /// A parser of plain literals at byte `i` of `s`.
    pub(super) fn new(s: &'a str, i: usize) -> Parser<'a> {
        Parser { s, i, fields: None }
    }

    /// A parser at byte `i` of `s` that reads adjacent string literals as one template:
    /// an f-string's `{name}` (a bare name among `fields`) stays a placeholder, its `{{` and
    /// `}}` stay escapes, and a brace of a plain literal becomes an escape.
    pub(super) fn template(s: &'a str, i: usize, fields: &'a [String]) -> Parser<'a> {
        Parser {
            s,
            i,
            fields: Some(fields),
        }
    }

    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }

    fn line(&self) -> usize {
        self.s[..self.i].matches('\n').count() + 1
    }

    fn err<T>(&self, what: impl std::fmt::Display) -> Result<T, String> {
        Err(format!("line {}: {what}", self.line()))
    }

    /// Skips spaces, newlines (inside brackets), comments and line continuations.
    fn ws(&mut self) {
        loop {
            let r = self.rest();
            let t = r.trim_start_matches([' ', '\t', '\r', '\n']);
            self.i += r.len() - t.len();
            if t.starts_with('#') {
                self.i += t.find('\n').unwrap_or(t.len());
            } else if t.starts_with("\\\n") {
                self.i += 2;
            } else {
                return;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.rest().starts_with(c) {
            self.i += c.len_utf8();
            true
        } else {
            false
        }
    }

    pub(super) fn expr(&mut self) -> Result<Value, String> {
        self.ws();
        let r = self.rest();
        let Some(c) = r.chars().next() else {
            return self.err("the file ends where a value was expected");
        };
        if string_start(r).is_some() {
            let mut out = String::new();
            while let Some(pl) = string_start(self.rest()) {
                out.push_str(&self.string(pl)?);
                self.ws();
            }
            return Ok(Value::Str(out));
        }
        match c {
            '[' => {
                self.i += 1;
                Ok(Value::List(self.items(']')?))
            }
            '(' => {
                self.i += 1;
                if self.eat(')') {
                    return Ok(Value::List(Vec::new()));
                }
                let first = self.expr()?;
                if self.eat(')') {
                    return Ok(first);
                }
                if !self.eat(',') {
                    return self.err("expected `,` or `)`");
                }
                let mut items = vec![first];
                items.extend(self.items(')')?);
                Ok(Value::List(items))
            }
            '{' => {
                self.i += 1;
                self.dict()
            }
            _ => self.atom(),
        }
    }

    /// Comma-separated values up to `close`.
    fn items(&mut self, close: char) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        loop {
            if self.eat(close) {
                return Ok(out);
            }
            out.push(self.expr()?);
            if self.eat(',') {
                continue;
            }
            if self.eat(close) {
                return Ok(out);
            }
            return self.err(format!("expected `,` or `{close}`"));
        }
    }

    fn dict(&mut self) -> Result<Value, String> {
        let mut out = Vec::new();
        loop {
            if self.eat('}') {
                return Ok(Value::Dict(out));
            }
            let k = self.expr()?;
            if !self.eat(':') {
                return self.err("expected `:` in a dict (sets are not read)");
            }
            let v = self.expr()?;
            out.push((k, v));
            if !self.eat(',') {
                if self.eat('}') {
                    return Ok(Value::Dict(out));
                }
                return self.err("expected `,` or `}`");
            }
        }
    }

    /// A number, a (dotted) name, or a call `name(args, kw=value)`.
    fn atom(&mut self) -> Result<Value, String> {
        let r = self.rest();
        let end = r
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .unwrap_or(r.len());
        if end == 0 {
            return self.err(format!("unexpected `{}`", r.chars().next().unwrap_or(' ')));
        }
        let word = r[..end].to_string();
        self.i += end;
        if word == "lambda" {
            return self.lambda();
        }
        if !self.rest().starts_with('(') {
            return Ok(Value::Other(word));
        }
        self.i += 1;
        let (mut args, mut kwargs) = (Vec::new(), Vec::new());
        loop {
            if self.eat(')') {
                break;
            }
            self.ws();
            let r = self.rest();
            let kw_len = r
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(0);
            let after = r[kw_len..].trim_start_matches([' ', '\t']);
            if kw_len > 0 && after.starts_with('=') && !after.starts_with("==") {
                let kw = r[..kw_len].to_string();
                self.i += r.len() - after.len() + 1;
                kwargs.push((kw, self.expr()?));
            } else {
                args.push(self.expr()?);
            }
            if !self.eat(',') {
                if self.eat(')') {
                    break;
                }
                return self.err("expected `,` or `)` in a call");
            }
        }
        Ok(Value::Call {
            name: word,
            args,
            kwargs,
        })
    }

    /// The rest of a `lambda` (after the keyword), kept as its source text from `lambda`:
    /// everything up to a `,` or closing bracket outside brackets and strings.
    fn lambda(&mut self) -> Result<Value, String> {
        let start = self.i;
        let mut depth = 0usize;
        loop {
            let r = self.rest();
            let Some(c) = r.chars().next() else {
                return self.err("a `lambda` is not closed");
            };
            if let Some(pl) = string_start(r) {
                let saved = self.fields.take();
                let read = self.string(pl);
                self.fields = saved;
                read?;
                continue;
            }
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' | ',' if depth == 0 => break,
                ')' | ']' | '}' => depth -= 1,
                '#' => return self.err("a comment inside a `lambda` is not read"),
                _ => {}
            }
            self.i += c.len_utf8();
        }
        Ok(Value::Other(format!(
            "lambda{}",
            self.s[start..self.i].trim_end()
        )))
    }

    /// One string literal whose prefix is `pl` bytes long.
    fn string(&mut self, pl: usize) -> Result<String, String> {
        let prefix = self.rest()[..pl].to_ascii_lowercase();
        let f = prefix.contains('f');
        if prefix.contains('b') || (f && self.fields.is_none()) {
            return self.err(format!("a `{prefix}` string is not a plain text literal"));
        }
        let raw = prefix.contains('r');
        self.i += pl;
        let r = self.rest();
        let q = if r.starts_with("\"\"\"") || r.starts_with("'''") {
            &r[..3]
        } else {
            &r[..1]
        };
        let q = q.to_string();
        self.i += q.len();
        let mut out = String::new();
        loop {
            let r = self.rest();
            if r.starts_with(q.as_str()) {
                self.i += q.len();
                return Ok(out);
            }
            let Some(c) = r.chars().next() else {
                return self.err("a string is not closed");
            };
            if c == '\n' && q.len() == 1 {
                return self.err("a string is not closed on its line");
            }
            if let Some(fields) = self.fields
                && matches!(c, '{' | '}')
            {
                self.brace(r, f, fields, &mut out)?;
                continue;
            }
            if c == '\\' {
                let next = r[1..].chars().next().unwrap_or(' ');
                if raw {
                    out.push('\\');
                    out.push(next);
                    self.i += 1 + next.len_utf8();
                    continue;
                }
                self.i += 1 + next.len_utf8();
                match next {
                    '\n' => {}
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    '\\' | '\'' | '"' => out.push(next),
                    'x' | 'u' | 'U' => {
                        let n = match next {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex = self.rest().get(..n).unwrap_or("");
                        let ch = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                        match ch {
                            // In a template a brace written as an escape is a literal one.
                            Some(ch @ ('{' | '}')) if hex.len() == n && self.fields.is_some() => {
                                out.push(ch);
                                out.push(ch);
                            }
                            Some(ch) if hex.len() == n => out.push(ch),
                            _ => return self.err(format!("bad escape `\\{next}{hex}`")),
                        }
                        self.i += n;
                    }
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                continue;
            }
            out.push(c);
            self.i += c.len_utf8();
        }
    }
}

impl Parser<'_> {
    /// A brace at the start of `r` in template mode: in an f-string `{{`/`}}` (kept as
    /// escapes) or a field `{name}`; in a plain literal, a literal brace (escaped).
    fn brace(
        &mut self,
        r: &str,
        f: bool,
        fields: &[String],
        out: &mut String,
    ) -> Result<(), String> {
        let c = &r[..1];
        if !f {
            out.push_str(c);
            out.push_str(c);
            self.i += 1;
        } else if r.starts_with("{{") || r.starts_with("}}") {
            out.push_str(&r[..2]);
            self.i += 2;
        } else if c == "}" {
            return self.err("a single `}` in an f-string");
        } else {
            let end = r.find('}').unwrap_or(r.len());
            let name = &r[1..end];
            if end == r.len() || !fields.iter().any(|f| f == name) {
                return self.err(format!(
                    "the f-string field `{{{}}}` is not one of the function's parameters ({}) as a bare name",
                    name.chars().take(40).collect::<String>(),
                    fields.join(", ")
                ));
            }
            out.push_str(&r[..=end]);
            self.i += end + 1;
        }
        Ok(())
    }
}

/// The length of a string literal's prefix (`r`, `u`, `rb`, ...) if `r` starts a string.
fn string_start(r: &str) -> Option<usize> {
    let pl = r
        .find(|c: char| !matches!(c, 'r' | 'R' | 'u' | 'U' | 'b' | 'B' | 'f' | 'F'))
        .unwrap_or(r.len());
    (pl <= 2 && r[pl..].starts_with(['"', '\''])).then_some(pl)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"import x
# A = ["commented"]
A = [
    "one",  # a comment
    'two' "-joined",
    """three
  lines""",
]
B: dict[str, str] = {"k": 'v\n\x41\u00e9', "n": 3}
J = Judge(
    name="j",
    max_tokens=10,
    paraphrases=[r"""raw \n {question}"""],
)
if A == B:
    pass
F = f"{x}"
L = [("q", lambda x: any(x.lower().startswith(y) for y in ("a,", "b"))), ("r", lambda x: x)]
D = 1
D = 2
"#;

    #[test]
    fn reads_lists_dicts_and_call_arguments() {
        let a = assignment(SRC, "A").unwrap();
        assert_eq!(
            a,
            Value::List(vec![
                Value::Str("one".into()),
                Value::Str("two-joined".into()),
                Value::Str("three\n  lines".into()),
            ])
        );
        let Value::Dict(b) = assignment(SRC, "B").unwrap() else {
            panic!("not a dict")
        };
        assert_eq!(b[0].1, Value::Str("v\nAé".into()));
        assert_eq!(b[1].1, Value::Other("3".into()));
        let Value::Call { name, kwargs, .. } = assignment(SRC, "J").unwrap() else {
            panic!("not a call")
        };
        assert_eq!(name, "Judge");
        assert_eq!(
            kwargs[2].1,
            Value::List(vec![Value::Str("raw \\n {question}".into())])
        );
    }

    #[test]
    fn keeps_a_lambda_as_its_source() {
        let Value::List(l) = assignment(SRC, "L").unwrap() else {
            panic!("not a list")
        };
        assert_eq!(
            l[0],
            Value::List(vec![
                Value::Str("q".into()),
                Value::Other(
                    "lambda x: any(x.lower().startswith(y) for y in (\"a,\", \"b\"))".into()
                ),
            ])
        );
        assert_eq!(
            l[1],
            Value::List(vec![
                Value::Str("r".into()),
                Value::Other("lambda x: x".into())
            ])
        );
    }

    #[test]
    fn refuses_what_it_cannot_read_exactly() {
        assert!(
            assignment(SRC, "F")
                .unwrap_err()
                .contains("not a plain text literal")
        );
        assert!(
            assignment(SRC, "D")
                .unwrap_err()
                .contains("assigned 2 times")
        );
        assert!(assignment(SRC, "Z").unwrap_err().contains("no top-level"));
        assert!(
            assignment("A = ['x'\n", "A")
                .unwrap_err()
                .contains("expected")
        );
    }
}
