//! The one way a serde_yaml error is shown: `file:line:column: message`, the position said
//! once (serde_yaml also writes it into its message).

/// Where a serde_yaml error is (line and column, from 1), and its message without that
/// position.
pub fn split(e: &serde_yaml::Error) -> (Option<(usize, usize)>, String) {
    let message = e.to_string();
    match e.location() {
        Some(l) => {
            let at = format!(" at line {} column {}", l.line(), l.column());
            (Some((l.line(), l.column())), message.replacen(&at, "", 1))
        }
        None => (None, message),
    }
}

/// `origin:line:column: message` (`origin: message` when serde_yaml gives no position).
pub fn describe(origin: &str, e: &serde_yaml::Error) -> String {
    match split(e) {
        (Some((line, column)), message) => format!("{origin}:{line}:{column}: {message}"),
        (None, message) => format!("{origin}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_the_position_once() {
        let e = serde_yaml::from_str::<Vec<u32>>("[1, 2\nx: 3").unwrap_err();
        let text = describe("f.yaml", &e);
        assert!(text.starts_with("f.yaml:"), "{text}");
        assert!(!text.contains(" at line "), "{text}");
        let (at, message) = split(&e);
        assert!(at.is_some());
        assert!(!message.contains(" at line "), "{message}");
    }
}
