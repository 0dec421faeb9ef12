//! Text bound for a terminal: what a server or a model wrote (model names, error messages,
//! job events) may carry escape sequences that recolour, retitle the window or plant links.

/// `text` without control characters: ANSI escape sequences (CSI, OSC, DCS and the like,
/// in their ESC and C1 forms) are removed whole, other C0 and C1 controls, DEL and the
/// bidirectional overrides are dropped. Newlines and tabs stay.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\u{1b}' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // `ESC ( B` and the like: intermediate bytes, then one final byte.
                Some(' '..='/') => {
                    while chars.next_if(|c| matches!(c, ' '..='/')).is_some() {}
                    chars.next();
                }
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Skips a control sequence's parameter and intermediate bytes and its final byte.
fn skip_csi(chars: &mut Chars) {
    while chars.next_if(|c| matches!(c, ' '..='?')).is_some() {}
    chars.next_if(|c| matches!(c, '@'..='~'));
}

/// Skips a string sequence (OSC, DCS, ...) up to its terminator (BEL, `ESC \` or ST); an
/// unterminated one ends at the line's end.
fn skip_string(chars: &mut Chars) {
    while let Some(c) = chars.next_if(|c| *c != '\n') {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn escape_sequences_go_whole() {
        assert_eq!(printable("\u{1b}[31mred\u{1b}[0m text"), "red text");
        assert_eq!(printable("a\u{1b}[2J\u{1b}[1;1Hb"), "ab");
        assert_eq!(printable("\u{1b}]0;pwned\u{7}title"), "title");
        assert_eq!(
            printable("\u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\ here"),
            "click here"
        );
        assert_eq!(printable("\u{9b}31mc1\u{9d}0;t\u{9c}!"), "c1!");
        assert_eq!(printable("\u{1b}(Bcharset\u{1b}c"), "charset");
        assert_eq!(printable("\u{1b}Pdcs\u{1b}\\ok"), "ok");
    }

    #[test]
    fn other_controls_are_dropped_and_text_stays() {
        assert_eq!(printable("a\rb\u{8}c\u{7}d\u{0}e\u{7f}f\u{85}g"), "abcdefg");
        assert_eq!(printable("x\u{202e}gnp.exe"), "xgnp.exe");
        assert_eq!(
            printable("line 1\n\tline 2 — ünïcode ✓"),
            "line 1\n\tline 2 — ünïcode ✓"
        );
        // An unterminated string sequence ends at the line's end.
        assert_eq!(printable("\u{1b}]0;no end\nnext"), "\nnext");
    }
}
