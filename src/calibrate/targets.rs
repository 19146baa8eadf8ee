//! Target files: published numbers with the cohort that produced them, as scenario overrides.
//!
//! A target file names a model and lists study cohorts. Each cohort is a scenario that
//! extends the model (the same format as a scenario file with `[scenario] model = …`, minus
//! the `[scenario]` table): who the patients were (disease mix, status at HSCT2, …) and what
//! was done to them (a strategy). Each cohort carries the numbers the study published:
//! endpoint, time origin, horizon, value, n. `README.md` ("Calibration targets") and the
//! comments at the top of `calibration/targets.toml` document every key.

use std::path::Path as FsPath;

use serde::Deserialize;

use crate::aggregate::results::Origin;
use crate::scenario::compose::{self, Composed, Layer, Naming};
use crate::scenario::error::{BuildError, Path, ScenarioError};
use crate::scenario::format::{Quantity, ScenarioFile};
use crate::scenario::{builtin, parse_toml, read_text};
use crate::stats::wilson;
use crate::toml_path;

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetFileDef {
    /// Settings.
    #[serde(default)]
    pub targets: SettingsDef,
    /// Study cohorts with their published numbers.
    #[serde(default)]
    pub cohorts: Vec<CohortDef>,
    /// Published numbers left out, with the reason (kept so the curation is on record).
    #[serde(default)]
    pub excluded: Vec<ExcludedDef>,
}

/// `[targets]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsDef {
    /// A built-in model name, or a model file relative to this file (default `hsct-review`).
    pub model: Option<String>,
    /// Simulated patients per cohort (default 100 000).
    pub patients: Option<i64>,
    /// Master seed (default 1).
    pub seed: Option<i64>,
    /// What the file is.
    pub description: Option<String>,
}

/// `[[cohorts]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortDef {
    /// Short name (messages, CSV).
    pub name: String,
    /// First author (or group) and reference number, e.g. `EBMT ALWP [12]`.
    pub study: String,
    /// The cohort in words, with the ids of the cohort facts used (C0xx).
    pub description: Option<String>,
    /// Follow-up for `reached:` endpoints (default: the longest horizon of the cohort's targets).
    pub follow_up: Option<Quantity>,
    /// Scenario overrides: the cohort and what was done to it.
    #[serde(default)]
    pub scenario: ScenarioFile,
    /// The published numbers.
    #[serde(default)]
    pub targets: Vec<TargetDef>,
}

/// `[[cohorts.targets]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetDef {
    /// The number's id in the raw material (T0xx, E0xx): its citation.
    pub id: String,
    /// Subgroup in words (e.g. "haploidentical donor").
    pub group: Option<String>,
    /// `os`, `lfs` (= `dfs`, `pfs`, `efs`), `cir`, `nrm` (= `trm`), `median_os`, `median_lfs`
    /// (= `median_pfs`), `reached:STATE`, `not_reached:STATE`, `engraftment`, `os_hr`.
    pub endpoint: String,
    /// `hsct2` (default: since the second transplant, among the transplanted) or `entry`.
    pub origin: Option<String>,
    /// Strategy of the cohort the number belongs to (needed when the cohort has several).
    pub strategy: Option<String>,
    /// Time of a landmark value (`"24m"`, `"2y"`, `"100d"`).
    pub horizon: Option<Quantity>,
    /// The published value: percent for proportions, months for medians, a ratio for HRs.
    pub value: f64,
    /// Patients behind the value (for its binomial interval and the fit's weight).
    pub n: Option<u64>,
    /// Published 95 % limits, if the study gives them (same unit as `value`).
    pub lower: Option<f64>,
    /// Published 95 % limits, if the study gives them (same unit as `value`).
    pub upper: Option<f64>,
    /// For `os_hr` without limits: standard error of log(HR).
    pub se_log: Option<f64>,
    /// `fit` (default) or `validate` (checked, never fitted).
    #[serde(rename = "use")]
    pub usage: Option<String>,
    /// Why a number is validation only, or anything a reader must know.
    pub note: Option<String>,
    /// Extra weight in the fit (default 1).
    pub weight: Option<f64>,
    /// `os_hr`: overrides that make the exposed group (e.g. cgvhd probability 1).
    pub exposed: Option<ScenarioFile>,
    /// `os_hr`: overrides that make the unexposed group.
    pub unexposed: Option<ScenarioFile>,
    /// `os_hr`: attributes (categorical, yes/no or discrete) to stratify on, so the estimate
    /// is adjusted for them like a published multivariable hazard ratio.
    pub adjust_for: Option<Vec<String>>,
}

