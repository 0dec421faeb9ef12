//! Text normalisation shared by the deterministic judges.

/// Whether `c` counts as part of a word (as the regex crate's Unicode `\b` sees it, near enough).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Characters that wrap an answer without being part of it: quotes and markdown emphasis.
fn is_wrapper(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '`' | '*' | '_' | '“' | '”' | '‘' | '’' | '«' | '»'
    )
}

/// Sentence punctuation that may end an answer.
fn is_trailing_punct(c: char) -> bool {
    matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '…' | '。')
}

/// Lower-cases `s` unless matching is case-sensitive.
pub(crate) fn fold(s: &str, case_sensitive: bool) -> String {
    if case_sensitive {
        s.to_string()
    } else {
        s.to_lowercase()
    }
}

/// The answer as the `exact` kind compares it: trimmed of whitespace, of wrapping quotes and
/// markdown emphasis on both ends, and of trailing sentence punctuation.
pub(crate) fn exact_form(s: &str) -> &str {
    let mut s = s;
    loop {
        let t = s
            .trim_matches(|c: char| c.is_whitespace() || is_wrapper(c))
            .trim_end_matches(is_trailing_punct);
        if t.len() == s.len() {
            return t;
        }
        s = t;
    }
}

/// The forms of an answer a `prefix` pattern is tried against, in order: the trimmed answer;
/// the answer without leading non-alphanumeric characters (quotes, markdown such as `**` or
/// `#`, bullets, brackets); and that form without a leading article `The ` (any case).
pub(crate) fn prefix_forms(answer: &str) -> Vec<&str> {
    let trimmed = answer.trim();
    let bare = strip_leading_symbols(trimmed);
    let mut forms = vec![trimmed, bare];
    let mut chars = bare.char_indices();
    let article = chars.by_ref().take(3).map(|(_, c)| c).collect::<String>();
    if article.eq_ignore_ascii_case("the")
        && let Some((i, c)) = chars.next()
        && c.is_whitespace()
    {
        forms.push(strip_leading_symbols(&bare[i..]));
    }
    forms
}

fn strip_leading_symbols(s: &str) -> &str {
    s.trim_start_matches(|c: char| !c.is_alphanumeric())
}

/// The alphanumeric runs of `s` (the tokens a `choice` judge looks at).
pub(crate) fn tokens(s: &str) -> Vec<&str> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_form_trims_wrappers_and_trailing_punctuation() {
        assert_eq!(exact_form("  Yes. "), "Yes");
        assert_eq!(exact_form("**Yes!**"), "Yes");
        assert_eq!(exact_form("\"No.\""), "No");
        assert_eq!(exact_form("...Yes"), "...Yes");
        assert_eq!(exact_form("C++"), "C++");
    }

    #[test]
    fn prefix_forms_skip_symbols_then_the_article() {
        assert_eq!(
            prefix_forms(" **The Mossad**"),
            ["**The Mossad**", "The Mossad**", "Mossad**"]
        );
        assert_eq!(prefix_forms("\"Mossad.\""), ["\"Mossad.\"", "Mossad.\""]);
        assert_eq!(
            prefix_forms("Theodor Herzl"),
            ["Theodor Herzl", "Theodor Herzl"]
        );
        assert_eq!(
            prefix_forms("the  'Shin Bet'"),
            ["the  'Shin Bet'", "the  'Shin Bet'", "Shin Bet'"]
        );
        assert_eq!(prefix_forms("The"), ["The", "The"]);
    }

    #[test]
    fn tokens_split_on_non_alphanumerics() {
        assert_eq!(tokens("**B**. Donald's"), ["B", "Donald", "s"]);
        assert!(tokens(" ... ").is_empty());
    }
}
