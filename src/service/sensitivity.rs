//! The sensitivity-analysis services: the probabilistic analysis (all draws, one shard of
//! them into a part file, or the merge of such parts) and the one-way analysis, each in the
//! order of the run service: load and check, plan the destination, simulate, analyse, stage
//! the tables and draw the figures from them, and put the folder in place whole.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{
    Destination, ServiceError, Session, SettingsOverride, figures_failed_warning, kept,
    omitted_warnings, plan_scenario, refused, write_failed,
};
use crate::atomic::{self, Kind, Plan};
use crate::model::worker_threads;
use crate::output;
use crate::psa::files::{self, SensitivityManifest};
use crate::psa::owsa::{self, Comparison};
use crate::psa::{DrawOutcome, Psa, PsaControl, PsaError, analysis};
use crate::shard::part::ScenarioSource;
use crate::shard::psa::PsaPart;
use crate::shard::{self, Shard};

/// What a completed analysis wrote, and a one-line summary of it.
#[derive(Debug, Clone)]
pub struct AnalysisReport {
    /// The output folder, or for a shard the part file.
    pub written: PathBuf,
    /// What was done and found, in a sentence.
    pub summary: String,
    /// Things the user should know that did not stop the analysis.
    pub warnings: Vec<String>,
}

/// Reads a scenario with `[psa]`, with the request's seed and threads; the request's
/// patients are per draw (or per one-way run).
pub fn load(
    path: &Path,
    settings: &SettingsOverride,
) -> Result<(Psa, ScenarioSource), ServiceError> {
    let composed = crate::scenario::compose::load(path).map_err(ServiceError::input)?;
    let source = composed.composition().clone();
    let mut psa = Psa::compile(composed, &source.default_name()).map_err(ServiceError::input)?;
    settings.apply(&mut psa.base.settings)?;
    if let Some(n) = settings.patients {
        psa.patients = n;
    }
    Ok((psa, source))
}

/// The output folder: as given, or `output/<name>_<kind>`; planned against `inputs` (the
/// scenario, or the parts of a merge) before any work.
fn destination(
    psa: &Psa,
    kind: &str,
    inputs: &[&Path],
    to: &Destination,
) -> Result<PathBuf, ServiceError> {
    let out = to
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}_{kind}", psa.name)));
    let mut plan = Plan::new(to.replace);
    for input in inputs {
        plan.input(input, "an input file");
    }
    plan.output(&out, Kind::Folder(output::FOLDER), "the output folder");
    plan.check().map_err(refused)?;
    Ok(out)
}

fn stopped(e: PsaError, out: &Path) -> ServiceError {
    match e {
        PsaError::Cancelled { done, total } => ServiceError::interrupted(format!(
            "after {done} of {total}; nothing was written: {} was left as it was",
            out.display()
        )),
        PsaError::Draw { .. } => ServiceError::input(e),
        PsaError::Engine { .. } => ServiceError::run(e),
    }
}

/// Writes a PSA or OWSA folder all or nothing: the tables are staged, the figures drawn
/// from the staged tables into the staged folder, and the whole goes into place together.
/// Figures that cannot be drawn do not cost the tables; the warnings say so.
fn write(
    out: &Path,
    files: &[(String, Vec<u8>)],
    to: &Destination,
    session: Session,
) -> Result<Vec<String>, ServiceError> {
    let failed = |e| write_failed(e, &kept(&[out]));
    let mut folder = output::stage_folder(out, files, to.replace).map_err(failed)?;
    let mut notes: Vec<(String, Vec<u8>)> = Vec::new();
    let figures_failed = if to.figures {
        match crate::plot::render_psa(
            folder.staging_path(),
            &crate::plot::PlotOptions::after_simulation(),
        ) {
            Ok(figures) => {
                for f in &figures {
                    let name = format!("figures/{}", f.file_name);
                    folder.write(&name, &f.bytes).map_err(failed)?;
                    if f.is_note() {
                        notes.push((name, f.bytes.clone()));
                    }
                }
                None
            }
            Err(e) => Some(e),
        }
    } else {
        None
    };
    atomic::commit(&mut [folder.stage()], Some(session.stop)).map_err(failed)?;
    let mut warnings = omitted_warnings(out, &notes);
    if let Some(e) = figures_failed {
        warnings.push(figures_failed_warning(&e, out, "tables"));
    }
    Ok(warnings)
}

