//! `hsctsim psa` and `hsctsim owsa`: sensitivity analyses of a scenario with `[psa]`.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use hsctsim::psa::files::{self as files, SensitivityManifest};
use hsctsim::psa::owsa::{self, Comparison};
use hsctsim::psa::{DrawOutcome, Psa, PsaError, analysis};
use hsctsim::shard::part::ScenarioSource;
use hsctsim::shard::psa::PsaPart;
use hsctsim::shard::{self, Shard};

use hsctsim::atomic::{Kind, Plan};
use hsctsim::output;

use super::destination::{kept, refused, write_failed};
use super::interrupt::Interrupt;
use super::{Failure, OutputOptions, Overrides, progress};
use hsctsim::model::worker_threads as effective_threads;

/// Reads a scenario with `[psa]`, with the command line's seed and threads.
fn load(path: &Path, overrides: &Overrides) -> Result<(Psa, ScenarioSource), Failure> {
    let composed = hsctsim::scenario::compose::load(path).map_err(Failure::input)?;
    let source = composed.composition().clone();
    let mut psa = Psa::compile(composed, &source.default_name()).map_err(Failure::input)?;
    overrides.apply(&mut psa.base.settings)?;
    // --patients is per draw (or per one-way run).
    if let Some(n) = overrides.patients {
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
    options: &OutputOptions,
) -> Result<PathBuf, Failure> {
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}_{kind}", psa.name)));
    let mut plan = Plan::new(options.force);
    for input in inputs {
        plan.input(input, "an input file");
    }
    plan.output(&out, Kind::Folder(output::FOLDER), "the output folder");
    plan.check().map_err(refused)?;
    Ok(out)
}

fn stopped(e: PsaError, interrupt: &Interrupt, out: &Path) -> Failure {
    match e {
        PsaError::Cancelled { done, total } => {
            let (signal, code) = interrupt.received();
            Failure::interrupted(
                code,
                format!(
                    "interrupted by {signal} after {done} of {total}; nothing was written: {} was left as it was",
                    out.display()
                ),
            )
        }
        PsaError::Draw { .. } => Failure::input(e),
        PsaError::Engine { .. } => Failure::run(e),
    }
}

/// Writes a PSA or OWSA folder all or nothing: the tables are staged, the figures drawn
/// from the staged tables into the staged folder, and the whole goes into place together.
/// Figures that cannot be drawn do not cost the tables (a warning says so).
fn write(out: &Path, files: &[(String, Vec<u8>)], options: &OutputOptions) -> Result<(), Failure> {
    let interrupt = Interrupt::install();
    let failed = |e| write_failed(e, &interrupt, &kept(&[out]));
    let mut folder = output::stage_folder(out, files, options.force).map_err(failed)?;
    let mut notes: Vec<(String, Vec<u8>)> = Vec::new();
    let figures = if options.figures {
        match hsctsim::plot::render_psa(
            folder.staging_path(),
            &hsctsim::plot::PlotOptions::after_simulation(),
        ) {
            Ok(figures) => {
                for f in &figures {
                    folder
                        .write(&format!("figures/{}", f.file_name), &f.bytes)
                        .map_err(failed)?;
                    if f.is_note() {
                        notes.push((format!("figures/{}", f.file_name), f.bytes.clone()));
                    }
                }
                None
            }
            Err(e) => Some(e),
        }
    } else {
        None
    };
    hsctsim::atomic::commit(&mut [folder.stage()], Some(interrupt.flag())).map_err(failed)?;
    super::warn_omitted(out, &notes);
    if let Some(e) = figures {
        super::say(format_args!(
            "warning: the figures could not be drawn ({e}); the tables in {} are complete, and `hsctsim plot {}` draws them again",
            out.display(),
            out.display()
        ));
    }
    Ok(())
}

