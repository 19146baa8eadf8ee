//! Checks every part of the file makes the same way: names (used in CSV columns and rules)
//! and probabilities (each in [0, 1], a set of them summing to 1).
//!
//! Separate so that a state, a level and a strategy are held to one rule for names, and
//! every set of probabilities (levels, entry states, chance branches) to one tolerance.

use super::Result;
use crate::model::limits::MAX_IDENTIFIER_BYTES;
use crate::scenario::error::{BuildError, Path};

/// Tolerance on probabilities summing to 1 (printed values are often rounded).
const PROBABILITY_TOLERANCE: f64 = 1e-6;

/// Checks a name used in CSV columns and rules.
pub(super) fn check_identifier(name: &str, what: &str, path: Path) -> Result<()> {
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Err(BuildError::new(
            path,
            format!("this {what} name is longer than {MAX_IDENTIFIER_BYTES} characters"),
        )
        .help("use a short name (letters, digits and underscores) and put the long form in a `label` or `description`"));
    }
    let ok = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(
            BuildError::new(path, format!("{what} name `{name}` is not a valid name")).help(
                "use letters, digits and underscores, starting with a letter (e.g. `relapse2`)",
            ),
        )
    }
}

pub(super) fn check_probability(p: f64, path: Path, what: &str) -> Result<f64> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(BuildError::new(
            path,
            format!("{what} must be a probability in [0, 1], got {p}"),
        ))
    }
}

/// Running sums of probabilities that must sum to 1; the last is set to exactly 1.
pub(super) fn cumulative_probabilities(
    ps: &[(f64, Path)],
    whole: Path,
    what: &str,
) -> Result<Vec<f64>> {
    let mut total = 0.0;
    let mut out = Vec::with_capacity(ps.len());
    for (p, path) in ps {
        total += check_probability(*p, path.clone(), what)?;
        out.push(total);
    }
    if (total - 1.0).abs() > PROBABILITY_TOLERANCE {
        return Err(BuildError::new(
            whole,
            format!(
                "the probabilities of {what} sum to {}, not 1",
                (total * 1e9).round() / 1e9
            ),
        )
        .help("adjust them so they add up to 1 (rounding within 1e-6 is accepted)"));
    }
    if let Some(last) = out.last_mut() {
        *last = 1.0;
    }
    Ok(out)
}