/// `[[excluded]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcludedDef {
    /// Id (or ids) of the raw numbers left out.
    pub id: String,
    /// Study.
    pub study: Option<String>,
    /// Why.
    pub reason: String,
}

/// What a target measures.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint {
    /// Overall survival at the horizon.
    Os,
    /// Leukaemia-/progression-/disease-/event-free survival at the horizon.
    Lfs,
    /// Cumulative incidence of relapse (or progression) at the horizon.
    Cir,
    /// Cumulative incidence of non-relapse mortality at the horizon.
    Nrm,
    /// Median OS: compared as "survival at the published median is 50 %".
    MedianOs,
    /// Median LFS/PFS, likewise.
    MedianLfs,
    /// Proportion entering a state within the cohort's follow-up.
    Reached(String),
    /// Proportion never entering it (e.g. engraftment: not reaching engraftment failure).
    NotReached(String),
    /// Hazard ratio of death between two groups, estimated from simulated patients.
    OsHazardRatio,
}

impl Endpoint {
    /// Parses an endpoint as written in a target file.
    pub fn parse(text: &str) -> Option<Endpoint> {
        Some(match text.trim() {
            "os" => Endpoint::Os,
            "lfs" | "dfs" | "pfs" | "efs" => Endpoint::Lfs,
            "cir" => Endpoint::Cir,
            "nrm" | "trm" => Endpoint::Nrm,
            "median_os" => Endpoint::MedianOs,
            "median_lfs" | "median_pfs" => Endpoint::MedianLfs,
            "engraftment" => Endpoint::NotReached("engraftment_failure".into()),
            "os_hr" => Endpoint::OsHazardRatio,
            t => {
                if let Some(s) = t.strip_prefix("reached:") {
                    Endpoint::Reached(s.trim().to_string())
                } else if let Some(s) = t.strip_prefix("not_reached:") {
                    Endpoint::NotReached(s.trim().to_string())
                } else {
                    return None;
                }
            }
        })
    }

    /// True for values reported as a proportion (everything but the hazard ratio).
    pub fn is_proportion(&self) -> bool {
        !matches!(self, Endpoint::OsHazardRatio)
    }
}

/// Whether a number informs the fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// Fitted by `calibrate` and checked.
    Fit,
    /// Checked only: external validation.
    Validate,
}

impl Usage {
    /// Name in files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Usage::Fit => "fit",
            Usage::Validate => "validate",
        }
    }
}

/// One published number, checked and ready to compare.
#[derive(Debug, Clone)]
pub struct Target {
    /// Citation id (T0xx, E0xx).
    pub id: String,
    /// Subgroup in words.
    pub group: String,
    /// Endpoint as written.
    pub endpoint_text: String,
    /// Endpoint.
    pub endpoint: Endpoint,
    /// Time origin.
    pub origin: Origin,
    /// Strategy name (resolved when the cohort is built).
    pub strategy: Option<String>,
    /// Months from the origin: the landmark, or the published median for median endpoints.
    pub horizon: f64,
    /// Published value: a proportion in [0, 1] (survival at the median for medians), or the HR.
    pub published: f64,
    /// Published 95 % interval: Wilson from n, or the study's own limits.
    pub interval: Option<(f64, f64)>,
    /// Patients behind the value.
    pub n: Option<u64>,
    /// Fit or validation only.
    pub usage: Usage,
    /// Note for readers.
    pub note: String,
    /// Weight in the fit.
    pub weight: f64,
    /// Standard error of log(HR) for hazard-ratio targets.
    pub se_log: Option<f64>,
    /// Hazard-ratio targets: overrides for the exposed and unexposed groups.
    pub arms: Option<Box<(ScenarioFile, ScenarioFile)>>,
    /// Hazard-ratio targets: attributes the estimate is stratified on.
    pub adjust_for: Vec<String>,
    /// Position in the cohort's list (for locating errors).
    pub index: usize,
}

impl Target {
    /// A landmark value of OS, LFS/DFS/PFS, CIR or NRM between 12 and 36 months: the kind
    /// of number the acceptance figure of the calibration is computed on.
    pub fn is_landmark(&self) -> bool {
        matches!(
            self.endpoint,
            Endpoint::Os | Endpoint::Lfs | Endpoint::Cir | Endpoint::Nrm
        ) && (12.0 - 1e-9..=36.0 + 1e-9).contains(&self.horizon)
    }
}