/// `hsctsim psa SCENARIO` (with `shard`: one part file for `hsctsim merge`).
pub fn psa(
    scenario: &Path,
    overrides: &Overrides,
    draws: Option<u64>,
    shard: Option<&str>,
    options: &OutputOptions,
) -> Result<(), Failure> {
    let shard = shard
        .map(str::parse::<Shard>)
        .transpose()
        .map_err(Failure::input)?;
    let (psa, source) = load(scenario, overrides)?;
    let draws = match draws {
        None => psa.draws,
        Some(d) => psa
            .checked_draws(d)
            .map_err(|m| Failure::input(format!("--draws: {m}")))?,
    };
    let range = shard.map_or(1..draws + 1, |s| shard::psa::draws_of(s, draws));
    let out = match shard {
        None => destination(&psa, "psa", &source.files().collect::<Vec<_>>(), options)?,
        Some(_) => options
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("parts").join(format!("{}_psa", psa.name))),
    };
    if let Some(shard) = shard {
        let file = out.join(shard::psa::file_name(shard));
        let mut plan = Plan::new(false);
        super::plan_scenario(&mut plan, &source);
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
            .check_destination(&out, options.force)
            .map_err(Failure::input)?;
    }
    let interrupt = Interrupt::install();
    let bar = progress::count_bar(range.end - range.start, "draws", options.quiet);
    let advance = |n: u64| bar.inc(n);
    let threads = effective_threads(psa.base.settings.threads);
    let started = Instant::now();
    let outcome = psa.run(
        range.clone(),
        &hsctsim::psa::PsaControl {
            threads,
            progress: Some(&advance),
            cancel: Some(interrupt.flag()),
        },
    );
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let outcomes = match outcome {
        Ok(_) if interrupt.flag().load(Ordering::SeqCst) => {
            let n = range.end - range.start;
            return Err(stopped(
                PsaError::Cancelled { done: n, total: n },
                &interrupt,
                &out,
            ));
        }
        Ok(o) => o,
        Err(e) => return Err(stopped(e, &interrupt, &out)),
    };
    if let Some(shard) = shard {
        let part = PsaPart::new(&psa, &source, shard, draws, &outcomes);
        let path = out.join(shard::psa::file_name(shard));
        if let Some(mut staged) = part.stage(&out, options.force).map_err(Failure::input)? {
            hsctsim::atomic::commit(&mut [staged.stage()], Some(interrupt.flag()))
                .map_err(|e| write_failed(e, &interrupt, &kept(&[&path])))?;
        }
        if !options.quiet {
            super::say(format_args!(
                "shard {shard}: draws {}–{} of {draws} in {wall:.1} s → {}",
                range.start,
                range.end.saturating_sub(1),
                path.display()
            ));
        }
        return Ok(());
    }
    finish(
        &psa,
        &source,
        &outcomes,
        (threads, wall, None),
        &out,
        options,
    )
}

/// Analyses all draws and writes the PSA folder (for a whole run or a merge).
fn finish(
    psa: &Psa,
    source: &ScenarioSource,
    outcomes: &[DrawOutcome],
    (threads, wall, shards): (usize, f64, Option<u64>),
    out: &Path,
    options: &OutputOptions,
) -> Result<(), Failure> {
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
    write(
        out,
        &files::psa_files(psa, outcomes, &analysis, &manifest),
        options,
    )?;
    if !options.quiet {
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
        super::say(format_args!(
            "{draws} draws × {} patients × {} strategies {how}{verdict}; wrote {}",
            psa.patients,
            psa.base.strategies.len(),
            out.display()
        ));
    }
    Ok(())
}

/// `hsctsim merge` of PSA part files: the same folder as the unsharded `hsctsim psa`.
pub fn merge(files: &[PathBuf], options: &OutputOptions) -> Result<(), Failure> {
    let started = Instant::now();
    let merged = shard::psa::merge(files).map_err(Failure::input)?;
    let psa = merged.analysis().map_err(Failure::input)?;
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = destination(&psa, "psa", &inputs, options)?;
    let wall = started.elapsed().as_secs_f64();
    finish(
        &psa,
        &merged.scenario,
        &merged.outcomes,
        (1, wall, Some(merged.shards)),
        &out,
        options,
    )
}

