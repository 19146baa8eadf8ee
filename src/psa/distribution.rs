//! Distributions of uncertain parameters, as health economists specify them: from the
//! distribution's own parameters or from a mean and standard error (method of moments), or
//! from a 95 % interval — and always tied to the value they describe.
//!
//! A parameter's value is written in the model (`cost = 90_000` at its `path`); its
//! uncertainty in `[[psa.parameters]]`. Two descriptions of one number drift apart when
//! one is edited, and a PSA that draws around the old value answers another question
//! than the deterministic run. So every distribution is tied to the value at its path in
//! the composed scenario ([`Described`]), in one of two ways:
//!
//! - **relative forms** take their centre from it: `mean = "base"`, `median = "base"`,
//!   an interval or uniform bounds in percent of it (`["50%", "200%"]`), a standard error
//!   in percent of the mean (`se = "20%"`), `sample_size` for beta and Dirichlet;
//! - **explicit forms** (a numeric mean, alpha/beta, shape/scale, meanlog, a numeric
//!   interval, Dirichlet counts, uniform min/max) must agree with it: the value must lie
//!   within what the written numbers stand for once their rounding is allowed for
//!   ([`crate::precision`]; the centre of a 95 % interval rounded to two significant
//!   digits is known only to a few percent), and a uniform's range must contain it.
//!   Otherwise loading fails with both numbers, the path, and the relative form to write.

use rand::RngCore;
use rand_distr::Distribution as _;
use statrs::distribution::ContinuousCDF;

use crate::precision::{approx, as_written, half_unit, within};
use crate::scenario::format::{PsaParameterDef, PsaValue};

/// The 97.5 % quantile of the standard normal: a 95 % interval is mean ± Z95·sd.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A parameter's distribution, in its own parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    /// Beta(alpha, beta): probabilities, utilities.
    Beta {
        /// First shape.
        alpha: f64,
        /// Second shape.
        beta: f64,
    },
    /// Gamma(shape, scale): costs, rates.
    Gamma {
        /// Shape.
        shape: f64,
        /// Scale.
        scale: f64,
    },
    /// exp(Normal(meanlog, sdlog)): hazard ratios, scales.
    LogNormal {
        /// Mean of the logarithm.
        meanlog: f64,
        /// Standard deviation of the logarithm.
        sdlog: f64,
    },
    /// Normal(mean, sd).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Uniform on [min, max].
    Uniform {
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
    },
    /// Dirichlet(counts): a set of probabilities that sum to 1 (decision branches).
    Dirichlet {
        /// Concentration per component.
        counts: Vec<f64>,
    },
}

/// What is wrong with a distribution as written: the field to point at and the message.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    /// Field of `[[psa.parameters]]` at fault.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to write it.
    pub help: String,
}

fn spec_error(field: &'static str, message: impl Into<String>, help: &str) -> SpecError {
    SpecError {
        field,
        message: message.into(),
        help: help.to_string(),
    }
}

/// The value(s) a distribution describes: what its relative forms are relative to and what
/// its explicit forms must agree with.
#[derive(Debug, Clone, Copy)]
pub struct Described<'a> {
    /// The value at each path in the composed scenario (after `extends` and overrides).
    pub values: &'a [f64],
    /// How messages name each value: its path, and where it is written when known, e.g.
    /// "`economics.events[0].cost` (cea.toml:63:25)".
    pub names: &'a [String],
}

impl Described<'_> {
    fn scalar(&self) -> (f64, &str) {
        (
            self.values.first().copied().unwrap_or(f64::NAN),
            self.names.first().map_or("the parameter", String::as_str),
        )
    }
}

const BETA_HELP: &str = "write mean = \"base\" with se = 0.05 (or se = \"10%\", or sample_size = 40), or alpha = 12, beta = 30 (events and non-events)";
const GAMMA_HELP: &str =
    "write mean = \"base\" with se = 2000 (or se = \"20%\"), or shape = 25, scale = 400";
const LOGNORMAL_HELP: &str = "write median = \"base\" with sdlog = 0.3, or interval = [\"50%\", \"200%\"] (a 95 % interval in percent of the base), or mean = \"base\" with se = \"20%\"; or numbers: interval = [0.6, 1.1] (a published 95 % CI), meanlog and sdlog, mean and se";
const NORMAL_HELP: &str = "write mean = \"base\" with sd = 0.05 (or se, or \"10%\" of the mean), or interval = [\"90%\", \"110%\"] (in percent of the base); or numbers: interval = [0.6, 0.8]";
const UNIFORM_HELP: &str =
    "write min = \"80%\", max = \"120%\" (in percent of the base), or min = 0.5, max = 1.5";
const DIRICHLET_HELP: &str = "write paths = [\"decisions[d].branches[0].p\", \"decisions[d].branches[1].p\"] and sample_size = 64 (counts in the proportions of the scenario), or counts = [30, 70], one count per path";

fn positive(field: &'static str, value: Option<f64>, help: &str) -> Result<f64, SpecError> {
    match value {
        Some(v) if v.is_finite() && v > 0.0 => Ok(v),
        Some(v) => Err(spec_error(
            field,
            format!("`{field}` must be a positive number, got {v}"),
            help,
        )),
        None => Err(spec_error(field, format!("`{field}` is missing"), help)),
    }
}

fn finite(field: &'static str, value: Option<f64>, help: &str) -> Result<f64, SpecError> {
    match value {
        Some(v) if v.is_finite() => Ok(v),
        Some(v) => Err(spec_error(
            field,
            format!("`{field}` must be a finite number, got {v}"),
            help,
        )),
        None => Err(spec_error(field, format!("`{field}` is missing"), help)),
    }
}

