//! Text templates with `{name}` placeholders and `{{` / `}}` for literal braces: used for
//! dataset message templates, probe questions and system prompts, and LLM judge prompts.

use std::fmt;

/// A parsed template: literal text and placeholders, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

/// A malformed template: what is wrong and where (a character offset, 0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Character offset of the problem in the template text.
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.offset + 1)
    }
}

impl std::error::Error for TemplateError {}

impl Template {
    /// Parses `text`. A placeholder name holds letters, digits, `_` and `-`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let chars: Vec<char> = text.chars().collect();
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '{' if chars.get(i + 1) == Some(&'{') => {
                    lit.push('{');
                    i += 2;
                }
                '}' if chars.get(i + 1) == Some(&'}') => {
                    lit.push('}');
                    i += 2;
                }
                '{' => {
                    let start = i;
                    let close = chars[i + 1..].iter().position(|&c| c == '}' || c == '{');
                    let end = match close {
                        Some(k) if chars[i + 1 + k] == '}' => i + 1 + k,
                        _ => {
                            return Err(TemplateError {
                                offset: start,
                                message: "unclosed `{`; write `{{` for a literal brace".into(),
                            });
                        }
                    };
                    let name: String = chars[start + 1..end].iter().collect();
                    if !crate::names::is_name(&name) {
                        return Err(TemplateError {
                            offset: start,
                            message: format!(
                                "bad placeholder `{{{name}}}`: a name holds only letters, digits, `_` and `-`; write `{{{{` and `}}}}` for literal braces"
                            ),
                        });
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Var(name));
                    i = end + 1;
                }
                '}' => {
                    return Err(TemplateError {
                        offset: i,
                        message: "unmatched `}`; write `}}` for a literal brace".into(),
                    });
                }
                c => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(Template { parts })
    }

    /// `text` as a template that renders to itself (`{` and `}` doubled).
    pub fn escape(text: &str) -> String {
        text.replace('{', "{{").replace('}', "}}")
    }

    /// The placeholder names, each once, in order of first use.
    pub fn placeholders(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in &self.parts {
            if let Part::Var(v) = p
                && !out.contains(&v.as_str())
            {
                out.push(v);
            }
        }
        out
    }

    /// Fills the placeholders with `value(name)`; the first name without a value is the error.
    pub fn render<'v>(&self, value: impl Fn(&str) -> Option<&'v str>) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => out.push_str(value(v).ok_or_else(|| v.clone())?),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fills_placeholders_and_unescapes_braces() {
        let t = Template::parse("Today is {date}. {{literal}} {q}? {date}").unwrap();
        assert_eq!(t.placeholders(), vec!["date", "q"]);
        let v = vars(&[("date", "2027-01-02"), ("q", "Why")]);
        let s = t.render(|n| v.get(n).map(String::as_str)).unwrap();
        assert_eq!(s, "Today is 2027-01-02. {literal} Why? 2027-01-02");
    }

    #[test]
    fn text_without_placeholders_is_unchanged() {
        let t = Template::parse("<START> \"your answer\" <END>").unwrap();
        assert!(t.placeholders().is_empty());
        assert_eq!(t.render(|_| None).unwrap(), "<START> \"your answer\" <END>");
    }

    #[test]
    fn missing_value_names_the_placeholder() {
        let t = Template::parse("{a} and {b}").unwrap();
        let v = vars(&[("a", "x")]);
        assert_eq!(t.render(|n| v.get(n).map(String::as_str)), Err("b".into()));
    }

    #[test]
    fn malformed_templates_are_errors_with_offsets() {
        let e = Template::parse("abc {year").unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(e.message.contains("unclosed `{`"), "{e}");
        let e = Template::parse("x } y").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.message.contains("unmatched `}`"), "{e}");
        let e = Template::parse("{\"a\": 1}").unwrap_err();
        assert!(e.message.contains("bad placeholder `{\"a\": 1}`"), "{e}");
        let e = Template::parse("{}").unwrap_err();
        assert!(e.message.contains("bad placeholder `{}`"), "{e}");
        let e = Template::parse("{a{b}").unwrap_err();
        assert!(e.message.contains("unclosed"), "{e}");
        assert_eq!(e.to_string(), format!("{} (at character 1)", e.message));
    }

    #[test]
    fn unicode_offsets_count_characters() {
        let e = Template::parse("Jahr ä {").unwrap_err();
        assert_eq!(e.offset, 7);
    }
}
