//! The compiled rule: a typed tree of numbers and conditions with every name resolved to an
//! index, and its evaluation.
//!
//! Kept apart from the compiler because this is the only part that runs per patient (millions
//! of times): a walk over a small tree with no strings, no maps, no allocation and no panics.
//! The operators are here too, since the tokens, the syntax tree and the typed tree share them.

use super::RuleContext;

#[derive(Debug, Clone)]
pub(super) enum Body {
    Cond(Cond),
    Num(Num),
}

/// A numeric expression with resolved indices.
#[derive(Debug, Clone)]
pub(super) enum Num {
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
pub(super) enum Cond {
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
pub(super) fn truthy(v: f64) -> bool {
    v != 0.0 && !v.is_nan()
}

impl Num {
    pub(super) fn eval(&self, ctx: &RuleContext) -> f64 {
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
    pub(super) fn constant(&self) -> Option<f64> {
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
    pub(super) fn streamlined(self) -> Cond {
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

    pub(super) fn eval(&self, ctx: &RuleContext) -> bool {
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
pub(super) enum CmpOp {
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

    pub(super) fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    pub(super) fn is_equality(self) -> bool {
        matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl ArithOp {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }
}
