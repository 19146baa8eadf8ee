//! The scenario file as written: TOML tables deserialised with serde.
//!
//! These types mirror the file one to one and check only syntax and types; unknown keys are
//! errors (with a suggestion) so a typo never silently falls back to a default. Meaning is
//! checked when [`super::build`] compiles them into a [`crate::model::Model`]. The README's
//! "Scenario format" section documents every key.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, de};

use crate::duration;
use crate::model::variable::{TimeUnit, Unit};

/// A number, or a duration text such as `"18m"` converted to months.
///
/// Used wherever a time (or any parameter that is naturally a time, like a Weibull scale)
/// may be written with a unit. Plain numbers may be negative or non-finite here; the
/// builder checks ranges where they matter so the message names the parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity(pub f64);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Quantity;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of months or a duration such as \"30d\", \"18m\", \"2y\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                duration::parse_months(v)
                    .map(Quantity)
                    .map_err(|e| E::custom(e.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A number of an attribute as written: bare (in the attribute's unit) or a duration with
/// its own unit (`"8.4m"`, `"65y"`), kept so the builder can convert it into the
/// attribute's unit, refuse it where the attribute has none, and infer that an attribute
/// given by durations is a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    /// The number as written (`8.4` for `"8.4m"`).
    pub number: f64,
    /// Its unit, if it was written as a duration.
    pub unit: Option<TimeUnit>,
}

impl Measure {
    /// A number without a unit (it is in the attribute's unit).
    pub fn bare(number: f64) -> Measure {
        Measure { number, unit: None }
    }

    /// The value in `unit`; `None` for a duration where no time is meant.
    pub fn in_unit(self, unit: Unit) -> Option<f64> {
        match (self.unit, unit) {
            (None, _) => Some(self.number),
            (Some(from), Unit::Time(to)) => Some(from.convert(self.number, to)),
            (Some(_), Unit::None) => None,
        }
    }
}

impl<'de> Deserialize<'de> for Measure {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Measure;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, or a duration such as \"30d\", \"18m\", \"2y\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Measure, E> {
                Ok(Measure::bare(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Measure, E> {
                Ok(Measure::bare(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Measure, E> {
                Ok(Measure::bare(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Measure, E> {
                // The same checks and message as every other duration of the file.
                duration::parse_months(v).map_err(|e| E::custom(e.to_string()))?;
                let text = v.trim();
                let split = text
                    .find(|c: char| c.is_ascii_alphabetic())
                    .unwrap_or(text.len());
                let (number, unit) = text.split_at(split);
                let number = number
                    .trim()
                    .replace('_', "")
                    .parse()
                    .map_err(|_| E::custom(format!("`{v}` is not a number")))?;
                let unit = match unit.trim() {
                    "" => None,
                    unit => Some(TimeUnit::parse(unit).ok_or_else(|| {
                        E::custom(format!("`{v}` has an unknown unit; use d, w, m or y"))
                    })?),
                };
                Ok(Measure { number, unit })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Name and description.
    #[serde(default)]
    pub scenario: Meta,
    /// Patients, seed, horizon, grid, threads.
    #[serde(default)]
    pub simulation: SimulationDef,
    /// Clinical states, in the order figures and tables show them.
    #[serde(default)]
    pub states: Vec<StateDef>,
    /// Policy variables (set by strategies and decision branches).
    #[serde(default)]
    pub variables: Vec<VariableDef>,
    /// Who the patients are and where they start (required once the file is composed with
    /// what it extends).
    #[serde(default)]
    pub cohort: CohortDef,
    /// Transitions between states.
    #[serde(default)]
    pub transitions: Vec<TransitionDef>,
    /// Decision nodes.
    #[serde(default)]
    pub decisions: Vec<DecisionDef>,
    /// Strategies compared (none: one strategy called `default`).
    #[serde(default)]
    pub strategies: Vec<StrategyDef>,
    /// Age-dependent mortality from other causes.
    pub background_mortality: Option<BackgroundDef>,
    /// Costs, utilities and discounting.
    pub economics: Option<EconomicsDef>,
    /// Figure titles and labels (optional; see [`super::figures`]).
    pub figures: Option<super::figures::FiguresDef>,
    /// Parameter uncertainty for probabilistic and one-way sensitivity analysis (see
    /// [`crate::psa`]).
    pub psa: Option<PsaDef>,
}

impl ScenarioFile {
    /// The number at `path` if it is an attribute's number written as a duration
    /// (`cohort.attributes[2].median` of `median = "8.4m"`): the number as written and its
    /// unit, so a tool that rewrites it (calibration) can keep it a duration.
    pub fn written_duration(&self, path: &[super::error::Segment]) -> Option<(f64, TimeUnit)> {
        use super::error::Segment::{Index, Key};
        let [Key(cohort), Key(attributes), Index(a), Key(field)] = path else {
            return None;
        };
        if cohort != "cohort" || attributes != "attributes" {
            return None;
        }
        let m = self.cohort.attributes.get(*a)?.measure(field)?;
        Some((m.number, m.unit?))
    }
}

/// `[scenario]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Output folder name (default: the file name without extension).
    pub name: Option<String>,
    /// One paragraph on the clinical question.
    pub description: Option<String>,
    /// Start from this built-in model (`hsctsim models` lists them); this file then only
    /// adds and overrides (see [`super::compose`]).
    pub model: Option<String>,
    /// Start from this scenario or model file (relative to this file's folder).
    pub extends: Option<String>,
}

/// `[simulation]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationDef {
    /// Patients (default 100 000).
    pub patients: Option<i64>,
    /// Master seed (default 1).
    pub seed: Option<i64>,
    /// Follow-up from each time origin (default 60 months).
    pub horizon: Option<Quantity>,
    /// Output grid step (default 1 month).
    pub grid: Option<Quantity>,
    /// Landmarks for the summary (default every 12 months).
    pub landmarks: Option<Vec<Quantity>>,
    /// Worker threads, 0 = all cores (default 0).
    pub threads: Option<i64>,
    /// Bound on transitions per patient and strategy (default 10 000).
    pub max_events: Option<i64>,
    /// Strategy the others are compared with (default: the first).
    pub reference: Option<String>,
}

/// `[[states]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateDef {
    /// Short stable name.
    pub name: String,
    /// Label for figures.
    pub label: Option<String>,
    /// No exits (implied by `death`).
    #[serde(default)]
    pub absorbing: bool,
    /// `"relapse"` or `"nrm"`: a death state and its cause.
    pub death: Option<String>,
    /// Entering it is a relapse event.
    #[serde(default)]
    pub relapse: bool,
    /// First entry starts the time origin "since HSCT2".
    #[serde(default)]
    pub hsct2: bool,
}

/// `[[variables]]`: a policy variable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDef {
    /// Name used in rules.
    pub name: String,
    /// `"number"`, `"bool"` or omitted when `levels` is given.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A number's unit: `"years"`, `"months"`, `"weeks"`, `"days"` or `"none"` (default:
    /// months if `default` is a duration such as `"6m"`, else none).
    pub unit: Option<String>,
    /// Levels of a categorical variable.
    pub levels: Option<Vec<String>>,
    /// Value before any strategy or branch sets it.
    pub default: Option<toml::Value>,
    /// Where the default comes from.
    pub source: Option<String>,
}

/// `[cohort]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortDef {
    /// A state or decision name, or a table `{ state = probability, … }` (required in the
    /// composed file; a file that extends another may leave it to the base).
    pub entry: Option<toml::Value>,
    /// Patient attributes.
    #[serde(default)]
    pub attributes: Vec<AttributeDef>,
    /// Where the entry mix comes from.
    pub source: Option<String>,
}

/// `[[cohort.attributes]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeDef {
    /// Name used in rules.
    pub name: String,
    /// Categorical: `{ level = probability, … }`.
    pub levels: Option<toml::Table>,
    /// Yes/no: probability of yes.
    pub probability: Option<f64>,
    /// Numeric: `fixed`, `normal`, `lognormal`, `uniform`, `gamma`, `discrete`.
    pub distribution: Option<String>,
    /// Numeric: the unit of its values, `"years"`, `"months"`, `"weeks"`, `"days"` or
    /// `"none"` (default: months if a parameter is written as a duration such as `"8m"`,
    /// else none; see [`AttributeDef::unit`]).
    pub unit: Option<String>,
    /// `fixed`.
    pub value: Option<Measure>,
    /// `normal`, `gamma`.
    pub mean: Option<Measure>,
    /// `normal`, `gamma`.
    pub sd: Option<Measure>,
    /// `lognormal` (alternative to `meanlog`).
    pub median: Option<Measure>,
    /// `lognormal` (the mean of the logarithm of the value in the attribute's unit).
    pub meanlog: Option<f64>,
    /// `lognormal`.
    pub sdlog: Option<f64>,
    /// Truncation (and `uniform` bounds).
    pub min: Option<Measure>,
    /// Truncation (and `uniform` bounds).
    pub max: Option<Measure>,
    /// `discrete`.
    pub values: Option<Vec<Measure>>,
    /// `discrete`.
    pub probabilities: Option<Vec<f64>>,
    /// Where the distribution comes from (study ids, "assumption: …").
    pub source: Option<String>,
}

impl AttributeDef {
    /// The numbers written as a `Measure`, with their keys (discrete values as `values`).
    pub fn measures(&self) -> impl Iterator<Item = (&'static str, Measure)> + '_ {
        [
            ("value", self.value),
            ("mean", self.mean),
            ("sd", self.sd),
            ("median", self.median),
            ("min", self.min),
            ("max", self.max),
        ]
        .into_iter()
        .filter_map(|(k, m)| m.map(|m| (k, m)))
        .chain(self.values.iter().flatten().map(|m| ("values", *m)))
    }

    /// The unit of the attribute's values: as declared; else months if any of its numbers
    /// is written as a duration (`median = "8.4m"`: bare numbers beside it are months too,
    /// as everywhere in a scenario file); else none. `None` if the declared unit is not one
    /// of [`Unit::CHOICES`] (the builder says so).
    pub fn unit(&self) -> Option<Unit> {
        match &self.unit {
            Some(text) => Unit::parse(text),
            None if self.measures().any(|(_, m)| m.unit.is_some()) => {
                Some(Unit::Time(TimeUnit::Months))
            }
            None => Some(Unit::None),
        }
    }

    fn field_mut(&mut self, key: &str) -> Option<&mut Option<Measure>> {
        Some(match key {
            "value" => &mut self.value,
            "mean" => &mut self.mean,
            "sd" => &mut self.sd,
            "median" => &mut self.median,
            "min" => &mut self.min,
            "max" => &mut self.max,
            _ => return None,
        })
    }

    /// A number as written (`value`, `mean`, `sd`, `median`, `min`, `max`).
    pub fn measure(&self, key: &str) -> Option<Measure> {
        match key {
            "value" => self.value,
            "mean" => self.mean,
            "sd" => self.sd,
            "median" => self.median,
            "min" => self.min,
            "max" => self.max,
            _ => None,
        }
    }

    /// A number (`value`, `mean`, `sd`, `median`, `min`, `max`, `meanlog`, `sdlog`) in the
    /// attribute's unit, as the model uses it; `None` if it is not given.
    pub fn number(&self, key: &str) -> Option<f64> {
        match key {
            "meanlog" => return self.meanlog,
            "sdlog" => return self.sdlog,
            _ => {}
        }
        self.measure(key)?.in_unit(self.unit().unwrap_or_default())
    }

    /// Sets a number given in the attribute's unit, written in the unit its old value was
    /// written in (so `median = "8.4m"` stays a duration and the attribute stays a time).
    pub fn set_number(&mut self, key: &str, value: f64) {
        match key {
            "meanlog" => self.meanlog = Some(value),
            "sdlog" => self.sdlog = Some(value),
            _ => {
                let unit = self.unit().unwrap_or_default();
                if let Some(slot) = self.field_mut(key) {
                    *slot = Some(match (slot.and_then(|m| m.unit), unit) {
                        (Some(written), Unit::Time(to)) => Measure {
                            number: to.convert(value, written),
                            unit: Some(written),
                        },
                        _ => Measure::bare(value),
                    });
                }
            }
        }
    }
}

/// A hazard: `{ family = "weibull", shape = 1.3, scale = "14m" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HazardDef {
    /// `exponential`, `weibull`, `gompertz`, `loglogistic`, `lognormal`, `piecewise`, `uniform`.
    pub family: String,
    /// Rate per month (exponential, gompertz).
    pub rate: Option<f64>,
    /// Exponential: median time (alternative to `rate`); log-normal: median (alternative to `meanlog`).
    pub median: Option<Quantity>,
    /// Exponential: mean time (alternative to `rate`).
    pub mean: Option<Quantity>,
    /// Weibull, log-logistic, Gompertz shape.
    pub shape: Option<f64>,
    /// Weibull, log-logistic scale (a time).
    pub scale: Option<Quantity>,
    /// Log-normal.
    pub meanlog: Option<f64>,
    /// Log-normal.
    pub sdlog: Option<f64>,
    /// Uniform.
    pub min: Option<Quantity>,
    /// Uniform.
    pub max: Option<Quantity>,
    /// Piecewise: interval starts (first 0).
    pub starts: Option<Vec<Quantity>>,
    /// Piecewise: rates per month.
    pub rates: Option<Vec<f64>>,
}

/// A covariate effect: `{ if = "cgvhd", hr = 2.9 }` or `{ per = "hct_ci", hr = 1.32 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectDef {
    /// Condition under which the hazard is multiplied by `hr`.
    #[serde(rename = "if")]
    pub condition: Option<String>,
    /// Numeric expression; the hazard is multiplied by `hr^(value − reference)`.
    pub per: Option<String>,
    /// For a `per` that is a time (an age, a duration): the unit the hazard ratio is per,
    /// e.g. `"years"` for an HR per year of age. Required then, refused otherwise.
    pub unit: Option<String>,
    /// Value of `per` at which the multiplier is 1 (default 0), in `unit` if given.
    pub reference: Option<f64>,
    /// Hazard ratio.
    pub hr: f64,
    /// Where the hazard ratio comes from (e.g. `E039`, "calibrated to T042–T050").
    pub source: Option<String>,
}

/// `[[transitions]]`, and the overrides in `[[strategies.transitions]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionDef {
    /// Source state.
    pub from: String,
    /// Target state or decision.
    pub to: String,
    /// Shorthand for an exponential hazard, per month.
    pub rate: Option<f64>,
    /// Parametric hazard.
    pub hazard: Option<HazardDef>,
    /// Fraction who never make this transition.
    pub cure: Option<f64>,
    /// `reset` (time in state, default) or `forward` (time since entry).
    pub clock: Option<String>,
    /// Fixed delay after entering the source state.
    pub after: Option<Quantity>,
    /// Fixed time since cohort entry.
    pub at: Option<Quantity>,
    /// Only for patients meeting this rule.
    #[serde(rename = "if")]
    pub condition: Option<String>,
    /// Covariate effects.
    pub effects: Option<Vec<EffectDef>>,
    /// Extra hazard ratio (what-if analyses).
    pub hr: Option<f64>,
    /// In a strategy: `false` removes the transition.
    pub enabled: Option<bool>,
    /// Where the number comes from (studies, assumptions); carried for reports.
    pub source: Option<String>,
}

/// A branch: `{ to = "hsct2", if = "…", p = 0.4, set = { donor = "HID" } }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchDef {
    /// Target state or decision.
    pub to: String,
    /// Rule (rule-based decisions).
    #[serde(rename = "if")]
    pub condition: Option<String>,
    /// Probability (chance decisions).
    pub p: Option<f64>,
    /// Variables assigned when taking the branch.
    pub set: Option<BTreeMap<String, toml::Value>>,
    /// Where the probability or rule comes from.
    pub source: Option<String>,
}

/// `[[decisions]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionDef {
    /// Name (shares the namespace of states).
    pub name: String,
    /// Branches in order.
    pub branches: Vec<BranchDef>,
    /// Where the rule or numbers come from.
    pub source: Option<String>,
}

/// `[[strategies]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyDef {
    /// Short name (CSV).
    pub name: String,
    /// Label for figures.
    pub label: Option<String>,
    /// What the strategy does, in words.
    pub description: Option<String>,
    /// Policy variable values.
    pub set: Option<BTreeMap<String, toml::Value>>,
    /// Decisions whose branches this strategy replaces.
    pub decisions: Option<BTreeMap<String, Vec<BranchDef>>>,
    /// Transitions this strategy adds, changes or disables.
    #[serde(default)]
    pub transitions: Vec<TransitionDef>,
}

