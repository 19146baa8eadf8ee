//! Decision rules and covariate conditions: a small, typed expression language.
//!
//! Scenario files say *when* a branch is taken or a covariate effect applies with short
//! expressions such as `status != 'active' and remission >= 6m and hct_ci < 2`, and give
//! per-unit covariate effects as numeric expressions such as `age - 50`. A rule is compiled
//! once against the model's variables and states (names resolved to indices, types checked,
//! every mistake reported with its byte range and a way to fix it) and then evaluated per
//! patient millions of times, so evaluation is an allocation-free walk over a small typed
//! tree: no strings, no maps, no panics.
//!
//! The pipeline is the textbook one: a tokenizer, a recursive-descent parser building an
//! untyped syntax tree with byte spans, a compiler that checks types and resolves names into
//! a typed tree (numbers and conditions), and the evaluator on that tree.
//!
//! Grammar, lowest precedence first (one spelling per operator on purpose, so scenario files
//! read the same everywhere; `&&`, `||`, `!` and `=` are rejected with the spelling to use):
//!
//! ```text
//! rule       := or
//! or         := and ( "or" and )*
//! and        := not ( "and" not )*
//! not        := "not" not | comparison
//! comparison := sum [ ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) sum      (not chainable)
//!                   | [ "not" ] "in" "[" sum ( "," sum )* [ "," ] "]" ]
//! sum        := product ( ( "+" | "-" ) product )*
//! product    := unary ( ( "*" | "/" ) unary )*
//! unary      := "-" unary | primary
//! primary    := number [ unit ] | string | "true" | "false" | name
//!             | function "(" string ")" | "(" rule ")"
//! number     := digits [ "." digits ] [ ( "e" | "E" ) [ "+" | "-" ] digits ]   (or "." digits ...)
//! unit       := d | w | m | y (or long forms: days, weeks, months, years, ...), written
//!               right after the number: `30d`, `6w`, `18m`, `1.5y`
//! string     := '...' | "..."        (no escapes; only meaningful against a categorical)
//! name       := [A-Za-z_][A-Za-z0-9_]*   (a variable, or the built-in `time`)
//! function   := visited | visits | time_since
//! ```
//!
//! History functions take a state name in quotes: `visited('s')` (the state was entered at
//! least once), `visits('s')` (number of entries) and `time_since('s')` (months since the last
//! entry). `time_since` of a state never entered is +infinity, so `time_since('relapse1') > 6`
//! is **true** for a patient who never relapsed; write
//! `visited('relapse1') and time_since('relapse1') > 6` when the state must have been visited.
//! `time` is months since cohort entry.
//!
//! Evaluation never panics: arithmetic follows IEEE (division by zero gives infinity or NaN),
//! and every comparison involving NaN (a missing value) is false, `!=` and `not in` included.
//!
//! Numbers have units. A variable's unit is declared with it ([`Unit`]: a time in years,
//! months, weeks or days, or none); `time` and `time_since` are months; `visits` has none;
//! `65y` is a time in years. Times in different units are converted where they meet (a
//! constant is converted into the unit of the other side, so `age < 65y` against an age in
//! years is `age < 65` exactly); a number written without a unit takes the unit of the time
//! it meets (`age < 70`: years; `time > 36`: months) unless that time has no one unit
//! (`age + time`, `5y + 3m`); a time against a number without a unit, a product of two times
//! and a number divided by a time are refused, with the corrected rule or the unit to
//! declare. A time divided by a time has no unit. A numeric rule knows its unit
//! ([`Rule::unit`]) and can be converted ([`Rule::converted_to`]).
//!
//! Types are Number, Condition (true/false), Categorical (a categorical variable) and quoted
//! string. Conditions combine with `and`/`or`/`not`; numbers with arithmetic and the six
//! comparisons; a categorical variable may only be compared (`==`, `!=`, `in`) with its own
//! levels in quotes or with a categorical variable with identical levels; a Bool variable is a
//! condition and may be compared with `true`/`false`.

use std::fmt;

use crate::model::variable::{
    Conversion, TimeUnit, Unit, VarKind, VarSource, Variable, quote_list,
};
use crate::suggest::did_you_mean;

/// Words a variable must not be named, because the rule language gives them a meaning
/// (a variable with one of these names could not be referred to in a rule).
pub const RESERVED_NAMES: [&str; 10] = [
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "time",
    "visited",
    "visits",
    "time_since",
];

/// The keywords of the language (always lower case).
const KEYWORDS: [&str; 6] = ["and", "or", "not", "in", "true", "false"];

/// The history functions, each taking a state name in quotes.
const FUNCTIONS: [&str; 3] = ["visited", "visits", "time_since"];

/// Maximum nesting of parentheses, `not`, unary `-`, calls and lists while parsing.
const MAX_NESTING: usize = 64;

/// Maximum depth of the syntax tree (bounds the compiler's and evaluator's recursion).
const MAX_DEPTH: usize = 256;

/// Operand texts longer than this are shortened in messages.
const MAX_QUOTE: usize = 40;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// What a rule may name: the model's variables and states. Rules refer to both by name; the
/// compiled rule refers to them by their position in these slices, which is how the engine
/// stores per-patient values and histories.
#[derive(Debug, Clone, Copy)]
pub struct RuleScope<'a> {
    /// The model's variables; a variable's index is its position here.
    pub variables: &'a [Variable],
    /// The model's states; a state's index is its position here.
    pub states: &'a [String],
}

/// Everything a rule can look at when evaluated. Rules are evaluated at the moment of a
/// decision or on entering a state.
///
/// Slices shorter than the scope the rule was compiled against do not panic: a missing value
/// reads as NaN (so comparisons with it are false), a missing visit count as 0 and a missing
/// last entry as "never entered".
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    /// Variable values, by variable index (numbers; booleans 0/1; categories the level index).
    pub values: &'a [f64],
    /// Months since cohort entry.
    pub time: f64,
    /// By state index: number of entries into that state so far.
    pub visits: &'a [u32],
    /// By state index: time (months since entry) of the last entry; `f64::NAN` if never entered.
    pub last_entry: &'a [f64],
}

/// A compiled rule: a condition or a numeric expression, with names resolved to indices.
///
/// Compiling once and walking a typed tree keeps per-patient evaluation cheap and lets every
/// mistake in a scenario file be reported before any patient is simulated.
#[derive(Debug, Clone)]
pub struct Rule {
    source: String,
    body: Body,
    uses_history: bool,
    variables: Vec<usize>,
    unit: Unit,
}

/// Why a rule text was rejected: the byte range of the offending part (for pointing at it
/// under the rule text) and a message saying what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    /// Byte offset of the offending part in the rule source.
    pub offset: usize,
    /// Length in bytes of the offending part (0 for "something is missing here").
    pub len: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

impl RuleError {
    /// The message followed by the rule text and a `^^^` line under the offending part,
    /// for error reports where the position matters (long rules).
    pub fn render(&self, source: &str) -> String {
        let offset = self.offset.min(source.len());
        let before = source.get(..offset).unwrap_or("").chars().count();
        let end = (offset + self.len).min(source.len());
        let width = source.get(offset..end).unwrap_or("").chars().count().max(1);
        format!(
            "{}\n  {}\n  {}{}",
            self.message,
            source,
            " ".repeat(before),
            "^".repeat(width)
        )
    }
}

impl Rule {
    /// Compiles a condition (a rule that must be true or false), e.g. a decision branch's
    /// `when` or a covariate's `if`.
    pub fn parse_condition(source: &str, scope: &RuleScope) -> Result<Rule, RuleError> {
        compile_rule(source, scope, Want::Condition)
    }

    /// Compiles a numeric expression, e.g. the per-unit value of a covariate (`age - 50`).
    /// Its [`unit`](Rule::unit) says what one unit of it is (a year of age, an HCT-CI point).
    pub fn parse_number(source: &str, scope: &RuleScope) -> Result<Rule, RuleError> {
        compile_rule(source, scope, Want::Number)
    }

    /// The unit of a numeric rule's value: a time unit if it is a time (`age` in years,
    /// `time_since('hsct2')` in months), [`Unit::None`] for counts, scores and conditions.
    pub fn unit(&self) -> Unit {
        self.unit
    }

    /// This numeric rule with its value in `to` (e.g. a time in months as years, for a
    /// hazard ratio given per year). A rule that is not a time is returned as it is.
    pub fn converted_to(self, to: TimeUnit) -> Rule {
        let Rule {
            source,
            body,
            uses_history,
            variables,
            unit,
        } = self;
        let (body, unit) = match (unit, body) {
            (Unit::Time(from), Body::Num(num)) => {
                (Body::Num(convert(num, from, to)), Unit::Time(to))
            }
            (unit, body) => (body, unit),
        };
        Rule {
            source,
            body,
            uses_history,
            variables,
            unit,
        }
    }

    /// Evaluates a condition. (On a numeric rule: true if the value is neither 0 nor NaN.)
    #[inline]
    pub fn eval_bool(&self, ctx: &RuleContext) -> bool {
        match &self.body {
            Body::Cond(c) => c.eval(ctx),
            Body::Num(n) => truthy(n.eval(ctx)),
        }
    }

