//! Patient variables: what rules and covariate effects can look at.
//!
//! Three sources fill one vector of values per patient: cohort attributes (drawn once per
//! patient, identical under every strategy), policy variables (set by the strategy, e.g. the
//! donor at HSCT2) and variables assigned by decision branches during the patient's life.
//! Every value is stored as `f64`: numbers as themselves, booleans as 0/1, categories as the
//! index of the level.

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
}

/// `` `a`, `b`, `c` `` for messages.
pub fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}