/// Selections of `hsctsim owsa`.
pub struct Selection<'a> {
    /// Strategy whose incremental net benefit is shown.
    pub strategy: Option<&'a str>,
    /// Comparator.
    pub versus: Option<&'a str>,
    /// Threshold.
    pub wtp: Option<f64>,
}

fn strategy_index(psa: &Psa, flag: &str, name: &str) -> Result<usize, Failure> {
    psa.base
        .strategies
        .iter()
        .position(|s| s.name == name)
        .ok_or_else(|| {
            Failure::input(format!(
                "{flag} {name}: the scenario has no such strategy.{} Its strategies: {}",
                hsctsim::suggest::did_you_mean(
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

/// `hsctsim owsa SCENARIO`.
pub fn owsa(
    scenario: &Path,
    overrides: &Overrides,
    selection: &Selection,
    options: &OutputOptions,
) -> Result<(), Failure> {
    let (psa, source) = load(scenario, overrides)?;
    if psa.base.strategies.len() < 2 {
        return Err(Failure::input(format!(
            "{}: one-way analysis compares strategies; the scenario has only one",
            scenario.display()
        )));
    }
    if psa.parameters.iter().all(|p| p.range.is_none()) {
        return Err(Failure::input(format!(
            "{}: no [[psa.parameters]] entry has a single value to vary (Dirichlet groups are varied only in `hsctsim psa`)",
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
            return Err(Failure::input(format!(
                "--wtp must be a non-negative number, got {w}"
            )));
        }
        None => {
            return Err(Failure::input(format!(
                "{}: no willingness-to-pay threshold: give --wtp or [economics] wtp",
                scenario.display()
            )));
        }
    };
    let comparator = match selection.versus {
        Some(name) => strategy_index(&psa, "--versus", name)?,
        None => psa.base.settings.reference,
    };
    let strategy = selection
        .strategy
        .map(|name| strategy_index(&psa, "--strategy", name))
        .transpose()?;
    if strategy == Some(comparator) {
        return Err(Failure::input(
            "--strategy and --versus name the same strategy; choose two different ones",
        ));
    }
    let out = destination(&psa, "owsa", &source.files().collect::<Vec<_>>(), options)?;
    let interrupt = Interrupt::install();
    let runs = 1 + 2 * psa.parameters.iter().filter(|p| p.range.is_some()).count() as u64;
    let bar = progress::count_bar(runs, "runs", options.quiet);
    let advance = |n: u64| bar.inc(n);
    let threads = effective_threads(psa.base.settings.threads);
    let started = Instant::now();
    let outcome = owsa::run(
        &psa,
        owsa::patients(&psa),
        threads,
        Some(&advance),
        Some(interrupt.flag()),
    );
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let one_way = match outcome {
        Ok(_) if interrupt.flag().load(Ordering::SeqCst) => {
            return Err(stopped(
                PsaError::Cancelled {
                    done: runs,
                    total: runs,
                },
                &interrupt,
                &out,
            ));
        }
        Ok(o) => o,
        Err(e) => return Err(stopped(e, &interrupt, &out)),
    };
    let comparison = match strategy {
        Some(strategy) => Comparison {
            strategy,
            comparator,
            wtp,
        },
        None => one_way
            .default_comparison(comparator, wtp)
            .ok_or_else(|| Failure::input("no strategy to compare with the reference"))?,
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
    write(
        &out,
        &files::owsa_files(&psa, &one_way, &comparison, &manifest),
        options,
    )?;
    if !options.quiet {
        super::say(format_args!(
            "{} runs × {} patients in {wall:.1} s; tornado of `{}` vs `{}` at {} {}/QALY; wrote {}",
            runs,
            owsa::patients(&psa),
            psa.base.strategies[comparison.strategy].name,
            psa.base.strategies[comparison.comparator].name,
            wtp,
            economics.currency,
            out.display()
        ));
    }
    Ok(())
}
