//! Command-line interface: parses arguments, calls the library, maps errors to exit codes.
//!
//! Exit codes: 0 success; 1 the run failed (I/O, a full disk, a model that loops); 2 bad
//! input (scenario file, arguments, an output in the way); 130 interrupted by Ctrl-C (143
//! by SIGTERM).

mod bench;
mod calibrate;
mod check;
mod interrupt;
mod merge;
mod models;
mod plot;
mod progress;
mod psa;
mod run;
mod terminal;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hsctsim::shard::part::ScenarioSource;

/// Monte Carlo microsimulation of treatment strategies after a failed first stem cell transplant.
#[derive(Debug, Parser)]
#[command(name = "hsctsim", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A number of patients as people write it: `1000000`, `1_000_000` or `1e6`, from 1 to
/// the scenario files' own limit.
fn parse_patients(text: &str) -> Result<u64, String> {
    let max = hsctsim::scenario::build::MAX_PATIENTS;
    let digits = text.replace('_', "");
    let count = digits.parse::<u64>().ok().or_else(|| {
        let x = digits.parse::<f64>().ok()?;
        (x >= 0.0 && x.fract() == 0.0 && x <= 1e18).then_some(x as u64)
    });
    match count {
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(format!(
            "the number of patients must be between 1 and {max}, got {n}"
        )),
        None => Err(format!(
            "expected a whole number of patients such as 1000000, 1_000_000 or 1e6, got `{text}`"
        )),
    }
}

/// A number of worker threads: 0 (all cores) to the library's limit.
fn parse_threads(text: &str) -> Result<usize, String> {
    let max = hsctsim::service::MAX_THREADS;
    match text.parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!(
            "the number of threads must be between 0 (all cores) and {max}, got `{text}`"
        )),
    }
}

/// A willingness to pay per QALY: finite and not negative.
fn parse_wtp(text: &str) -> Result<f64, String> {
    match text.replace('_', "").parse::<f64>() {
        Ok(w) if w.is_finite() && w >= 0.0 => Ok(w),
        _ => Err(format!(
            "expected a willingness to pay per QALY such as 50000 (finite, not negative), got `{text}`"
        )),
    }
}

/// Settings a command line may override.
#[derive(Debug, Clone, clap::Args)]
pub struct Overrides {
    /// Number of patients (each runs under every strategy): 1000000, 1_000_000 or 1e6.
    #[arg(long, short = 'n', value_parser = parse_patients)]
    pub patients: Option<u64>,
    /// Master random seed.
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Worker threads (0: all cores).
    #[arg(long, short = 't', value_parser = parse_threads)]
    pub threads: Option<usize>,
}

/// Where a command writes and how loudly: one group of options for every command that
/// writes an output folder. Each command's variant words the help of `--out` (its default
/// folder) and, where it differs, of the others (`mut_arg`).
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output folder.
    #[arg(long, short = 'o')]
    pub out: Option<PathBuf>,
    /// Replace an existing output folder.
    #[arg(long, short = 'f')]
    pub force: bool,
    /// No progress bar or summary line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Do not render figures.
    #[arg(long)]
    pub no_figures: bool,
}

impl OutputArgs {
    /// The options as the commands take them.
    pub fn options(&self) -> OutputOptions {
        OutputOptions {
            out: self.out.clone(),
            force: self.force,
            quiet: self.quiet,
            figures: !self.no_figures,
        }
    }
}