/// A study cohort: overrides of the model and its targets.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// Position in the file.
    pub index: usize,
    /// Short name.
    pub name: String,
    /// Study (first author and reference).
    pub study: String,
    /// In words.
    pub description: String,
    /// Scenario overrides.
    pub overlay: ScenarioFile,
    /// Simulated follow-up in months from each origin (covers every target's horizon).
    pub follow_up: f64,
    /// Its published numbers.
    pub targets: Vec<Target>,
}

/// The model a target file is checked against.
#[derive(Debug, Clone)]
pub struct ModelRef {
    /// How it was named (a built-in name or a path).
    pub name: String,
    /// The model, composed.
    pub composed: Composed,
}

/// A loaded target file.
#[derive(Debug, Clone)]
pub struct Targets {
    /// Path as given.
    pub file: String,
    /// Its text (for error locations).
    pub source: String,
    /// The model.
    pub model: ModelRef,
    /// Cohorts.
    pub cohorts: Vec<Cohort>,
    /// Numbers left out, with reasons.
    pub excluded: Vec<ExcludedDef>,
    /// Patients per cohort.
    pub patients: u64,
    /// Master seed.
    pub seed: u64,
}

/// One simulated month is 365.25/12 days; targets are read on a grid of one day.
pub const DAY: f64 = 12.0 / 365.25;

/// A target file, as another file (a fit file) names it: what makes it recognisably one.
pub const TARGET_FILE: compose::files::Kind = compose::files::Kind {
    noun: "target file",
    tables: &["targets", "cohorts", "excluded"],
    see: "run `hsctsim check` on it",
};

/// Resolves a model reference: a built-in name, else a file relative to `dir` (a built-in
/// name wins over a file called the same; a file named in a file is named by its `.toml`
/// path, so the two cannot be confused there). `naming` is
/// the value in a file that wrote the reference (a target file's or fit file's `model`),
/// `None` when the user gave it (`hsctsim check --model`): a named file must be a regular
/// `.toml` scenario file before any of its lines is shown (see
/// [`crate::scenario::compose::files`]), and errors in it end their chain with that value.
pub fn resolve_model(
    name: &str,
    dir: Option<&FsPath>,
    naming: Option<&Naming>,
) -> Result<ModelRef, ScenarioError> {
    if let Some(m) = compose::builtin_model(name) {
        let mut composed = m?;
        if let Some(naming) = naming {
            composed.named_from(naming.link());
        }
        return Ok(ModelRef {
            name: name.to_string(),
            composed,
        });
    }
    let neither = |file: &str| {
        format!(
            "`{file}` is neither a built-in model ({}) nor a file.{}",
            builtin::MODELS
                .iter()
                .map(|m| format!("`{}`", m.name))
                .collect::<Vec<_>>()
                .join(", "),
            crate::suggest::did_you_mean(name, builtin::MODELS.iter().map(|m| m.name))
        )
    };
    let dir = dir.unwrap_or(FsPath::new(""));
    let Some(naming) = naming else {
        let path = dir.join(name);
        if !path.is_file() {
            return Err(ScenarioError::whole_file(
                name,
                neither(name),
                Some("give a built-in model name, or the path of a model file".into()),
            ));
        }
        return Ok(ModelRef {
            name: path.display().to_string(),
            composed: compose::load(&path)?,
        });
    };
    match compose::files::open_named(dir, name) {
        // A name that is no file and no path may be a mistyped built-in model.
        Err(compose::files::Refusal::Here { missing: true, .. })
            if !name.contains('/') && !name.ends_with(".toml") =>
        {
            Err(naming.error(
                neither(name),
                format!(
                    "give a built-in model name, or the path of a model file (relative to the folder of {})",
                    naming.file
                ),
            ))
        }
        Err(refusal) => Err(refusal.at(naming)),
        Ok(fetched) => Ok(ModelRef {
            name: fetched.path.clone(),
            composed: compose::compose(fetched, Some(naming.link()), &mut compose::Disk)?,
        }),
    }
}

impl Targets {
    /// Loads a target file; `model` replaces the file's model (e.g. a freshly fitted one).
    pub fn load(path: impl AsRef<FsPath>, model: Option<&str>) -> Result<Targets, ScenarioError> {
        let path = path.as_ref();
        let source = read_text(path)?;
        let model = model.map(|m| resolve_model(m, None, None)).transpose()?;
        Targets::from_text(path.display().to_string(), source, path.parent(), model)
    }