/// A probabilistic sensitivity analysis: `draws` (default the scenario's) of the `[psa]`
/// parameters, each simulated; with `shard`, only that shard's draws, into a part file.
pub fn psa(
    scenario: &Path,
    settings: &SettingsOverride,
    draws: Option<u64>,
    shard: Option<Shard>,
    to: &Destination,
    session: Session,
) -> Result<AnalysisReport, ServiceError> {
    let (psa, source) = load(scenario, settings)?;
    let draws = match draws {
        None => psa.draws,
        Some(d) => psa
            .checked_draws(d)
            .map_err(|m| ServiceError::input(format!("the requested draws: {m}")))?,
    };
    let range = shard.map_or(1..draws + 1, |s| shard::psa::draws_of(s, draws));
    let out = match shard {
        None => destination(&psa, "psa", &source.files().collect::<Vec<_>>(), to)?,
        Some(_) => to
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("parts").join(format!("{}_psa", psa.name))),
    };
    if let Some(shard) = shard {
        let file = out.join(shard::psa::file_name(shard));
        let mut plan = Plan::new(false);
        plan_scenario(&mut plan, &source);
        plan.output(&out, Kind::Collection, "the parts folder");
        // A part of the same analysis may always be rewritten (see `check_destination`).
        plan.output_replacing(
            &file,
            Kind::File(shard::psa::SIGNATURE),
            "the part file",
            true,
        );
        plan.check().map_err(refused)?;
        PsaPart::new(&psa, &source, shard, draws, &[])
            .check_destination(&out, to.replace)
            .map_err(super::run::part_failed)?;
    }
    let progress = session.progress;
    progress.start(range.end - range.start, "draws");
    let advance = |n: u64| progress.advance(n);
    let threads = worker_threads(psa.base.settings.threads);
    let started = Instant::now();
    let outcome = psa.run(
        range.clone(),
        &PsaControl {
            threads,
            progress: Some(&advance),
            cancel: Some(session.stop),
        },
    );
    progress.finish();
    let wall = started.elapsed().as_secs_f64();
    let outcomes = match outcome {
        Ok(_) if session.stop.load(Ordering::SeqCst) => {
            let n = range.end - range.start;
            return Err(stopped(PsaError::Cancelled { done: n, total: n }, &out));
        }
        Ok(o) => o,
        Err(e) => return Err(stopped(e, &out)),
    };
    if let Some(shard) = shard {
        let part = PsaPart::new(&psa, &source, shard, draws, &outcomes);
        let path = out.join(shard::psa::file_name(shard));
        if let Some(mut staged) = part.stage(&out, to.replace).map_err(ServiceError::input)? {
            atomic::commit(&mut [staged.stage()], Some(session.stop))
                .map_err(|e| write_failed(e, &kept(&[&path])))?;
        }
        return Ok(AnalysisReport {
            summary: format!(
                "shard {shard}: draws {}–{} of {draws} in {wall:.1} s → {}",
                range.start,
                range.end.saturating_sub(1),
                path.display()
            ),
            written: path,
            warnings: Vec::new(),
        });
    }
    finish(
        &psa,
        &source,
        &outcomes,
        (threads, wall, None),
        &out,
        to,
        session,
    )
}

/// Analyses all draws and writes the PSA folder (for a whole run or a merge).
fn finish(
    psa: &Psa,
    source: &ScenarioSource,
    outcomes: &[DrawOutcome],
    (threads, wall, shards): (usize, f64, Option<u64>),
    out: &Path,
    to: &Destination,
    session: Session,
) -> Result<AnalysisReport, ServiceError> {
    let economics = psa
        .base
        .economics
        .as_ref()
        .expect("compiled with economics");
    let reference = psa.base.settings.reference;
    let analysis = analysis::analyse(
        outcomes,
        psa.base.strategies.len(),
        reference,
        &psa.wtp_grid,
        &economics.wtp,
    );
    let draws = outcomes.len() as u64;
    let mut manifest =
        SensitivityManifest::new(psa, "psa", source, draws, psa.patients, threads, wall);
    manifest.merged_from_shards = shards;
    let warnings = write(
        out,
        &files::psa_files(psa, outcomes, &analysis, &manifest),
        to,
        session,
    )?;
    let main = economics.wtp.first().copied();
    let best = main.and_then(|w| analysis.ceac.iter().find(|p| p.wtp == w && p.optimal));
    let verdict = match (main, best) {
        (Some(w), Some(p)) => format!(
            "; at {} {}/QALY `{}` has the highest expected net benefit (probability cost-effective {:.0} %)",
            w,
            economics.currency,
            psa.base.strategies[p.strategy].name,
            100.0 * p.probability
        ),
        _ => String::new(),
    };
    let how = match shards {
        Some(n) => format!("merged from {n} shards in {wall:.2} s"),
        None => format!("in {wall:.1} s"),
    };
    Ok(AnalysisReport {
        summary: format!(
            "{draws} draws × {} patients × {} strategies {how}{verdict}; wrote {}",
            psa.patients,
            psa.base.strategies.len(),
            out.display()
        ),
        written: out.to_path_buf(),
        warnings,
    })
}

/// Merges PSA part files into the folder the unsharded analysis would have written.
pub fn merge_psa(
    parts: &[PathBuf],
    to: &Destination,
    session: Session,
) -> Result<AnalysisReport, ServiceError> {
    let started = Instant::now();
    let merged = shard::psa::merge(parts).map_err(ServiceError::input)?;
    let psa = merged.analysis().map_err(ServiceError::input)?;
    let inputs: Vec<&Path> = parts.iter().map(PathBuf::as_path).collect();
    let out = destination(&psa, "psa", &inputs, to)?;
    let wall = started.elapsed().as_secs_f64();
    finish(
        &psa,
        &merged.scenario,
        &merged.outcomes,
        (1, wall, Some(merged.shards)),
        &out,
        to,
        session,
    )
}

