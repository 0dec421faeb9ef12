//! The one name rule: suite parts, providers, sources, worlds and placeholders are named
//! with letters, digits, `-` and `_`.

/// Whether `c` may appear in a name.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Whether `s` is a name: non-empty, of letters, digits, `-` and `_` only.
pub fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_name_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_digits_dash_and_underscore_only() {
        for ok in ["a", "arm-1", "my_judge", "X9"] {
            assert!(is_name(ok), "{ok}");
        }
        for bad in ["", "a b", "a.b", "a/b", "é", "a{b}"] {
            assert!(!is_name(bad), "{bad}");
        }
    }
}