    /// Loads the target file that a value in another file names (a fit file's `targets`),
    /// relative to `dir`; `model` replaces the file's model. The file must be a regular
    /// `.toml` target file before any of its lines is shown (see
    /// [`crate::scenario::compose::files`]); errors in it, or in its model, end their chain
    /// with `naming`.
    pub fn load_named(
        dir: &FsPath,
        naming: &Naming,
        model: Option<ModelRef>,
    ) -> Result<Targets, ScenarioError> {
        let fetched = compose::files::open_named(dir, naming.named).map_err(|r| r.at(naming))?;
        let link = |e: ScenarioError| e.named_from(naming.link());
        compose::files::recognise(&fetched, TARGET_FILE).map_err(link)?;
        let parent = FsPath::new(&fetched.path).parent().map(FsPath::to_path_buf);
        // A model given by the naming file already ends its errors' chains with its own
        // link there; only the target file, and the model it names, were reached through
        // `naming`.
        let given = model.is_some();
        let mut targets = Targets::from_text(fetched.path, fetched.text, parent.as_deref(), model)
            .map_err(|e| {
                if given && !e.chain.is_empty() {
                    e
                } else {
                    link(e)
                }
            })?;
        if !given {
            targets.model.composed.named_from(naming.link());
        }
        Ok(targets)
    }

    /// A target file's text, `file` naming it and `dir` its folder (where its model is).
    fn from_text(
        file: String,
        source: String,
        dir: Option<&FsPath>,
        model: Option<ModelRef>,
    ) -> Result<Targets, ScenarioError> {
        let parsed: TargetFileDef = parse_toml(&source, &file)?;
        let model = match (model, &parsed.targets.model) {
            (Some(m), _) => m,
            (None, Some(name)) => resolve_model(
                name,
                dir,
                Some(&Naming {
                    file: &file,
                    source: &source,
                    path: toml_path!["targets", "model"],
                    kind: "target file ",
                    named: name,
                }),
            )?,
            (None, None) => resolve_model("hsct-review", None, None)?,
        };
        Targets::from_parsed(parsed, file, source, model)
    }

