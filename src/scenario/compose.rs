//! Composition: a scenario that starts from a built-in model or another file and adds to it.
//!
//! A clinical question (which donor? whom to transplant?) should not copy the model it asks
//! it of: `[scenario] model = "hsct-review"` starts from a built-in model and
//! `[scenario] extends = "path.toml"` from another file (itself possibly extending a
//! third). The file then only says what is new. What overrides what, section by section:
//!
//! | section | rule |
//! |---|---|
//! | `[scenario]` | never inherited: name and description belong to the file that asks |
//! | `[simulation]` | key by key: the extending file's keys win |
//! | `[[states]]`, `[[variables]]`, `[[cohort.attributes]]`, `[[decisions]]` | by `name`: an entry with a known name replaces that entry where it stands; a new name is appended |
//! | `[cohort] entry`, `source` | replaced when given |
//! | `[[transitions]]` | by `from`/`to`: given fields replace the base's (a new `rate`/`hazard`/`after`/`at` replaces the whole timing, `effects` the whole list); `enabled = false` removes the transition; a new pair is appended |
//! | `[[strategies]]` | the extending file's list replaces the base's when it has any: a scenario's strategies are its question |
//! | `[background_mortality]`, `[economics]`, `[figures]`, `[psa]` | replaced when given |
//!
//! Every element of the composed file remembers the file (and place in it) it came from,
//! so an error in the composed model points at the line of the file that caused it — the
//! model's own file for a bad hazard in the model, the scenario for a bad override — and an
//! error in a file below the top says how it was reached (`from top.toml:2:11 (extends =
//! "base.toml")`, `from target file t.toml:3:9 (model = "model.toml")`).
//!
//! A composed scenario is a value: [`Composition`] holds every file's path as given, its
//! text and its SHA-256, and which file each `extends` or `model` resolved to. One composer
//! ([`compose`]) reads chains through a source of files ([`Files`]): the disk for `run`,
//! `validate` and `check`, the recorded layers for `merge`. A part file carries the
//! composition, so merging needs nothing but the parts and rebuilds the model by the same
//! code from the same texts; the composition's SHA-256 ([`Composition::sha256`]) covers
//! every layer, so two runs of different base files never record the same scenario hash.
//! Why one composer over two sources rather than a second "rebuild" path: a chain then
//! means one thing wherever its files come from, and what the disk source refuses (a
//! cycle, a chain longer than [`MAX_DEPTH`], a built-in model that does not exist) is
//! refused in a record too. What the disk source agrees to read, and when a file's lines
//! are quoted, is in [`files`].

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use super::build;
use super::error::{BuildError, Path, ScenarioError, Segment};
use super::format::*;
use super::overrides::{field_is_set, merge_override};
use crate::model::Model;
use crate::suggest::did_you_mean;
use crate::toml_path;

pub mod files;

pub use files::{
    Composition, Disk, Fetched, Files, LayerRecord, MAX_DEPTH, Memory, Naming, Replay,
    SCENARIO_TABLES,
};

/// One file (or one embedded table of a file) that contributed to a composed scenario.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Name shown in messages: the path as given, or the built-in model's file.
    pub file: String,
    /// The whole text of that file, to show the offending line.
    pub source: String,
    /// Where the scenario tables sit inside that text: empty for a scenario file, e.g.
    /// `cohorts[3].scenario` for a study's overrides inside a target file.
    pub prefix: Path,
}

impl Layer {
    /// A whole file as a layer.
    fn of(fetched: &Fetched) -> Layer {
        Layer {
            file: fetched.path.clone(),
            source: fetched.text.clone(),
            prefix: Vec::new(),
        }
    }
}

/// Where one element of the composed file was written.
#[derive(Debug, Clone, PartialEq)]
struct Loc {
    layer: usize,
    path: Path,
}

fn loc(layer: usize, path: Path) -> Loc {
    Loc { layer, path }
}

