//! `[[states]]`: names, labels, causes of death and the HSCT2 flag; and what a name a
//! transition or branch leads to stands for (a state or a decision).
//!
//! Separate because states come first: every later part of the file refers to them by name.

use super::checks::check_identifier;
use super::{Builder, Result};
use crate::model::variable::quote_list;
use crate::model::{DeathCause, Node, State};
use crate::scenario::error::{BuildError, Path};
use crate::scenario::format::StateDef;
use crate::suggest::did_you_mean;
use crate::toml_path;

impl Builder {
    pub(super) fn states(&mut self, defs: &[StateDef]) -> Result<()> {
        if defs.is_empty() {
            return Err(
                BuildError::new(toml_path!["states"], "the scenario has no states").help(
                    "add [[states]] tables, e.g. name = \"relapse\", or start from a \
                         built-in model with model = \"hsct-review\" (see `hsctsim models`)",
                ),
            );
        }
        for (i, d) in defs.iter().enumerate() {
            let path = toml_path!["states", i, "name"];
            check_identifier(&d.name, "state", path.clone())?;
            if self.state_names.contains(&d.name) {
                return Err(
                    BuildError::new(path, format!("state `{}` is declared twice", d.name))
                        .help("state names must be unique; rename or remove one"),
                );
            }
            let death = match d.death.as_deref() {
                None => None,
                Some("relapse") => Some(DeathCause::Relapse),
                Some("nrm") => Some(DeathCause::NonRelapse),
                Some(other) => {
                    return Err(BuildError::new(
                        toml_path!["states", i, "death"],
                        format!(
                            "unknown cause of death `{other}`.{}",
                            did_you_mean(other, ["relapse", "nrm"])
                        ),
                    )
                    .help("use death = \"relapse\" (death from disease) or death = \"nrm\" (non-relapse mortality)"));
                }
            };
            if d.hsct2 && (d.absorbing || death.is_some()) {
                return Err(BuildError::new(
                    toml_path!["states", i, "hsct2"],
                    format!(
                        "state `{}` cannot both start the HSCT2 time origin and be absorbing",
                        d.name
                    ),
                )
                .help("mark the state entered at the second transplant with hsct2 = true"));
            }
            self.state_names.push(d.name.clone());
            self.states.push(State {
                name: d.name.clone(),
                label: d.label.clone().unwrap_or_else(|| d.name.clone()),
                absorbing: d.absorbing || death.is_some(),
                death,
                relapse: d.relapse,
                hsct2: d.hsct2,
            });
        }
        Ok(())
    }

    pub(super) fn target(&self, name: &str, path: Path) -> Result<Node> {
        if let Some(i) = self.state_names.iter().position(|s| s == name) {
            return Ok(Node::State(i));
        }
        if let Some(i) = self.decision_names.iter().position(|s| s == name) {
            return Ok(Node::Decision(i));
        }
        let all = self
            .state_names
            .iter()
            .chain(&self.decision_names)
            .map(String::as_str);
        Err(BuildError::new(
            path,
            format!(
                "unknown state or decision `{name}`.{}",
                did_you_mean(name, all)
            ),
        )
        .help(format!("states are {}", quote_list(&self.state_names))))
    }
}