/// `[background_mortality]`: a life table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackgroundDef {
    /// Death state it leads to (usually the NRM death).
    pub to: String,
    /// Variable holding age in years at entry.
    #[serde(default = "default_age_variable")]
    pub age: String,
    /// Ages (years) at which each row starts; the first must be 0.
    pub ages: Vec<f64>,
    /// Annual probability of death (qx) from each age.
    pub annual_probability: Option<Vec<f64>>,
    /// Annual death rate from each age (alternative to `annual_probability`).
    pub annual_rate: Option<Vec<f64>>,
    /// Where the table comes from.
    pub source: Option<String>,
}

fn default_age_variable() -> String {
    "age".into()
}

/// `[economics]`: what each state costs and is worth, and how the future is discounted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EconomicsDef {
    /// Currency label for tables (e.g. "EUR").
    pub currency: Option<String>,
    /// Price year label.
    pub price_year: Option<i64>,
    /// Annual discount rate for costs (e.g. 0.03).
    pub discount_costs: Option<f64>,
    /// Annual discount rate for effects (life-years and QALYs).
    pub discount_effects: Option<f64>,
    /// Willingness-to-pay thresholds per QALY for net monetary benefit.
    pub wtp: Option<Vec<f64>>,
    /// Values are illustrative, not for decisions (printed on every table).
    #[serde(default)]
    pub illustrative: bool,
    /// Where the values come from, or why they are illustrative.
    pub note: Option<String>,
    /// Cost per month and utility in states.
    #[serde(default)]
    pub states: Vec<StateValueDef>,
    /// One-off costs and QALY losses on entering a state or taking a transition.
    #[serde(default)]
    pub events: Vec<EventValueDef>,
}

