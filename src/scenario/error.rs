//! Errors in scenario files, with the file, line and column, the offending line, and a fix.
//!
//! The builder reports problems by TOML path (`transitions[3].hazard.rate`); this module
//! finds that path's position in the source with toml's spanned parser, so every semantic
//! error points at the exact value, just like a syntax error.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::suggest;

/// One step of a path into the TOML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A key of a table.
    Key(String),
    /// An element of an array (or array of tables).
    Index(usize),
}

/// A path into the document, e.g. `transitions[3].hazard.rate`.
pub type Path = Vec<Segment>;

/// Builds a [`Path`] from keys and indices: `path!["transitions", 3, "rate"]`.
#[macro_export]
macro_rules! toml_path {
    ($($seg:expr),* $(,)?) => {
        vec![$($crate::scenario::error::IntoSegment::into_segment($seg)),*]
    };
}

/// Conversion used by [`toml_path!`].
pub trait IntoSegment {
    /// The segment.
    fn into_segment(self) -> Segment;
}

impl IntoSegment for &str {
    fn into_segment(self) -> Segment {
        Segment::Key(self.to_string())
    }
}

impl IntoSegment for String {
    fn into_segment(self) -> Segment {
        Segment::Key(self)
    }
}

impl IntoSegment for &String {
    fn into_segment(self) -> Segment {
        Segment::Key(self.clone())
    }
}

impl IntoSegment for usize {
    fn into_segment(self) -> Segment {
        Segment::Index(self)
    }
}

impl IntoSegment for Segment {
    fn into_segment(self) -> Segment {
        self
    }
}

/// Renders a path as `transitions[3].hazard.rate`.
pub fn path_to_string(path: &[Segment]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// A problem found while compiling the file, located by path.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildError {
    /// Where in the document.
    pub path: Path,
    /// Within the value at `path`, a byte range to point at (for rule texts).
    pub inner: Option<Range<usize>>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl BuildError {
    /// An error at `path`.
    pub fn new(path: Path, message: impl Into<String>) -> BuildError {
        BuildError {
            path,
            inner: None,
            message: message.into(),
            help: None,
        }
    }

    /// Adds a fix.
    pub fn help(mut self, help: impl Into<String>) -> BuildError {
        self.help = Some(help.into());
        self
    }
}

/// A scenario error ready to show a user.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    /// The file (as given on the command line).
    pub file: String,
    /// 1-based line and column, when the error has a place in the file.
    pub location: Option<(usize, usize)>,
    /// The source line and the span to underline on it (columns, 0-based).
    pub snippet: Option<Box<(String, Range<usize>)>>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// How the file came to be read when another file named it, innermost first: e.g.
    /// `mid.toml:2:11 (extends = "base.toml")`, then `top.toml:2:11 (extends = "mid.toml")`,
    /// so an error in a base file or model says which chain of files led there. (Boxed: an
    /// error travels in every `Result` of the loaders, and most have no chain.)
    pub chain: Box<[String]>,
}

/// Longest message shown; a longer one quotes some huge piece of the file.
const MAX_MESSAGE: usize = 600;

