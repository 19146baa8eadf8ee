//! Patient variables: what rules and covariate effects can look at.
//!
//! Three sources fill one vector of values per patient: cohort attributes (drawn once per
//! patient, identical under every strategy), policy variables (set by the strategy, e.g. the
//! donor at HSCT2) and variables assigned by decision branches during the patient's life.
//! Every value is stored as `f64`: numbers as themselves (in the variable's [`Unit`]),
//! booleans as 0/1, categories as the index of the level.

use crate::duration::{DAYS_PER_MONTH, unit_in_months};

/// The type of a variable, fixed in the scenario file.
#[derive(Debug, Clone, PartialEq)]
pub enum VarKind {
    /// A real number (age, HCT-CI, months of remission).
    Number,
    /// Yes/no (chronic GVHD, donor-specific antibodies).
    Bool,
    /// One of a fixed list of levels (disease, donor type), stored as the level's index.
    Category(Vec<String>),
}

impl VarKind {
    /// A short description for error messages.
    pub fn describe(&self) -> String {
        match self {
            VarKind::Number => "a number".into(),
            VarKind::Bool => "true/false".into(),
            VarKind::Category(levels) => format!("one of {}", quote_list(levels)),
        }
    }
}

/// A unit of time. Ages are kept in years and remission durations in months because that
/// is how clinicians and studies give them; a rule that compares the two must know which
/// is which, or `age < 65y` would compare 48 (years) with 780 (months).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// 1 day.
    Days,
    /// 7 days.
    Weeks,
    /// 365.25 / 12 days, the model's clock.
    Months,
    /// 365.25 days.
    Years,
}

impl TimeUnit {
    /// Every unit, shortest first (for messages).
    pub const ALL: [TimeUnit; 4] = [
        TimeUnit::Days,
        TimeUnit::Weeks,
        TimeUnit::Months,
        TimeUnit::Years,
    ];

    /// The unit named by a duration suffix or a unit word (`y`, `yr`, `year`, `years`, …),
    /// the spellings durations accept.
    pub fn parse(text: &str) -> Option<TimeUnit> {
        match text {
            "d" | "day" | "days" => Some(TimeUnit::Days),
            "w" | "wk" | "week" | "weeks" => Some(TimeUnit::Weeks),
            "m" | "mo" | "month" | "months" => Some(TimeUnit::Months),
            "y" | "yr" | "year" | "years" => Some(TimeUnit::Years),
            _ => None,
        }
    }

    /// The plural name, as written in `unit = "…"` and in messages.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
            TimeUnit::Months => "months",
            TimeUnit::Years => "years",
        }
    }

    /// The singular name ("an HR per year").
    pub fn singular(self) -> &'static str {
        match self {
            TimeUnit::Days => "day",
            TimeUnit::Weeks => "week",
            TimeUnit::Months => "month",
            TimeUnit::Years => "year",
        }
    }

    /// The suffix of a duration in this unit (`65y`, `6m`).
    pub fn suffix(self) -> &'static str {
        match self {
            TimeUnit::Days => "d",
            TimeUnit::Weeks => "w",
            TimeUnit::Months => "m",
            TimeUnit::Years => "y",
        }
    }

    /// Length in days; every one is exact in binary floating point.
    fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
            TimeUnit::Months => DAYS_PER_MONTH,
            TimeUnit::Years => 365.25,
        }
    }

    /// The factor `value_in(to) = value_in(self) · factor` as one operation: a
    /// multiplication or a division by an exactly representable constant where there is one
    /// (years → months is × 12, months → years ÷ 12), so whole numbers convert exactly.
    pub fn conversion(self, to: TimeUnit) -> Conversion {
        if self == to {
            return Conversion::Same;
        }
        if to == TimeUnit::Months {
            // As every duration in a scenario file is read: number × months per unit.
            return Conversion::Multiply(unit_in_months(self.suffix()).unwrap_or(1.0));
        }
        let (from, to) = (self.days(), to.days());
        if (from / to) * to == from {
            Conversion::Multiply(from / to)
        } else if (to / from) * from == to {
            Conversion::Divide(to / from)
        } else {
            Conversion::Ratio(from, to)
        }
    }

    /// `value` (in this unit) in unit `to`.
    pub fn convert(self, value: f64, to: TimeUnit) -> f64 {
        self.conversion(to).apply(value)
    }
}

/// How a value is converted between two time units (see [`TimeUnit::conversion`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Conversion {
    /// Same unit: the value as it is.
    Same,
    /// `value · factor`.
    Multiply(f64),
    /// `value / divisor`.
    Divide(f64),
    /// `value · from / to` (days per unit).
    Ratio(f64, f64),
}