/// Field-level origins of a transition merged from several layers.
#[derive(Debug, Clone)]
struct TransitionOrigin {
    base: Loc,
    fields: Vec<(&'static str, Loc)>,
}

/// Where each element of a composed file came from.
#[derive(Debug, Clone, Default)]
struct Origins {
    simulation: BTreeMap<&'static str, Loc>,
    states: Vec<Loc>,
    variables: Vec<Loc>,
    cohort: Option<Loc>,
    entry: Option<Loc>,
    cohort_source: Option<Loc>,
    attributes: Vec<Loc>,
    transitions: Vec<TransitionOrigin>,
    decisions: Vec<Loc>,
    strategies: Option<Loc>,
    background: Option<Loc>,
    economics: Option<Loc>,
    figures: Option<Loc>,
    psa: Option<Loc>,
}

const SIMULATION_KEYS: [&str; 8] = [
    "patients",
    "seed",
    "horizon",
    "grid",
    "landmarks",
    "threads",
    "max_events",
    "reference",
];

const TIMING_KEYS: [&str; 4] = ["rate", "hazard", "after", "at"];

fn simulation_set(s: &SimulationDef, k: &str) -> bool {
    match k {
        "patients" => s.patients.is_some(),
        "seed" => s.seed.is_some(),
        "horizon" => s.horizon.is_some(),
        "grid" => s.grid.is_some(),
        "landmarks" => s.landmarks.is_some(),
        "threads" => s.threads.is_some(),
        "max_events" => s.max_events.is_some(),
        "reference" => s.reference.is_some(),
        _ => false,
    }
}

impl Origins {
    /// Origins of a file that extends nothing: everything is where it is.
    fn of_file(file: &ScenarioFile, layer: usize) -> Origins {
        let at = |p: Path| loc(layer, p);
        Origins {
            simulation: SIMULATION_KEYS
                .iter()
                .filter(|k| simulation_set(&file.simulation, k))
                .map(|k| (*k, at(toml_path!["simulation", *k])))
                .collect(),
            states: (0..file.states.len())
                .map(|i| at(toml_path!["states", i]))
                .collect(),
            variables: (0..file.variables.len())
                .map(|i| at(toml_path!["variables", i]))
                .collect(),
            cohort: Some(at(toml_path!["cohort"])),
            entry: file
                .cohort
                .entry
                .as_ref()
                .map(|_| at(toml_path!["cohort", "entry"])),
            cohort_source: file
                .cohort
                .source
                .as_ref()
                .map(|_| at(toml_path!["cohort", "source"])),
            attributes: (0..file.cohort.attributes.len())
                .map(|i| at(toml_path!["cohort", "attributes", i]))
                .collect(),
            transitions: (0..file.transitions.len())
                .map(|i| TransitionOrigin {
                    base: at(toml_path!["transitions", i]),
                    fields: Vec::new(),
                })
                .collect(),
            decisions: (0..file.decisions.len())
                .map(|i| at(toml_path!["decisions", i]))
                .collect(),
            strategies: Some(at(toml_path!["strategies"])),
            background: Some(at(toml_path!["background_mortality"])),
            economics: Some(at(toml_path!["economics"])),
            figures: Some(at(toml_path!["figures"])),
            psa: Some(at(toml_path!["psa"])),
        }
    }