/// `[[economics.states]]`: values of time spent in a state; all matching entries add up.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateValueDef {
    /// The state.
    pub state: String,
    /// Cost per month in the state.
    pub cost: Option<f64>,
    /// Utility (QALY weight per year lived in the state).
    pub utility: Option<f64>,
    /// Only for patients meeting this rule (variables only).
    #[serde(rename = "if")]
    pub condition: Option<String>,
    /// Where the number comes from.
    pub source: Option<String>,
}

/// `[[economics.events]]`: a one-off cost or QALY loss.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventValueDef {
    /// `"state"` (on entering it) or `"from->to"` (on that transition).
    pub on: String,
    /// One-off cost.
    pub cost: Option<f64>,
    /// One-off loss of QALYs.
    pub disutility: Option<f64>,
    /// Only for patients meeting this rule (variables only).
    #[serde(rename = "if")]
    pub condition: Option<String>,
    /// Where the number comes from.
    pub source: Option<String>,
}

/// `[psa]`: which parameters are uncertain and how, for `hsctsim psa` and `hsctsim owsa`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsaDef {
    /// Parameter draws (default 1000; `--draws` overrides).
    pub draws: Option<i64>,
    /// Patients simulated per draw (default: `[simulation] patients`).
    pub patients: Option<i64>,
    /// Willingness-to-pay values for the acceptability curves and EVPI (default: 0 to twice
    /// the largest `[economics] wtp`, 41 points, plus the thresholds themselves).
    pub wtp: Option<Vec<f64>>,
    /// The uncertain parameters.
    #[serde(default)]
    pub parameters: Vec<PsaParameterDef>,
}