impl Conversion {
    /// The converted value.
    pub fn apply(self, value: f64) -> f64 {
        match self {
            Conversion::Same => value,
            Conversion::Multiply(f) => value * f,
            Conversion::Divide(d) => value / d,
            Conversion::Ratio(from, to) => value * from / to,
        }
    }
}

/// The unit of a numeric variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    /// No unit: a count, a score or a ratio (HCT-CI points, number of lines of therapy).
    /// Also the unit of booleans and categories, which are not numbers in rules.
    #[default]
    None,
    /// A time in this unit (age in years, remission duration in months).
    Time(TimeUnit),
}

impl Unit {
    /// `unit = "…"` as written in a scenario file: `"none"` or a time unit.
    pub fn parse(text: &str) -> Option<Unit> {
        match text {
            "none" => Some(Unit::None),
            other => TimeUnit::parse(other).map(Unit::Time),
        }
    }

    /// "years", "months", … or "no unit", for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Unit::None => "no unit",
            Unit::Time(t) => t.name(),
        }
    }

    /// The accepted spellings of `unit = "…"`, for messages.
    pub const CHOICES: &'static str =
        "\"years\", \"months\", \"weeks\", \"days\" (a time) or \"none\" (a count or score)";
}

/// Where a variable's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarSource {
    /// Drawn per patient from the cohort distribution.
    Attribute,
    /// Set by the strategy (or its default); decision branches may change it.
    Policy,
}

/// A declared variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Name used in rules and CSV columns.
    pub name: String,
    /// Its type.
    pub kind: VarKind,
    /// Attribute or policy variable.
    pub source: VarSource,
    /// The unit of its values (numbers only; [`Unit::None`] for booleans and categories).
    /// Rules use it to refuse or convert comparisons with durations.
    pub unit: Unit,
}

impl Variable {
    /// A variable without a unit.
    pub fn new(name: impl Into<String>, kind: VarKind, source: VarSource) -> Variable {
        Variable {
            name: name.into(),
            kind,
            source,
            unit: Unit::None,
        }
    }

    /// The same variable with values in `unit`.
    pub fn with_unit(mut self, unit: Unit) -> Variable {
        self.unit = unit;
        self
    }
}

/// `` `a`, `b`, `c` `` for messages.
pub fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_convert_exactly() {
        use TimeUnit::*;
        assert_eq!(Years.convert(65.0, Months), 780.0);
        assert_eq!(Months.convert(780.0, Years), 65.0);
        assert_eq!(Months.convert(6.0, Years), 0.5);
        assert_eq!(Weeks.convert(4.0, Days), 28.0);
        assert_eq!(Days.convert(28.0, Weeks), 4.0);
        assert_eq!(Years.convert(2.0, Days), 730.5);
        assert_eq!(Months.convert(2.0, Days), 60.875);
        // Into months exactly as durations are read everywhere else.
        assert_eq!(
            Days.convert(30.0, Months),
            30.0 * unit_in_months("d").unwrap()
        );
        assert_eq!(
            Weeks.convert(6.0, Months),
            6.0 * unit_in_months("w").unwrap()
        );
        // No exact factor: one product and one quotient.
        assert!((Years.convert(1.0, Weeks) - 365.25 / 7.0).abs() < 1e-12);
        assert!((Weeks.convert(365.25 / 7.0, Years) - 1.0).abs() < 1e-12);
        for a in TimeUnit::ALL {
            assert_eq!(a.convert(3.0, a), 3.0);
            for b in TimeUnit::ALL {
                let back = b.convert(a.convert(10.0, b), a);
                assert!((back - 10.0).abs() < 1e-12, "{a:?} → {b:?} → {a:?}: {back}");
            }
        }
    }

    #[test]
    fn units_are_read_as_durations_spell_them() {
        assert_eq!(Unit::parse("years"), Some(Unit::Time(TimeUnit::Years)));
        assert_eq!(Unit::parse("y"), Some(Unit::Time(TimeUnit::Years)));
        assert_eq!(Unit::parse("months"), Some(Unit::Time(TimeUnit::Months)));
        assert_eq!(Unit::parse("none"), Some(Unit::None));
        assert_eq!(Unit::parse("Years"), None);
        assert_eq!(Unit::parse("points"), None);
        for t in TimeUnit::ALL {
            assert_eq!(TimeUnit::parse(t.name()), Some(t));
            assert_eq!(TimeUnit::parse(t.suffix()), Some(t));
            assert_eq!(TimeUnit::parse(t.singular()), Some(t));
        }
    }
}