    /// The layer and path (within that layer) a path into the composed file came from.
    fn resolve(&self, path: &[Segment], top: usize) -> Loc {
        use Segment::{Index, Key};
        let join = |l: &Loc, rest: &[Segment]| {
            let mut p = l.path.clone();
            p.extend_from_slice(rest);
            loc(l.layer, p)
        };
        let key = |s: &Segment, k: &str| matches!(s, Key(x) if x == k);
        let found = match path {
            [Key(s), Key(f), rest @ ..] if s == "simulation" => {
                self.simulation.get(f.as_str()).map(|l| join(l, rest))
            }
            [Key(s), Index(i), rest @ ..] if s == "states" => {
                self.states.get(*i).map(|l| join(l, rest))
            }
            [Key(s), Index(i), rest @ ..] if s == "variables" => {
                self.variables.get(*i).map(|l| join(l, rest))
            }
            [c, e, rest @ ..] if key(c, "cohort") && key(e, "entry") => {
                self.entry.as_ref().map(|l| join(l, rest))
            }
            [c, e, rest @ ..] if key(c, "cohort") && key(e, "source") => {
                self.cohort_source.as_ref().map(|l| join(l, rest))
            }
            [c, a, Index(i), rest @ ..] if key(c, "cohort") && key(a, "attributes") => {
                self.attributes.get(*i).map(|l| join(l, rest))
            }
            [c, rest @ ..] if key(c, "cohort") => self.cohort.as_ref().map(|l| join(l, rest)),
            [Key(s), Index(i), Key(f), rest @ ..] if s == "transitions" => self
                .transitions
                .get(*i)
                .map(|t| match t.fields.iter().find(|(k, _)| k == f) {
                    Some((_, l)) => join(l, rest),
                    None => {
                        let mut tail = vec![Key(f.clone())];
                        tail.extend_from_slice(rest);
                        join(&t.base, &tail)
                    }
                }),
            [Key(s), Index(i)] if s == "transitions" => {
                self.transitions.get(*i).map(|t| t.base.clone())
            }
            [Key(s), Index(i), rest @ ..] if s == "decisions" => {
                self.decisions.get(*i).map(|l| join(l, rest))
            }
            [Key(s), rest @ ..] if s == "strategies" => {
                self.strategies.as_ref().map(|l| join(l, rest))
            }
            [Key(s), rest @ ..] if s == "background_mortality" => {
                self.background.as_ref().map(|l| join(l, rest))
            }
            [Key(s), rest @ ..] if s == "economics" => {
                self.economics.as_ref().map(|l| join(l, rest))
            }
            [Key(s), rest @ ..] if s == "figures" => self.figures.as_ref().map(|l| join(l, rest)),
            [Key(s), rest @ ..] if s == "psa" => self.psa.as_ref().map(|l| join(l, rest)),
            _ => None,
        };
        found.unwrap_or_else(|| loc(top, path.to_vec()))
    }
}

/// A scenario composed from one or more layers, ready to build.
#[derive(Debug, Clone)]
pub struct Composed {
    /// The composed file: what the builder compiles.
    pub file: ScenarioFile,
    /// The files it came from, base first.
    pub layers: Vec<Layer>,
    origins: Origins,
    /// Per layer, how its file was reached (see [`ScenarioError::chain`]).
    chains: Vec<Vec<String>>,
    /// The files composed, with their texts (layers laid over by [`Composed::overlay`],
    /// such as a target file's cohorts, are not files of the scenario and are not in it).
    composition: Composition,
}

impl Composed {
    /// A single file that extends nothing.
    pub fn single(file: ScenarioFile, layer: Layer) -> Composed {
        let origins = Origins::of_file(&file, 0);
        let composition = Composition::of(&[&Fetched {
            path: layer.file.clone(),
            text: layer.source.clone(),
            builtin: None,
            trusted: true,
            identity: files::Identity::Layer(0),
        }]);
        Composed {
            file,
            layers: vec![layer],
            origins,
            chains: vec![Vec::new()],
            composition,
        }
    }

    /// The files composed, with their texts and hashes: what a part carries.
    pub fn composition(&self) -> &Composition {
        &self.composition
    }

    /// Records that a value in another file named this composition (e.g. a target file's
    /// `model`): errors in its files from now on end their chain with `link`.
    pub fn named_from(&mut self, link: String) {
        for chain in &mut self.chains {
            chain.push(link.clone());
        }
    }

    /// Compiles the composed file; errors point into the layer that caused them. States
    /// inherited from a base may go unused (see [`build::build_with`]).
    pub fn build(&self, default_name: &str) -> Result<Model, ScenarioError> {
        let top = self.layers.len() - 1;
        let inherited: Vec<String> = self
            .file
            .states
            .iter()
            .zip(&self.origins.states)
            .filter(|(_, origin)| origin.layer < top)
            .map(|(s, _)| s.name.clone())
            .collect();
        build::build_with(&self.file, default_name, &inherited).map_err(|e| self.error(e))
    }

