//! Durations in scenario files and rules.
//!
//! The model's time unit is the month, but clinicians think in days ("day +28"), weeks and
//! years, so every duration in a file may carry a unit: `"30d"`, `"6w"`, `"18m"`, `"2y"`.
//! A bare number is months. A month is 365.25 / 12 days, the convention of survival
//! software that reports months.

use std::fmt;

/// Days in one month (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// Why a duration text could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct DurationError {
    /// The text that was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a duration ({}); write a number of months or a number with a unit: \"30d\", \"6w\", \"18m\", \"2y\"",
            self.text, self.reason
        )
    }
}

impl std::error::Error for DurationError {}

/// Months per unit for a unit suffix, or `None` for an unknown suffix.
pub fn unit_in_months(unit: &str) -> Option<f64> {
    match unit {
        "d" | "day" | "days" => Some(1.0 / DAYS_PER_MONTH),
        "w" | "wk" | "week" | "weeks" => Some(7.0 / DAYS_PER_MONTH),
        "m" | "mo" | "month" | "months" => Some(1.0),
        "y" | "yr" | "year" | "years" => Some(12.0),
        _ => None,
    }
}

/// Parses `"30d"`, `"18m"`, `"2y"`, `"1.5 y"` or a bare number (months) into months.
///
/// Negative, infinite and NaN durations are rejected here: no duration in the model may be
/// any of those, and catching them at the text keeps the error next to its cause.
pub fn parse_months(text: &str) -> Result<f64, DurationError> {
    let err = |reason: &str| DurationError {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(err("it is empty"));
    }
    let split = trimmed
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number = number.trim().replace('_', "");
    let value: f64 = number
        .parse()
        .map_err(|_| err("the number part cannot be read"))?;
    let factor = if unit.is_empty() {
        1.0
    } else {
        unit_in_months(unit.trim()).ok_or_else(|| err("unknown unit; use d, w, m or y"))?
    };
    check_months(value * factor).map_err(|reason| err(&reason))
}

/// Rejects NaN, infinite and negative durations with the reason.
pub fn check_months(months: f64) -> Result<f64, String> {
    if months.is_nan() {
        Err("it is NaN".into())
    } else if months.is_infinite() {
        Err("it is infinite".into())
    } else if months < 0.0 {
        Err("it is negative".into())
    } else {
        Ok(months)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_convert_to_months() {
        assert_eq!(parse_months("18m").unwrap(), 18.0);
        assert_eq!(parse_months("2y").unwrap(), 24.0);
        assert_eq!(parse_months("1.5 y").unwrap(), 18.0);
        assert_eq!(parse_months("6").unwrap(), 6.0);
        assert!((parse_months("30.4375d").unwrap() - 1.0).abs() < 1e-12);
        assert!((parse_months("80d").unwrap() - 80.0 / DAYS_PER_MONTH).abs() < 1e-12);
        assert!((parse_months("1w").unwrap() - 7.0 / DAYS_PER_MONTH).abs() < 1e-12);
    }

    #[test]
    fn nonsense_is_rejected_with_a_reason() {
        for bad in ["", "abc", "5x", "-3m", "NaNm", "infm", "1e400"] {
            let e = parse_months(bad).unwrap_err();
            assert!(e.to_string().contains("not a duration"), "{bad}: {e}");
        }
    }
}
