//! The compiler: syntax tree to typed tree, with names resolved against the model's
//! variables and states and every type mistake reported with its span and a fix.
//!
//! The checks on units (which numbers are times, in what unit) are in `units`, which adds
//! its methods to the same [`Compiler`]; this file decides what each kind of expression may
//! be combined with.

use super::eval::{ArithOp, Body, CmpOp, Cond, Num};
use super::parser::{Ast, AstKind, Parser};
use super::units::{Dim, Operand, unify};
use super::{FUNCTIONS, KEYWORDS, Rule, RuleError, RuleScope, Span, error, quote_text};
use crate::model::variable::{TimeUnit, Unit, VarKind, quote_list};
use crate::suggest::did_you_mean;

#[derive(Debug, Clone, Copy)]
pub(super) enum Want {
    Condition,
    Number,
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

pub(super) fn compile_rule(source: &str, scope: &RuleScope, want: Want) -> Result<Rule, RuleError> {
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

pub(super) struct Compiler<'a, 's> {
    pub(super) scope: &'a RuleScope<'a>,
    pub(super) src: &'s str,
    /// Variables read so far (unsorted, with repeats).
    variables: Vec<usize>,
    /// Whether `time` or a history function was used.
    history: bool,
}

impl Compiler<'_, '_> {
    pub(super) fn text(&self, span: Span) -> String {
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
}
