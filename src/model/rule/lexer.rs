//! The tokenizer: rule text to a list of tokens with byte spans.
//!
//! Separate from the parser so that spelling mistakes (`&&`, `=`, typographic quotes, a unit
//! that is not one) are caught in one place, each with the spelling to use; a bad token ends
//! the list, so the parser reports errors in the order they appear in the text.

use super::eval::{ArithOp, CmpOp};
use super::{FUNCTIONS, KEYWORDS, RuleError, Span, error};
use crate::model::variable::TimeUnit;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// A number as written, with its unit if it had one (`65y` is 65 and years).
    Num(f64, Option<TimeUnit>),
    Str(String),
    /// A name or keyword.
    Ident(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Cmp(CmpOp),
    Arith(ArithOp),
    /// End of the rule.
    End,
    /// Text that is not a token; ends the token list so the error is reported when the
    /// parser reaches it (errors come out left to right).
    Bad(RuleError),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) span: Span,
}

impl Token {
    pub(super) fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s) if s == keyword)
    }
}

/// Splits the source into tokens. The list always ends with `End` or `Bad`.
pub(super) fn tokenize(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(c) = src.get(i..).and_then(|rest| rest.chars().next()) {
        let next = bytes.get(i + 1).copied();
        let single = |tok| (tok, 1);
        let (tok, len) = match c {
            c if c.is_whitespace() => {
                i += c.len_utf8();
                continue;
            }
            '0'..='9' => lex_number(src, i),
            '.' if next.is_some_and(|b| b.is_ascii_digit()) => lex_number(src, i),
            'a'..='z' | 'A'..='Z' | '_' => {
                let len = bytes[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                (Tok::Ident(src[i..i + len].to_string()), len)
            }
            '\'' | '"' => match src[i + 1..].find(c) {
                Some(k) => (Tok::Str(src[i + 1..i + 1 + k].to_string()), k + 2),
                None => (
                    Tok::Bad(error(
                        Span::new(i, src.len()),
                        format!(
                            "this string is never closed; add a closing {c} after the level name"
                        ),
                    )),
                    src.len() - i,
                ),
            },
            '(' => single(Tok::LParen),
            ')' => single(Tok::RParen),
            '[' => single(Tok::LBracket),
            ']' => single(Tok::RBracket),
            ',' => single(Tok::Comma),
            '+' => single(Tok::Arith(ArithOp::Add)),
            '-' => single(Tok::Arith(ArithOp::Sub)),
            '*' => single(Tok::Arith(ArithOp::Mul)),
            '/' => single(Tok::Arith(ArithOp::Div)),
            '=' if next == Some(b'=') => (Tok::Cmp(CmpOp::Eq), 2),
            '!' if next == Some(b'=') => (Tok::Cmp(CmpOp::Ne), 2),
            '<' if next == Some(b'=') => (Tok::Cmp(CmpOp::Le), 2),
            '>' if next == Some(b'=') => (Tok::Cmp(CmpOp::Ge), 2),
            '<' if next == Some(b'>') => bad(
                i,
                2,
                "`<>` is not an operator; write `!=` for \"not equal\"",
            ),
            '<' => single(Tok::Cmp(CmpOp::Lt)),
            '>' => single(Tok::Cmp(CmpOp::Gt)),
            '=' if next == Some(b'>') => bad(i, 2, "`=>` is not an operator; write `>=`"),
            '=' if next == Some(b'<') => bad(i, 2, "`=<` is not an operator; write `<=`"),
            '=' => bad(
                i,
                1,
                "a single `=` is not a comparison; write `==` to test equality",
            ),
            '!' => bad(
                i,
                1,
                "`!` is not an operator here; write `not` to negate a condition",
            ),
            '&' => {
                let len = if next == Some(b'&') { 2 } else { 1 };
                bad(
                    i,
                    len,
                    "`&&` is not an operator here; write `and` to require both conditions",
                )
            }
            '|' => {
                let len = if next == Some(b'|') { 2 } else { 1 };
                bad(
                    i,
                    len,
                    "`||` is not an operator here; write `or` to accept either condition",
                )
            }
            '≥' => bad(i, c.len_utf8(), "`≥` is not an operator; write `>=`"),
            '≤' => bad(i, c.len_utf8(), "`≤` is not an operator; write `<=`"),
            '≠' => bad(i, c.len_utf8(), "`≠` is not an operator; write `!=`"),
            '‘' | '’' | '“' | '”' => bad(
                i,
                c.len_utf8(),
                format!(
                    "`{c}` is a typographic quote; write levels in straight quotes, e.g. 'AML'"
                ),
            ),
            _ => bad(
                i,
                c.len_utf8(),
                format!(
                    "unexpected character `{c}`; rules use names, numbers, levels in quotes, \
                     parentheses and the operators and or not in == != < <= > >= + - * /"
                ),
            ),
        };
        let is_bad = matches!(tok, Tok::Bad(_));
        tokens.push(Token {
            tok,
            span: Span::new(i, i + len),
        });
        if is_bad {
            return tokens;
        }
        i += len;
    }
    let end = src.trim_end().len();
    tokens.push(Token {
        tok: Tok::End,
        span: Span::new(end, end),
    });
    tokens
}

fn bad(start: usize, len: usize, message: impl Into<String>) -> (Tok, usize) {
    (Tok::Bad(error(Span::new(start, start + len), message)), len)
}

/// A number starting at `start`, with an optional exponent and an optional unit suffix.
fn lex_number(src: &str, start: usize) -> (Tok, usize) {
    let bytes = src.as_bytes();
    let digits_from = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = digits_from(start);
    if bytes.get(i) == Some(&b'.') {
        i = digits_from(i + 1);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            i = digits_from(j);
        }
    }
    let number_end = i;
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        i += 1;
    }
    let len = i - start;
    let text = &src[start..i];
    let Ok(number) = src[start..number_end].parse::<f64>() else {
        return bad(start, len, format!("`{text}` is not a number"));
    };
    let unit = &src[number_end..i];
    let unit = if unit.is_empty() {
        None
    } else {
        match TimeUnit::parse(unit) {
            Some(u) => Some(u),
            None if KEYWORDS.contains(&unit) || FUNCTIONS.contains(&unit) || unit == "time" => {
                let number = &src[start..number_end];
                return bad(
                    start,
                    len,
                    format!(
                        "`{text}` is not a number; put a space between `{number}` and `{unit}`"
                    ),
                );
            }
            None => {
                return bad(
                    start,
                    len,
                    format!(
                        "unknown unit `{unit}` in `{text}`; a bare number is months, or add one \
                         of the units d, w, m, y (days, weeks, months, years), e.g. 30d, 6w, 18m, 2y"
                    ),
                );
            }
        }
    };
    // Too large in months is too large in any unit it may be converted to.
    let months = unit.map_or(number, |u| u.convert(number, TimeUnit::Months));
    if !(number.is_finite() && months.is_finite()) {
        return bad(
            start,
            len,
            format!("`{text}` is too large to be a number; write a smaller value"),
        );
    }
    (Tok::Num(number, unit), len)
}