/// The patient-level export of `hsctsim run`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Also write every simulated life to FILE as CSV, one row per transition (columns in
    /// the README, "Patient-level export"); written atomically, rows in patient order.
    #[arg(long, value_name = "FILE")]
    pub export_patients: Option<PathBuf>,
    /// Censor the export like a study that recruits uniformly over this long (e.g. "3y";
    /// bare numbers are months). The curves are not affected.
    #[arg(long, value_name = "DURATION", requires = "export_patients")]
    pub accrual: Option<String>,
    /// Censor the export like a study analysed this long after its last patient entered
    /// (e.g. "1y"). With --accrual A, patient i is followed for F + U_i·A.
    #[arg(long, value_name = "DURATION", requires = "export_patients")]
    pub min_follow_up: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario and write curves.csv, summary.csv, manifest.json and figures/
    /// (with --shard: one part file for `hsctsim merge`).
    #[command(
        mut_arg("out", |a| a.help("Output folder (default: output/<scenario name>; with --shard: parts/<scenario name>)")),
        mut_arg("force", |a| a.help("Replace an existing output folder (and patient export file)")),
        mut_arg("quiet", |a| a.help("No progress bar")),
        mut_arg("no_figures", |a| a.help("Do not render figures (e.g. for many runs whose figures nobody looks at)"))
    )]
    Run {
        /// Scenario file (TOML).
        scenario: PathBuf,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        overrides: Overrides,
        /// Simulate only shard K of N (K from 0 to N-1) and write its part file
        /// part-K-of-N.json into the output folder; `hsctsim merge` combines the parts.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        #[command(flatten)]
        export: ExportArgs,
    },
    /// Re-render a run's figures from its CSV files into RUN_DIR/figures (no simulation);
    /// for the folder of a probabilistic or one-way sensitivity analysis, its CE plane,
    /// acceptability curves, EVPI and tornado figures.
    Plot {
        /// Output folder of `hsctsim run` (or of a PSA or one-way analysis).
        run_dir: PathBuf,
        #[command(flatten)]
        args: plot::PlotArgs,
        /// Do not list the files written.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Merge the part files of a sharded run (or PSA) into the same output as a single run.
    #[command(
        mut_arg("out", |a| a.help("Output folder (default: output/<scenario name>, output/<scenario name>_psa for PSA parts)")),
        mut_arg("quiet", |a| a.help("No summary line"))
    )]
    Merge {
        /// Folders of part files (part-K-of-N.json, or psa-part-K-of-N.json), or part files.
        #[arg(required = true, value_name = "PARTS")]
        parts: Vec<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Check a scenario file without running it.
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
    },
    /// List the built-in models, or show one model's parameters with their sources.
    Models {
        /// Print this model (a built-in name or a model file) with every parameter's source.
        #[arg(long, value_name = "MODEL")]
        show: Option<String>,
    },
    /// Simulate every study cohort of a target file and compare with the published values.
    #[command(
        mut_arg("out", |a| a.help("Output folder (default: output/check/<target file name>)")),
        mut_arg("quiet", |a| a.help("No progress bar, no closing line on stderr")),
        mut_arg("no_figures", |a| a.help("Do not draw the calibration figure"))
    )]
    Check {
        /// Target file (TOML), e.g. calibration/targets.toml.
        targets: PathBuf,
        /// Check this model instead of the file's (a built-in name or a model file).
        #[arg(long, short = 'm')]
        model: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        overrides: Overrides,
    },
    /// Fit model parameters to the targets of a target file (Nelder–Mead, common random
    /// numbers); writes the fitted model and the check tables before and after.
    Calibrate {
        /// Fit specification (TOML), e.g. calibration/fit.toml.
        spec: PathBuf,
        /// Output folder (default: output/calibrate/<file name>).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        #[command(flatten)]
        overrides: Overrides,
        /// Objective evaluations allowed, 1 to 1000000 (overrides the file).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        max_evaluations: Option<u64>,
        /// Patients per cohort for the check tables before and after the fit.
        #[arg(long, value_parser = parse_patients)]
        check_patients: Option<u64>,
        /// Replace an existing output folder.
        #[arg(long, short = 'f')]
        force: bool,
        /// No progress lines.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Probabilistic sensitivity analysis: draw the `[psa]` parameters, simulate each draw,
    /// and write per-draw results, acceptability curves, the frontier and EVPI.
    #[command(mut_arg("out", |a| a.help("Output folder (default: output/<scenario name>_psa)")))]
    Psa {
        /// Scenario file (TOML) with [economics] and [psa].
        scenario: PathBuf,
        /// Parameter draws (default: [psa] draws, else 1000).
        #[arg(long, short = 'd')]
        draws: Option<u64>,
        /// Run only shard K of N of the draws and write psa-part-K-of-N.json into the output
        /// folder (default parts/<name>_psa); `hsctsim merge` combines the parts.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
        /// --patients is per draw (default: [psa] patients, else [simulation] patients).
        #[command(flatten)]
        overrides: Overrides,
    },
    /// One-way sensitivity analysis: each `[psa]` parameter at its low and high value, and
    /// the tornado of incremental net benefit.
    #[command(mut_arg("out", |a| a.help("Output folder (default: output/<scenario name>_owsa)")))]
    Owsa {
        /// Scenario file (TOML) with [economics] and [psa].
        scenario: PathBuf,
        #[command(flatten)]
        output: OutputArgs,
        /// --patients is per run (default: [psa] patients, else [simulation] patients).
        #[command(flatten)]
        overrides: Overrides,
        /// Strategy whose incremental net benefit the tornado shows (default: the best
        /// other than the reference at the threshold).
        #[arg(long)]
        strategy: Option<String>,
        /// Comparator (default: the reference strategy).
        #[arg(long)]
        versus: Option<String>,
        /// Willingness to pay per QALY, a finite number ≥ 0 (default: the first [economics] wtp).
        #[arg(long, value_parser = parse_wtp)]
        wtp: Option<f64>,
    },
    /// Measure patients per second, and the same random draws in a bare loop.
    Bench {
        /// Scenario file (TOML).
        scenario: PathBuf,
        #[command(flatten)]
        overrides: Overrides,
        /// Repetitions, 1 to 100 (the best is reported).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
        repeat: u64,
    },
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let outcome = match cli.command {
        Command::Run {
            scenario,
            output,
            overrides,
            shard,
            export,
        } => run::run(
            &scenario,
            output.out.clone(),
            &overrides,
            shard.as_deref(),
            &export,
            run::Flags {
                force: output.force,
                quiet: output.quiet,
                figures: !output.no_figures,
            },
        ),
        Command::Merge { parts, output } => merge::merge(
            &parts,
            output.out.clone(),
            output.force,
            output.quiet,
            !output.no_figures,
        ),
        Command::Plot {
            run_dir,
            args,
            quiet,
        } => plot::plot(&run_dir, &args, quiet),
        Command::Validate { scenario } => run::validate(&scenario),
        Command::Models { show } => models::models(show.as_deref()),
        Command::Calibrate {
            spec,
            out,
            overrides,
            max_evaluations,
            check_patients,
            force,
            quiet,
        } => calibrate::calibrate(
            &spec,
            &overrides,
            &calibrate::CalibrateOptions {
                out,
                max_evaluations: max_evaluations.map(|m| m as usize),
                check_patients,
                force,
                quiet,
            },
        ),
        Command::Check {
            targets,
            model,
            output,
            overrides,
        } => check::check(&targets, model.as_deref(), &overrides, &output.options()),
        Command::Bench {
            scenario,
            overrides,
            repeat,
        } => bench::bench(&scenario, &overrides, repeat as usize),
        Command::Psa {
            scenario,
            draws,
            shard,
            output,
            overrides,
        } => psa::psa(
            &scenario,
            &overrides,
            draws,
            shard.as_deref(),
            &output.options(),
        ),
        Command::Owsa {
            scenario,
            output,
            overrides,
            strategy,
            versus,
            wtp,
        } => psa::owsa(
            &scenario,
            &overrides,
            &hsctsim::service::sensitivity::Selection {
                strategy,
                versus,
                wtp,
            },
            &output.options(),
        ),
    };
    match outcome {
        Ok(()) => 0,
        // The reader of standard output went away (`| head`): what it wanted is written.
        Err(failure) if failure.code == 0 => 0,
        Err(failure) => {
            say(format_args!("error: {}", failure.message));
            failure.code
        }
    }
}