    /// Evaluates a numeric expression. (On a condition: 1 for true, 0 for false.)
    #[inline]
    pub fn eval_number(&self, ctx: &RuleContext) -> f64 {
        match &self.body {
            Body::Num(n) => n.eval(ctx),
            Body::Cond(c) => {
                if c.eval(ctx) {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// The rule text as written in the scenario file (for messages and outputs).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True if the rule reads `time`, `visits`, `visited` or `time_since` (history), so callers
    /// know it is not a pure function of the variables.
    pub fn uses_history(&self) -> bool {
        self.uses_history
    }

    /// Indices of the variables the rule reads (sorted, deduplicated), so callers can check
    /// that a rule only reads variables known at the point where it is evaluated.
    pub fn variables(&self) -> Vec<usize> {
        self.variables.clone()
    }

    /// A rule that is always true (used as the default `else` of a decision).
    pub fn always() -> Rule {
        Rule {
            source: "true".into(),
            body: Body::Cond(Cond::Const(true)),
            uses_history: false,
            variables: Vec::new(),
            unit: Unit::None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compiled tree and evaluation
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Body {
    Cond(Cond),
    Num(Num),
}

/// A numeric expression with resolved indices.
#[derive(Debug, Clone)]
enum Num {
    Const(f64),
    Var(usize),
    Time,
    Visits(usize),
    /// `time - last_entry`, +infinity if the state was never entered.
    TimeSince(usize),
    Neg(Box<Num>),
    Add(Box<Num>, Box<Num>),
    Sub(Box<Num>, Box<Num>),
    Mul(Box<Num>, Box<Num>),
    Div(Box<Num>, Box<Num>),
}

/// A condition with resolved indices. Categorical comparisons are numeric comparisons of the
/// stored level index with a constant (or another variable's index).
#[derive(Debug, Clone)]
enum Cond {
    Const(bool),
    Var(usize),
    Visited(usize),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    /// Two conditions compared with `==` (or `!=` when `negated`).
    Same {
        a: Box<Cond>,
        b: Box<Cond>,
        negated: bool,
    },
    Cmp(CmpOp, Box<Num>, Box<Num>),
    /// `Cmp(op, Var(i), Const(c))`, the commonest shape (`donor_type == 'cord'`, `age < 70`),
    /// without the two pointer chases of the general form.
    VarCmp(CmpOp, usize, f64),
    /// Membership; false either way if the value is NaN.
    In {
        value: Box<Num>,
        items: Box<[f64]>,
        negated: bool,
    },
}

/// A stored boolean: non-zero is true, NaN (missing) is false.
#[inline]
fn truthy(v: f64) -> bool {
    v != 0.0 && !v.is_nan()
}

impl Num {
    fn eval(&self, ctx: &RuleContext) -> f64 {
        match self {
            Num::Const(v) => *v,
            Num::Var(i) => ctx.values.get(*i).copied().unwrap_or(f64::NAN),
            Num::Time => ctx.time,
            Num::Visits(s) => ctx.visits.get(*s).map_or(0.0, |&n| f64::from(n)),
            Num::TimeSince(s) => {
                let last = ctx.last_entry.get(*s).copied().unwrap_or(f64::NAN);
                if last.is_nan() {
                    f64::INFINITY
                } else {
                    ctx.time - last
                }
            }
            Num::Neg(x) => -x.eval(ctx),
            Num::Add(a, b) => a.eval(ctx) + b.eval(ctx),
            Num::Sub(a, b) => a.eval(ctx) - b.eval(ctx),
            Num::Mul(a, b) => a.eval(ctx) * b.eval(ctx),
            Num::Div(a, b) => a.eval(ctx) / b.eval(ctx),
        }
    }

    /// The value if the expression does not depend on the patient (list items).
    fn constant(&self) -> Option<f64> {
        Some(match self {
            Num::Const(v) => *v,
            Num::Neg(x) => -x.constant()?,
            Num::Add(a, b) => a.constant()? + b.constant()?,
            Num::Sub(a, b) => a.constant()? - b.constant()?,
            Num::Mul(a, b) => a.constant()? * b.constant()?,
            Num::Div(a, b) => a.constant()? / b.constant()?,
            Num::Var(_) | Num::Time | Num::Visits(_) | Num::TimeSince(_) => return None,
        })
    }
}

impl Cond {
    /// The same condition with variable-against-constant comparisons in their fast form.
    fn streamlined(self) -> Cond {
        let boxed = |c: Box<Cond>| Box::new(c.streamlined());
        match self {
            Cond::Cmp(op, a, b) => match (*a, *b) {
                (Num::Var(i), Num::Const(c)) => Cond::VarCmp(op, i, c),
                (a, b) => Cond::Cmp(op, Box::new(a), Box::new(b)),
            },
            Cond::Not(c) => Cond::Not(boxed(c)),
            Cond::And(a, b) => Cond::And(boxed(a), boxed(b)),
            Cond::Or(a, b) => Cond::Or(boxed(a), boxed(b)),
            Cond::Same { a, b, negated } => Cond::Same {
                a: boxed(a),
                b: boxed(b),
                negated,
            },
            other => other,
        }
    }

    fn eval(&self, ctx: &RuleContext) -> bool {
        match self {
            Cond::Const(b) => *b,
            Cond::Var(i) => truthy(ctx.values.get(*i).copied().unwrap_or(f64::NAN)),
            Cond::Visited(s) => ctx.visits.get(*s).is_some_and(|&n| n > 0),
            Cond::Not(c) => !c.eval(ctx),
            Cond::And(a, b) => a.eval(ctx) && b.eval(ctx),
            Cond::Or(a, b) => a.eval(ctx) || b.eval(ctx),
            Cond::Same { a, b, negated } => (a.eval(ctx) == b.eval(ctx)) != *negated,
            Cond::Cmp(op, a, b) => op.apply(a.eval(ctx), b.eval(ctx)),
            Cond::VarCmp(op, i, c) => op.apply(ctx.values.get(*i).copied().unwrap_or(f64::NAN), *c),
            Cond::In {
                value,
                items,
                negated,
            } => {
                let v = value.eval(ctx);
                !v.is_nan() && (items.contains(&v) != *negated)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// Any comparison involving NaN is false, `!=` included (a missing value is not
    /// "different from 3"; it is unknown).
    #[inline]
    fn apply(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b && !a.is_nan() && !b.is_nan(),
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn is_equality(self) -> bool {
        matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl ArithOp {
    fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------------

/// A byte range in the rule source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

fn error(span: Span, message: impl Into<String>) -> RuleError {
    RuleError {
        offset: span.start,
        len: span.end.saturating_sub(span.start),
        message: message.into(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
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
struct Token {
    tok: Tok,
    span: Span,
}

impl Token {
    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s) if s == keyword)
    }
}

/// Splits the source into tokens. The list always ends with `End` or `Bad`.
fn tokenize(src: &str) -> Vec<Token> {
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

// ---------------------------------------------------------------------------------------------
// Parser: tokens -> untyped syntax tree with spans
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Ast {
    kind: AstKind,
    span: Span,
    /// Height of this subtree (1 for a leaf).
    depth: usize,
}

#[derive(Debug, Clone)]
enum AstKind {
    /// A number as written and its unit, if it had one.
    Num(f64, Option<TimeUnit>),
    Str(String),
    Bool(bool),
    Name(String),
    Call {
        name: String,
        name_span: Span,
        args: Vec<Ast>,
    },
    Neg(Box<Ast>),
    Not(Box<Ast>),
    /// `and` (if `and`) or `or`.
    Logic {
        and: bool,
        left: Box<Ast>,
        right: Box<Ast>,
    },
    Arith {
        op: ArithOp,
        left: Box<Ast>,
        right: Box<Ast>,
    },
    Compare {
        op: CmpOp,
        op_span: Span,
        left: Box<Ast>,
        right: Box<Ast>,
    },
    In {
        negated: bool,
        op_span: Span,
        value: Box<Ast>,
        items: Vec<Ast>,
        list_span: Span,
    },
}

impl AstKind {
    fn child_depth(&self) -> usize {
        match self {
            AstKind::Num(..) | AstKind::Str(_) | AstKind::Bool(_) | AstKind::Name(_) => 0,
            AstKind::Call { args, .. } => args.iter().map(|a| a.depth).max().unwrap_or(0),
            AstKind::Neg(x) | AstKind::Not(x) => x.depth,
            AstKind::Logic { left, right, .. }
            | AstKind::Arith { left, right, .. }
            | AstKind::Compare { left, right, .. } => left.depth.max(right.depth),
            AstKind::In { value, items, .. } => items
                .iter()
                .map(|a| a.depth)
                .max()
                .unwrap_or(0)
                .max(value.depth),
        }
    }
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    nesting: usize,
}

impl<'s> Parser<'s> {
    fn new(src: &'s str) -> Self {
        Parser {
            src,
            tokens: tokenize(src),
            pos: 0,
            nesting: 0,
        }
    }

    /// The whole rule: an expression followed by the end of the text.
    fn parse_rule(&mut self) -> Result<Ast, RuleError> {
        let ast = self.parse_or()?;
        let token = self.peek().clone();
        match &token.tok {
            Tok::End => Ok(ast),
            Tok::Bad(e) => Err(e.clone()),
            Tok::RParen => Err(error(
                token.span,
                "this `)` has no matching `(`; remove it or add the missing `(`",
            )),
            Tok::RBracket => Err(error(
                token.span,
                "this `]` has no matching `[`; remove it, or write a list as `in [...]`",
            )),
            _ => {
                let hint = self.hint(&token);
                let fix = if hint.is_empty() {
                    " Join conditions with `and` or `or`, or remove it.".to_string()
                } else {
                    hint
                };
                Err(error(
                    Span::new(token.span.start, self.src.trim_end().len()),
                    format!(
                        "unexpected `{}` after the complete expression `{}`.{fix}",
                        self.text(token.span),
                        self.text(ast.span)
                    ),
                ))
            }
        }
    }

    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn peek_second(&self) -> &Token {
        &self.tokens[(self.pos + 1).min(self.tokens.len() - 1)]
    }

    /// Consumes the current token (never moves past the final `End`/`Bad`).
    fn bump(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        self.peek().is_keyword(keyword)
    }

    fn at_not_in(&self) -> bool {
        self.at_keyword("not") && self.peek_second().is_keyword("in")
    }

    fn text(&self, span: Span) -> String {
        quote_text(self.src, span)
    }

    fn enter(&mut self, span: Span) -> Result<(), RuleError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(error(
                span,
                format!(
                    "the rule is nested too deeply (more than {MAX_NESTING} levels of \
                     parentheses, `not` or `-`); simplify it"
                ),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting -= 1;
    }

    fn node(&self, kind: AstKind, span: Span) -> Result<Ast, RuleError> {
        let depth = kind.child_depth() + 1;
        if depth > MAX_DEPTH {
            return Err(error(
                span,
                format!(
                    "the rule is too long (more than {MAX_DEPTH} operations nested in each \
                     other); split it into simpler rules"
                ),
            ));
        }
        Ok(Ast { kind, span, depth })
    }

    /// A hint for a misplaced token: upper-case keywords, a unit separated from its number.
    fn hint(&self, token: &Token) -> String {
        let Tok::Ident(word) = &token.tok else {
            return String::new();
        };
        let lower = word.to_lowercase();
        if lower != *word && KEYWORDS.contains(&lower.as_str()) {
            return format!(" Keywords are lower case: write `{lower}`.");
        }
        let after_number = self.pos > 0
            && matches!(self.tokens[self.pos - 1].tok, Tok::Num(..))
            && self.tokens[self.pos - 1].span.end < token.span.start;
        if after_number && TimeUnit::parse(word).is_some() {
            let number = self.text(self.tokens[self.pos - 1].span);
            return format!(
                " Write the unit right after the number, without a space: `{number}{word}`."
            );
        }
        String::new()
    }

    /// The error for a token that cannot come here.
    fn unexpected(&self, token: &Token, expected: &str) -> RuleError {
        match &token.tok {
            Tok::Bad(e) => e.clone(),
            Tok::End => {
                let after = if self.pos > 0 {
                    format!(" after `{}`", self.text(self.tokens[self.pos - 1].span))
                } else {
                    String::new()
                };
                error(
                    token.span,
                    format!("the rule ends too early{after}: expected {expected}"),
                )
            }
            _ => error(
                token.span,
                format!(
                    "expected {expected} but found `{}`.{}",
                    self.text(token.span),
                    self.hint(token)
                ),
            ),
        }
    }

    fn parse_or(&mut self) -> Result<Ast, RuleError> {
        let mut left = self.parse_and()?;
        while self.at_keyword("or") {
            self.bump();
            let right = self.parse_and()?;
            let span = left.span.to(right.span);
            left = self.node(
                AstKind::Logic {
                    and: false,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                span,
            )?;
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Ast, RuleError> {
        let mut left = self.parse_not()?;
        while self.at_keyword("and") {
            self.bump();
            let right = self.parse_not()?;
            let span = left.span.to(right.span);
            left = self.node(
                AstKind::Logic {
                    and: true,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                span,
            )?;
        }
        Ok(left)
    }

    fn parse_not(&mut self) -> Result<Ast, RuleError> {
        if !self.at_keyword("not") {
            return self.parse_comparison();
        }
        let not = self.bump();
        self.enter(not.span)?;
        let inner = self.parse_not()?;
        self.leave();
        let span = not.span.to(inner.span);
        self.node(AstKind::Not(Box::new(inner)), span)
    }

    fn parse_comparison(&mut self) -> Result<Ast, RuleError> {
        let left = self.parse_sum()?;
        let result = if let Tok::Cmp(op) = self.peek().tok {
            let op_span = self.bump().span;
            let right = self.parse_sum()?;
            let span = left.span.to(right.span);
            self.node(
                AstKind::Compare {
                    op,
                    op_span,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                span,
            )?
        } else if self.at_keyword("in") || self.at_not_in() {
            let negated = self.at_keyword("not");
            let mut op_span = self.bump().span;
            if negated {
                op_span = op_span.to(self.bump().span);
            }
            let (items, list_span) = self.parse_list()?;
            let span = left.span.to(list_span);
            self.node(
                AstKind::In {
                    negated,
                    op_span,
                    value: Box::new(left),
                    items,
                    list_span,
                },
                span,
            )?
        } else {
            return Ok(left);
        };
        let chained = match self.peek().tok {
            Tok::Cmp(_) => Some(self.peek().span),
            _ if self.at_keyword("in") => Some(self.peek().span),
            _ if self.at_not_in() => Some(self.peek().span.to(self.peek_second().span)),
            _ => None,
        };
        if let Some(span) = chained {
            return Err(error(
                span,
                format!(
                    "comparisons cannot be chained: `{}` is already a comparison and cannot be \
                     compared again with `{}`; write two comparisons joined by `and`, \
                     e.g. `a < b and b < c`",
                    self.text(result.span),
                    self.text(span)
                ),
            ));
        }
        Ok(result)
    }

    /// `[ item, item, ... ]` after `in`; returns the items and the span of the brackets.
    fn parse_list(&mut self) -> Result<(Vec<Ast>, Span), RuleError> {
        let open = self.peek().clone();
        if open.tok != Tok::LBracket {
            return Err(self.unexpected(
                &open,
                "a list in square brackets after `in`, e.g. `disease in ['AML', 'ALL']` or \
                 `hct_ci in [1, 2]`",
            ));
        }
        self.bump();
        self.enter(open.span)?;
        let mut items = Vec::new();
        let close = loop {
            match self.peek().tok {
                Tok::RBracket => break self.bump(),
                Tok::End => {
                    return Err(error(
                        open.span,
                        "this `[` is never closed; add `]` after the last item of the list",
                    ));
                }
                _ => {}
            }
            items.push(self.parse_sum()?);
            let token = self.peek().clone();
            match token.tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBracket => {}
                Tok::End => {
                    return Err(error(
                        open.span,
                        "this `[` is never closed; add `]` after the last item of the list",
                    ));
                }
                _ => return Err(self.unexpected(&token, "`,` or `]` in the list")),
            }
        };
        self.leave();
        Ok((items, open.span.to(close.span)))
    }

    fn parse_sum(&mut self) -> Result<Ast, RuleError> {
        let mut left = self.parse_product()?;
        while let Tok::Arith(op @ (ArithOp::Add | ArithOp::Sub)) = self.peek().tok {
            self.bump();
            let right = self.parse_product()?;
            let span = left.span.to(right.span);
            left = self.node(
                AstKind::Arith {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                span,
            )?;
        }
        Ok(left)
    }

    fn parse_product(&mut self) -> Result<Ast, RuleError> {
        let mut left = self.parse_unary()?;
        while let Tok::Arith(op @ (ArithOp::Mul | ArithOp::Div)) = self.peek().tok {
            self.bump();
            let right = self.parse_unary()?;
            let span = left.span.to(right.span);
            left = self.node(
                AstKind::Arith {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                span,
            )?;
        }
        Ok(left)
    }

    fn parse_unary(&mut self) -> Result<Ast, RuleError> {
        if self.peek().tok != Tok::Arith(ArithOp::Sub) {
            return self.parse_primary();
        }
        let minus = self.bump();
        self.enter(minus.span)?;
        let inner = self.parse_unary()?;
        self.leave();
        let span = minus.span.to(inner.span);
        self.node(AstKind::Neg(Box::new(inner)), span)
    }

    fn parse_primary(&mut self) -> Result<Ast, RuleError> {
        let token = self.peek().clone();
        match token.tok {
            Tok::Num(v, unit) => {
                self.bump();
                self.node(AstKind::Num(v, unit), token.span)
            }
            Tok::Str(s) => {
                self.bump();
                self.node(AstKind::Str(s), token.span)
            }
            Tok::Ident(ref name) if name == "true" || name == "false" => {
                self.bump();
                self.node(AstKind::Bool(name == "true"), token.span)
            }
            Tok::Ident(ref name) if KEYWORDS.contains(&name.as_str()) => {
                let mut expected = "a value".to_string();
                if name == "not" {
                    expected.push_str(" (to use `not` inside a comparison, put it in parentheses)");
                }
                Err(self.unexpected(&token, &expected))
            }
            Tok::Ident(name) => {
                self.bump();
                if self.peek().tok == Tok::LParen {
                    self.parse_call(name, token.span)
                } else {
                    self.node(AstKind::Name(name), token.span)
                }
            }
            Tok::LParen => {
                self.bump();
                self.enter(token.span)?;
                let mut inner = self.parse_or()?;
                let close = self.peek().clone();
                match close.tok {
                    Tok::RParen => {
                        self.bump();
                    }
                    Tok::End => {
                        return Err(error(
                            token.span,
                            "this `(` is never closed; add the missing `)`",
                        ));
                    }
                    _ => return Err(self.unexpected(&close, "`)` or an operator")),
                }
                self.leave();
                // Messages quote the parenthesised text, as written.
                inner.span = token.span.to(close.span);
                Ok(inner)
            }
            _ => Err(self.unexpected(
                &token,
                "a value (a number, a variable, a level in quotes, `true`, `false` or `(`)",
            )),
        }
    }

    /// `name(args)`; the current token is the `(`.
    fn parse_call(&mut self, name: String, name_span: Span) -> Result<Ast, RuleError> {
        let open = self.bump();
        self.enter(open.span)?;
        let mut args = Vec::new();
        let close = if self.peek().tok == Tok::RParen {
            self.bump()
        } else {
            loop {
                if self.peek().tok == Tok::End {
                    return Err(error(
                        open.span,
                        "this `(` is never closed; add the missing `)`",
                    ));
                }
                args.push(self.parse_or()?);
                let token = self.peek().clone();
                match token.tok {
                    Tok::Comma => {
                        self.bump();
                    }
                    Tok::RParen => break self.bump(),
                    Tok::End => {
                        return Err(error(
                            open.span,
                            "this `(` is never closed; add the missing `)`",
                        ));
                    }
                    _ => return Err(self.unexpected(&token, "`,` or `)`")),
                }
            }
        };
        self.leave();
        self.node(
            AstKind::Call {
                name,
                name_span,
                args,
            },
            name_span.to(close.span),
        )
    }
}

/// The source text of a span for messages, shortened if long.
fn quote_text(src: &str, span: Span) -> String {
    let text = src.get(span.start..span.end).unwrap_or("").trim();
    if text.chars().count() <= MAX_QUOTE {
        text.to_string()
    } else {
        let short: String = text.chars().take(MAX_QUOTE - 3).collect();
        format!("{short}...")
    }
}

// ---------------------------------------------------------------------------------------------
// Compiler: syntax tree -> typed tree
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Want {
    Condition,
    Number,
}

/// The unit of a numeric sub-expression, checked as the tree is compiled so that a time is
/// never compared with, added to or put in a list with a number that is not one (`age < 65y`
/// with `age` in years and no unit declared would compare 48 with 780 months).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dim {
    /// A number written without a unit (`70`): it is in the unit of what it meets, so
    /// `age < 70` is 70 years when `age` is in years and `time > 36` is 36 months.
    Bare,
    /// A number that has no unit (HCT-CI points, `visits(...)`, a ratio of two times).
    Plain,
    /// A time in `unit`. `settled` when that unit is the unit of a quantity of the model (a
    /// variable, `time`, `time_since`) rather than of numbers written with units (`2y + 3m`)
    /// or of a sum of times in different units (`age + time`): only a settled unit can lend
    /// itself to a bare number without ambiguity.
    Time { unit: TimeUnit, settled: bool },
}

impl Dim {
    fn unit(self) -> Unit {
        match self {
            Dim::Bare | Dim::Plain => Unit::None,
            Dim::Time { unit, .. } => Unit::Time(unit),
        }
    }
}

/// The type of a compiled sub-expression.
enum Typed {
    Num(Num, Dim),
    Cond(Cond),
    /// A categorical variable (by index); only comparable with its levels.
    Cat(usize),
    /// A quoted string; only meaningful compared with a categorical variable.
    Str(String),
}

fn compile_rule(source: &str, scope: &RuleScope, want: Want) -> Result<Rule, RuleError> {
    if source.trim().is_empty() {
        let example = match want {
            Want::Condition => "a condition such as `age > 60` or `true`",
            Want::Number => "a number or an expression such as `age - 50`",
        };
        return Err(error(
            Span::new(0, source.len()),
            format!("the rule is empty; write {example}"),
        ));
    }
    let ast = Parser::new(source).parse_rule()?;
    let mut compiler = Compiler {
        scope,
        src: source,
        variables: Vec::new(),
        history: false,
    };
    let (body, unit) = match want {
        Want::Condition => (
            Body::Cond(
                compiler
                    .require_cond(&ast, "this rule must be a condition (true or false)")?
                    .streamlined(),
            ),
            Unit::None,
        ),
        Want::Number => {
            let (num, dim) = compiler.require_num(
                &ast,
                "this rule must be a number, e.g. `age - 50` or `hct_ci * 2`",
            )?;
            (Body::Num(num), dim.unit())
        }
    };
    let mut variables = compiler.variables;
    variables.sort_unstable();
    variables.dedup();
    Ok(Rule {
        source: source.to_string(),
        body,
        uses_history: compiler.history,
        variables,
        unit,
    })
}

/// `num`, in unit `from`, expressed in unit `to`: folded if it is a constant (so `65y`
/// against an age in years is exactly 65), otherwise one multiplication or division.
fn convert(num: Num, from: TimeUnit, to: TimeUnit) -> Num {
    if from == to {
        return num;
    }
    if let Some(c) = num.constant() {
        return Num::Const(from.convert(c, to));
    }
    match from.conversion(to) {
        Conversion::Same => num,
        Conversion::Multiply(f) => Num::Mul(Box::new(num), Box::new(Num::Const(f))),
        Conversion::Divide(d) => Num::Div(Box::new(num), Box::new(Num::Const(d))),
        Conversion::Ratio(a, b) => Num::Div(
            Box::new(Num::Mul(Box::new(num), Box::new(Num::Const(a)))),
            Box::new(Num::Const(b)),
        ),
    }
}

/// Two times brought to one unit, and that unit: a constant side goes into the unit of the
/// other (the patient's values are then compared as they are), otherwise the right side
/// into the left's. The result is settled if the unit is one quantity's; a sum of two
/// quantities in different units (`age + time`) is not.
fn unify(a: (Num, TimeUnit, bool), b: (Num, TimeUnit, bool)) -> (Num, Num, Dim) {
    let ((a, ua, sa), (b, ub, sb)) = (a, b);
    if ua == ub {
        let dim = Dim::Time {
            unit: ua,
            settled: sa || sb,
        };
        return (a, b, dim);
    }
    let (a_constant, b_constant) = (a.constant().is_some(), b.constant().is_some());
    if a_constant && !b_constant {
        let dim = Dim::Time {
            unit: ub,
            settled: sb,
        };
        (convert(a, ua, ub), b, dim)
    } else if b_constant && !a_constant {
        let dim = Dim::Time {
            unit: ua,
            settled: sa,
        };
        (a, convert(b, ub, ua), dim)
    } else {
        let dim = Dim::Time {
            unit: ua,
            settled: false,
        };
        (a, convert(b, ub, ua), dim)
    }
}

/// One numeric operand for unit checks: its compiled form, its unit and its place in the rule.
struct Operand<'t> {
    num: Num,
    dim: Dim,
    ast: &'t Ast,
}

struct Compiler<'a, 's> {
    scope: &'a RuleScope<'a>,
    src: &'s str,
    /// Variables read so far (unsorted, with repeats).
    variables: Vec<usize>,
    /// Whether `time` or a history function was used.
    history: bool,
}

impl Compiler<'_, '_> {
    fn text(&self, span: Span) -> String {
        quote_text(self.src, span)
    }

    fn var_name(&self, index: usize) -> &str {
        &self.scope.variables[index].name
    }

    fn levels(&self, index: usize) -> &[String] {
        match &self.scope.variables[index].kind {
            VarKind::Category(levels) => levels,
            _ => &[],
        }
    }

    /// "`disease` is categorical (one of `AML`, `ALL`)" for messages.
    fn categorical(&self, index: usize) -> String {
        format!(
            "`{}` is categorical ({})",
            self.var_name(index),
            self.scope.variables[index].kind.describe()
        )
    }

    /// An example comparison of a categorical variable with its first level.
    fn level_example(&self, index: usize) -> String {
        let level = self.levels(index).first().map_or("level", String::as_str);
        format!("`{} == '{level}'`", self.var_name(index))
    }

    /// An example call of a history function with the first state.
    fn call_example(&self, function: &str) -> String {
        let state = self.scope.states.first().map_or("state", String::as_str);
        format!("`{function}('{state}')`")
    }

    fn describe(&self, typed: &Typed) -> String {
        match typed {
            Typed::Num(..) => "a number".into(),
            Typed::Cond(_) => "a condition (true/false)".into(),
            Typed::Cat(v) => format!("categorical ({})", self.scope.variables[*v].kind.describe()),
            Typed::Str(_) => "a quoted string".into(),
        }
    }

    fn compile(&mut self, ast: &Ast) -> Result<Typed, RuleError> {
        Ok(match &ast.kind {
            AstKind::Num(v, unit) => Typed::Num(
                Num::Const(*v),
                match unit {
                    None => Dim::Bare,
                    Some(unit) => Dim::Time {
                        unit: *unit,
                        settled: false,
                    },
                },
            ),
            AstKind::Str(s) => Typed::Str(s.clone()),
            AstKind::Bool(b) => Typed::Cond(Cond::Const(*b)),
            AstKind::Name(name) => self.compile_name(name, ast.span)?,
            AstKind::Call {
                name,
                name_span,
                args,
            } => self.compile_call(name, *name_span, args, ast.span)?,
            AstKind::Neg(x) => {
                let (num, dim) = self.require_num(x, "`-` (negation) needs a number")?;
                Typed::Num(Num::Neg(Box::new(num)), dim)
            }
            AstKind::Not(x) => Typed::Cond(Cond::Not(Box::new(
                self.require_cond(x, "`not` needs a condition")?,
            ))),
            AstKind::Logic { and, left, right } => {
                let needs = if *and {
                    "`and` needs a condition on each side"
                } else {
                    "`or` needs a condition on each side"
                };
                let a = Box::new(self.require_cond(left, needs)?);
                let b = Box::new(self.require_cond(right, needs)?);
                Typed::Cond(if *and {
                    Cond::And(a, b)
                } else {
                    Cond::Or(a, b)
                })
            }
            AstKind::Arith { op, left, right } => self.compile_arith(*op, left, right, ast.span)?,
            AstKind::Compare {
                op,
                op_span,
                left,
                right,
            } => Typed::Cond(self.compile_compare(*op, *op_span, left, right, ast.span)?),
            AstKind::In {
                negated,
                op_span,
                value,
                items,
                list_span,
            } => Typed::Cond(self.compile_in(*negated, *op_span, value, items, *list_span)?),
        })
    }

    /// Compiles `ast`, which must be a condition; `needs` says why, for the message.
    fn require_cond(&mut self, ast: &Ast, needs: &str) -> Result<Cond, RuleError> {
        let typed = self.compile(ast)?;
        let s = self.text(ast.span);
        let message = match typed {
            Typed::Cond(c) => return Ok(c),
            Typed::Num(..) => format!(
                "`{s}` is a number, not a condition; {needs}. Compare it with something, \
                 e.g. `{s} > 0`"
            ),
            Typed::Cat(v) => format!(
                "{}, not a condition; {needs}. Compare it with a level in quotes, e.g. {}",
                self.categorical(v),
                self.level_example(v)
            ),
            Typed::Str(_) => format!(
                "`{s}` is a quoted string, not a condition; {needs}. A level in quotes is only \
                 meaningful compared with a categorical variable, e.g. `disease == 'AML'`"
            ),
        };
        Err(error(ast.span, message))
    }

    /// Compiles `ast`, which must be a number; `needs` says why, for the message.
    fn require_num(&mut self, ast: &Ast, needs: &str) -> Result<(Num, Dim), RuleError> {
        let typed = self.compile(ast)?;
        let s = self.text(ast.span);
        let message = match typed {
            Typed::Num(n, dim) => return Ok((n, dim)),
            Typed::Cond(_) => format!("`{s}` is a condition (true/false), not a number; {needs}"),
            Typed::Cat(v) => format!(
                "{}, not a number; {needs}. Compare it with a level in quotes instead, e.g. {}",
                self.categorical(v),
                self.level_example(v)
            ),
            Typed::Str(_) => format!(
                "`{s}` is a quoted string, not a number; {needs}. Write numbers without \
                 quotes, e.g. `6` or `6m`"
            ),
        };
        Err(error(ast.span, message))
    }

    fn compile_name(&mut self, name: &str, span: Span) -> Result<Typed, RuleError> {
        if name == "time" {
            self.history = true;
            return Ok(Typed::Num(
                Num::Time,
                Dim::Time {
                    unit: TimeUnit::Months,
                    settled: true,
                },
            ));
        }
        if let Some(index) = self.scope.variables.iter().position(|v| v.name == name) {
            self.variables.push(index);
            let variable = &self.scope.variables[index];
            return Ok(match variable.kind {
                VarKind::Number => Typed::Num(
                    Num::Var(index),
                    match variable.unit {
                        Unit::None => Dim::Plain,
                        Unit::Time(unit) => Dim::Time {
                            unit,
                            settled: true,
                        },
                    },
                ),
                VarKind::Bool => Typed::Cond(Cond::Var(index)),
                VarKind::Category(_) => Typed::Cat(index),
            });
        }
        let message = if FUNCTIONS.contains(&name) {
            format!(
                "`{name}` is a function; call it with a state name in quotes, e.g. {}",
                self.call_example(name)
            )
        } else if self.scope.states.iter().any(|s| s == name) {
            format!(
                "`{name}` is a state, not a variable; use `visited('{name}')`, \
                 `visits('{name}')` or `time_since('{name}')`"
            )
        } else if KEYWORDS.contains(&name.to_lowercase().as_str()) {
            format!(
                "`{name}` is not known; keywords are lower case: write `{}`",
                name.to_lowercase()
            )
        } else {
            let names: Vec<&str> = self
                .scope
                .variables
                .iter()
                .map(|v| v.name.as_str())
                .chain(["time"])
                .collect();
            let suggestion = did_you_mean(name, names.iter().copied());
            if !suggestion.is_empty() {
                format!("unknown variable `{name}`.{suggestion}")
            } else if names.len() > 1 {
                format!(
                    "unknown variable `{name}`. The rule can use the variables {} and `time`",
                    quote_list(&names[..names.len() - 1])
                )
            } else {
                format!(
                    "unknown variable `{name}`. No variables are declared; the rule can use `time`"
                )
            }
        };
        Err(error(span, message))
    }

    fn compile_call(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[Ast],
        span: Span,
    ) -> Result<Typed, RuleError> {
        if !FUNCTIONS.contains(&name) {
            let known = name == "time" || self.scope.variables.iter().any(|v| v.name == name);
            let why = if known {
                format!(" `{name}` is a variable; use it without parentheses.")
            } else {
                did_you_mean(name, FUNCTIONS)
            };
            return Err(error(
                name_span,
                format!(
                    "unknown function `{name}`.{why} The functions are {}, each taking a state \
                     name in quotes, e.g. {}",
                    quote_list(&FUNCTIONS),
                    self.call_example("visited")
                ),
            ));
        }
        let example = self.call_example(name);
        let [arg] = args else {
            return Err(error(
                span,
                format!(
                    "`{name}` takes exactly one state name in quotes, e.g. {example}, but was \
                     given {} arguments",
                    args.len()
                ),
            ));
        };
        let state_name = match &arg.kind {
            AstKind::Str(s) => s,
            AstKind::Name(n) => {
                return Err(error(
                    arg.span,
                    format!("write the state name in quotes: `{name}('{n}')`"),
                ));
            }
            _ => {
                return Err(error(
                    arg.span,
                    format!("`{name}` needs a state name in quotes, e.g. {example}"),
                ));
            }
        };
        let Some(state) = self.scope.states.iter().position(|s| s == state_name) else {
            let suggestion = did_you_mean(state_name, self.scope.states.iter().map(String::as_str));
            let message = if suggestion.is_empty() {
                format!(
                    "unknown state `{state_name}`. The states are {}",
                    quote_list(self.scope.states)
                )
            } else {
                format!("unknown state `{state_name}`.{suggestion}")
            };
            return Err(error(arg.span, message));
        };
        self.history = true;
        Ok(match name {
            "visited" => Typed::Cond(Cond::Visited(state)),
            "visits" => Typed::Num(Num::Visits(state), Dim::Plain),
            _ => Typed::Num(
                Num::TimeSince(state),
                Dim::Time {
                    unit: TimeUnit::Months,
                    settled: true,
                },
            ),
        })
    }

    // -- Units ---------------------------------------------------------------------------

    /// The variable an operand is, if it is exactly one numeric variable.
    fn lone_variable(&self, ast: &Ast) -> Option<&Variable> {
        match &ast.kind {
            AstKind::Name(name) => self
                .scope
                .variables
                .iter()
                .find(|v| &v.name == name && v.kind == VarKind::Number),
            _ => None,
        }
    }

    /// What a time operand is, for messages: "in years", "a duration (780 months)", …
    fn time_words(&self, op: &Operand) -> String {
        let Dim::Time { unit, settled } = op.dim else {
            return "a number".into();
        };
        if let Some(c) = op.num.constant().filter(|_| !settled) {
            let months = unit.convert(c, TimeUnit::Months);
            return if unit == TimeUnit::Months {
                "a duration".into()
            } else {
                format!("a duration ({} months)", short_number(months))
            };
        }
        match &op.ast.kind {
            AstKind::Name(name) if name == "time" => "a time in months (since cohort entry)".into(),
            AstKind::Call { name, .. } if name == "time_since" => {
                "a time in months (since the state was entered)".into()
            }
            _ if settled => format!("a time in {}", unit.name()),
            _ => format!("a time mixing units (here in {})", unit.name()),
        }
    }

    /// "on the attribute `age`" / "on the policy variable `x`".
    fn declared_where(&self, v: &Variable) -> String {
        match v.source {
            VarSource::Attribute => {
                format!("on the attribute `{}` ([[cohort.attributes]])", v.name)
            }
            VarSource::Policy => format!("on the policy variable `{}` ([[variables]])", v.name),
        }
    }

    /// `text` of `whole` with the unit removed from the number at `literal`: the corrected
    /// rule shown in messages (`age < 65y` → `age < 65`).
    fn without_unit(&self, whole: Span, literal: &Ast) -> Option<String> {
        let AstKind::Num(_, Some(_)) = literal.kind else {
            return None;
        };
        let written = self.src.get(literal.span.start..literal.span.end)?;
        let number = written.strip_suffix(unit_text(written))?;
        let before = self.src.get(whole.start..literal.span.start)?;
        let after = self.src.get(literal.span.end..whole.end)?;
        let text = format!("{before}{number}{after}");
        (text.chars().count() <= 2 * MAX_QUOTE).then(|| text.trim().to_string())
    }

    /// The error for a number without a unit (`plain`) meeting a time (`time`): what each
    /// is, and the fixes — the rule with the unit removed, or the unit to declare.
    fn plain_meets_time(
        &self,
        plain: &Operand,
        time: &Operand,
        whole: Span,
        verb: &str,
    ) -> RuleError {
        let (ps, ts) = (self.text(plain.ast.span), self.text(time.ast.span));
        let unit = time.dim.unit();
        let unit_name = match unit {
            Unit::Time(u) => u.name(),
            Unit::None => "months",
        };
        let mut message = format!(
            "`{ps}` is a number without a unit but `{ts}` is {}, so they cannot be {verb}",
            self.time_words(time)
        );
        let declare = self.lone_variable(plain.ast).map(|v| {
            let means = match time.ast.kind {
                AstKind::Num(n, Some(u)) => format!(
                    ", and `{}` means {} {}",
                    self.text(whole),
                    short_number(n),
                    u.name()
                ),
                _ => String::new(),
            };
            format!(
                "if `{}` is a time in {unit_name}, declare it: unit = \"{unit_name}\" {}{means}",
                v.name,
                self.declared_where(v)
            )
        });
        let rewrite = self
            .without_unit(whole, time.ast)
            .map(|fixed| format!("write `{fixed}`"));
        let at = if rewrite.is_some() {
            time.ast.span
        } else {
            whole
        };
        match (declare, rewrite) {
            (Some(d), Some(r)) => message.push_str(&format!("; {d}; or {r}")),
            (Some(d), None) => message.push_str(&format!("; {d}")),
            (None, Some(r)) => message.push_str(&format!("; {r}")),
            (None, None) if verb == "compared" => message.push_str(
                "; compare times with times (`time_since('hsct2') > 6m`) and counts or scores \
                 with numbers (`hct_ci < 2`)",
            ),
            (None, None) => message.push_str(&format!(
                "; only times can be {verb} to times, and numbers without a unit to numbers \
                 without a unit"
            )),
        }
        error(at, message)
    }

    /// The error for a bare number next to a time whose unit it cannot take (`5y + 2`,
    /// `age + time > 70`).
    fn bare_meets_unsettled(&self, bare: &Operand, time: &Operand) -> RuleError {
        let (bs, ts) = (self.text(bare.ast.span), self.text(time.ast.span));
        let why = if time.num.constant().is_some() {
            format!("`{ts}` is a duration written with a unit")
        } else {
            format!("`{ts}` adds times in different units")
        };
        let example = match &bare.ast.kind {
            AstKind::Num(_, None) => {
                let units: Vec<String> = [TimeUnit::Months, TimeUnit::Years]
                    .iter()
                    .map(|u| format!("`{bs}{}`", u.suffix()))
                    .collect();
                format!("write its unit, e.g. {}", units.join(" or "))
            }
            _ => "give its numbers units, e.g. `6m` or `2y`".into(),
        };
        error(
            bare.ast.span,
            format!(
                "`{bs}` has no unit and {why}, so `{bs}` could be days, weeks, months or years; \
                 {example}"
            ),
        )
    }

    /// Checks and converts the operands of `+` or `-`; the unit of the result.
    fn sum_units(
        &self,
        a: Operand,
        b: Operand,
        whole: Span,
        op: ArithOp,
    ) -> Result<(Num, Num, Dim), RuleError> {
        let verb = if op == ArithOp::Add {
            "added"
        } else {
            "subtracted"
        };
        Ok(match (a.dim, b.dim) {
            (Dim::Bare, Dim::Bare) => (a.num, b.num, Dim::Bare),
            (Dim::Bare | Dim::Plain, Dim::Bare | Dim::Plain) => (a.num, b.num, Dim::Plain),
            (Dim::Time { settled: true, .. }, Dim::Bare) => (a.num, b.num, a.dim),
            (Dim::Bare, Dim::Time { settled: true, .. }) => (a.num, b.num, b.dim),
            (Dim::Time { .. }, Dim::Bare) => return Err(self.bare_meets_unsettled(&b, &a)),
            (Dim::Bare, Dim::Time { .. }) => return Err(self.bare_meets_unsettled(&a, &b)),
            (Dim::Time { .. }, Dim::Plain) => {
                return Err(self.plain_meets_time(&b, &a, whole, verb));
            }
            (Dim::Plain, Dim::Time { .. }) => {
                return Err(self.plain_meets_time(&a, &b, whole, verb));
            }
            (
                Dim::Time {
                    unit: ua,
                    settled: sa,
                },
                Dim::Time {
                    unit: ub,
                    settled: sb,
                },
            ) => unify((a.num, ua, sa), (b.num, ub, sb)),
        })
    }

    fn compile_arith(
        &mut self,
        op: ArithOp,
        left: &Ast,
        right: &Ast,
        span: Span,
    ) -> Result<Typed, RuleError> {
        let needs = format!("`{}` needs a number on each side", op.symbol());
        let (an, ad) = self.require_num(left, &needs)?;
        let (bn, bd) = self.require_num(right, &needs)?;
        let (a, b) = (
            Operand {
                num: an,
                dim: ad,
                ast: left,
            },
            Operand {
                num: bn,
                dim: bd,
                ast: right,
            },
        );
        let (ls, rs) = (self.text(left.span), self.text(right.span));
        let (a, b, dim) = match op {
            ArithOp::Add | ArithOp::Sub => self.sum_units(a, b, span, op)?,
            ArithOp::Mul => match (a.dim, b.dim) {
                (Dim::Time { .. }, Dim::Time { .. }) => {
                    return Err(error(
                        span,
                        format!(
                            "`*` multiplies two times (`{ls}` and `{rs}`), which gives a squared \
                             time that nothing in a rule can be compared with; multiply a time by \
                             a number without a unit, e.g. `2 * {rs}`"
                        ),
                    ));
                }
                (Dim::Time { .. }, _) => (a.num, b.num, a.dim),
                (_, Dim::Time { .. }) => (a.num, b.num, b.dim),
                (Dim::Bare, Dim::Bare) => (a.num, b.num, Dim::Bare),
                _ => (a.num, b.num, Dim::Plain),
            },
            ArithOp::Div => match (a.dim, b.dim) {
                (
                    Dim::Time {
                        unit: ua,
                        settled: sa,
                    },
                    Dim::Time {
                        unit: ub,
                        settled: sb,
                    },
                ) => {
                    let (a, b, _) = unify((a.num, ua, sa), (b.num, ub, sb));
                    (a, b, Dim::Plain)
                }
                (Dim::Time { .. }, _) => (a.num, b.num, a.dim),
                (_, Dim::Time { .. }) => {
                    return Err(error(
                        span,
                        format!(
                            "`/` divides `{ls}`, a number without a unit, by `{rs}`, a time: a \
                             number per month or per year is nothing a rule can compare; divide \
                             a time by a number, or a time by a time for a ratio without a unit \
                             (e.g. `time / 12m`)"
                        ),
                    ));
                }
                (Dim::Bare, Dim::Bare) => (a.num, b.num, Dim::Bare),
                _ => (a.num, b.num, Dim::Plain),
            },
        };
        let (a, b) = (Box::new(a), Box::new(b));
        Ok(Typed::Num(
            match op {
                ArithOp::Add => Num::Add(a, b),
                ArithOp::Sub => Num::Sub(a, b),
                ArithOp::Mul => Num::Mul(a, b),
                ArithOp::Div => Num::Div(a, b),
            },
            dim,
        ))
    }

    /// Checks the units of two compared numbers, converting one if both are times.
    fn compare_numbers(
        &self,
        op: CmpOp,
        a: Operand,
        b: Operand,
        span: Span,
    ) -> Result<Cond, RuleError> {
        let (a, b) = match (a.dim, b.dim) {
            (Dim::Bare | Dim::Plain, Dim::Bare | Dim::Plain)
            | (Dim::Time { settled: true, .. }, Dim::Bare)
            | (Dim::Bare, Dim::Time { settled: true, .. }) => (a.num, b.num),
            (Dim::Time { .. }, Dim::Bare) => return Err(self.bare_meets_unsettled(&b, &a)),
            (Dim::Bare, Dim::Time { .. }) => return Err(self.bare_meets_unsettled(&a, &b)),
            (Dim::Time { .. }, Dim::Plain) => {
                return Err(self.plain_meets_time(&b, &a, span, "compared"));
            }
            (Dim::Plain, Dim::Time { .. }) => {
                return Err(self.plain_meets_time(&a, &b, span, "compared"));
            }
            (
                Dim::Time {
                    unit: ua,
                    settled: sa,
                },
                Dim::Time {
                    unit: ub,
                    settled: sb,
                },
            ) => {
                let (a, b, _) = unify((a.num, ua, sa), (b.num, ub, sb));
                (a, b)
            }
        };
        Ok(Cond::Cmp(op, Box::new(a), Box::new(b)))
    }

    fn compile_compare(
        &mut self,
        op: CmpOp,
        op_span: Span,
        left: &Ast,
        right: &Ast,
        span: Span,
    ) -> Result<Cond, RuleError> {
        let l = self.compile(left)?;
        let r = self.compile(right)?;
        let (ls, rs) = (self.text(left.span), self.text(right.span));
        let (ld, rd) = (self.describe(&l), self.describe(&r));
        let sym = op.symbol();
        let (at, what) = match (l, r) {
            (Typed::Num(a, ad), Typed::Num(b, bd)) => {
                let a = Operand {
                    num: a,
                    dim: ad,
                    ast: left,
                };
                let b = Operand {
                    num: b,
                    dim: bd,
                    ast: right,
                };
                return self.compare_numbers(op, a, b, span);
            }
            (Typed::Cond(a), Typed::Cond(b)) => {
                if op.is_equality() {
                    return Ok(Cond::Same {
                        a: Box::new(a),
                        b: Box::new(b),
                        negated: op == CmpOp::Ne,
                    });
                }
                return Err(error(
                    op_span,
                    format!(
                        "`{sym}` cannot order conditions (true/false); compare conditions with \
                         `==` or `!=`, or combine them with `and` / `or`"
                    ),
                ));
            }
            (Typed::Cat(v), Typed::Str(level)) => {
                return self.category_is(v, &level, right.span, op, op_span);
            }
            (Typed::Str(level), Typed::Cat(v)) => {
                return self.category_is(v, &level, left.span, op, op_span);
            }
            (Typed::Cat(a), Typed::Cat(b)) => {
                if !op.is_equality() {
                    return Err(self.no_order(a, op, op_span));
                }
                if self.levels(a) != self.levels(b) {
                    return Err(error(
                        span,
                        format!(
                            "{} and {}: they have different levels, so they cannot be \
                             compared; compare each with a level in quotes instead, e.g. {}",
                            self.categorical(a),
                            self.categorical(b),
                            self.level_example(a)
                        ),
                    ));
                }
                return Ok(Cond::Cmp(op, Box::new(Num::Var(a)), Box::new(Num::Var(b))));
            }
            (Typed::Cat(v), _) => {
                return Err(error(
                    right.span,
                    format!(
                        "{} and cannot be compared with `{rs}`, which is {rd}; compare it with a \
                         level in quotes, e.g. {}",
                        self.categorical(v),
                        self.level_example(v)
                    ),
                ));
            }
            (_, Typed::Cat(v)) => {
                return Err(error(
                    left.span,
                    format!(
                        "{} and cannot be compared with `{ls}`, which is {ld}; compare it with a \
                         level in quotes, e.g. {}",
                        self.categorical(v),
                        self.level_example(v)
                    ),
                ));
            }
            (Typed::Str(_), Typed::Str(_)) => {
                return Err(error(
                    span,
                    "both sides are quoted strings; compare a categorical variable with one of \
                     its levels, e.g. `disease == 'AML'`",
                ));
            }
            (Typed::Str(_), _) => (
                left.span,
                format!("`{ls}` is a quoted string but `{rs}` is {rd}"),
            ),
            (_, Typed::Str(_)) => (
                right.span,
                format!("`{rs}` is a quoted string but `{ls}` is {ld}"),
            ),
            (Typed::Num(..), Typed::Cond(_)) | (Typed::Cond(_), Typed::Num(..)) => {
                return Err(error(
                    span,
                    format!(
                        "`{ls}` is {ld} but `{rs}` is {rd}, so they cannot be compared with \
                         `{sym}`; compare numbers with numbers, and conditions with `true` or \
                         `false`"
                    ),
                ));
            }
        };
        Err(error(
            at,
            format!(
                "{what}; a level in quotes can only be compared with a categorical variable, \
                 e.g. `disease == 'AML'`. Write numbers without quotes"
            ),
        ))
    }

    fn no_order(&self, v: usize, op: CmpOp, op_span: Span) -> RuleError {
        error(
            op_span,
            format!(
                "{} and has no order, so `{}` cannot be used; use `==` or `!=` with a level in \
                 quotes (e.g. {}), or `in [...]`",
                self.categorical(v),
                op.symbol(),
                self.level_example(v)
            ),
        )
    }

    /// `var == 'level'` / `var != 'level'` as a comparison of the stored level index.
    fn category_is(
        &mut self,
        v: usize,
        level: &str,
        level_span: Span,
        op: CmpOp,
        op_span: Span,
    ) -> Result<Cond, RuleError> {
        if !op.is_equality() {
            return Err(self.no_order(v, op, op_span));
        }
        let index = self.level_index(v, level, level_span)?;
        Ok(Cond::Cmp(
            op,
            Box::new(Num::Var(v)),
            Box::new(Num::Const(index)),
        ))
    }

    /// The index (as stored) of a level of categorical variable `v`.
    fn level_index(&self, v: usize, level: &str, span: Span) -> Result<f64, RuleError> {
        let levels = self.levels(v);
        match levels.iter().position(|l| l == level) {
            Some(i) => Ok(i as f64),
            None => Err(error(
                span,
                format!(
                    "`{level}` is not a level of `{}` (one of {}).{} Write one of the levels \
                     exactly as declared (case matters)",
                    self.var_name(v),
                    quote_list(levels),
                    did_you_mean(level, levels.iter().map(String::as_str))
                ),
            )),
        }
    }

    fn compile_in(
        &mut self,
        negated: bool,
        op_span: Span,
        value: &Ast,
        items: &[Ast],
        list_span: Span,
    ) -> Result<Cond, RuleError> {
        let s = self.text(value.span);
        if items.is_empty() {
            return Err(error(
                list_span,
                format!(
                    "the list after `{s} in` is empty, so the test could never hold; put at \
                     least one value between the brackets"
                ),
            ));
        }
        let (compiled, values) = match self.compile(value)? {
            Typed::Cat(v) => {
                let mut levels = Vec::with_capacity(items.len());
                for item in items {
                    match &item.kind {
                        AstKind::Str(level) => levels.push(self.level_index(v, level, item.span)?),
                        _ => {
                            let name = self.var_name(v);
                            let example: Vec<String> = self
                                .levels(v)
                                .iter()
                                .take(2)
                                .map(|l| format!("'{l}'"))
                                .collect();
                            return Err(error(
                                item.span,
                                format!(
                                    "{}; the list must hold levels in quotes, e.g. \
                                     `{name} in [{}]`",
                                    self.categorical(v),
                                    example.join(", ")
                                ),
                            ));
                        }
                    }
                }
                (Num::Var(v), levels)
            }
            Typed::Num(n, dim) => {
                // Stands for the value in unit messages, which only ask if it is a constant.
                let stand_in = || {
                    if n.constant().is_some() {
                        Num::Const(0.0)
                    } else {
                        Num::Time
                    }
                };
                let mut numbers = Vec::with_capacity(items.len());
                for item in items {
                    let item_text = self.text(item.span);
                    let message = match self.compile(item)? {
                        Typed::Num(x, item_dim) => match x.constant() {
                            Some(_) => {
                                let whole = value.span.to(list_span);
                                let (list_value, member) = (
                                    Operand {
                                        num: stand_in(),
                                        dim,
                                        ast: value,
                                    },
                                    Operand {
                                        num: x,
                                        dim: item_dim,
                                        ast: item,
                                    },
                                );
                                numbers.push(self.list_item(list_value, member, whole)?);
                                continue;
                            }
                            None => format!(
                                "list items must be fixed numbers such as `6` or `2y`, but \
                                 `{item_text}` depends on the patient; compare with it \
                                 separately, e.g. `{s} == {item_text}`"
                            ),
                        },
                        other => format!(
                            "`{item_text}` is {}, but `{s}` is a number, so the list must hold \
                             numbers (without quotes), e.g. `{s} in [1, 2]`",
                            self.describe(&other)
                        ),
                    };
                    return Err(error(item.span, message));
                }
                (n, numbers)
            }
            Typed::Cond(_) => {
                return Err(error(
                    op_span,
                    format!(
                        "`{s}` is a condition (true/false); `in` works on categorical variables \
                         and numbers. Write `{s} == true` or `{s} == false` instead"
                    ),
                ));
            }
            Typed::Str(_) => {
                return Err(error(
                    value.span,
                    format!(
                        "`{s}` is a quoted string; `in` needs a categorical variable or a number \
                         on its left, e.g. `disease in ['AML', 'ALL']`"
                    ),
                ));
            }
        };
        Ok(Cond::In {
            value: Box::new(compiled),
            items: values.into_boxed_slice(),
            negated,
        })
    }

    /// A constant list item in the unit of the value tested (`remission in [6m, 1y]`).
    fn list_item(&self, value: Operand, item: Operand, whole: Span) -> Result<f64, RuleError> {
        let constant = |num: &Num| num.constant().unwrap_or(f64::NAN);
        match (value.dim, item.dim) {
            (Dim::Bare | Dim::Plain, Dim::Bare | Dim::Plain)
            | (Dim::Time { settled: true, .. }, Dim::Bare) => Ok(constant(&item.num)),
            (Dim::Time { .. }, Dim::Bare) => Err(self.bare_meets_unsettled(&item, &value)),
            (Dim::Time { .. }, Dim::Plain) => {
                // Point at the item, which is what is wrong.
                let e = self.plain_meets_time(&item, &value, whole, "compared");
                Err(error(item.ast.span, e.message))
            }
            (Dim::Bare | Dim::Plain, Dim::Time { .. }) => {
                Err(self.plain_meets_time(&value, &item, whole, "compared"))
            }
            (Dim::Time { unit: to, .. }, Dim::Time { unit: from, .. }) => {
                Ok(from.convert(constant(&item.num), to))
            }
        }
    }
}

/// The unit suffix at the end of a number as written (`65y` → `y`, `1.5 years` is not a token).
fn unit_text(written: &str) -> &str {
    let start = written
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphabetic())
        .last()
        .map_or(written.len(), |(i, _)| i);
    &written[start..]
}

/// A number for messages: whole numbers as such, others with up to 4 significant digits.
fn short_number(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{}", format!("{x:.4e}").parse::<f64>().unwrap_or(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::variable::VarSource;
    use proptest::prelude::*;

    const AGE: usize = 0;
    const HCT_CI: usize = 1;
    const STATUS: usize = 3;
    const DISEASE: usize = 4;
    const PRIOR_DISEASE: usize = 5;
    const CGVHD: usize = 7;
    const DSA: usize = 8;

    /// A small model: variables, states, and one patient's values and history.
    struct Fixture {
        variables: Vec<Variable>,
        states: Vec<String>,
        values: Vec<f64>,
        time: f64,
        visits: Vec<u32>,
        last_entry: Vec<f64>,
    }

    fn var(name: &str, kind: VarKind) -> Variable {
        Variable::new(name, kind, VarSource::Attribute)
    }

    fn time_var(name: &str, unit: TimeUnit) -> Variable {
        var(name, VarKind::Number).with_unit(Unit::Time(unit))
    }

    fn cat(levels: &[&str]) -> VarKind {
        VarKind::Category(levels.iter().map(|s| s.to_string()).collect())
    }

    impl Fixture {
        fn new() -> Self {
            let mut dsa = var("dsa", VarKind::Bool);
            dsa.source = VarSource::Policy;
            Fixture {
                variables: vec![
                    time_var("age", TimeUnit::Years),                    // 0
                    var("hct_ci", VarKind::Number),                      // 1
                    time_var("remission", TimeUnit::Months),             // 2
                    var("status", cat(&["active", "remission", "cr2"])), // 3
                    var("disease", cat(&["AML", "ALL", "MM"])),          // 4
                    var("prior_disease", cat(&["AML", "ALL", "MM"])),    // 5
                    var("donor", cat(&["MUD", "haplo"])),                // 6
                    var("cgvhd", VarKind::Bool),                         // 7
                    dsa,                                                 // 8
                ],
                states: ["hsct1", "relapse1", "salvage", "hsct2", "relapse2", "death"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                // age 62, hct_ci 3, remission 8 months, status 'remission', disease 'AML',
                // prior 'AML', donor 'haplo', cGVHD yes, DSA no.
                values: vec![62.0, 3.0, 8.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0],
                time: 40.0,
                visits: vec![1, 1, 0, 1, 2, 0],
                last_entry: vec![0.0, 10.0, f64::NAN, 12.0, 35.0, f64::NAN],
            }
        }

        fn scope(&self) -> RuleScope<'_> {
            RuleScope {
                variables: &self.variables,
                states: &self.states,
            }
        }

        fn ctx(&self) -> RuleContext<'_> {
            RuleContext {
                values: &self.values,
                time: self.time,
                visits: &self.visits,
                last_entry: &self.last_entry,
            }
        }

        fn condition(&self, src: &str) -> Rule {
            Rule::parse_condition(src, &self.scope())
                .unwrap_or_else(|e| panic!("`{src}` should compile: {}", e.render(src)))
        }

        fn number(&self, src: &str) -> Rule {
            Rule::parse_number(src, &self.scope())
                .unwrap_or_else(|e| panic!("`{src}` should compile: {}", e.render(src)))
        }

        fn holds(&self, src: &str) -> bool {
            self.condition(src).eval_bool(&self.ctx())
        }

        /// The value of a numeric rule, in months if it is a time.
        fn value(&self, src: &str) -> f64 {
            self.number(src)
                .converted_to(TimeUnit::Months)
                .eval_number(&self.ctx())
        }
    }

    #[test]
    fn conditions_evaluate_as_written() {
        let f = Fixture::new();
        let cases: &[(&str, bool)] = &[
            // Literals and Bool variables.
            ("true", true),
            ("false", false),
            ("cgvhd", true),
            ("dsa", false),
            ("not dsa", true),
            ("not cgvhd", false),
            ("not not cgvhd", true),
            // Precedence: `and` binds tighter than `or`; `not` tighter than `and`;
            // comparisons tighter than `not`.
            ("true or false and false", true),
            ("false and true or true", true),
            ("(true or false) and false", false),
            ("not false and false", false),
            ("not (false and false)", true),
            ("not age > 70", true),
            ("cgvhd and not dsa or false", true),
            ("(cgvhd or dsa) and not (hct_ci > 5)", true),
            // Each comparison.
            ("age == 62", true),
            ("age != 62", false),
            ("age != 61", true),
            ("age < 62", false),
            ("age <= 62", true),
            ("age > 61.5", true),
            ("age >= 63", false),
            ("62 == age", true),
            // Arithmetic precedence and associativity.
            ("age - 50 > 11 and age - 50 < 13", true),
            ("-age < 0", true),
            ("2 + 3 * 4 == 14", true),
            ("(2 + 3) * 4 == 20", true),
            ("10 - 4 - 3 == 3", true),
            ("24 / 4 / 2 == 3", true),
            ("-2 * 3 == -6", true),
            ("- -2 == 2", true),
            ("hct_ci * 2 + 1 == 7", true),
            // IEEE arithmetic: no panic, NaN compares false (`!=` included).
            ("1 / 0 > 1000", true),
            ("0 / 0 == 0", false),
            ("0 / 0 != 0", false),
            ("not (0 / 0 == 0)", true),
            // Categorical variables.
            (
                "status != 'active' and remission >= 6m and hct_ci < 2",
                false,
            ),
            (
                "status != 'active' and remission >= 6m and hct_ci < 4",
                true,
            ),
            ("status == 'remission'", true),
            ("disease == 'AML'", true),
            ("disease == \"AML\"", true),
            ("'AML' == disease", true),
            ("disease != 'AML'", false),
            ("donor == 'haplo'", true),
            ("disease == prior_disease", true),
            ("disease != prior_disease", false),
            ("disease in ['AML', 'ALL']", true),
            ("disease not in ['AML', 'ALL']", false),
            ("disease in [\"MM\"]", false),
            ("disease in ['MM', 'ALL',]", false),
            ("not disease in ['MM']", true),
            // Numbers in lists, with units and constant expressions.
            ("hct_ci in [1, 2, 3]", true),
            ("hct_ci not in [1, 2]", true),
            ("hct_ci in [-3, 0]", false),
            ("age in [6m, 62]", true),
            ("age in [744m]", true),
            ("remission in [8m]", true),
            ("remission in [6, 8]", true),
            // Bool comparisons.
            ("cgvhd == true", true),
            ("dsa == false", true),
            ("cgvhd != dsa", true),
            ("cgvhd == (age > 60)", true),
            // History.
            ("visited('hsct2') and time_since('hsct2') > 2y", true),
            ("visited('salvage')", false),
            ("not visited('death')", true),
            ("time_since('salvage') > 6", true),
            ("time_since('salvage') < 1000000", false),
            ("visits('relapse2') >= 2 or time > 36", true),
            ("visits('relapse2') >= 3 or time > 41", false),
            ("visits('salvage') == 0", true),
            ("time_since('relapse2') == 5", true),
            ("time == 40", true),
            ("time > 3y", true),
            // Whitespace insensitive.
            ("  age>=62 and(cgvhd)  ", true),
            ("\tdisease\nin['AML']", true),
        ];
        for &(src, expected) in cases {
            assert_eq!(f.holds(src), expected, "`{src}`");
        }
    }

    #[test]
    fn numbers_and_units() {
        let f = Fixture::new();
        let days = 365.25 / 12.0;
        // Times in months (`age - 50` is 12 years).
        let cases: &[(&str, f64)] = &[
            ("age - 50", 144.0),
            ("hct_ci * 2 + 1", 7.0),
            ("-(1 + 2) * 3", -9.0),
            ("6", 6.0),
            ("0.5", 0.5),
            (".5", 0.5),
            ("1e-3", 0.001),
            ("2.5E1", 25.0),
            ("1e+2", 100.0),
            ("6m", 6.0),
            ("2y", 24.0),
            ("1.5y", 18.0),
            ("3months", 3.0),
            ("2yr", 24.0),
            ("6w", 42.0 / days),
            ("30d", 30.0 / days),
            ("time", 40.0),
            ("visits('relapse2')", 2.0),
            ("visits('salvage')", 0.0),
            ("time_since('hsct2')", 28.0),
            ("time_since('hsct2') - 2y", 4.0),
        ];
        for &(src, expected) in cases {
            let got = f.value(src);
            assert!(
                (got - expected).abs() < 1e-12,
                "`{src}`: {got} != {expected}"
            );
        }
        assert!((f.value("30d") - 0.9856).abs() < 1e-4);
        assert!(f.holds("12m == 1y") && f.holds("1y == 12m") && f.holds("2y + 3m == 27m"));
        assert_eq!(f.value("time_since('death')"), f64::INFINITY);
        assert_eq!(f.value("1 / 0"), f64::INFINITY);
        assert!(f.value("0 / 0").is_nan());
    }

    #[test]
    fn missing_values_and_short_contexts_never_panic() {
        let mut f = Fixture::new();
        f.values[AGE] = f64::NAN;
        f.values[CGVHD] = f64::NAN;
        for (src, expected) in [
            ("age > 1", false),
            ("age < 1", false),
            ("age == 1", false),
            ("age != 1", false),
            ("not (age == 1)", true),
            ("age in [1]", false),
            ("age not in [1]", false),
            ("cgvhd", false),
        ] {
            assert_eq!(f.holds(src), expected, "`{src}` with NaN");
        }
        // A context with no values and no history at all.
        let rule = f.condition("age > 1 or cgvhd or disease == 'AML' or visited('hsct2')");
        let empty = RuleContext {
            values: &[],
            time: 0.0,
            visits: &[],
            last_entry: &[],
        };
        assert!(!rule.eval_bool(&empty));
        assert!(f.condition("time_since('hsct2') > 1").eval_bool(&empty));
        assert_eq!(f.number("visits('hsct2')").eval_number(&empty), 0.0);
        assert!(f.number("age + 1").eval_number(&empty).is_nan());
    }

    #[test]
    fn cross_evaluation_converts() {
        let f = Fixture::new();
        assert_eq!(f.condition("cgvhd").eval_number(&f.ctx()), 1.0);
        assert_eq!(f.condition("dsa").eval_number(&f.ctx()), 0.0);
        assert!(f.number("age").eval_bool(&f.ctx()));
        assert!(!f.number("age - 62").eval_bool(&f.ctx()));
        assert!(!f.number("0 / 0").eval_bool(&f.ctx()));
    }

    #[test]
    fn categorical_levels_compile_to_their_index() {
        let mut f = Fixture::new();
        let rule = f.condition("disease in ['ALL', 'MM'] and status == 'cr2'");
        assert!(!rule.eval_bool(&f.ctx()));
        f.values[DISEASE] = 2.0;
        f.values[STATUS] = 2.0;
        assert!(rule.eval_bool(&f.ctx()));
        f.values[PRIOR_DISEASE] = 1.0;
        assert!(f.holds("disease != prior_disease"));
    }

    #[test]
    fn history_and_variables_are_reported() {
        let f = Fixture::new();
        for (src, history) in [
            ("age > 1", false),
            ("cgvhd", false),
            ("disease == 'AML'", false),
            ("time > 1", true),
            ("visited('hsct2')", true),
            ("visits('hsct2') > 0", true),
            ("time_since('hsct2') > 1", true),
            ("age > 1 and (dsa or time < 2)", true),
        ] {
            assert_eq!(f.condition(src).uses_history(), history, "`{src}`");
        }
        assert!(!f.number("age - 50").uses_history());
        assert!(f.number("time - 6").uses_history());

        for (src, vars) in [
            ("hct_ci > 1 and age > 2 or age < 1", vec![AGE, HCT_CI]),
            ("dsa or cgvhd or dsa", vec![CGVHD, DSA]),
            ("disease == prior_disease", vec![DISEASE, PRIOR_DISEASE]),
            ("disease in ['AML']", vec![DISEASE]),
            ("time > 1 and visited('hsct1')", vec![]),
            ("true", vec![]),
        ] {
            assert_eq!(f.condition(src).variables(), vars, "`{src}`");
        }
        assert_eq!(
            f.number("hct_ci * 2 + age / 1y").variables(),
            vec![AGE, HCT_CI]
        );
    }

    #[test]
    fn always_is_true_and_pure() {
        let f = Fixture::new();
        let rule = Rule::always();
        assert!(rule.eval_bool(&f.ctx()));
        assert_eq!(rule.source(), "true");
        assert!(!rule.uses_history());
        assert!(rule.variables().is_empty());
    }

    #[test]
    fn times_in_different_units_are_converted() {
        // age 62 (years), remission 8 (months), time 40 (months), hsct2 entered at 12.
        let f = Fixture::new();
        let cases: &[(&str, bool)] = &[
            // The reproduction of issue 13: 65y is 65 years against an age in years.
            ("age < 65y", true),
            ("age < 62y", false),
            ("age <= 62y", true),
            ("age >= 744m", true),
            ("age > 745m", false),
            ("age > 22645d", true),
            ("age < 22646d", true),
            ("65y > age", true),
            ("remission > 1y", false),
            ("remission < 0.7y", true),
            ("remission == 8m", true),
            ("remission >= 34w", true),
            ("remission >= 35w", false),
            // A bare number is in the unit of what it meets.
            ("age < 70", true),
            ("remission >= 6", true),
            ("time > 36", true),
            ("2 * remission == 16", true),
            ("remission * 2 > 1y", true),
            ("-remission < 0", true),
            // Sums of times in different units, compared with a time written with a unit.
            ("age + time > 65y", true),
            ("age + time < 66y", true),
            ("time + age > 783m", true),
            ("time + age < 785m", true),
            ("age - time_since('hsct2') > 59y", true),
            ("age - time_since('hsct2') > 60y", false),
            ("age - time_since('hsct2') < 59y + 9m", true),
            ("2y + 3m == 27m", true),
            // A ratio of two times has no unit.
            ("time / 12m > 3.3 and time / 12m < 3.4", true),
            ("time_since('hsct2') / remission == 3.5", true),
            ("remission / age < 0.011", true),
            // Lists: items in the unit of the value.
            ("age in [62y, 70y]", true),
            ("remission in [6m, 1y]", false),
            ("remission not in [6m, 1y]", true),
        ];
        for &(src, expected) in cases {
            assert_eq!(f.holds(src), expected, "`{src}`");
        }
        // A variable compared with a duration: the constant is converted, the patient's
        // value is compared as it is (no rounding of 62 years through months).
        let mut g = Fixture::new();
        g.values[AGE] = 65.0;
        assert!(!g.holds("age < 65y") && g.holds("age <= 65y") && g.holds("age == 65y"));
    }

    #[test]
    fn numeric_rules_know_their_unit() {
        let f = Fixture::new();
        for (src, unit) in [
            ("age", Unit::Time(TimeUnit::Years)),
            ("age - 50", Unit::Time(TimeUnit::Years)),
            ("remission", Unit::Time(TimeUnit::Months)),
            ("time_since('hsct2')", Unit::Time(TimeUnit::Months)),
            ("time", Unit::Time(TimeUnit::Months)),
            ("2y", Unit::Time(TimeUnit::Years)),
            ("hct_ci", Unit::None),
            ("hct_ci * 2 + 1", Unit::None),
            ("visits('relapse2')", Unit::None),
            ("time / 1y", Unit::None),
            ("3", Unit::None),
        ] {
            assert_eq!(f.number(src).unit(), unit, "`{src}`");
        }
        assert_eq!(f.condition("age > 1").unit(), Unit::None);
        let ctx = f.ctx();
        assert_eq!(f.number("age").eval_number(&ctx), 62.0);
        let in_months = f.number("age").converted_to(TimeUnit::Months);
        assert_eq!(in_months.unit(), Unit::Time(TimeUnit::Months));
        assert_eq!(in_months.eval_number(&ctx), 744.0);
        let in_years = f
            .number("time_since('hsct2')")
            .converted_to(TimeUnit::Years);
        assert!((in_years.eval_number(&ctx) - 28.0 / 12.0).abs() < 1e-12);
        assert_eq!(
            f.number("2y")
                .converted_to(TimeUnit::Months)
                .eval_number(&ctx),
            24.0
        );
        // A number without a unit is not a time: converting it changes nothing.
        assert_eq!(
            f.number("hct_ci")
                .converted_to(TimeUnit::Years)
                .eval_number(&ctx),
            3.0
        );
    }

    #[test]
    fn unit_mismatches_are_refused_with_the_fix() {
        let mut f = Fixture::new();
        // An age whose unit nobody declared: the issue's `age < 65y` would compare 62 with
        // 780 months.
        f.variables[AGE] = var("age", VarKind::Number);
        f.variables
            .push(time_var("years_since_hsct1", TimeUnit::Years));
        #[rustfmt::skip]
        let cases: &[(&str, usize, usize, &[&str])] = &[
            ("age < 65y", 6, 3, &["`age` is a number without a unit but `65y` is a duration (780 months)", "declare it: unit = \"years\" on the attribute `age`", "write `age < 65`"]),
            ("hct_ci >= 6m", 10, 2, &["`hct_ci` is a number without a unit but `6m` is a duration", "unit = \"months\"", "write `hct_ci >= 6`"]),
            ("visits('relapse2') > 2y", 21, 2, &["`visits('relapse2')` is a number without a unit", "write `visits('relapse2') > 2`"]),
            ("hct_ci > time", 0, 13, &["`hct_ci` is a number without a unit but `time` is a time in months (since cohort entry)", "declare it: unit = \"months\""]),
            ("visits('salvage') > time_since('hsct2')", 0, 39, &["cannot be compared", "compare times with times"]),
            ("hct_ci + time > 1", 0, 13, &["cannot be added", "`hct_ci`"]),
            ("time - hct_ci > 1", 0, 13, &["cannot be subtracted"]),
            ("age in [1, 65y]", 11, 3, &["`age` is a number without a unit but `65y` is a duration", "write `age in [1, 65]`"]),
            ("remission in [6m, hct_ci]", 18, 6, &["fixed numbers"]),
            ("remission in [6m, 6m / 1m]", 18, 7, &["`6m / 1m` is a number without a unit", "cannot be compared"]),
            // A bare number next to numbers written with units, or a sum of mixed units.
            ("5y + 2 > time", 5, 1, &["`2` has no unit", "`5y` is a duration written with a unit", "`2m` or `2y`"]),
            ("6m == 6", 6, 1, &["`6` has no unit", "`6m` or `6y`"]),
            ("remission + years_since_hsct1 > 70", 32, 2, &["`70` has no unit", "`remission + years_since_hsct1` adds times in different units", "`70m` or `70y`"]),
            ("(time + years_since_hsct1) in [2]", 31, 1, &["`2` has no unit", "adds times in different units"]),
            // Products and quotients that no rule can compare.
            ("time * time_since('hsct2') > 1", 0, 26, &["multiplies two times", "`2 * time_since('hsct2')`"]),
            ("2 / time > 0", 0, 8, &["divides", "by `time`, a time", "time / 12m"]),
        ];
        for &(src, offset, len, fragments) in cases {
            let e = match Rule::parse_condition(src, &f.scope()) {
                Ok(_) => panic!("`{src}` should be refused"),
                Err(e) => e,
            };
            for fragment in fragments {
                assert!(
                    e.message.contains(fragment),
                    "`{src}`: message {:?} lacks {fragment:?}",
                    e.message
                );
            }
            assert_eq!(
                (e.offset, e.len),
                (offset, len),
                "`{src}`: wrong span for {:?}\n{}",
                e.message,
                e.render(src)
            );
        }
        // Declared in years, the same rule is what it says.
        let g = Fixture::new();
        assert!(g.holds("age < 65y"));
    }

    #[test]
    fn rules_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Rule>();
        assert_send_sync::<RuleError>();
    }

    #[test]
    fn source_is_kept_verbatim() {
        let f = Fixture::new();
        let src = "  cgvhd and age>60 ";
        assert_eq!(f.condition(src).source(), src);
    }

    #[derive(Clone, Copy, Debug)]
    enum Mode {
        Cond,
        Num,
    }
    use Mode::{Cond as C, Num as N};

    #[test]
    fn errors_point_at_the_problem_and_say_how_to_fix_it() {
        let f = Fixture::new();
        // (mode, source, offset, len, fragments the message must contain)
        #[rustfmt::skip]
        let cases: &[(Mode, &str, usize, usize, &[&str])] = &[
            // Unknown names, with suggestions or the list of what exists.
            (C, "agee > 60", 0, 4, &["unknown variable `agee`", "Did you mean `age`?"]),
            (C, "weight > 60", 0, 6, &["unknown variable `weight`", "`age`, `hct_ci`", "`time`"]),
            (C, "disease == 'AMl'", 11, 5, &["`AMl` is not a level of `disease`", "`AML`, `ALL`, `MM`", "Did you mean `AML`?"]),
            (C, "disease in ['AML', 'XYZ']", 19, 5, &["`XYZ` is not a level of `disease`", "`AML`, `ALL`, `MM`"]),
            (C, "visited('salvge')", 8, 8, &["unknown state `salvge`", "Did you mean `salvage`?"]),
            (C, "visited('nowhere')", 8, 9, &["unknown state `nowhere`", "`hsct1`, `relapse1`, `salvage`"]),
            (C, "visted('hsct2')", 0, 6, &["unknown function `visted`", "Did you mean `visited`?", "`visited`, `visits`, `time_since`"]),
            (C, "foo('hsct2') > 1", 0, 3, &["unknown function `foo`", "`visited`, `visits`, `time_since`"]),
            (C, "age(2) > 1", 0, 3, &["unknown function `age`", "`age` is a variable; use it without parentheses"]),
            (C, "hsct2 > 1", 0, 5, &["`hsct2` is a state, not a variable", "visits('hsct2')"]),
            (C, "visited > 1", 0, 7, &["`visited` is a function", "`visited('hsct1')`"]),
            (C, "TRUE", 0, 4, &["lower case", "`true`"]),
            // Other spellings of operators.
            (C, "age > 60 && cgvhd", 9, 2, &["`&&`", "write `and`"]),
            (C, "age > 60 || cgvhd", 9, 2, &["`||`", "write `or`"]),
            (C, "!cgvhd", 0, 1, &["`!`", "write `not`"]),
            (C, "age = 60", 4, 1, &["single `=`", "write `==`"]),
            (C, "age <> 1", 4, 2, &["write `!=`"]),
            (C, "age ≥ 60", 4, 3, &["write `>=`"]),
            (C, "age > 60 AND cgvhd", 9, 9, &["unexpected `AND`", "lower case: write `and`"]),
            // Structure.
            (C, "1 < age < 80", 8, 1, &["cannot be chained", "`1 < age`", "joined by `and`"]),
            (C, "time in [1] == true", 12, 2, &["cannot be chained"]),
            (C, "(age > 60 and cgvhd", 0, 1, &["`(` is never closed", "`)`"]),
            (C, "visited('hsct2'", 7, 1, &["`(` is never closed"]),
            (C, "age > 60) and cgvhd", 8, 1, &["`)` has no matching `(`"]),
            (C, "age > 60 ]", 9, 1, &["`]` has no matching `[`"]),
            (C, "disease in ['AML'", 11, 1, &["`[` is never closed"]),
            (C, "disease in ['AML' 'ALL']", 18, 5, &["expected `,` or `]`", "`'ALL'`"]),
            (C, "", 0, 0, &["the rule is empty", "age > 60"]),
            (C, "   ", 0, 3, &["the rule is empty"]),
            (N, "", 0, 0, &["the rule is empty", "age - 50"]),
            (C, "age > 60 cgvhd", 9, 5, &["unexpected `cgvhd` after the complete expression `age > 60`", "`and` or `or`"]),
            (C, "remission > 6 m", 14, 1, &["without a space", "`6m`"]),
            (C, "age >", 5, 0, &["ends too early after `>`", "expected a value"]),
            (C, "age >= 60 and ", 13, 0, &["ends too early after `and`"]),
            (C, "age > 60 and cgvhd and or dsa", 23, 2, &["expected a value", "found `or`"]),
            (C, "cgvhd == not dsa", 9, 3, &["found `not`", "parentheses"]),
            (C, "()", 1, 1, &["expected a value", "found `)`"]),
            (C, "age in 5", 7, 1, &["square brackets", "in ['AML', 'ALL']"]),
            (C, "disease in []", 11, 2, &["list after `disease in` is empty", "at least one value"]),
            (C, "status == 'active", 10, 7, &["string is never closed"]),
            (C, "disease == \"AML", 11, 4, &["string is never closed"]),
            (C, "age # 3", 4, 1, &["unexpected character `#`"]),
            // Literals.
            (C, "6x > 1", 0, 2, &["unknown unit `x` in `6x`", "d, w, m, y", "30d"]),
            (C, "age >= 60 and time_since('hsct2') > 2yrs", 36, 4, &["unknown unit `yrs`"]),
            (C, "age > 1e400", 6, 5, &["too large"]),
            (C, "age>=62and cgvhd", 5, 5, &["put a space between `62` and `and`"]),
            // Types.
            (C, "age - 50", 0, 8, &["`age - 50` is a number, not a condition", "must be a condition", "`age - 50 > 0`"]),
            (N, "age > 50", 0, 8, &["`age > 50` is a condition (true/false), not a number", "must be a number"]),
            (N, "disease", 0, 7, &["`disease` is categorical", "not a number"]),
            (C, "disease", 0, 7, &["`disease` is categorical (one of `AML`, `ALL`, `MM`), not a condition", "disease == 'AML'"]),
            (C, "'AML'", 0, 5, &["quoted string, not a condition", "categorical"]),
            (C, "disease < 'AML'", 8, 1, &["`disease` is categorical", "no order", "`<`", "`==` or `!=`"]),
            (C, "disease >= prior_disease", 8, 2, &["no order"]),
            (C, "disease == 1", 11, 1, &["`disease` is categorical (one of `AML`, `ALL`, `MM`)", "`1`", "disease == 'AML'"]),
            (C, "age == disease", 0, 3, &["`disease` is categorical", "`age`, which is a number"]),
            (C, "disease == donor", 0, 16, &["`donor` is categorical (one of `MUD`, `haplo`)", "different levels"]),
            (C, "age + cgvhd > 1", 6, 5, &["`cgvhd` is a condition (true/false), not a number", "`+` needs a number on each side"]),
            (C, "-cgvhd", 1, 5, &["`-` (negation) needs a number"]),
            (C, "age and cgvhd", 0, 3, &["`age` is a number, not a condition", "`and` needs a condition on each side", "`age > 0`"]),
            (C, "cgvhd or disease", 9, 7, &["`disease` is categorical", "`or` needs a condition"]),
            (C, "not age", 4, 3, &["`not` needs a condition"]),
            (C, "cgvhd > 0", 0, 9, &["`cgvhd` is a condition (true/false) but `0` is a number", "`true` or"]),
            (C, "cgvhd < dsa", 6, 1, &["cannot order conditions", "`==` or `!=`"]),
            (C, "age == 'AML'", 7, 5, &["`'AML'` is a quoted string but `age` is a number", "without quotes"]),
            (C, "'AML' == 'ALL'", 0, 14, &["both sides are quoted strings"]),
            (C, "age in ['AML']", 8, 5, &["`'AML'` is a quoted string", "must hold numbers"]),
            (C, "age in [hct_ci]", 8, 6, &["fixed numbers", "`hct_ci` depends on the patient"]),
            (C, "disease in [1]", 12, 1, &["`disease` is categorical", "levels in quotes", "disease in ['AML', 'ALL']"]),
            (C, "cgvhd in [true]", 6, 2, &["`cgvhd` is a condition", "`cgvhd == true`"]),
            (C, "visited(hsct2)", 8, 5, &["state name in quotes", "`visited('hsct2')`"]),
            (C, "visited(1)", 8, 1, &["needs a state name in quotes"]),
            (C, "visited('hsct2', 'hsct1')", 0, 25, &["exactly one state name", "2 arguments"]),
            (C, "visited()", 0, 9, &["exactly one state name", "0 arguments"]),
        ];
        assert!(cases.len() >= 20);
        for &(mode, src, offset, len, fragments) in cases {
            let result = match mode {
                Mode::Cond => Rule::parse_condition(src, &f.scope()),
                Mode::Num => Rule::parse_number(src, &f.scope()),
            };
            let e = match result {
                Ok(_) => panic!("`{src}` should be rejected"),
                Err(e) => e,
            };
            for fragment in fragments {
                assert!(
                    e.message.contains(fragment),
                    "`{src}`: message {:?} lacks {fragment:?}",
                    e.message
                );
            }
            assert_eq!(
                (e.offset, e.len),
                (offset, len),
                "`{src}`: wrong span for {:?}\n{}",
                e.message,
                e.render(src)
            );
            assert_eq!(e.to_string(), e.message);
        }
    }

    #[test]
    fn nesting_and_length_are_bounded() {
        let f = Fixture::new();
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        let e = Rule::parse_number(&deep, &f.scope()).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{}", e.message);
        assert_eq!(e.offset, MAX_NESTING);
        let e = Rule::parse_condition(&"not ".repeat(500), &f.scope()).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{}", e.message);
        let long = format!("1{}", " + 1".repeat(400));
        let e = Rule::parse_number(&long, &f.scope()).unwrap_err();
        assert!(e.message.contains("too long"), "{}", e.message);
        // Reasonable sizes are fine.
        let ok = format!("{}1{}", "(".repeat(30), ")".repeat(30));
        assert_eq!(f.value(&ok), 1.0);
        assert_eq!(f.value(&format!("1{}", " + 1".repeat(200))), 201.0);
    }

    #[test]
    fn render_points_under_the_error() {
        let f = Fixture::new();
        let src = "age > 60 && cgvhd";
        let e = Rule::parse_condition(src, &f.scope()).unwrap_err();
        let text = e.render(src);
        assert!(text.ends_with(&format!("  {src}\n           ^^")), "{text}");
    }

    /// Words and symbols from which random, mostly well-formed rules are built.
    const VOCABULARY: &[&str] = &[
        "age",
        "hct_ci",
        "disease",
        "donor",
        "cgvhd",
        "dsa",
        "status",
        "time",
        "and",
        "or",
        "not",
        "in",
        "true",
        "false",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "+",
        "-",
        "*",
        "/",
        "(",
        ")",
        "[",
        "]",
        ",",
        "'AML'",
        "'MM'",
        "'x'",
        "0",
        "1",
        "6m",
        "2y",
        "0.5",
        "1e9",
        "visited('hsct2')",
        "visits('relapse2')",
        "time_since('salvage')",
        "time_since(",
        "'hsct2'",
        "&&",
        "=",
        "!",
    ];

    proptest! {
        #[test]
        fn random_text_never_panics(src in "\\PC{0,60}") {
            let f = Fixture::new();
            for result in [
                Rule::parse_condition(&src, &f.scope()),
                Rule::parse_number(&src, &f.scope()),
            ] {
                match result {
                    Ok(rule) => {
                        rule.eval_bool(&f.ctx());
                        rule.eval_number(&f.ctx());
                    }
                    Err(e) => {
                        prop_assert!(e.offset + e.len <= src.len());
                        prop_assert!(src.is_char_boundary(e.offset));
                        prop_assert!(src.is_char_boundary(e.offset + e.len));
                        prop_assert!(!e.message.is_empty());
                        e.render(&src);
                    }
                }
            }
        }

        #[test]
        fn random_token_soup_never_panics(
            words in proptest::collection::vec(proptest::sample::select(VOCABULARY), 0..20),
            age in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), -100.0..100.0f64],
            glue in prop_oneof![Just(" "), Just("")],
        ) {
            let mut f = Fixture::new();
            f.values[AGE] = age;
            let src = words.join(glue);
            for result in [
                Rule::parse_condition(&src, &f.scope()),
                Rule::parse_number(&src, &f.scope()),
            ] {
                match result {
                    Ok(rule) => {
                        rule.eval_bool(&f.ctx());
                        rule.eval_number(&f.ctx());
                        let vars = rule.variables();
                        prop_assert!(vars.windows(2).all(|w| w[0] < w[1]));
                    }
                    Err(e) => {
                        prop_assert!(e.offset + e.len <= src.len());
                        prop_assert!(!e.message.is_empty());
                    }
                }
            }
        }
    }
}
