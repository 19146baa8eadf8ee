//! Text on its way to a terminal. Scenario files are untrusted: a name, label or path in
//! them could carry escape sequences that rewrite the screen or bidirectional-override
//! characters that make a line read differently from what it is, so every character that
//! is not printable becomes `�` (one each, so columns stay right). Newlines and tabs pass.

/// `text` with control, bidirectional-control and other invisible formatting characters
/// replaced by `�`.
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| if unsafe_char(c) { '\u{fffd}' } else { c })
        .collect::<String>()
        .into()
}

fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn escapes_and_overrides_become_visible_and_text_stays() {
        assert_eq!(safe("a\u{1b}[2Jb"), "a\u{fffd}[2Jb");
        assert_eq!(safe("x\u{202e}y"), "x\u{fffd}y");
        assert_eq!(safe("line 1\n\tline 2 — é"), "line 1\n\tline 2 — é");
    }
}