/// What the one-way analysis's tornado compares.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Strategy whose incremental net benefit is shown (default: the best other than the
    /// comparator at the threshold).
    pub strategy: Option<String>,
    /// Comparator (default: the reference strategy).
    pub versus: Option<String>,
    /// Threshold per QALY (default: the first `[economics] wtp`).
    pub wtp: Option<f64>,
}

fn strategy_index(psa: &Psa, role: &str, name: &str) -> Result<usize, ServiceError> {
    psa.base
        .strategies
        .iter()
        .position(|s| s.name == name)
        .ok_or_else(|| {
            ServiceError::input(format!(
                "{role} `{name}`: the scenario has no such strategy.{} Its strategies: {}",
                crate::suggest::did_you_mean(
                    name,
                    psa.base.strategies.iter().map(|s| s.name.as_str())
                ),
                psa.base
                    .strategies
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// The one-way sensitivity analysis: each `[psa]` parameter at its low and high value,
/// and the tornado of the incremental net benefit `selection` asks for.
pub fn owsa(
    scenario: &Path,
    settings: &SettingsOverride,
    selection: &Selection,
    to: &Destination,
    session: Session,
) -> Result<AnalysisReport, ServiceError> {
    let (psa, source) = load(scenario, settings)?;
    if psa.base.strategies.len() < 2 {
        return Err(ServiceError::input(format!(
            "{}: one-way analysis compares strategies; the scenario has only one",
            scenario.display()
        )));
    }
    if psa.parameters.iter().all(|p| p.range.is_none()) {
        return Err(ServiceError::input(format!(
            "{}: no [[psa.parameters]] entry has a single value to vary (Dirichlet groups are varied only in the probabilistic analysis)",
            scenario.display()
        )));
    }
    let economics = psa
        .base
        .economics
        .as_ref()
        .expect("compiled with economics");
    let wtp = match selection.wtp.or(economics.wtp.first().copied()) {
        Some(w) if w.is_finite() && w >= 0.0 => w,
        Some(w) => {
            return Err(ServiceError::input(format!(
                "the willingness to pay must be a non-negative number, got {w}"
            )));
        }
        None => {
            return Err(ServiceError::input(format!(
                "{}: no willingness-to-pay threshold: ask for one, or set [economics] wtp",
                scenario.display()
            )));
        }
    };
    let comparator = match &selection.versus {
        Some(name) => strategy_index(&psa, "comparator", name)?,
        None => psa.base.settings.reference,
    };
    let strategy = selection
        .strategy
        .as_deref()
        .map(|name| strategy_index(&psa, "strategy", name))
        .transpose()?;
    if strategy == Some(comparator) {
        return Err(ServiceError::input(
            "the strategy shown and its comparator are the same strategy; choose two different ones",
        ));
    }
    let out = destination(&psa, "owsa", &source.files().collect::<Vec<_>>(), to)?;
    let runs = 1 + 2 * psa.parameters.iter().filter(|p| p.range.is_some()).count() as u64;
    let progress = session.progress;
    progress.start(runs, "runs");
    let advance = |n: u64| progress.advance(n);
    let threads = worker_threads(psa.base.settings.threads);
    let started = Instant::now();
    let outcome = owsa::run(
        &psa,
        owsa::patients(&psa),
        threads,
        Some(&advance),
        Some(session.stop),
    );
    progress.finish();
    let wall = started.elapsed().as_secs_f64();
    let one_way = match outcome {
        Ok(_) if session.stop.load(Ordering::SeqCst) => {
            return Err(stopped(
                PsaError::Cancelled {
                    done: runs,
                    total: runs,
                },
                &out,
            ));
        }
        Ok(o) => o,
        Err(e) => return Err(stopped(e, &out)),
    };
    let comparison = match strategy {
        Some(strategy) => Comparison {
            strategy,
            comparator,
            wtp,
        },
        None => one_way
            .default_comparison(comparator, wtp)
            .ok_or_else(|| ServiceError::input("no strategy to compare with the reference"))?,
    };
    let manifest = SensitivityManifest::new(
        &psa,
        "owsa",
        &source,
        runs,
        owsa::patients(&psa),
        threads,
        wall,
    );
    let warnings = write(
        &out,
        &files::owsa_files(&psa, &one_way, &comparison, &manifest),
        to,
        session,
    )?;
    Ok(AnalysisReport {
        summary: format!(
            "{} runs × {} patients in {wall:.1} s; tornado of `{}` vs `{}` at {} {}/QALY; wrote {}",
            runs,
            owsa::patients(&psa),
            psa.base.strategies[comparison.strategy].name,
            psa.base.strategies[comparison.comparator].name,
            wtp,
            economics.currency,
            out.display()
        ),
        written: out,
        warnings,
    })
}