    /// Turns an error located in the composed file into one located in its layer.
    pub fn error(&self, error: BuildError) -> ScenarioError {
        let top = self.layers.len() - 1;
        let origin = self.origins.resolve(&error.path, top);
        let layer = &self.layers[origin.layer];
        let mut path = layer.prefix.clone();
        path.extend(origin.path);
        let error =
            ScenarioError::from_build(&layer.file, &layer.source, BuildError { path, ..error });
        self.chains[origin.layer]
            .iter()
            .fold(error, |e, link| e.named_from(link.clone()))
    }

    /// Lays `overlay` (written in `layer`) over this composition; see the module docs for
    /// what overrides what.
    pub fn overlay(&self, overlay: &ScenarioFile, layer: Layer) -> Result<Composed, ScenarioError> {
        self.overlay_with(overlay, layer, Vec::new())
    }

    /// [`Composed::overlay`] for a layer reached through `chain`.
    fn overlay_with(
        &self,
        overlay: &ScenarioFile,
        layer: Layer,
        chain: Vec<String>,
    ) -> Result<Composed, ScenarioError> {
        let mut layers = self.layers.clone();
        layers.push(layer);
        let mut chains = self.chains.clone();
        chains.push(chain);
        let top = layers.len() - 1;
        let mut file = self.file.clone();
        let mut origins = self.origins.clone();
        let at = |p: Path| loc(top, p);
        let fail = |e: BuildError| {
            let layer = &layers[top];
            let mut path = layer.prefix.clone();
            path.extend(e.path.clone());
            let error =
                ScenarioError::from_build(&layer.file, &layer.source, BuildError { path, ..e });
            chains[top]
                .iter()
                .fold(error, |e, link| e.named_from(link.clone()))
        };

        // [scenario] is the extending file's own.
        file.scenario = Meta {
            name: overlay.scenario.name.clone(),
            description: overlay.scenario.description.clone(),
            model: None,
            extends: None,
        };

        // [simulation], key by key.
        let s = &overlay.simulation;
        let t = &mut file.simulation;
        macro_rules! take {
            ($($k:ident),*) => {$(
                if s.$k.is_some() {
                    t.$k = s.$k.clone();
                    origins.simulation.insert(stringify!($k), at(toml_path!["simulation", stringify!($k)]));
                }
            )*};
        }
        take!(
            patients, seed, horizon, grid, landmarks, threads, max_events, reference
        );

        // Named lists: replace in place or append.
        merge_named(
            &mut file.states,
            &mut origins.states,
            &overlay.states,
            |x| &x.name,
            |i| at(toml_path!["states", i]),
        );
        merge_named(
            &mut file.variables,
            &mut origins.variables,
            &overlay.variables,
            |x| &x.name,
            |i| at(toml_path!["variables", i]),
        );
        merge_named(
            &mut file.cohort.attributes,
            &mut origins.attributes,
            &overlay.cohort.attributes,
            |x| &x.name,
            |i| at(toml_path!["cohort", "attributes", i]),
        );
        merge_named(
            &mut file.decisions,
            &mut origins.decisions,
            &overlay.decisions,
            |x| &x.name,
            |i| at(toml_path!["decisions", i]),
        );
        if let Some(entry) = &overlay.cohort.entry {
            file.cohort.entry = Some(entry.clone());
            origins.entry = Some(at(toml_path!["cohort", "entry"]));
        }
        if let Some(source) = &overlay.cohort.source {
            file.cohort.source = Some(source.clone());
            origins.cohort_source = Some(at(toml_path!["cohort", "source"]));
        }
        if origins.cohort.is_none() {
            origins.cohort = Some(at(toml_path!["cohort"]));
        }

        // Transitions by from/to.
        for (i, o) in overlay.transitions.iter().enumerate() {
            let here = toml_path!["transitions", i];
            let existing = file
                .transitions
                .iter()
                .position(|b| b.from == o.from && b.to == o.to);
            match (existing, o.enabled) {
                (Some(k), Some(false)) => {
                    file.transitions.remove(k);
                    origins.transitions.remove(k);
                }
                (None, Some(false)) => {
                    let known: Vec<String> = file
                        .transitions
                        .iter()
                        .map(|b| format!("{}->{}", b.from, b.to))
                        .collect();
                    let name = format!("{}->{}", o.from, o.to);
                    return Err(fail(
                        BuildError::new(
                            here.clone(),
                            format!(
                                "`enabled = false` removes a transition of the base, and it has no {name}.{}",
                                did_you_mean(&name, known.iter().map(String::as_str))
                            ),
                        )
                        .help("check `from` and `to`; the built-in model's transitions are listed with its parameters (`models` shows them)"),
                    ));
                }
                (Some(k), _) => {
                    let mut change = o.clone();
                    change.enabled = None;
                    merge_override(&mut file.transitions[k], &change);
                    let fields = &mut origins.transitions[k].fields;
                    let mut record = |f: &'static str| {
                        fields.retain(|(k, _)| *k != f);
                        fields.push((f, at(toml_path!["transitions", i, f])));
                    };
                    if TIMING_KEYS.iter().any(|f| field_is_set(o, f)) {
                        TIMING_KEYS.iter().for_each(|f| record(f));
                    }
                    for f in ["cure", "clock", "if", "effects", "hr", "source"] {
                        if field_is_set(o, f) {
                            record(f);
                        }
                    }
                }
                (None, _) => {
                    let mut new = o.clone();
                    new.enabled = None;
                    file.transitions.push(new);
                    origins.transitions.push(TransitionOrigin {
                        base: at(here),
                        fields: Vec::new(),
                    });
                }
            }
        }