/// Writes a line to standard error with terminal control characters made visible (text
/// from scenario files reaches it); never fails, never panics (a closed standard error is
/// no reason to lose a result).
pub fn say(args: std::fmt::Arguments) {
    use std::io::Write;
    let text = args.to_string();
    let _ = writeln!(std::io::stderr().lock(), "{}", terminal::safe(&text));
}

/// The command line's words for a service's failure: its exit code (1 the run's fault, 2
/// the input's, 128 + the signal for a stop), and the options that would help.
pub fn service_failure(
    e: hsctsim::service::ServiceError,
    interrupt: &interrupt::Interrupt,
) -> Failure {
    use hsctsim::service::{Fault, Remedy};
    let hint = match e.remedy {
        Some(Remedy::ReplaceOrElsewhere) => {
            "; use --force to replace it, or --out to write elsewhere".to_string()
        }
        Some(Remedy::Elsewhere) => " (choose the place with --out)".to_string(),
        Some(Remedy::RunShards(None)) => {
            " with `hsctsim run SCENARIO --shard K/N --out FOLDER`".to_string()
        }
        Some(Remedy::RunShards(Some((k, n)))) => {
            format!(" (e.g. `hsctsim run SCENARIO --shard {k}/{n} --out FOLDER`)")
        }
        None => String::new(),
    };
    match e.fault {
        Fault::Input => Failure::input(format!("{}{hint}", e.message)),
        Fault::Run => Failure::run(format!("{}{hint}", e.message)),
        Fault::Interrupted => {
            let (signal, code) = interrupt.received();
            Failure::interrupted(code, format!("interrupted by {signal} {}", e.message))
        }
    }
}