/// Where a distribution's centre comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Centre {
    /// Written as a number: checked against the value.
    Written(f64),
    /// Taken from the value (`"base"`).
    Base(f64),
}

impl Centre {
    fn value(self) -> f64 {
        match self {
            Centre::Written(x) | Centre::Base(x) => x,
        }
    }
}

/// A location field (`mean`, `median`): a number, or `"base"`.
fn centre(
    field: &'static str,
    value: Option<PsaValue>,
    base: f64,
    help: &str,
) -> Result<Centre, SpecError> {
    match value {
        Some(PsaValue::Number(x)) if x.is_finite() => Ok(Centre::Written(x)),
        Some(PsaValue::Number(x)) => Err(spec_error(
            field,
            format!("`{field}` must be a finite number or \"base\", got {x}"),
            help,
        )),
        Some(PsaValue::Base) => Ok(Centre::Base(base)),
        Some(PsaValue::Percent(p)) => Err(spec_error(
            field,
            format!("`{field}` is a value or \"base\", not a percentage (got {p}%)"),
            help,
        )),
        None => Err(spec_error(field, format!("`{field}` is missing"), help)),
    }
}

/// A spread field (`se`, `sd`): a positive number, or a percentage of `of` (the mean).
fn spread(
    field: &'static str,
    value: Option<PsaValue>,
    of: f64,
    help: &str,
) -> Result<f64, SpecError> {
    let v = match value {
        Some(PsaValue::Number(x)) => x,
        Some(PsaValue::Percent(p)) => p / 100.0 * of.abs(),
        Some(PsaValue::Base) => {
            return Err(spec_error(
                field,
                format!(
                    "`{field}` is a number or a percentage of the mean such as \"20%\", not \"base\""
                ),
                help,
            ));
        }
        None => return Err(spec_error(field, format!("`{field}` is missing"), help)),
    };
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(spec_error(
            field,
            format!(
                "`{field}` must be positive, got {v}{}",
                if matches!(value, Some(PsaValue::Percent(_))) {
                    format!(" (a percentage of the mean {of})")
                } else {
                    String::new()
                }
            ),
            help,
        ))
    }
}

/// A bound (`min`, `max`, an interval end): a number, a percentage of the base, or the base.
/// Returns the value and the range of values the written number stands for.
fn bound(
    field: &'static str,
    value: PsaValue,
    base: f64,
    help: &str,
) -> Result<(f64, (f64, f64)), SpecError> {
    let scaled = |p: f64| p / 100.0 * base;
    let (x, range) = match value {
        PsaValue::Number(x) => (x, as_written(x)),
        PsaValue::Percent(p) => {
            let (lo, hi) = as_written(p);
            let (a, b) = (scaled(lo), scaled(hi));
            (scaled(p), (a.min(b), a.max(b)))
        }
        PsaValue::Base => (base, (base, base)),
    };
    if x.is_finite() {
        Ok((x, range))
    } else {
        Err(spec_error(
            field,
            format!("`{field}` must be finite, got {x} (the base is {base})"),
            help,
        ))
    }
}

/// `interval = [low, high]`: both numbers (a published CI) or both percentages of the base.
/// Returns the ends and the ranges they stand for.
type Ends = ((f64, (f64, f64)), (f64, (f64, f64)));

fn interval(
    def: &PsaParameterDef,
    base: f64,
    positive: bool,
    help: &str,
) -> Result<Ends, SpecError> {
    let bad = |why: String| spec_error("interval", why, help);
    let (lo, hi) = match def.interval.as_deref() {
        Some(&[lo, hi]) => (lo, hi),
        _ => {
            return Err(bad(
                "`interval` must be two values [low, high]: numbers, or percentages of the base such as [\"50%\", \"200%\"]".into(),
            ));
        }
    };
    if matches!(
        (lo, hi),
        (PsaValue::Number(_), PsaValue::Percent(_)) | (PsaValue::Percent(_), PsaValue::Number(_))
    ) || matches!(lo, PsaValue::Base)
        || matches!(hi, PsaValue::Base)
    {
        return Err(bad(
            "`interval` must give both ends as numbers or both as percentages of the base".into(),
        ));
    }
    let lo = bound("interval", lo, base, help)?;
    let hi = bound("interval", hi, base, help)?;
    if !(lo.0 < hi.0 && (!positive || lo.0 > 0.0)) {
        return Err(bad(format!(
            "`interval` must have low < high{}, got [{}, {}]",
            if positive { ", both positive" } else { "" },
            approx(lo.0),
            approx(hi.0)
        )));
    }
    Ok((lo, hi))
}