    fn from_parsed(
        parsed: TargetFileDef,
        file: String,
        source: String,
        model: ModelRef,
    ) -> Result<Targets, ScenarioError> {
        let at = |path: Path, message: String, help: Option<&str>| {
            located(&file, &source, path, message, help.map(str::to_string))
        };
        let patients = parsed.targets.patients.unwrap_or(100_000);
        if !(1..=1_000_000_000).contains(&patients) {
            return Err(at(
                toml_path!["targets", "patients"],
                format!("`patients` must be between 1 and 1e9, got {patients}"),
                None,
            ));
        }
        let seed = parsed.targets.seed.unwrap_or(1);
        if seed < 0 {
            return Err(at(
                toml_path!["targets", "seed"],
                format!("`seed` must be ≥ 0, got {seed}"),
                None,
            ));
        }
        let mut cohorts = Vec::new();
        let mut seen_ids: Vec<String> = Vec::new();
        for (ci, c) in parsed.cohorts.iter().enumerate() {
            let cpath = |tail: &[&str]| {
                let mut p: Path = toml_path!["cohorts", ci];
                p.extend(
                    tail.iter()
                        .map(|k| crate::scenario::error::Segment::Key(k.to_string())),
                );
                p
            };
            if cohorts.iter().any(|x: &Cohort| x.name == c.name) {
                return Err(at(
                    cpath(&["name"]),
                    format!("cohort `{}` is named twice", c.name),
                    Some("cohort names must be unique"),
                ));
            }
            if c.scenario.scenario.model.is_some() || c.scenario.scenario.extends.is_some() {
                return Err(at(
                    cpath(&["scenario", "scenario"]),
                    "a cohort extends the target file's model; it cannot name another".into(),
                    Some("set the model once in [targets] model = \"…\""),
                ));
            }
            let mut targets = Vec::new();
            for (ti, t) in c.targets.iter().enumerate() {
                let tp = |k: &str| -> Path { toml_path!["cohorts", ci, "targets", ti, k] };
                if seen_ids.contains(&t.id) {
                    return Err(at(
                        tp("id"),
                        format!("target `{}` appears twice", t.id),
                        Some("each published number is one target; its id is its citation"),
                    ));
                }
                seen_ids.push(t.id.clone());
                let endpoint = Endpoint::parse(&t.endpoint).ok_or_else(|| {
                    at(
                        tp("endpoint"),
                        format!("unknown endpoint `{}`", t.endpoint),
                        Some("use os, lfs (dfs, pfs, efs), cir, nrm (trm), median_os, median_lfs, reached:STATE, not_reached:STATE, engraftment or os_hr"),
                    )
                })?;
                let origin = match t.origin.as_deref() {
                    None | Some("hsct2") => Origin::Hsct2,
                    Some("entry") => Origin::Entry,
                    Some(o) => {
                        return Err(at(
                            tp("origin"),
                            format!("unknown time origin `{o}`"),
                            Some(
                                "origin = \"hsct2\" (since the second transplant) or \"entry\" (since relapse or graft failure)",
                            ),
                        ));
                    }
                };
                let usage = match t.usage.as_deref() {
                    None | Some("fit") => Usage::Fit,
                    Some("validate") => Usage::Validate,
                    Some(u) => {
                        return Err(at(
                            tp("use"),
                            format!("unknown use `{u}`"),
                            Some(
                                "use = \"fit\" or \"validate\"; numbers left out go in [[excluded]] with a reason",
                            ),
                        ));
                    }
                };
                if !t.value.is_finite() {
                    return Err(at(tp("value"), "`value` must be a number".into(), None));
                }
                let median = matches!(endpoint, Endpoint::MedianOs | Endpoint::MedianLfs);
                let horizon = match (t.horizon, median) {
                    (Some(_), true) => {
                        return Err(at(
                            tp("horizon"),
                            "a median is its own time: give it as `value` (months), without `horizon`".into(),
                            None,
                        ));
                    }
                    (None, true) => t.value,
                    (Some(q), false) => q.0,
                    (None, false) => match endpoint {
                        Endpoint::Reached(_) | Endpoint::NotReached(_) => f64::NAN,
                        _ => {
                            return Err(at(
                                tp("endpoint"),
                                format!(
                                    "target `{}` needs a `horizon` (e.g. horizon = \"24m\")",
                                    t.id
                                ),
                                Some(
                                    "numbers without a time point cannot be compared; list them in [[excluded]] with the reason",
                                ),
                            ));
                        }
                    },
                };
                if !horizon.is_nan() && (horizon <= 0.0 || horizon > 600.0) {
                    return Err(at(
                        tp(if median { "value" } else { "horizon" }),
                        format!("the time must be in (0, 600] months, got {horizon}"),
                        None,
                    ));
                }
                let (published, interval, se_log) = if endpoint.is_proportion() {
                    let scale = |v: f64| v / 100.0;
                    if !median && !(0.0..=100.0).contains(&t.value) {
                        return Err(at(
                            tp("value"),
                            format!("`value` is a percentage in [0, 100], got {}", t.value),
                            None,
                        ));
                    }
                    let p = if median { 0.5 } else { scale(t.value) };
                    let interval = match (t.lower, t.upper, t.n) {
                        (Some(lo), Some(hi), _) if !median => Some((scale(lo), scale(hi))),
                        (_, _, Some(n)) if n > 0 => Some(wilson(p * n as f64, n as f64)),
                        _ => None,
                    };
                    (p, interval, None)
                } else {
                    if t.value <= 0.0 {
                        return Err(at(
                            tp("value"),
                            "a hazard ratio must be positive".into(),
                            None,
                        ));
                    }
                    let se = t.se_log.filter(|s| *s > 0.0);
                    let interval = match (t.lower, t.upper, se) {
                        (Some(lo), Some(hi), _) => Some((lo, hi)),
                        (_, _, Some(se)) => Some((
                            (t.value.ln() - crate::stats::Z95 * se).exp(),
                            (t.value.ln() + crate::stats::Z95 * se).exp(),
                        )),
                        _ => None,
                    };
                    let se = se.or_else(|| {
                        interval.map(|(lo, hi)| (hi.ln() - lo.ln()) / (2.0 * crate::stats::Z95))
                    });
                    (t.value, interval, se)
                };
                let arms = match (&endpoint, &t.exposed, &t.unexposed) {
                    (Endpoint::OsHazardRatio, Some(e), Some(u)) => {
                        Some(Box::new((e.clone(), u.clone())))
                    }
                    (Endpoint::OsHazardRatio, _, _) => {
                        return Err(at(
                            tp("endpoint"),
                            "an `os_hr` target needs `exposed` and `unexposed` overrides".into(),
                            Some(
                                "e.g. exposed = { cohort = { attributes = [ { name = \"cgvhd\", probability = 1.0 } ] } }",
                            ),
                        ));
                    }
                    (_, None, None) => None,
                    _ => {
                        return Err(at(
                            tp("exposed"),
                            "`exposed`/`unexposed` belong to `os_hr` targets".into(),
                            None,
                        ));
                    }
                };
                if usage == Usage::Fit && interval.is_none() {
                    return Err(at(
                        tp("id"),
                        format!(
                            "target `{}` is used for fitting but has no n (or limits) to weigh it by",
                            t.id
                        ),
                        Some("give n (patients behind the value), or use = \"validate\""),
                    ));
                }
                let weight = t.weight.unwrap_or(1.0);
                if !(weight.is_finite() && weight >= 0.0) {
                    return Err(at(tp("weight"), "`weight` must be ≥ 0".into(), None));
                }
                targets.push(Target {
                    id: t.id.clone(),
                    group: t.group.clone().unwrap_or_default(),
                    endpoint_text: t.endpoint.clone(),
                    endpoint,
                    origin,
                    strategy: t.strategy.clone(),
                    horizon,
                    published,
                    interval,
                    n: t.n,
                    usage,
                    note: t.note.clone().unwrap_or_default(),
                    weight,
                    se_log,
                    arms,
                    adjust_for: t.adjust_for.clone().unwrap_or_default(),
                    index: ti,
                });
            }
            if targets.is_empty() {
                return Err(at(
                    cpath(&["name"]),
                    format!("cohort `{}` has no targets", c.name),
                    Some("add [[cohorts.targets]] entries, or remove the cohort"),
                ));
            }
            let longest = targets
                .iter()
                .map(|t| t.horizon)
                .filter(|h| !h.is_nan())
                .fold(0.0, f64::max);
            let follow_up = match c.follow_up {
                Some(q) if q.0 > 0.0 && q.0 <= 600.0 => q.0.max(longest),
                Some(q) => {
                    return Err(at(
                        cpath(&["follow_up"]),
                        format!("`follow_up` must be in (0, 600] months, got {}", q.0),
                        None,
                    ));
                }
                None if longest > 0.0 => longest,
                None => 60.0,
            };
            cohorts.push(Cohort {
                index: ci,
                name: c.name.clone(),
                study: c.study.clone(),
                description: c.description.clone().unwrap_or_default(),
                overlay: c.scenario.clone(),
                follow_up,
                targets,
            });
        }
        if cohorts.is_empty() {
            return Err(ScenarioError::whole_file(
                &file,
                "has no [[cohorts]]",
                Some("a target file lists study cohorts, each with [[cohorts.targets]]".into()),
            ));
        }
        let targets = Targets {
            file,
            source,
            model,
            cohorts,
            excluded: parsed.excluded,
            patients: patients as u64,
            seed: seed as u64,
        };
        // Every cohort (and group of a hazard ratio) must build on the model now, not in
        // the middle of a fit.
        for c in &targets.cohorts {
            let composed = targets.compose(&targets.model.composed, c)?;
            let model = composed.build(&c.name)?;
            for t in &c.targets {
                if let Some(name) = &t.strategy {
                    if model.strategy_index(name).is_none() {
                        return Err(located(
                            &targets.file,
                            &targets.source,
                            toml_path!["cohorts", c.index, "targets", t.index, "strategy"],
                            format!(
                                "cohort `{}` has no strategy `{name}`.{}",
                                c.name,
                                crate::suggest::did_you_mean(
                                    name,
                                    model.strategies.iter().map(|s| s.name.as_str())
                                )
                            ),
                            None,
                        ));
                    }
                } else if model.strategies.len() > 1 {
                    return Err(located(
                        &targets.file,
                        &targets.source,
                        toml_path!["cohorts", c.index, "targets", t.index, "id"],
                        format!(
                            "cohort `{}` has {} strategies; say which one target `{}` belongs to with `strategy`",
                            c.name,
                            model.strategies.len(),
                            t.id
                        ),
                        None,
                    ));
                }
                if let Endpoint::Reached(s) | Endpoint::NotReached(s) = &t.endpoint {
                    if model.state_index(s).is_none() {
                        return Err(located(
                            &targets.file,
                            &targets.source,
                            toml_path!["cohorts", c.index, "targets", t.index, "endpoint"],
                            format!(
                                "the model has no state `{s}`.{}",
                                crate::suggest::did_you_mean(
                                    s,
                                    model.states.iter().map(|x| x.name.as_str())
                                )
                            ),
                            None,
                        ));
                    }
                    if !t.horizon.is_nan() && (t.horizon - c.follow_up).abs() > 1e-9 {
                        return Err(located(
                            &targets.file,
                            &targets.source,
                            toml_path!["cohorts", c.index, "targets", t.index, "horizon"],
                            "proportions reaching a state are counted over the cohort's whole follow-up".into(),
                            Some(format!("drop `horizon`, or set the cohort's follow_up = \"{}m\"", t.horizon)),
                        ));
                    }
                }
                if let Some(arms) = &t.arms {
                    for (k, arm) in [(0, &arms.0), (1, &arms.1)] {
                        targets
                            .compose_arm(&composed, c, t, k, arm)?
                            .build(&c.name)?;
                    }
                }
            }
        }
        Ok(targets)
    }

