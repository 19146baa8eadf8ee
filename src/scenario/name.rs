//! A scenario's name: the folder its results go in (`output/<name>`, `parts/<name>`,
//! `output/<name>_psa`), so it must be exactly one safe file-name component.
//!
//! Why so strict: the name comes from a file, and a file may come from anyone. As a path it
//! could point anywhere (`/tmp/victim`, `../../x`) or nowhere (`""`, which makes the output
//! folder `output/` itself), and `--force` would then replace what it points at; escape
//! sequences in it would reach the terminal and become folder names; a very long one fails
//! only when the folder is created, after the whole simulation. So a name written in a
//! file is checked when the file is loaded, and a name taken from a file name (when the file
//! has none) is made safe the same way, character by character.

use super::error::{BuildError, Path};

/// Longest scenario name, in bytes: room for the `_psa`/`_owsa` suffixes and the staging
/// names within the file system's 255.
pub const MAX_NAME_BYTES: usize = 100;

/// Characters a name may have: letters and digits (any script), `_`, `-` and `.`.
fn allowed(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// The name as written (`[scenario] name`), checked; `path` locates it for the message.
pub fn checked(name: &str, path: Path) -> Result<String, BuildError> {
    let problem = if name.is_empty() {
        Some("is empty".to_string())
    } else if name.len() > MAX_NAME_BYTES {
        Some(format!(
            "is {} bytes long; names are at most {MAX_NAME_BYTES} bytes",
            name.len()
        ))
    } else if name.starts_with('.') || name.starts_with('-') {
        Some("starts with `.` or `-`".to_string())
    } else {
        name.chars()
            .find(|c| !allowed(*c))
            .map(|c| format!("contains {}", describe(c)))
    };
    match problem {
        None => Ok(name.to_string()),
        Some(problem) => Err(BuildError::new(
            path,
            format!("the scenario name {problem}: it names the output folder, so it must be one plain file name"),
        )
        .help(format!(
            "use letters, digits, `_`, `-` and `.` (not first), at most {MAX_NAME_BYTES} bytes, e.g. name = \"{}\"; where results go is chosen when running, not by the name",
            made_safe(name)
        ))),
    }
}

/// A name taken from a file name, made safe: every other character becomes `_`, leading
/// dots and dashes go, it is cut to [`MAX_NAME_BYTES`], and an empty result is `scenario`.
pub fn made_safe(name: &str) -> String {
    let mut out = String::with_capacity(name.len().min(MAX_NAME_BYTES));
    for c in name
        .trim_start_matches(['.', '-'])
        .chars()
        .map(|c| if allowed(c) { c } else { '_' })
    {
        if out.len() + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        out.push(c);
    }
    if out.is_empty() {
        "scenario".into()
    } else {
        out
    }
}

fn describe(c: char) -> String {
    match c {
        '/' | '\\' => format!("`{c}`, a folder separator"),
        c if c.is_control() => format!("a control character (U+{:04X})", c as u32),
        ' ' => "a space".into(),
        c => format!("`{c}` (U+{:04X})", c as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_strange_names_are_refused_with_a_safe_suggestion() {
        for bad in [
            "/tmp/victim",
            "../../x",
            "",
            ".",
            "..",
            "a b",
            "x\u{1b}[31m",
            "-rf",
        ] {
            let e = checked(bad, Vec::new()).unwrap_err();
            assert!(e.message.contains("scenario name"), "{bad}: {}", e.message);
            let help = e.help.unwrap();
            let suggested = help.split('"').nth(1).unwrap();
            checked(suggested, Vec::new()).unwrap_or_else(|e| panic!("{bad} → {suggested}: {e:?}"));
        }
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        assert!(
            checked(&long, Vec::new())
                .unwrap_err()
                .message
                .contains("bytes")
        );
        for good in ["donor_policy", "étude-2.v1", "reference_markov"] {
            assert_eq!(checked(good, Vec::new()).unwrap(), good);
        }
    }

    #[test]
    fn names_from_file_names_are_made_safe() {
        assert_eq!(made_safe("my study"), "my_study");
        assert_eq!(made_safe("..hidden"), "hidden");
        assert_eq!(made_safe(""), "scenario");
        assert_eq!(made_safe(&"é".repeat(80)).len(), MAX_NAME_BYTES);
    }
}