/// Which fields a distribution uses, so that stray ones are refused rather than ignored.
fn allowed(def: &PsaParameterDef, fields: &[&'static str], help: &str) -> Result<(), SpecError> {
    let given: [(&'static str, bool); 15] = [
        ("mean", def.mean.is_some()),
        ("median", def.median.is_some()),
        ("se", def.se.is_some()),
        ("sd", def.sd.is_some()),
        ("alpha", def.alpha.is_some()),
        ("beta", def.beta.is_some()),
        ("shape", def.shape.is_some()),
        ("scale", def.scale.is_some()),
        ("meanlog", def.meanlog.is_some()),
        ("sdlog", def.sdlog.is_some()),
        ("interval", def.interval.is_some()),
        ("sample_size", def.sample_size.is_some()),
        ("min", def.min.is_some()),
        ("max", def.max.is_some()),
        ("counts", def.counts.is_some()),
    ];
    for (field, present) in given {
        if present && !fields.contains(&field) {
            return Err(spec_error(
                field,
                format!(
                    "`{field}` is not a parameter of a {} distribution",
                    def.distribution
                ),
                help,
            ));
        }
    }
    Ok(())
}

/// Refuses two ways of giving the same thing (`mean` with `alpha`), which would otherwise
/// leave one of them silently unused.
fn one_of(
    def: &PsaParameterDef,
    ways: &[(&'static str, bool)],
    help: &str,
) -> Result<(), SpecError> {
    let given: Vec<&'static str> = ways.iter().filter(|w| w.1).map(|w| w.0).collect();
    if given.len() > 1 {
        return Err(spec_error(
            given[1],
            format!(
                "a {} distribution takes `{}` or `{}`, not both",
                def.distribution, given[0], given[1]
            ),
            help,
        ));
    }
    Ok(())
}

/// What an explicit form says the value is, for the agreement check.
struct Claim {
    /// Field to point at.
    field: &'static str,
    /// Component of the described values (0 but for a Dirichlet).
    component: usize,
    /// What the distribution is centred on, in words: "its mean 90000".
    says: String,
    /// The values the written numbers stand for (rounding allowed for).
    range: (f64, f64),
    /// The relative form that ties it to the value instead.
    fix: String,
}

fn check(claims: &[Claim], described: &Described, family: &str) -> Result<(), SpecError> {
    for c in claims {
        let value = described.values[c.component];
        if within(value, c.range) {
            continue;
        }
        let name = described
            .names
            .get(c.component)
            .map_or("the parameter", String::as_str);
        let range = if c.range.0 == c.range.1 {
            String::new()
        } else {
            format!(
                " (anything in {}–{} allowing for the rounding of the numbers as written)",
                approx(c.range.0),
                approx(c.range.1)
            )
        };
        return Err(SpecError {
            field: c.field,
            message: format!(
                "{name} is {value} in the scenario, but this {family} distribution {}{range}: the draws would describe another value than the one the model runs",
                c.says
            ),
            help: format!(
                "write {} so that the distribution follows the value in the scenario, or change one of the two numbers so they agree",
                c.fix
            ),
        });
    }
    Ok(())
}

impl Distribution {
    /// Reads the distribution of a `[[psa.parameters]]` entry that describes the value(s)
    /// `described`: relative forms are resolved against them, explicit ones checked.
    pub fn from_def(
        def: &PsaParameterDef,
        described: &Described,
    ) -> Result<Distribution, SpecError> {
        let (base, name) = described.scalar();
        let mut claims = Vec::new();
        let claim_centre =
            |claims: &mut Vec<Claim>, field, centre: Centre, what: &str, fix: &str| {
                if let Centre::Written(x) = centre {
                    claims.push(Claim {
                        field,
                        component: 0,
                        says: format!("is centred on {what} {x}"),
                        range: as_written(x),
                        fix: fix.to_string(),
                    });
                }
            };
        let distribution = match def.distribution.as_str() {
            "beta" => {
                let help = BETA_HELP;
                allowed(def, &["alpha", "beta", "mean", "se", "sample_size"], help)?;
                let by_mean = def.mean.is_some() || def.se.is_some() || def.sample_size.is_some();
                one_of(
                    def,
                    &[
                        ("mean", by_mean),
                        ("alpha", def.alpha.is_some() || def.beta.is_some()),
                    ],
                    help,
                )?;
                one_of(
                    def,
                    &[
                        ("se", def.se.is_some()),
                        ("sample_size", def.sample_size.is_some()),
                    ],
                    help,
                )?;
                if by_mean {
                    let c = centre("mean", def.mean, base, help)?;
                    let m = c.value();
                    if !(m > 0.0 && m < 1.0) {
                        return Err(spec_error(
                            "mean",
                            match c {
                                Centre::Base(_) => format!(
                                    "{name} is {m} in the scenario; a beta distribution describes a value strictly between 0 and 1"
                                ),
                                Centre::Written(_) => {
                                    format!("a beta distribution's mean must be in (0, 1), got {m}")
                                }
                            },
                            help,
                        ));
                    }
                    claim_centre(&mut claims, "mean", c, "its mean", "mean = \"base\"");
                    let k = if def.sample_size.is_some() {
                        positive("sample_size", def.sample_size, help)?
                    } else {
                        let se = spread("se", def.se, m, help)?;
                        if se * se >= m * (1.0 - m) {
                            return Err(spec_error(
                                "se",
                                format!(
                                    "no beta distribution has mean {m} and standard error {}: se² must be below mean·(1 − mean) = {}",
                                    approx(se),
                                    approx(m * (1.0 - m))
                                ),
                                help,
                            ));
                        }
                        m * (1.0 - m) / (se * se) - 1.0
                    };
                    Distribution::Beta {
                        alpha: m * k,
                        beta: (1.0 - m) * k,
                    }
                } else {
                    let a = positive("alpha", def.alpha, help)?;
                    let b = positive("beta", def.beta, help)?;
                    let ((a0, a1), (b0, b1)) = (as_written(a), as_written(b));
                    claims.push(Claim {
                        field: "alpha",
                        component: 0,
                        says: format!(
                            "is centred on its mean alpha/(alpha + beta) = {}",
                            approx(a / (a + b))
                        ),
                        range: (a0 / (a0 + b1), a1 / (a1 + b0)),
                        fix: format!("mean = \"base\" with sample_size = {}", a + b),
                    });
                    Distribution::Beta { alpha: a, beta: b }
                }
            }
            "gamma" => {
                let help = GAMMA_HELP;
                allowed(def, &["shape", "scale", "mean", "se"], help)?;
                let by_mean = def.mean.is_some() || def.se.is_some();
                one_of(
                    def,
                    &[
                        ("mean", by_mean),
                        ("shape", def.shape.is_some() || def.scale.is_some()),
                    ],
                    help,
                )?;
                if by_mean {
                    let c = centre("mean", def.mean, base, help)?;
                    let m = c.value();
                    if !(m.is_finite() && m > 0.0) {
                        return Err(spec_error(
                            "mean",
                            format!(
                                "{}: a gamma distribution's mean must be positive, got {m}",
                                match c {
                                    Centre::Base(_) => format!("{name} is {m} in the scenario"),
                                    Centre::Written(_) => "`mean`".to_string(),
                                }
                            ),
                            help,
                        ));
                    }
                    claim_centre(&mut claims, "mean", c, "its mean", "mean = \"base\"");
                    let se = spread("se", def.se, m, help)?;
                    Distribution::Gamma {
                        shape: m * m / (se * se),
                        scale: se * se / m,
                    }
                } else {
                    let k = positive("shape", def.shape, help)?;
                    let t = positive("scale", def.scale, help)?;
                    let ((k0, k1), (t0, t1)) = (as_written(k), as_written(t));
                    claims.push(Claim {
                        field: "shape",
                        component: 0,
                        says: format!("is centred on its mean shape·scale = {}", approx(k * t)),
                        range: (k0 * t0, k1 * t1),
                        fix: format!("mean = \"base\" with se = {}", approx(k.sqrt() * t)),
                    });
                    Distribution::Gamma { shape: k, scale: t }
                }
            }
            "lognormal" => {
                let help = LOGNORMAL_HELP;
                allowed(
                    def,
                    &["meanlog", "sdlog", "interval", "mean", "se", "median"],
                    help,
                )?;
                one_of(
                    def,
                    &[
                        ("interval", def.interval.is_some()),
                        ("median", def.median.is_some()),
                        ("mean", def.mean.is_some() || def.se.is_some()),
                        ("meanlog", def.meanlog.is_some()),
                    ],
                    help,
                )?;
                if def.interval.is_some() {
                    if def.sdlog.is_some() {
                        return Err(spec_error(
                            "sdlog",
                            "give `interval` or `sdlog`, not both: the interval sets the spread",
                            help,
                        ));
                    }
                    let ((lo, lo_range), (hi, hi_range)) = interval(def, base, true, help)?;
                    let sdlog = (hi.ln() - lo.ln()) / (2.0 * Z95);
                    let relative =
                        matches!(def.interval.as_deref(), Some([PsaValue::Percent(_), _]));
                    claims.push(Claim {
                        field: "interval",
                        component: 0,
                        says: format!(
                            "is centred on the geometric centre {} of its 95 % interval [{}, {}]",
                            approx((lo * hi).sqrt()),
                            approx(lo),
                            approx(hi)
                        ),
                        range: (
                            (lo_range.0 * hi_range.0).sqrt(),
                            (lo_range.1 * hi_range.1).sqrt(),
                        ),
                        fix: if relative {
                            let f = (hi / lo).sqrt();
                            format!(
                                "percentages whose geometric mean is 100 %, e.g. interval = [\"{}%\", \"{}%\"] (the same width)",
                                approx(100.0 / f),
                                approx(100.0 * f)
                            )
                        } else {
                            format!(
                                "median = \"base\" with sdlog = {} (the interval's width)",
                                approx(sdlog)
                            )
                        },
                    });
                    Distribution::LogNormal {
                        meanlog: 0.5 * (lo.ln() + hi.ln()),
                        sdlog,
                    }
                } else if def.median.is_some() {
                    let c = centre("median", def.median, base, help)?;
                    let m = c.value();
                    if !(m > 0.0 && m.is_finite()) {
                        return Err(spec_error(
                            "median",
                            format!(
                                "{} must be positive for a log-normal distribution, got {m}",
                                match c {
                                    Centre::Base(_) => format!("the value of {name}"),
                                    Centre::Written(_) => "`median`".to_string(),
                                }
                            ),
                            help,
                        ));
                    }
                    claim_centre(&mut claims, "median", c, "its median", "median = \"base\"");
                    Distribution::LogNormal {
                        meanlog: m.ln(),
                        sdlog: positive("sdlog", def.sdlog, help)?,
                    }
                } else if def.mean.is_some() || def.se.is_some() {
                    if def.sdlog.is_some() {
                        return Err(spec_error(
                            "sdlog",
                            "give `mean` with `se`, or `median` with `sdlog`",
                            help,
                        ));
                    }
                    let c = centre("mean", def.mean, base, help)?;
                    let m = c.value();
                    if !(m > 0.0 && m.is_finite()) {
                        return Err(spec_error(
                            "mean",
                            format!(
                                "{} must be positive for a log-normal distribution, got {m}",
                                match c {
                                    Centre::Base(_) => format!("the value of {name}"),
                                    Centre::Written(_) => "`mean`".to_string(),
                                }
                            ),
                            help,
                        ));
                    }
                    claim_centre(&mut claims, "mean", c, "its mean", "mean = \"base\"");
                    let se = spread("se", def.se, m, help)?;
                    let variance = (1.0 + se * se / (m * m)).ln();
                    Distribution::LogNormal {
                        meanlog: m.ln() - 0.5 * variance,
                        sdlog: variance.sqrt(),
                    }
                } else {
                    let meanlog = finite("meanlog", def.meanlog, help)?;
                    let sdlog = positive("sdlog", def.sdlog, help)?;
                    let h = half_unit(meanlog);
                    claims.push(Claim {
                        field: "meanlog",
                        component: 0,
                        says: format!(
                            "is centred on its median exp(meanlog) = {}",
                            approx(meanlog.exp())
                        ),
                        range: ((meanlog - h).exp(), (meanlog + h).exp()),
                        fix: "median = \"base\" (with the same sdlog)".into(),
                    });
                    Distribution::LogNormal { meanlog, sdlog }
                }
            }
            "normal" => {
                let help = NORMAL_HELP;
                allowed(def, &["mean", "sd", "se", "interval"], help)?;
                one_of(
                    def,
                    &[
                        ("interval", def.interval.is_some()),
                        ("mean", def.mean.is_some()),
                    ],
                    help,
                )?;
                if def.interval.is_some() {
                    if def.sd.is_some() || def.se.is_some() {
                        return Err(spec_error(
                            if def.sd.is_some() { "sd" } else { "se" },
                            "give `interval`, or `mean` with `sd` (or `se`), not both: the interval sets the spread",
                            help,
                        ));
                    }
                    let ((lo, lo_range), (hi, hi_range)) = interval(def, base, false, help)?;
                    let sd = (hi - lo) / (2.0 * Z95);
                    claims.push(Claim {
                        field: "interval",
                        component: 0,
                        says: format!(
                            "is centred on the midpoint {} of its 95 % interval [{}, {}]",
                            approx(0.5 * (lo + hi)),
                            approx(lo),
                            approx(hi)
                        ),
                        range: (
                            0.5 * (lo_range.0 + hi_range.0),
                            0.5 * (lo_range.1 + hi_range.1),
                        ),
                        fix: format!(
                            "mean = \"base\" with sd = {} (the interval's width)",
                            approx(sd)
                        ),
                    });
                    Distribution::Normal {
                        mean: 0.5 * (lo + hi),
                        sd,
                    }
                } else {
                    let c = centre("mean", def.mean, base, help)?;
                    let mean = c.value();
                    claim_centre(&mut claims, "mean", c, "its mean", "mean = \"base\"");
                    let sd = match (def.sd, def.se) {
                        (Some(_), Some(_)) => {
                            return Err(spec_error("se", "give `sd` or `se`, not both", help));
                        }
                        (None, Some(se)) => spread("se", Some(se), mean, help)?,
                        (sd, None) => spread("sd", sd, mean, help)?,
                    };
                    Distribution::Normal { mean, sd }
                }
            }
            "uniform" => {
                let help = UNIFORM_HELP;
                allowed(def, &["min", "max"], help)?;
                let (min, _) = bound(
                    "min",
                    def.min
                        .ok_or_else(|| spec_error("min", "`min` is missing", help))?,
                    base,
                    help,
                )?;
                let (max, _) = bound(
                    "max",
                    def.max
                        .ok_or_else(|| spec_error("max", "`max` is missing", help))?,
                    base,
                    help,
                )?;
                if min >= max {
                    return Err(spec_error(
                        "max",
                        format!("`max` ({max}) must be above `min` ({min})"),
                        help,
                    ));
                }
                // Its draws never leave [min, max]: the value must be one of them.
                claims.push(Claim {
                    field: if base < min { "min" } else { "max" },
                    component: 0,
                    says: format!("draws only from [{min}, {max}]"),
                    range: (min, max),
                    fix: "bounds that contain it, e.g. in percent of it: min = \"80%\", max = \"120%\",".into(),
                });
                Distribution::Uniform { min, max }
            }
            "dirichlet" => {
                let help = DIRICHLET_HELP;
                allowed(def, &["counts", "sample_size"], help)?;
                one_of(
                    def,
                    &[
                        ("counts", def.counts.is_some()),
                        ("sample_size", def.sample_size.is_some()),
                    ],
                    help,
                )?;
                let n = described.values.len();
                let counts = if def.sample_size.is_some() {
                    let size = positive("sample_size", def.sample_size, help)?;
                    if let Some(k) = described
                        .values
                        .iter()
                        .position(|p| p.is_nan() || *p <= 0.0)
                    {
                        return Err(spec_error(
                            "sample_size",
                            format!(
                                "{} is {} in the scenario; a Dirichlet gives every component a positive probability",
                                described.names.get(k).map_or("a component", String::as_str),
                                described.values[k]
                            ),
                            help,
                        ));
                    }
                    described.values.iter().map(|p| p * size).collect()
                } else {
                    let counts = def.counts.clone().ok_or_else(|| {
                        spec_error("counts", "`counts` (or `sample_size`) is missing", help)
                    })?;
                    if counts.len() < 2 || counts.iter().any(|c| !(c.is_finite() && *c > 0.0)) {
                        return Err(spec_error(
                            "counts",
                            "`counts` must be two or more positive numbers",
                            help,
                        ));
                    }
                    if counts.len() != n {
                        return Err(spec_error(
                            "counts",
                            format!(
                                "{} counts for {n} paths: give one count per path",
                                counts.len()
                            ),
                            help,
                        ));
                    }
                    let total: f64 = counts.iter().sum();
                    let ranges: Vec<(f64, f64)> = counts.iter().map(|c| as_written(*c)).collect();
                    for (k, c) in counts.iter().enumerate() {
                        // Lowest share: this count at its lowest, the others at their highest.
                        let others_high: f64 = ranges
                            .iter()
                            .enumerate()
                            .filter(|(j, _)| *j != k)
                            .map(|(_, r)| r.1)
                            .sum();
                        let others_low: f64 = ranges
                            .iter()
                            .enumerate()
                            .filter(|(j, _)| *j != k)
                            .map(|(_, r)| r.0)
                            .sum();
                        claims.push(Claim {
                            field: "counts",
                            component: k,
                            says: format!(
                                "is centred on its mean share {c}/{total} = {}",
                                approx(c / total)
                            ),
                            range: (
                                ranges[k].0 / (ranges[k].0 + others_high),
                                ranges[k].1 / (ranges[k].1 + others_low),
                            ),
                            fix: format!("sample_size = {total} in place of `counts`"),
                        });
                    }
                    counts
                };
                Distribution::Dirichlet { counts }
            }
            other => {
                return Err(spec_error(
                    "distribution",
                    format!(
                        "unknown distribution `{other}`.{}",
                        crate::suggest::did_you_mean(
                            other,
                            [
                                "beta",
                                "gamma",
                                "lognormal",
                                "normal",
                                "uniform",
                                "dirichlet"
                            ]
                        )
                    ),
                    "use beta (probabilities, utilities), gamma (costs), lognormal (hazard ratios, rates), normal, uniform, or dirichlet (a set of branch probabilities)",
                ));
            }
        };
        check(&claims, described, &def.distribution)?;
        Ok(distribution)
    }

    /// Number of values one draw gives (1, or the number of Dirichlet components).
    pub fn dimension(&self) -> usize {
        match self {
            Distribution::Dirichlet { counts } => counts.len(),
            _ => 1,
        }
    }

    /// The mean of each component.
    pub fn mean(&self) -> Vec<f64> {
        match *self {
            Distribution::Beta { alpha, beta } => vec![alpha / (alpha + beta)],
            Distribution::Gamma { shape, scale } => vec![shape * scale],
            Distribution::LogNormal { meanlog, sdlog } => {
                vec![(meanlog + 0.5 * sdlog * sdlog).exp()]
            }
            Distribution::Normal { mean, .. } => vec![mean],
            Distribution::Uniform { min, max } => vec![0.5 * (min + max)],
            Distribution::Dirichlet { ref counts } => {
                let total: f64 = counts.iter().sum();
                counts.iter().map(|c| c / total).collect()
            }
        }
    }

    /// The `p` quantile of a one-dimensional distribution (`None` for Dirichlet).
    pub fn quantile(&self, p: f64) -> Option<f64> {
        use statrs::distribution as d;
        match *self {
            Distribution::Beta { alpha, beta } => {
                d::Beta::new(alpha, beta).ok().map(|b| b.inverse_cdf(p))
            }
            Distribution::Gamma { shape, scale } => d::Gamma::new(shape, 1.0 / scale)
                .ok()
                .map(|g| g.inverse_cdf(p)),
            Distribution::LogNormal { meanlog, sdlog } => d::Normal::new(meanlog, sdlog)
                .ok()
                .map(|n| n.inverse_cdf(p).exp()),
            Distribution::Normal { mean, sd } => {
                d::Normal::new(mean, sd).ok().map(|n| n.inverse_cdf(p))
            }
            Distribution::Uniform { min, max } => Some(min + p * (max - min)),
            Distribution::Dirichlet { .. } => None,
        }
    }

    /// Draws one value per component into `out` (cleared first).
    pub fn sample<R: RngCore>(&self, rng: &mut R, out: &mut Vec<f64>) {
        out.clear();
        match *self {
            Distribution::Beta { alpha, beta } => {
                // Valid by construction (positive shapes).
                let b = rand_distr::Beta::new(alpha, beta).expect("positive shapes");
                out.push(b.sample(rng));
            }
            Distribution::Gamma { shape, scale } => {
                let g = rand_distr::Gamma::new(shape, scale).expect("positive parameters");
                out.push(g.sample(rng));
            }
            Distribution::LogNormal { meanlog, sdlog } => {
                let z: f64 = rng.sample_standard_normal();
                out.push((meanlog + sdlog * z).exp());
            }
            Distribution::Normal { mean, sd } => {
                let z: f64 = rng.sample_standard_normal();
                out.push(mean + sd * z);
            }
            Distribution::Uniform { min, max } => {
                let u = rand_distr::StandardUniform.sample(rng);
                let u: f64 = u;
                out.push(min + u * (max - min));
            }
            Distribution::Dirichlet { ref counts } => {
                // Independent Gamma(count, 1) normalised: the textbook construction.
                for &c in counts {
                    let g = rand_distr::Gamma::new(c, 1.0).expect("positive counts");
                    out.push(g.sample(rng));
                }
                let total: f64 = out.iter().sum();
                for x in out.iter_mut() {
                    *x /= total;
                }
            }
        }
    }
}

/// Standard normal deviates for any generator.
trait StandardNormal {
    fn sample_standard_normal(&mut self) -> f64;
}

impl<R: RngCore> StandardNormal for R {
    fn sample_standard_normal(&mut self) -> f64 {
        rand_distr::StandardNormal.sample(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};
    use PsaValue::{Base, Number, Percent};

    fn def(distribution: &str) -> PsaParameterDef {
        PsaParameterDef {
            distribution: distribution.into(),
            ..PsaParameterDef::default()
        }
    }

    /// Reads `d` as describing the value(s) `base`.
    fn read(d: &PsaParameterDef, base: &[f64]) -> Result<Distribution, SpecError> {
        let names: Vec<String> = (0..base.len()).map(|k| format!("`p{k}`")).collect();
        Distribution::from_def(
            d,
            &Described {
                values: base,
                names: &names,
            },
        )
    }

    #[test]
    fn moments_give_back_the_mean_and_standard_error() {
        let mut beta = def("beta");
        beta.mean = Some(Number(0.3));
        beta.se = Some(Number(0.05));
        let mut gamma = def("gamma");
        gamma.mean = Some(Base);
        gamma.se = Some(Percent(25.0));
        let mut lognormal = def("lognormal");
        lognormal.mean = Some(Number(0.8));
        lognormal.se = Some(Number(0.1));
        for (d, mean, se) in [
            (beta, 0.3, 0.05),
            (gamma, 12_000.0, 3_000.0),
            (lognormal, 0.8, 0.1),
        ] {
            let dist = read(&d, &[mean]).unwrap();
            let n = 200_000;
            let mut rng = Stream::new(7, 1, 0, Purpose::Parameters);
            let mut out = Vec::new();
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    dist.sample(&mut rng, &mut out);
                    out[0]
                })
                .collect();
            let nf = n as f64;
            let m = xs.iter().sum::<f64>() / nf;
            let m2 = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / nf;
            let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / nf;
            let sd = m2.sqrt();
            // The sample mean's standard error is se/√n, the sample sd's about
            // sd·√((m4/m2² − 1)/(4n)); allow 4 of each.
            assert!(
                (m - mean).abs() < 4.0 * se / nf.sqrt(),
                "{dist:?}: mean {m}"
            );
            let sd_se = sd * ((m4 / (m2 * m2) - 1.0) / (4.0 * nf)).sqrt();
            assert!((sd - se).abs() < 4.0 * sd_se, "{dist:?}: sd {sd} ± {sd_se}");
            assert!((dist.mean()[0] - mean).abs() < 1e-9 * mean.max(1.0));
        }
    }

    #[test]
    fn a_published_interval_is_the_95_percent_range() {
        let mut hr = def("lognormal");
        hr.interval = Some(vec![Number(0.6), Number(1.5)]);
        let d = read(&hr, &[0.95]).unwrap();
        assert!((d.quantile(0.025).unwrap() - 0.6).abs() < 1e-9);
        assert!((d.quantile(0.975).unwrap() - 1.5).abs() < 1e-9);
        let mut n = def("normal");
        n.interval = Some(vec![Number(0.6), Number(0.8)]);
        let d = read(&n, &[0.7]).unwrap();
        assert!((d.quantile(0.025).unwrap() - 0.6).abs() < 1e-9);
    }

    /// Every relative form takes its centre from the value it describes, and follows it
    /// when the value changes.
    #[test]
    fn relative_forms_are_centred_on_the_base() {
        let median = |d: &Distribution| d.quantile(0.5).unwrap();
        for base in [2.004, 3.5] {
            let mut hr = def("lognormal");
            hr.median = Some(Base);
            hr.sdlog = Some(0.27);
            let d = read(&hr, &[base]).unwrap();
            assert!((median(&d) - base).abs() < 1e-12 * base);
            let mut hr = def("lognormal");
            hr.interval = Some(vec![Percent(50.0), Percent(200.0)]);
            let d = read(&hr, &[base]).unwrap();
            assert!((median(&d) - base).abs() < 1e-12 * base);
            assert!((d.quantile(0.975).unwrap() - 2.0 * base).abs() < 1e-9 * base);
            let mut hr = def("lognormal");
            hr.mean = Some(Base);
            hr.se = Some(Percent(20.0));
            let d = read(&hr, &[base]).unwrap();
            assert!((d.mean()[0] - base).abs() < 1e-12 * base);
            let mut cost = def("gamma");
            cost.mean = Some(Base);
            cost.se = Some(Number(0.5));
            assert!((read(&cost, &[base]).unwrap().mean()[0] - base).abs() < 1e-12 * base);
            let mut x = def("normal");
            x.interval = Some(vec![Percent(90.0), Percent(110.0)]);
            assert!((read(&x, &[base]).unwrap().mean()[0] - base).abs() < 1e-12 * base);
            let mut u = def("uniform");
            u.min = Some(Percent(80.0));
            u.max = Some(Percent(120.0));
            assert_eq!(
                read(&u, &[base]).unwrap(),
                Distribution::Uniform {
                    min: 0.8 * base,
                    max: 1.2 * base
                }
            );
        }
        let mut p = def("beta");
        p.mean = Some(Base);
        p.sample_size = Some(40.0);
        assert_eq!(
            read(&p, &[0.25]).unwrap(),
            Distribution::Beta {
                alpha: 10.0,
                beta: 30.0
            }
        );
        let mut split = def("dirichlet");
        split.sample_size = Some(64.0);
        let d = read(&split, &[0.835596, 0.164404]).unwrap();
        assert!((d.mean()[0] - 0.835596).abs() < 1e-12);
        assert!(
            matches!(d, Distribution::Dirichlet { ref counts } if (counts.iter().sum::<f64>() - 64.0).abs() < 1e-9)
        );
    }

    /// Explicit centres pass when the value is what the written numbers stand for
    /// (rounding allowed for), and fail otherwise with both numbers and the fix.
    #[test]
    fn explicit_centres_must_agree_with_the_base() {
        // [1.1, 3.2] has its geometric centre at 1.876, known to 1.819–1.933 once both ends
        // are allowed their rounding: a published 1.9 agrees, a calibrated 2.004 does not.
        let mut hr = def("lognormal");
        hr.interval = Some(vec![Number(1.1), Number(3.2)]);
        assert!(read(&hr, &[1.9]).is_ok());
        let e = read(&hr, &[2.004]).unwrap_err();
        assert_eq!(e.field, "interval");
        for needle in ["`p0` is 2.004", "1.876", "1.819–1.933"] {
            assert!(e.message.contains(needle), "{}", e.message);
        }
        assert!(
            e.help.contains("median = \"base\" with sdlog = 0.2724"),
            "{}",
            e.help
        );

        let mut cost = def("gamma");
        cost.mean = Some(Number(90_000.0));
        cost.se = Some(Number(15_000.0));
        assert!(read(&cost, &[90_000.0]).is_ok());
        let e = read(&cost, &[120_000.0]).unwrap_err();
        assert_eq!(e.field, "mean");
        assert!(
            e.message.contains("is 120000 in the scenario") && e.message.contains("90000"),
            "{}",
            e.message
        );
        assert!(e.help.contains("mean = \"base\""), "{}", e.help);

        let mut utility = def("beta");
        utility.mean = Some(Number(0.75));
        utility.se = Some(Number(0.05));
        assert!(read(&utility, &[0.754]).is_ok());
        assert_eq!(read(&utility, &[0.82]).unwrap_err().field, "mean");

        let mut events = def("beta");
        events.alpha = Some(12.0);
        events.beta = Some(30.0);
        assert!(read(&events, &[0.2857]).is_ok());
        let e = read(&events, &[0.35]).unwrap_err();
        assert!(e.help.contains("sample_size = 42"), "{}", e.help);

        let mut gamma = def("gamma");
        gamma.shape = Some(25.0);
        gamma.scale = Some(400.0);
        assert!(read(&gamma, &[10_000.0]).is_ok());
        assert_eq!(read(&gamma, &[12_000.0]).unwrap_err().field, "shape");

        let mut log = def("lognormal");
        log.meanlog = Some(0.0);
        log.sdlog = Some(0.2);
        assert!(read(&log, &[1.0]).is_ok());
        assert_eq!(read(&log, &[1.2]).unwrap_err().field, "meanlog");

        let mut x = def("normal");
        x.interval = Some(vec![Number(0.6), Number(0.8)]);
        assert_eq!(read(&x, &[0.75]).unwrap_err().field, "interval");

        let mut u = def("uniform");
        u.min = Some(Number(0.2));
        u.max = Some(Number(0.5));
        assert!(read(&u, &[0.2]).is_ok(), "the ends belong to the range");
        let e = read(&u, &[0.6]).unwrap_err();
        assert_eq!(e.field, "max");
        assert!(
            e.message.contains("draws only from [0.2, 0.5]"),
            "{}",
            e.message
        );

        // The shipped counts against the model's calibrated split: 54/64 = 0.8438, known to
        // 0.8359–0.8516, misses 0.8356.
        let mut split = def("dirichlet");
        split.counts = Some(vec![54.0, 10.0]);
        assert!(read(&split, &[0.84375, 0.15625]).is_ok());
        let e = read(&split, &[0.835596, 0.164404]).unwrap_err();
        assert_eq!(e.field, "counts");
        assert!(e.help.contains("sample_size = 64"), "{}", e.help);

        // A relative interval must be centred on 100 %.
        let mut skewed = def("lognormal");
        skewed.interval = Some(vec![Percent(50.0), Percent(300.0)]);
        let e = read(&skewed, &[2.0]).unwrap_err();
        assert!(e.help.contains("geometric mean is 100 %"), "{}", e.help);
    }

    #[test]
    fn dirichlet_draws_sum_to_one_with_the_right_means() {
        let mut d = def("dirichlet");
        d.counts = Some(vec![20.0, 50.0, 30.0]);
        let dist = read(&d, &[0.2, 0.5, 0.3]).unwrap();
        let mut rng = Stream::new(3, 2, 0, Purpose::Parameters);
        let mut out = Vec::new();
        let n = 100_000;
        let mut sums = [0.0; 3];
        for _ in 0..n {
            dist.sample(&mut rng, &mut out);
            assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            for (s, x) in sums.iter_mut().zip(&out) {
                *s += x;
            }
        }
        // Var of component i: p(1−p)/(Σα+1); 4 standard errors of the mean.
        for (s, p) in sums.iter().zip([0.2, 0.5, 0.3]) {
            let se = (p * (1.0 - p) / 101.0 / n as f64).sqrt();
            assert!((s / n as f64 - p).abs() < 4.0 * se, "{s}");
        }
    }

    #[test]
    fn impossible_specifications_name_the_field_and_the_fix() {
        let mut beta = def("beta");
        beta.mean = Some(Number(0.5));
        beta.se = Some(Number(0.6));
        let e = read(&beta, &[0.5]).unwrap_err();
        assert_eq!(e.field, "se");
        assert!(e.message.contains("no beta distribution"), "{}", e.message);
        let mut outside = def("beta");
        outside.mean = Some(Base);
        outside.se = Some(Number(0.1));
        let e = read(&outside, &[1.5]).unwrap_err();
        assert!(e.message.contains("`p0` is 1.5"), "{}", e.message);
        let mut stray = def("gamma");
        stray.shape = Some(2.0);
        stray.scale = Some(3.0);
        stray.sdlog = Some(1.0);
        assert_eq!(read(&stray, &[6.0]).unwrap_err().field, "sdlog");
        let mut two = def("lognormal");
        two.median = Some(Base);
        two.interval = Some(vec![Number(1.0), Number(2.0)]);
        let e = read(&two, &[1.4]).unwrap_err();
        assert!(e.message.contains("not both"), "{}", e.message);
        let mut percent_mean = def("gamma");
        percent_mean.mean = Some(Percent(100.0));
        percent_mean.se = Some(Number(1.0));
        assert_eq!(read(&percent_mean, &[5.0]).unwrap_err().field, "mean");
        let e = read(&def("lognormale"), &[1.0]).unwrap_err();
        assert!(
            e.message.contains("Did you mean `lognormal`"),
            "{}",
            e.message
        );
        let mut uniform = def("uniform");
        uniform.min = Some(Number(2.0));
        uniform.max = Some(Number(1.0));
        assert_eq!(read(&uniform, &[1.5]).unwrap_err().field, "max");
    }
}