    /// The model with a cohort's overrides laid over it.
    pub fn compose(&self, model: &Composed, cohort: &Cohort) -> Result<Composed, ScenarioError> {
        model.overlay(
            &cohort.overlay,
            Layer {
                file: self.file.clone(),
                source: self.source.clone(),
                prefix: toml_path!["cohorts", cohort.index, "scenario"],
            },
        )
    }

    /// A cohort with one group of a hazard-ratio target laid over it (`arm` 0: exposed).
    pub fn compose_arm(
        &self,
        cohort_model: &Composed,
        cohort: &Cohort,
        target: &Target,
        arm: usize,
        overlay: &ScenarioFile,
    ) -> Result<Composed, ScenarioError> {
        cohort_model.overlay(
            overlay,
            Layer {
                file: self.file.clone(),
                source: self.source.clone(),
                prefix: toml_path![
                    "cohorts",
                    cohort.index,
                    "targets",
                    target.index,
                    if arm == 0 { "exposed" } else { "unexposed" }
                ],
            },
        )
    }

    /// Every target, with its cohort.
    pub fn all(&self) -> impl Iterator<Item = (&Cohort, &Target)> {
        self.cohorts
            .iter()
            .flat_map(|c| c.targets.iter().map(move |t| (c, t)))
    }
}