        if !overlay.strategies.is_empty() {
            file.strategies = overlay.strategies.clone();
            origins.strategies = Some(at(toml_path!["strategies"]));
        }
        if let Some(bg) = &overlay.background_mortality {
            file.background_mortality = Some(bg.clone());
            origins.background = Some(at(toml_path!["background_mortality"]));
        }
        if let Some(economics) = &overlay.economics {
            file.economics = Some(economics.clone());
            origins.economics = Some(at(toml_path!["economics"]));
        }
        if let Some(figures) = &overlay.figures {
            file.figures = Some(figures.clone());
            origins.figures = Some(at(toml_path!["figures"]));
        }
        if let Some(psa) = &overlay.psa {
            file.psa = Some(psa.clone());
            origins.psa = Some(at(toml_path!["psa"]));
        }
        Ok(Composed {
            file,
            layers,
            origins,
            chains,
            composition: self.composition.clone(),
        })
    }
}

/// Replaces entries of `base` whose name an overlay entry has, in place; appends the rest.
fn merge_named<T: Clone>(
    base: &mut Vec<T>,
    origins: &mut Vec<Loc>,
    overlay: &[T],
    name: impl Fn(&T) -> &String,
    at: impl Fn(usize) -> Loc,
) {
    for (i, o) in overlay.iter().enumerate() {
        match base.iter().position(|b| name(b) == name(o)) {
            Some(k) => {
                base[k] = o.clone();
                origins[k] = at(i);
            }
            None => {
                base.push(o.clone());
                origins.push(at(i));
            }
        }
    }
}

/// Loads a scenario file (the one the caller named) and everything it extends.
pub fn load(path: impl AsRef<FsPath>) -> Result<Composed, ScenarioError> {
    compose(files::open_given(path.as_ref())?, None, &mut Disk)
}

/// Composes scenario text; `file` names it in messages and `dir` is where `extends` paths
/// are resolved from (the current folder when `None`).
pub fn from_text(text: &str, file: &str, dir: Option<&FsPath>) -> Result<Composed, ScenarioError> {
    compose(
        files::given_text(text.to_string(), file, dir),
        None,
        &mut Disk,
    )
}