/// A number of `[[psa.parameters]]` that may be given relative to the parameter's value in
/// the scenario: `"base"` (that value) or a percentage of it (`"20%"`). Which forms a
/// field accepts is checked by [`crate::psa::distribution`], so the message names the field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PsaValue {
    /// A number as written.
    Number(f64),
    /// The value at the parameter's `path` in the composed scenario.
    Base,
    /// This many percent of that value (or of the distribution's mean, for `se` and `sd`).
    Percent(f64),
}

impl<'de> Deserialize<'de> for PsaValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = PsaValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, \"base\" (the value in the scenario) or a percentage of it such as \"20%\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PsaValue, E> {
                Ok(PsaValue::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PsaValue, E> {
                Ok(PsaValue::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PsaValue, E> {
                Ok(PsaValue::Number(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PsaValue, E> {
                let text = v.trim();
                if text == "base" {
                    return Ok(PsaValue::Base);
                }
                text.strip_suffix('%')
                    .and_then(|n| n.trim().replace('_', "").parse::<f64>().ok())
                    .filter(|n| n.is_finite())
                    .map(PsaValue::Percent)
                    .ok_or_else(|| {
                        E::custom(format!(
                            "`{v}` is neither a number, \"base\" (the value in the scenario) nor a percentage of it such as \"20%\""
                        ))
                    })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `[[psa.parameters]]`: one uncertain parameter (or a Dirichlet group of them).
///
/// A distribution is tied to the value at its `path`: its centre is given relative to it
/// (`mean = "base"`, `median = "base"`, percentages, `sample_size`), or, when written as
/// numbers, must agree with it (see [`crate::psa::distribution`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsaParameterDef {
    /// Label for tables and the tornado (default: the path).
    pub name: Option<String>,
    /// The parameter (a name as in `calibrate`, see [`super::parameter`]).
    pub path: Option<String>,
    /// A group of probabilities drawn together (Dirichlet), or, with any other
    /// distribution, several places of the model that hold one quantity, all set to the
    /// same draw.
    pub paths: Option<Vec<String>>,
    /// `beta`, `gamma`, `lognormal`, `normal`, `uniform` or `dirichlet`.
    pub distribution: String,
    /// Mean (beta, gamma, normal; lognormal on the natural scale), or `"base"`.
    pub mean: Option<PsaValue>,
    /// Log-normal: median (`exp(meanlog)`), or `"base"`.
    pub median: Option<PsaValue>,
    /// Standard error of the mean (beta, gamma, lognormal with `mean`), or a percentage of
    /// the mean.
    pub se: Option<PsaValue>,
    /// Standard deviation (normal), or a percentage of the mean.
    pub sd: Option<PsaValue>,
    /// Beta's first shape (events).
    pub alpha: Option<f64>,
    /// Beta's second shape (non-events).
    pub beta: Option<f64>,
    /// Gamma's shape.
    pub shape: Option<f64>,
    /// Gamma's scale.
    pub scale: Option<f64>,
    /// Log-normal: mean of the logarithm.
    pub meanlog: Option<f64>,
    /// Log-normal: standard deviation of the logarithm.
    pub sdlog: Option<f64>,
    /// A 95 % interval (lognormal, normal): two numbers (a published CI), or two
    /// percentages of the base (`["50%", "200%"]`).
    pub interval: Option<Vec<PsaValue>>,
    /// Beta with `mean`, Dirichlet without `counts`: the number of observations behind the
    /// proportions (`alpha + beta`, the sum of the counts), centred on the base.
    pub sample_size: Option<f64>,
    /// Uniform's lower end (or a percentage of the base).
    pub min: Option<PsaValue>,
    /// Uniform's upper end (or a percentage of the base).
    pub max: Option<PsaValue>,
    /// Dirichlet: observed counts per path (its concentration parameters).
    pub counts: Option<Vec<f64>>,
    /// One-way analysis: low value, or a percentage of the base (default: the
    /// distribution's 2.5 % quantile).
    pub low: Option<PsaValue>,
    /// One-way analysis: high value, or a percentage of the base (default: the 97.5 %
    /// quantile).
    pub high: Option<PsaValue>,
    /// Where the distribution comes from.
    pub source: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toml_path;

    fn attribute(text: &str) -> AttributeDef {
        let file: ScenarioFile = toml::from_str(&format!("[[cohort.attributes]]\n{text}"))
            .unwrap_or_else(|e| panic!("{e}"));
        file.cohort.attributes[0].clone()
    }

    #[test]
    fn an_attribute_given_by_durations_is_a_time_in_months() {
        let a = attribute(
            "name = \"remission\"\ndistribution = \"lognormal\"\nmedian = \"8.4m\"\nsdlog = 0.9\nmin = 1",
        );
        assert_eq!(a.unit(), Some(Unit::Time(TimeUnit::Months)));
        assert_eq!(a.number("median"), Some(8.4));
        assert_eq!(
            a.number("min"),
            Some(1.0),
            "bare numbers beside it are months"
        );
        let a = attribute("name = \"age\"\ndistribution = \"normal\"\nmean = 48\nsd = 13");
        assert_eq!(a.unit(), Some(Unit::None));
        let a = attribute(
            "name = \"age\"\ndistribution = \"normal\"\nunit = \"yrs\"\nmean = 48\nsd = 13",
        );
        assert_eq!(
            a.unit(),
            None,
            "an unknown unit is for the builder to report"
        );
    }

    #[test]
    fn numbers_are_read_and_set_in_the_attribute_unit_and_kept_as_written() {
        let mut a = attribute(
            "name = \"age\"\ndistribution = \"normal\"\nunit = \"years\"\nmean = 48\nsd = 13\nmin = \"6m\"\nmax = \"75y\"",
        );
        assert_eq!(a.number("mean"), Some(48.0));
        assert_eq!(a.number("min"), Some(0.5));
        assert_eq!(a.number("max"), Some(75.0));
        a.set_number("min", 1.0);
        assert_eq!(
            a.min,
            Some(Measure {
                number: 12.0,
                unit: Some(TimeUnit::Months)
            })
        );
        a.set_number("mean", 50.0);
        assert_eq!(a.mean, Some(Measure::bare(50.0)));
        // A calibrated median stays a duration, so the attribute stays a time.
        let mut r = attribute(
            "name = \"remission\"\ndistribution = \"lognormal\"\nmedian = \"8.4m\"\nsdlog = 0.9",
        );
        r.set_number("median", 8.1);
        assert_eq!(r.unit(), Some(Unit::Time(TimeUnit::Months)));
        let mut file = ScenarioFile::default();
        file.cohort.attributes = vec![a, r];
        let median: super::super::error::Path = toml_path!["cohort", "attributes", 1, "median"];
        let mean: super::super::error::Path = toml_path!["cohort", "attributes", 0, "mean"];
        let rate: super::super::error::Path = toml_path!["transitions", 0, "rate"];
        assert_eq!(
            file.written_duration(&median),
            Some((8.1, TimeUnit::Months))
        );
        assert_eq!(file.written_duration(&mean), None);
        assert_eq!(file.written_duration(&rate), None);
    }

    #[test]
    fn durations_are_checked_as_everywhere_else() {
        for bad in ["\"-5m\"", "\"5x\"", "\"m\""] {
            let text = format!(
                "[[cohort.attributes]]\nname = \"x\"\ndistribution = \"fixed\"\nvalue = {bad}"
            );
            assert!(toml::from_str::<ScenarioFile>(&text).is_err(), "{bad}");
        }
    }
}