/// Writes `text` to standard output. A reader that went away (`hsctsim models | head`)
/// ends the command quietly with exit 0; any other failure (a full disk behind `>`) is the
/// run's failure (exit 1).
pub fn print_out(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let text = terminal::safe(text);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure {
            code: 0,
            message: String::new(),
        }),
        Err(e) => Err(Failure::run(format!(
            "cannot write to standard output: {e}"
        ))),
    }
}

/// A failure with its exit code.
pub struct Failure {
    /// Exit code.
    pub code: i32,
    /// What to print.
    pub message: String,
}

impl Failure {
    /// Bad input (exit 2).
    pub fn input(message: impl ToString) -> Failure {
        Failure {
            code: 2,
            message: message.to_string(),
        }
    }

    /// The run failed (exit 1).
    pub fn run(message: impl ToString) -> Failure {
        Failure {
            code: 1,
            message: message.to_string(),
        }
    }

    /// The run was interrupted by a signal (exit 128 + the signal's number).
    pub fn interrupted(code: i32, message: impl ToString) -> Failure {
        Failure {
            code,
            message: message.to_string(),
        }
    }
}

/// Loads a scenario and applies command-line overrides, checked like the file's values.
pub fn load(
    path: &std::path::Path,
    overrides: &Overrides,
) -> Result<hsctsim::model::Model, Failure> {
    load_source(path, overrides).map(|(model, _)| model)
}

/// [`load`], also returning every file the model was composed of (each read once, so the
/// hashes in the manifest and the part files are those of what was simulated).
pub fn load_source(
    path: &std::path::Path,
    overrides: &Overrides,
) -> Result<(hsctsim::model::Model, ScenarioSource), Failure> {
    let composed = hsctsim::scenario::compose::load(path).map_err(Failure::input)?;
    let source = composed.composition().clone();
    let mut model = composed
        .build(&source.default_name())
        .map_err(Failure::input)?;
    overrides.apply(&mut model.settings)?;
    Ok((model, source))
}

/// Where a command writes and how loudly: shared by `check`, `psa`, `owsa` and `merge`.
pub struct OutputOptions {
    /// Output folder (`None`: the command's default).
    pub out: Option<PathBuf>,
    /// Replace it.
    pub force: bool,
    /// No progress bar or summary line.
    pub quiet: bool,
    /// Render figures.
    pub figures: bool,
}

impl Overrides {
    /// The values as a library request.
    pub fn settings(&self) -> hsctsim::service::SettingsOverride {
        hsctsim::service::SettingsOverride {
            patients: self.patients,
            seed: self.seed,
            threads: self.threads,
        }
    }

    /// Sets the given values in `settings`, checked like the file's values.
    pub fn apply(&self, settings: &mut hsctsim::model::Settings) -> Result<(), Failure> {
        self.settings()
            .apply(settings)
            .map_err(|e| Failure::input(e.message))
    }
}