/// The strata of `adjust_for`: every combination of the attributes' values, with its
/// probability in the cohort and the overrides that fix the attributes to it.
pub fn strata(
    file: &ScenarioFile,
    adjust_for: &[String],
) -> Result<Vec<(f64, ScenarioFile)>, String> {
    use crate::scenario::format::AttributeDef;
    let mut combos: Vec<(f64, Vec<AttributeDef>)> = vec![(1.0, Vec::new())];
    for name in adjust_for {
        let a = file
            .cohort
            .attributes
            .iter()
            .find(|a| &a.name == name)
            .ok_or_else(|| format!("the cohort has no attribute `{name}` to adjust for"))?;
        let blank = |a: &AttributeDef| AttributeDef {
            name: a.name.clone(),
            levels: None,
            probability: None,
            distribution: None,
            unit: a.unit.clone(),
            value: None,
            mean: None,
            sd: None,
            median: None,
            meanlog: None,
            sdlog: None,
            min: None,
            max: None,
            values: None,
            probabilities: None,
            source: Some("stratum of an adjusted hazard ratio".into()),
        };
        let options: Vec<(f64, AttributeDef)> = if let Some(levels) = &a.levels {
            levels
                .iter()
                .map(|(level, p)| {
                    let mut fixed = blank(a);
                    let table: toml::Table = levels
                        .keys()
                        .map(|k| {
                            (
                                k.clone(),
                                toml::Value::Float(if k == level { 1.0 } else { 0.0 }),
                            )
                        })
                        .collect();
                    fixed.levels = Some(table);
                    (
                        p.as_float()
                            .or(p.as_integer().map(|i| i as f64))
                            .unwrap_or(0.0),
                        fixed,
                    )
                })
                .collect()
        } else if let Some(p) = a.probability {
            [(p, 1.0), (1.0 - p, 0.0)]
                .into_iter()
                .map(|(w, fixed_p)| {
                    let mut fixed = blank(a);
                    fixed.probability = Some(fixed_p);
                    (w, fixed)
                })
                .collect()
        } else if let (Some("discrete"), Some(values), Some(ps)) =
            (a.distribution.as_deref(), &a.values, &a.probabilities)
        {
            values
                .iter()
                .zip(ps)
                .map(|(v, p)| {
                    let mut fixed = blank(a);
                    fixed.distribution = Some("discrete".into());
                    fixed.values = Some(vec![*v]);
                    fixed.probabilities = Some(vec![1.0]);
                    (*p, fixed)
                })
                .collect()
        } else {
            return Err(format!(
                "`{name}` is continuous; only categorical, yes/no and discrete attributes can be stratified on"
            ));
        };
        combos = combos
            .into_iter()
            .flat_map(|(w, defs)| {
                options
                    .iter()
                    .filter(|(p, _)| *p > 0.0)
                    .map(move |(p, fixed)| {
                        let mut d = defs.clone();
                        d.push(fixed.clone());
                        (w * p, d)
                    })
            })
            .collect();
    }
    Ok(combos
        .into_iter()
        .map(|(w, defs)| {
            let mut overlay = ScenarioFile::default();
            overlay.cohort.attributes = defs;
            (w, overlay)
        })
        .collect())
}

