//! Built-in models: complete, commented model files compiled into the binary, so a scenario
//! can start from one by name (`[scenario] model = "hsct-review"`) wherever hsctsim runs.
//!
//! The files live in `models/` of the repository, where they are read, reviewed and
//! versioned like any scenario; `hsctsim models --show NAME` prints one with every
//! parameter and its source.

/// A model shipped inside the binary.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinModel {
    /// Name used in `[scenario] model = "…"`.
    pub name: &'static str,
    /// Path of the file in the repository (shown in error messages).
    pub file: &'static str,
    /// One line on what it models.
    pub summary: &'static str,
    /// The file's text.
    pub text: &'static str,
}

/// Every built-in model.
pub const MODELS: &[BuiltinModel] = &[BuiltinModel {
    name: "hsct-review",
    file: "models/hsct_review.toml",
    summary: "Relapse or graft failure after HSCT1: salvage, DLI, donor search, HSCT2 (donor, conditioning), maintenance, HSCT3, palliation; calibrated to the two reviews",
    text: include_str!("../../models/hsct_review.toml"),
}];

/// The built-in model of that name.
pub fn find(name: &str) -> Option<&'static BuiltinModel> {
    MODELS.iter().find(|m| m.name == name)
}