/// A built-in model, composed (it extends nothing).
pub fn builtin_model(name: &str) -> Option<Result<Composed, ScenarioError>> {
    files::builtin_file(name).map(|m| compose(m, None, &mut Disk))
}

/// Loads a scenario (or model) file that a value in another file names, e.g. a target
/// file's `model`: a refusal of the file is reported at `naming`, an error inside it in it
/// with `naming` as the link of its chain.
pub fn load_named(dir: &FsPath, naming: &Naming) -> Result<Composed, ScenarioError> {
    let fetched = files::open_named(dir, naming.named).map_err(|r| r.at(naming))?;
    compose(fetched, Some(naming.link()), &mut Disk)
}

/// One file of a chain, as the walk down the chain found it.
struct Walked {
    fetched: Fetched,
    file: ScenarioFile,
    /// How it was reached, innermost first: see [`ScenarioError::chain`].
    chain: Vec<String>,
}

/// The composer: reads `top` and, through `files`, everything it extends, and lays each
/// file over the one below it. `named_from` is the link that led to `top`, if a file named
/// it. Every source of files goes through here, so a chain means one thing wherever its
/// files come from.
pub fn compose(
    top: Fetched,
    named_from: Option<String>,
    files: &mut dyn Files,
) -> Result<Composed, ScenarioError> {
    // Down the chain first, top file first: each file is checked before the one it names
    // is read, and every error carries the chain that led to its file.
    let mut walked: Vec<Walked> = Vec::new();
    let mut next = Some((top, named_from.into_iter().collect::<Vec<_>>()));
    while let Some((fetched, chain)) = next.take() {
        let with_chain =
            |e: ScenarioError| chain.iter().fold(e, |e, link| e.named_from(link.clone()));
        if !fetched.trusted {
            files::recognise(&fetched, files::SCENARIO).map_err(with_chain)?;
        }
        let file = super::parse_file(&fetched.text, &fetched.path).map_err(with_chain)?;
        let (key, named) = match (&file.scenario.model, &file.scenario.extends) {
            (None, None) => {
                walked.push(Walked {
                    fetched,
                    file,
                    chain,
                });
                break;
            }
            (Some(_), Some(_)) => {
                return Err(with_chain(ScenarioError::from_build(
                    &fetched.path,
                    &fetched.text,
                    BuildError::new(
                        toml_path!["scenario", "extends"],
                        "give either `model` (a built-in model) or `extends` (a file), not both",
                    )
                    .help("a file starts from one base; that base may itself extend another"),
                )));
            }
            (Some(name), None) => ("model", name.clone()),
            (None, Some(named)) => ("extends", named.clone()),
        };
        let naming = Naming {
            file: &fetched.path,
            source: &fetched.text,
            path: toml_path!["scenario", key],
            kind: "",
            named: &named,
        };
        let refused = |message: String, help: &str| with_chain(naming.error(message, help.into()));
        let below = if key == "model" {
            files.model(&fetched, &named)
        } else {
            files.extends(&fetched, &named)
        }
        .map_err(|r| match r {
            files::Refusal::There(e) => with_chain(e.named_from(naming.link())),
            here => with_chain(here.at(&naming)),
        })?;
        let above: Vec<&Fetched> = walked
            .iter()
            .map(|w| &w.fetched)
            .chain([&fetched])
            .collect();
        if let Some(first) = above.iter().position(|f| f.identity.same(&below.identity)) {
            let cycle: Vec<&str> = above[first..]
                .iter()
                .map(|f| f.path.as_str())
                .chain([below.path.as_str()])
                .collect();
            return Err(refused(
                format!(
                    "`{}` is already in this chain: the files extend one another in a cycle ({})",
                    below.path,
                    cycle.join(" → ")
                ),
                "a chain of `extends` must end in a file (or built-in model) that extends nothing",
            ));
        }
        if above.len() + 1 > MAX_DEPTH {
            return Err(refused(
                format!(
                    "`{}` would be file {} of this chain of `extends`; a chain holds at most {MAX_DEPTH} files, counting the scenario and the model it ends in",
                    below.path,
                    above.len() + 1
                ),
                "shorten the chain: merge some of its files into one",
            ));
        }
        let mut below_chain = vec![naming.link()];
        below_chain.extend(chain.iter().cloned());
        walked.push(Walked {
            fetched,
            file,
            chain,
        });
        next = Some((below, below_chain));
    }

    // Then up again, laying each file over the one below it.
    let composition = Composition::of(&walked.iter().map(|w| &w.fetched).collect::<Vec<_>>());
    let mut layers = walked.into_iter().rev();
    let bottom = layers.next().expect("the walk reads at least the top file");
    let mut composed = Composed::single(bottom.file, Layer::of(&bottom.fetched));
    composed.chains = vec![bottom.chain];
    for w in layers {
        composed = composed.overlay_with(&w.file, Layer::of(&w.fetched), w.chain)?;
    }
    composed.composition = composition;
    Ok(composed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[simulation]
patients = 1000
horizon = "24m"

[[states]]
name = "relapse"
[[states]]
name = "salvage"
[[states]]
name = "death"
death = "relapse"

[[variables]]
name = "intensity"
levels = ["low", "high"]
default = "low"

[cohort]
entry = "relapse"
[[cohort.attributes]]
name = "age"
distribution = "normal"
mean = 50
sd = 10

[[transitions]]
from = "relapse"
to = "salvage"
rate = 0.5
[[transitions]]
from = "salvage"
to = "death"
rate = 0.1
effects = [ { if = "intensity == 'high'", hr = 0.8 } ]
"#;

    fn base() -> Composed {
        Composed::single(
            crate::scenario::parse_file(BASE, "base.toml").unwrap(),
            Layer {
                file: "base.toml".into(),
                source: BASE.into(),
                prefix: Vec::new(),
            },
        )
    }

    fn over(text: &str) -> Result<Composed, ScenarioError> {
        base().overlay(
            &crate::scenario::parse_file(text, "top.toml").unwrap(),
            Layer {
                file: "top.toml".into(),
                source: text.into(),
                prefix: Vec::new(),
            },
        )
    }

    #[test]
    fn overrides_replace_fields_and_keep_the_rest() {
        let c = over(
            r#"
[simulation]
seed = 9
[[cohort.attributes]]
name = "age"
distribution = "fixed"
value = 70
[[transitions]]
from = "salvage"
to = "death"
rate = 0.2
[[strategies]]
name = "high"
set = { intensity = "high" }
"#,
        )
        .unwrap();
        let f = &c.file;
        assert_eq!(f.simulation.patients, Some(1000));
        assert_eq!(f.simulation.seed, Some(9));
        assert_eq!(f.cohort.attributes.len(), 1);
        assert_eq!(
            f.cohort.attributes[0].distribution.as_deref(),
            Some("fixed")
        );
        let t = &f.transitions[1];
        assert_eq!(t.rate, Some(0.2));
        assert_eq!(t.effects.as_ref().map(Vec::len), Some(1), "effects kept");
        let model = c.build("top").unwrap();
        assert_eq!(model.strategies.len(), 1);
        assert_eq!(model.strategies[0].name, "high");
        assert_eq!(model.name, "top");
    }

    #[test]
    fn disabling_removes_and_unknown_removal_is_an_error() {
        let c = over(
            "[[states]]\nname = \"salvage\"\nabsorbing = true\n[[transitions]]\nfrom = \"salvage\"\nto = \"death\"\nenabled = false\n",
        )
        .unwrap();
        assert_eq!(c.file.transitions.len(), 1);
        let e = over("[[transitions]]\nfrom = \"salvage\"\nto = \"deth\"\nenabled = false\n")
            .unwrap_err();
        assert_eq!(e.file, "top.toml");
        assert_eq!(e.location.map(|l| l.0), Some(1), "{e}");
        assert!(e.message.contains("Did you mean `salvage->death`"), "{e}");
    }

    #[test]
    fn errors_point_into_the_layer_that_caused_them() {
        // A bad override: the error is in the top file, on the override's line.
        let e = over("\n\n[[transitions]]\nfrom = \"salvage\"\nto = \"death\"\nrate = -1\n")
            .unwrap()
            .build("top")
            .unwrap_err();
        assert_eq!(e.file, "top.toml");
        assert_eq!(e.location.map(|l| l.0), Some(6), "{e}");
        // A field the override did not touch: the error stays in the base.
        let e = over(
            "[[variables]]\nname = \"intensity\"\nlevels = [\"none\", \"full\"]\ndefault = \"none\"\n",
        )
        .unwrap()
        .build("top")
        .unwrap_err();
        assert_eq!(e.file, "base.toml", "{e}");
        assert!(e.to_string().contains("intensity == 'high'"), "{e}");
        // A strategy in the top file naming an unknown variable.
        let e = over("[[strategies]]\nname = \"x\"\nset = { intensty = \"high\" }\n")
            .unwrap()
            .build("top")
            .unwrap_err();
        assert_eq!(e.file, "top.toml");
        assert_eq!(e.location.map(|l| l.0), Some(3), "{e}");
    }

    #[test]
    fn appended_states_and_transitions_are_located_in_their_file() {
        let e = over(
            "[[states]]\nname = \"hsct2\"\n\n[[transitions]]\nfrom = \"salvage\"\nto = \"hsct2\"\nhazard = { family = \"weibull\", shape = 0, scale = 3 }\n",
        )
        .unwrap()
        .build("top")
        .unwrap_err();
        assert_eq!(e.file, "top.toml");
        assert_eq!(e.location.map(|l| l.0), Some(7), "{e}");
    }

    #[test]
    fn inherited_states_may_go_unused_but_added_ones_may_not() {
        // The base's `salvage` becomes unreachable when the top file enters elsewhere.
        let c = over(
            "[[states]]\nname = \"other\"\n[cohort]\nentry = \"other\"\n[[transitions]]\nfrom = \"other\"\nto = \"death\"\nrate = 1\n",
        )
        .unwrap();
        c.build("top").unwrap_or_else(|e| panic!("{e}"));
        // A state the top file adds and never reaches is still an error, located there.
        let e = over("[[states]]\nname = \"limbo\"\n")
            .unwrap()
            .build("top")
            .unwrap_err();
        assert_eq!(e.file, "top.toml", "{e}");
        assert!(e.message.contains("cannot be reached"), "{e}");
    }

    #[test]
    fn model_and_extends_resolve_and_unknown_names_get_suggestions() {
        let e = from_text("[scenario]\nmodel = \"hsct-reveiw\"\n", "s.toml", None).unwrap_err();
        assert!(e.message.contains("Did you mean `hsct-review`"), "{e}");
        assert_eq!(e.location.map(|l| l.0), Some(2));
        let e = from_text(
            "[scenario]\nextends = \"no/such/file.toml\"\n",
            "s.toml",
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("no such file"), "{e}");
    }

    #[test]
    fn extends_chains_and_detects_cycles() {
        let dir = std::env::temp_dir().join(format!("hsctsim-compose-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("base.toml"), BASE).unwrap();
        std::fs::write(
            dir.join("mid.toml"),
            "[scenario]\nextends = \"base.toml\"\n[simulation]\nseed = 5\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("top.toml"),
            "[scenario]\nextends = \"mid.toml\"\nname = \"top\"\n[simulation]\npatients = 7\n",
        )
        .unwrap();
        let c = load(dir.join("top.toml")).unwrap();
        assert_eq!(c.layers.len(), 3);
        let m = c.build("top").unwrap();
        assert_eq!((m.settings.patients, m.settings.seed), (7, 5));
        std::fs::write(dir.join("a.toml"), "[scenario]\nextends = \"b.toml\"\n").unwrap();
        std::fs::write(dir.join("b.toml"), "[scenario]\nextends = \"a.toml\"\n").unwrap();
        let e = load(dir.join("a.toml")).unwrap_err();
        assert!(e.message.contains("cycle"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