fn located(
    file: &str,
    source: &str,
    path: Path,
    message: String,
    help: Option<String>,
) -> ScenarioError {
    ScenarioError::from_build(
        file,
        source,
        BuildError {
            path,
            inner: None,
            message,
            help,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const COHORT: &str = r#"
[targets]
patients = 1000

[[cohorts]]
name = "study"
study = "Someone [1]"
[[cohorts.scenario.strategies]]
name = "hsct2"
set = { hsct2_offer = "all" }

[[cohorts.targets]]
id = "T001"
endpoint = "os"
horizon = "24m"
value = 40
n = 50
"#;

    fn load(text: &str) -> Result<Targets, ScenarioError> {
        let dir = std::env::temp_dir().join(format!(
            "hsctsim-targets-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.toml");
        std::fs::write(&path, text).unwrap();
        let result = Targets::load(&path, None);
        std::fs::remove_dir_all(&dir).unwrap();
        result
    }

    #[test]
    fn a_minimal_file_loads_with_its_interval() {
        let t = load(COHORT).unwrap_or_else(|e| panic!("{e}"));
        let (_, target) = t.all().next().unwrap();
        assert_eq!(target.endpoint, Endpoint::Os);
        assert_eq!(target.origin, Origin::Hsct2);
        assert!((target.published - 0.4).abs() < 1e-12);
        let (lo, hi) = target.interval.unwrap();
        assert!(
            (lo - 0.2760).abs() < 5e-4 && (hi - 0.5381).abs() < 5e-4,
            "{lo} {hi}"
        );
        assert!(target.is_landmark());
        assert_eq!(t.model.name, "hsct-review");
    }

    #[test]
    fn mistakes_are_located_in_the_target_file() {
        for (change, line, needle) in [
            (
                ("endpoint = \"os\"", "endpoint = \"overall\""),
                14,
                "unknown endpoint",
            ),
            (("horizon = \"24m\"\n", ""), 14, "needs a `horizon`"),
            (("n = 50\n", ""), 13, "no n"),
            (("value = 40", "value = 140"), 16, "percentage"),
            (
                ("hsct2_offer = \"all\"", "hsct2_offer = \"everyone\""),
                10,
                "not a level",
            ),
        ] {
            let text = COHORT.replace(change.0, change.1);
            let e = load(&text)
                .err()
                .unwrap_or_else(|| panic!("accepted {change:?}"));
            assert!(e.file.ends_with("t.toml"), "{e}");
            assert_eq!(e.location.map(|l| l.0), Some(line), "{e}");
            assert!(e.to_string().contains(needle), "{e}");
        }
        let e = load(&format!("{COHORT}\n[[cohorts.targets]]\nid = \"T001\"\nendpoint = \"os\"\nhorizon = \"1y\"\nvalue = 1\nn = 2\n"))
            .err()
            .unwrap();
        assert!(e.to_string().contains("appears twice"), "{e}");
    }

    #[test]
    fn the_tables_that_recognise_a_target_file_are_the_formats_own() {
        let message = toml::from_str::<TargetFileDef>("not_a_key = 1")
            .unwrap_err()
            .to_string();
        let expected: Vec<&str> = message
            .split("expected one of")
            .nth(1)
            .unwrap_or_default()
            .split('`')
            .skip(1)
            .step_by(2)
            .collect();
        assert_eq!(expected, TARGET_FILE.tables);
    }

    #[test]
    fn endpoints_parse() {
        assert_eq!(Endpoint::parse("pfs"), Some(Endpoint::Lfs));
        assert_eq!(Endpoint::parse("trm"), Some(Endpoint::Nrm));
        assert_eq!(
            Endpoint::parse("engraftment"),
            Some(Endpoint::NotReached("engraftment_failure".into()))
        );
        assert_eq!(
            Endpoint::parse("reached:hsct2"),
            Some(Endpoint::Reached("hsct2".into()))
        );
        assert_eq!(Endpoint::parse("survival"), None);
    }
}
