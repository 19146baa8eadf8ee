//! Units in rules: which numbers are times and in what unit, the conversions where times in
//! different units meet, and the errors (with the corrected rule or the unit to declare) where
//! a time meets a number that is not one.
//!
//! Separate from the rest of the compiler because it is one question asked of every sum,
//! comparison and list, with its own vocabulary (bare, plain, settled); these methods extend
//! the same [`Compiler`].

use super::compile::Compiler;
use super::eval::{ArithOp, CmpOp, Cond, Num};
use super::parser::{Ast, AstKind};
use super::{MAX_QUOTE, RuleError, Span, error};
use crate::model::variable::{Conversion, TimeUnit, Unit, VarKind, VarSource, Variable};

/// The unit of a numeric sub-expression, checked as the tree is compiled so that a time is
/// never compared with, added to or put in a list with a number that is not one (`age < 65y`
/// with `age` in years and no unit declared would compare 48 with 780 months).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Dim {
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
    pub(super) fn unit(self) -> Unit {
        match self {
            Dim::Bare | Dim::Plain => Unit::None,
            Dim::Time { unit, .. } => Unit::Time(unit),
        }
    }
}

/// `num`, in unit `from`, expressed in unit `to`: folded if it is a constant (so `65y`
/// against an age in years is exactly 65), otherwise one multiplication or division.
pub(super) fn convert(num: Num, from: TimeUnit, to: TimeUnit) -> Num {
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
pub(super) fn unify(a: (Num, TimeUnit, bool), b: (Num, TimeUnit, bool)) -> (Num, Num, Dim) {
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
pub(super) struct Operand<'t> {
    pub(super) num: Num,
    pub(super) dim: Dim,
    pub(super) ast: &'t Ast,
}

impl Compiler<'_, '_> {
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
    pub(super) fn sum_units(
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

    /// Checks the units of two compared numbers, converting one if both are times.
    pub(super) fn compare_numbers(
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

    /// A constant list item in the unit of the value tested (`remission in [6m, 1y]`).
    pub(super) fn list_item(
        &self,
        value: Operand,
        item: Operand,
        whole: Span,
    ) -> Result<f64, RuleError> {
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
