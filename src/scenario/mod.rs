//! Scenario files: reading, checking and compiling them into a [`Model`].
//!
//! ```no_run
//! let model = hsctsim::scenario::load("scenarios/reference_markov.toml")?;
//! println!("{} states, {} strategies", model.states.len(), model.strategies.len());
//! # Ok::<(), hsctsim::scenario::ScenarioError>(())
//! ```

pub mod build;
pub mod builtin;
pub mod compose;
pub mod describe;
pub mod error;
pub mod figures;
pub mod format;
pub mod name;
mod overrides;
pub mod parameter;
pub mod sizes;

use std::path::Path;

pub use error::ScenarioError;
pub use format::ScenarioFile;

use crate::model::Model;

/// Largest scenario file accepted; real ones are a few kilobytes.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a file as UTF-8 text with errors a user can act on: only a regular file, at most
/// [`MAX_FILE_BYTES`] (see [`crate::input`]).
pub fn read_text(path: impl AsRef<Path>) -> Result<String, ScenarioError> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let bytes = crate::input::read_bounded(path, MAX_FILE_BYTES).map_err(|e| {
        use crate::input::InputError;
        let (message, help) = match &e {
            InputError::NotFound { .. } => (
                "no such file".to_string(),
                "check the path; scenarios shipped with hsctsim are in scenarios/, and `hsctsim models` lists the built-in models".to_string(),
            ),
            InputError::NotAFile { what, .. } => (
                format!("is {what}, not a scenario file"),
                "give the path of a .toml file".to_string(),
            ),
            InputError::TooLarge { .. } => (
                format!("is too large: scenario files are limited to {MAX_FILE_BYTES} bytes (16 MiB)"),
                "is this the right file? scenario files are small TOML texts".to_string(),
            ),
            InputError::Io { source, .. } => {
                (format!("cannot read the file: {source}"), e.help().to_string())
            }
        };
        ScenarioError::whole_file(&shown, message, Some(help))
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..offset]).into_owned();
        let line = valid.matches('\n').count() + 1;
        let col = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let mut err = ScenarioError::whole_file(
            &shown,
            "is not valid UTF-8 text",
            Some("save the file as UTF-8".into()),
        );
        err.location = Some((line, col));
        err
    })
}

/// Loads and compiles a scenario file, with the model or file it extends (see [`compose`]).
pub fn load(path: impl AsRef<Path>) -> Result<Model, ScenarioError> {
    let path = path.as_ref();
    let default_name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    compose::load(path)?.build(&default_name)
}

/// Parses and compiles scenario text; `file` is used in messages. `extends` paths are
/// resolved from the folder of `file` if it names one that exists, else the current folder.
pub fn parse(source: &str, file: &str, default_name: &str) -> Result<Model, ScenarioError> {
    let dir = Path::new(file).parent().filter(|d| d.is_dir());
    compose::from_text(source, file, dir)?.build(default_name)
}

/// Parses scenario text into the file structure without compiling it.
pub fn parse_file(source: &str, file: &str) -> Result<ScenarioFile, ScenarioError> {
    parse_toml(source, file)
}

/// Parses any of hsctsim's TOML files (scenarios, target files, fit specifications) into
/// its structure, with syntax errors reported as such and every error located.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    source: &str,
    file: &str,
) -> Result<T, ScenarioError> {
    // Syntax first, so a syntax error is reported as one rather than as a type error.
    if let Err(e) = toml::de::DeTable::parse(source) {
        let mut error = ScenarioError::from_toml(file, source, &e);
        error.message = format!("TOML syntax error: {}", error.message);
        error.help.get_or_insert_with(|| {
            "TOML is `key = value` lines under [table] headers; strings need quotes, e.g. horizon = \"5y\"".to_string()
        });
        return Err(error);
    }
    toml::from_str(source).map_err(|e| ScenarioError::from_toml(file, source, &e))
}
