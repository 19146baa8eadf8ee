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
//!
//! One file per stage, each with its own vocabulary: `lexer` (text to tokens), `parser`
//! (tokens to an untyped tree with byte spans), `compile` (names resolved, types checked)
//! with `units` (the unit of every number, converted where times meet), and `eval` (the
//! typed tree and its allocation-free evaluation). This file holds what they share: the
//! public types, the words of the language and the spans errors point at.

use std::fmt;

use crate::model::variable::{TimeUnit, Unit, Variable};

mod compile;
mod eval;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;
mod units;

use compile::{Want, compile_rule};
use eval::{Body, Cond, truthy};
use units::convert;

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

/// Operand texts longer than this are shortened in messages.
const MAX_QUOTE: usize = 40;

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
