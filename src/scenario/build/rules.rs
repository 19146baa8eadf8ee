//! Rules written in the file (`if`, `per`, economic conditions): compiled against the
//! variables and states declared so far, with rule errors pointed at the place in the rule.
//!
//! Separate because every part of the file that takes a rule reports its errors the same
//! way, and the builder records whether any rule reads the patient's history.

use super::help::RULE_HELP;
use super::{Builder, Result};
use crate::model::rule::{Rule, RuleError};
use crate::scenario::error::{BuildError, Path};

pub(super) fn rule_error(path: Path, source: &str, e: RuleError) -> BuildError {
    BuildError {
        path,
        inner: Some(e.offset.min(source.len())..(e.offset + e.len.max(1)).min(source.len().max(1))),
        message: format!("in rule `{}`: {}", shorten(source, 80), e.message),
        help: Some(RULE_HELP.into()),
    }
}

/// `text`, cut to `max` characters with an ellipsis (rules and names in messages).
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max).collect();
    short.push('…');
    short
}

impl Builder {
    pub(super) fn condition(&mut self, text: &str, path: Path) -> Result<Rule> {
        let rule =
            Rule::parse_condition(text, &self.scope()).map_err(|e| rule_error(path, text, e))?;
        self.uses_history |= rule.uses_history();
        Ok(rule)
    }

    pub(super) fn number_rule(&mut self, text: &str, path: Path) -> Result<Rule> {
        let rule =
            Rule::parse_number(text, &self.scope()).map_err(|e| rule_error(path, text, e))?;
        self.uses_history |= rule.uses_history();
        Ok(rule)
    }
}
