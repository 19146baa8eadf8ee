//! `hsctsim models`: the built-in models, and one model's parameters with their sources.

use hsctsim::scenario::{builtin, compose, describe};

use std::fmt::Write as _;

use super::{Failure, print_out};

/// Lists the built-in models, or prints one (a built-in name or a model file) in full.
pub fn models(show: Option<&str>) -> Result<(), Failure> {
    let Some(name) = show else {
        let mut text = String::from("Built-in models (use with [scenario] model = \"NAME\"):\n");
        for m in builtin::MODELS {
            let _ = writeln!(text, "  {:<14} {}  ({})", m.name, m.summary, m.file);
        }
        text.push_str(
            "\n`hsctsim models --show NAME` prints a model's parameters with their sources.\n",
        );
        return print_out(&text);
    };
    let composed = match compose::builtin_model(name) {
        Some(m) => m.map_err(Failure::input)?,
        None if std::path::Path::new(name).is_file() => {
            compose::load(name).map_err(Failure::input)?
        }
        None => {
            return Err(Failure::input(format!(
                "`{name}` is neither a built-in model nor a file.{}\n  help: `hsctsim models` lists the built-in models",
                hsctsim::suggest::did_you_mean(name, builtin::MODELS.iter().map(|m| m.name))
            )));
        }
    };
    // Check that it builds, so what is printed is a valid model.
    composed.build(name).map_err(Failure::input)?;
    let file = &composed.file;
    let title = match builtin::find(name) {
        Some(m) => format!("{} ({}): {}", m.name, m.file, m.summary),
        None => name.to_string(),
    };
    print_out(&format!("{title}\n\n{}", describe::parameters(file)))
}
