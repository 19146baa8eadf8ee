//! The parser: tokens to an untyped syntax tree with byte spans (recursive descent over the
//! grammar in the module documentation).
//!
//! Separate from the compiler because it knows only the shape of a rule, not the model: it
//! bounds nesting and depth (so the compiler and evaluator never recurse without limit) and
//! explains misplaced tokens, while names and types are the compiler's business.

use super::eval::{ArithOp, CmpOp};
use super::lexer::{Tok, Token, tokenize};
use super::{KEYWORDS, RuleError, Span, error, quote_text};
use crate::model::variable::TimeUnit;

/// Maximum nesting of parentheses, `not`, unary `-`, calls and lists while parsing.
pub(super) const MAX_NESTING: usize = 64;

/// Maximum depth of the syntax tree (bounds the compiler's and evaluator's recursion).
const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone)]
pub(super) struct Ast {
    pub(super) kind: AstKind,
    pub(super) span: Span,
    /// Height of this subtree (1 for a leaf).
    depth: usize,
}

#[derive(Debug, Clone)]
pub(super) enum AstKind {
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

pub(super) struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    nesting: usize,
}

impl<'s> Parser<'s> {
    pub(super) fn new(src: &'s str) -> Self {
        Parser {
            src,
            tokens: tokenize(src),
            pos: 0,
            nesting: 0,
        }
    }

    /// The whole rule: an expression followed by the end of the text.
    pub(super) fn parse_rule(&mut self) -> Result<Ast, RuleError> {
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