/// Text from the file made safe for a terminal: control characters (an escape sequence in
/// a hostile file could rewrite the screen) become `�`, one character each so columns stay
/// right; overlong text is cut.
fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = printable(&self.message, MAX_MESSAGE);
        match self.location {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {message}", self.file)?,
            None => write!(f, "{}: {message}", self.file)?,
        }
        if let (Some((line, _)), Some(snippet)) = (self.location, &self.snippet) {
            let (text, cols) = excerpt(&snippet.0, snippet.1.clone());
            let text = printable(&text, usize::MAX).replace('\n', " ");
            let (text, cols) = (&text, &cols);
            let number = line.to_string();
            let pad = " ".repeat(number.len());
            let width = cols.end.saturating_sub(cols.start).max(1);
            write!(
                f,
                "\n{pad} |\n{number} | {text}\n{pad} | {}{}",
                " ".repeat(cols.start),
                "^".repeat(width)
            )?;
        }
        for link in &self.chain {
            write!(f, "\n  from {}", printable(link, MAX_MESSAGE))?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {}", printable(help, MAX_MESSAGE))?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    /// An error about the file as a whole (missing, unreadable, not UTF-8).
    pub fn whole_file(file: &str, message: impl Into<String>, help: Option<String>) -> Self {
        ScenarioError {
            file: file.to_string(),
            location: None,
            snippet: None,
            message: message.into(),
            help,
            chain: Box::default(),
        }
    }

    /// Adds the place that named this error's file (see [`ScenarioError::chain`]); links
    /// are added innermost first, as the error travels out of the files that named it.
    pub fn named_from(mut self, link: impl Into<String>) -> Self {
        let mut chain = std::mem::take(&mut self.chain).into_vec();
        chain.push(link.into());
        self.chain = chain.into_boxed_slice();
        self
    }

    /// An error at a byte range of the source.
    pub fn at_span(
        file: &str,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Self {
        let (location, snippet) = match span {
            Some(span) => {
                let (line, col, text, cols) = line_and_column(source, span);
                (Some((line, col)), Some(Box::new((text, cols))))
            }
            None => (None, None),
        };
        ScenarioError {
            file: file.to_string(),
            location,
            snippet,
            message: message.into(),
            help,
            chain: Box::default(),
        }
    }

    /// A TOML syntax or type error, with a "did you mean" for unknown keys and variants.
    pub fn from_toml(file: &str, source: &str, error: &toml::de::Error) -> Self {
        let message = plain_types(error.message().trim());
        let help = unknown_name_help(&message).or_else(|| type_help(&message));
        ScenarioError::at_span(file, source, error.span(), message, help)
    }

    /// A builder error, located through its path.
    pub fn from_build(file: &str, source: &str, error: BuildError) -> Self {
        let mut span = locate(source, &error.path);
        if let (Some(s), Some(inner)) = (&span, &error.inner) {
            // Point inside a string value: skip the opening quote.
            let start = (s.start + 1 + inner.start).min(s.end);
            let end = (s.start + 1 + inner.end).clamp(start, s.end);
            span = Some(start..end.max(start + 1).min(s.end.max(start + 1)));
        }
        let mut message = error.message;
        if span.is_none() && !error.path.is_empty() {
            message = format!("{} (at `{}`)", message, path_to_string(&error.path));
        }
        ScenarioError::at_span(file, source, span, message, error.help)
    }
}

/// Widest source line shown in full; longer lines (a generated or damaged file) are cut to
/// a window around the error so the message stays readable.
const MAX_SHOWN: usize = 120;

/// The part of `text` to show and the columns to underline on it.
fn excerpt(text: &str, cols: Range<usize>) -> (String, Range<usize>) {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= MAX_SHOWN {
        return (text.to_string(), cols);
    }
    let start = cols.start.min(chars.len()).saturating_sub(MAX_SHOWN / 3);
    let end = (start + MAX_SHOWN).min(chars.len());
    let mut shown = String::new();
    let mut offset = 0;
    if start > 0 {
        shown.push('…');
        offset = 1;
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    let from = cols.start.saturating_sub(start) + offset;
    let to = (cols.end.min(end).saturating_sub(start) + offset).max(from + 1);
    (shown, from..to)
}

/// 1-based line and column of a span's start, the line's text and the span's columns on it.
fn line_and_column(source: &str, span: Range<usize>) -> (usize, usize, String, Range<usize>) {
    let start = span.start.min(source.len());
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let line = source[..start].matches('\n').count() + 1;
    let text = source[line_start..line_end]
        .trim_end_matches('\r')
        .to_string();
    let col_start = source[line_start..start].chars().count();
    let end = span.end.clamp(start, line_end);
    let col_end = col_start + source[start..end].chars().count();
    (line, col_start + 1, text, col_start..col_end)
}

/// Byte span of the value at `path`, or of the closest enclosing value that exists.
pub fn locate(source: &str, path: &[Segment]) -> Option<Range<usize>> {
    let root: Spanned<DeTable> = DeTable::parse(source).ok()?;
    let mut span = root.span();
    let root_value = DeValue::Table(root.into_inner());
    let mut current: &DeValue = &root_value;
    for seg in path {
        let next = match (seg, current) {
            (Segment::Key(k), DeValue::Table(t)) => t
                .iter()
                .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                .map(|(key, value)| {
                    // A table header's span can be empty; fall back to the key's.
                    let s = value.span();
                    if s.is_empty() {
                        (key.span(), value)
                    } else {
                        (s, value)
                    }
                }),
            (Segment::Index(i), DeValue::Array(a)) => a.get(*i).map(|v| (v.span(), v)),
            _ => None,
        };
        match next {
            Some((s, v)) => {
                span = s;
                current = v.get_ref();
            }
            None => break,
        }
    }
    Some(span)
}

/// Serde's names of Rust types in words a scenario author knows.
fn plain_types(message: &str) -> String {
    message
        .replace("expected i64", "expected a whole number")
        .replace("expected u64", "expected a whole number")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected a list `[...]`")
        .replace("expected a map", "expected a table")
}

/// A fix for a value of the wrong type, or a missing key.
fn type_help(message: &str) -> Option<String> {
    if message.starts_with("invalid type") {
        Some("numbers are written without quotes (rate = 0.1), names and durations in quotes (to = \"salvage\", horizon = \"5y\"), lists in brackets (landmarks = [\"1y\", \"2y\"]); the README's \"Scenario format\" shows every key".into())
    } else if message.contains("overflowed") {
        Some("numbers must stay within about ±1.8e308; is an exponent mistyped?".into())
    } else if message.contains("is not a duration") {
        Some("durations are ≥ 0: a number of months, or a number with a unit: \"30d\", \"6w\", \"18m\", \"2y\"".into())
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or_default();
        Some(format!(
            "add `{key}`; the README's \"Scenario format\" has a complete example"
        ))
    } else {
        None
    }
}

/// Byte span of the value at exactly `path`, or `None` if the document has no such value
/// (unlike [`locate`], which falls back to the closest enclosing value).
pub fn locate_exact(source: &str, path: &[Segment]) -> Option<Range<usize>> {
    let root: Spanned<DeTable> = DeTable::parse(source).ok()?;
    let root_value = DeValue::Table(root.into_inner());
    let mut current: &DeValue = &root_value;
    let mut span = None;
    for seg in path {
        let (s, v) = match (seg, current) {
            (Segment::Key(k), DeValue::Table(t)) => t
                .iter()
                .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                .map(|(_, value)| (value.span(), value))?,
            (Segment::Index(i), DeValue::Array(a)) => a.get(*i).map(|v| (v.span(), v))?,
            _ => return None,
        };
        span = Some(s);
        current = v.get_ref();
    }
    span.filter(|s| !s.is_empty())
}

/// "Did you mean" for serde's `unknown field `x`, expected one of `a`, `b`` messages.
fn unknown_name_help(message: &str) -> Option<String> {
    let kind = if message.starts_with("unknown field") {
        "key"
    } else if message.starts_with("unknown variant") {
        "value"
    } else {
        return None;
    };
    let names: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    let (unknown, expected) = names.split_first()?;
    let suggestion = suggest::closest(unknown, expected.iter().copied());
    Some(match suggestion {
        Some(s) => format!("did you mean `{s}`? (`{unknown}` is not a known {kind} here)"),
        None => format!("remove `{unknown}` or use one of the keys listed above"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[simulation]\npatients = 10\n\n[[transitions]]\nfrom = \"a\"\nto = \"b\"\n\n[[transitions]]\nfrom = \"b\"\nto = \"c\"\nhazard = { family = \"weibull\", shape = -1 }\n";

    #[test]
    fn locates_nested_values() {
        let span = locate(DOC, &{
            let p: Path = toml_path!["transitions", 1, "hazard", "shape"];
            p
        })
        .unwrap();
        assert_eq!(&DOC[span], "-1");
        let span = locate(DOC, &{
            let p: Path = toml_path!["transitions", 1, "to"];
            p
        })
        .unwrap();
        assert_eq!(&DOC[span], "\"c\"");
        let span = locate(DOC, &{
            let p: Path = toml_path!["simulation", "patients"];
            p
        })
        .unwrap();
        assert_eq!(&DOC[span.clone()], "10");
        let (line, col, text, _) = line_and_column(DOC, span);
        assert_eq!((line, col, text.as_str()), (2, 12, "patients = 10"));
    }

    #[test]
    fn missing_path_falls_back_to_the_enclosing_value() {
        // An array-of-tables element is located by its `[[...]]` header.
        let span = locate(DOC, &{
            let p: Path = toml_path!["transitions", 1, "nothing"];
            p
        })
        .unwrap();
        assert_eq!(&DOC[span.clone()], "[[transitions]]");
        assert_eq!(line_and_column(DOC, span).0, 8);
    }

    #[test]
    fn unknown_field_gets_a_suggestion() {
        let help = unknown_name_help("unknown field `patiens`, expected one of `patients`, `seed`");
        assert_eq!(
            help.unwrap(),
            "did you mean `patients`? (`patiens` is not a known key here)"
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_error() {
        let line = format!("{}bad{}", "x".repeat(5000), "y".repeat(5000));
        let (shown, cols) = excerpt(&line, 5000..5003);
        assert!(shown.chars().count() <= MAX_SHOWN + 2, "{}", shown.len());
        let picked: String = shown.chars().skip(cols.start).take(cols.len()).collect();
        assert_eq!(picked, "bad");
        assert_eq!(excerpt("short", 1..3), ("short".to_string(), 1..3));
    }

    #[test]
    fn type_errors_speak_plainly() {
        assert_eq!(
            plain_types("invalid type: string \"many\", expected i64"),
            "invalid type: string \"many\", expected a whole number"
        );
        assert!(
            type_help("missing field `states`")
                .unwrap()
                .contains("add `states`")
        );
    }

    #[test]
    fn display_has_location_snippet_and_help() {
        let e = ScenarioError::from_build(
            "s.toml",
            DOC,
            BuildError::new(toml_path!["transitions", 1, "hazard", "shape"], "bad shape")
                .help("use a positive shape"),
        );
        let text = e.to_string();
        assert!(text.starts_with("s.toml:11:"), "{text}");
        assert!(text.contains("hazard = { family"), "{text}");
        assert!(text.contains("^^"), "{text}");
        assert!(text.contains("help: use a positive shape"), "{text}");
    }
}
