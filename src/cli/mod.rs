//! Command-line interface: parses arguments, calls the library, maps errors to exit codes.
//!
//! Exit codes: 0 success; 1 the run failed (I/O, a model that loops); 2 bad input
//! (scenario file, arguments); 130 interrupted.

mod bench;
mod calibrate;
mod check;
mod models;
mod progress;
mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Monte Carlo microsimulation of treatment strategies after a failed first stem cell transplant.
#[derive(Debug, Parser)]
#[command(name = "hsctsim", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Settings a command line may override.
#[derive(Debug, Clone, clap::Args)]
pub struct Overrides {
    /// Number of patients (each runs under every strategy).
    #[arg(long, short = 'n')]
    pub patients: Option<u64>,
    /// Master random seed.
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Worker threads (0: all cores).
    #[arg(long, short = 't')]
    pub threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario and write curves.csv, summary.csv and manifest.json.
    Run {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Output folder (default: output/<scenario name>).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        #[command(flatten)]
        overrides: Overrides,
        /// Replace an existing output folder.
        #[arg(long, short = 'f')]
        force: bool,
        /// No progress bar.
        #[arg(long, short = 'q')]
        quiet: bool,
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
    Check {
        /// Target file (TOML), e.g. calibration/targets.toml.
        targets: PathBuf,
        /// Check this model instead of the file's (a built-in name or a model file).
        #[arg(long, short = 'm')]
        model: Option<String>,
        /// Output folder (default: output/check/<target file name>).
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
        #[command(flatten)]
        overrides: Overrides,
        /// Replace an existing output folder.
        #[arg(long, short = 'f')]
        force: bool,
        /// No progress bar, no closing line on stderr.
        #[arg(long, short = 'q')]
        quiet: bool,
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
        /// Objective evaluations allowed (overrides the file).
        #[arg(long)]
        max_evaluations: Option<usize>,
        /// Patients per cohort for the check tables before and after the fit.
        #[arg(long)]
        check_patients: Option<u64>,
        /// Replace an existing output folder.
        #[arg(long, short = 'f')]
        force: bool,
        /// No progress lines.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Measure patients per second, and the same random draws in a bare loop.
    Bench {
        /// Scenario file (TOML).
        scenario: PathBuf,
        #[command(flatten)]
        overrides: Overrides,
        /// Repetitions (the best is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
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
            out,
            overrides,
            force,
            quiet,
        } => run::run(&scenario, out, &overrides, force, quiet),
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
                max_evaluations,
                check_patients,
                force,
                quiet,
            },
        ),
        Command::Check {
            targets,
            model,
            out,
            overrides,
            force,
            quiet,
        } => check::check(&targets, model.as_deref(), out, &overrides, force, quiet),
        Command::Bench {
            scenario,
            overrides,
            repeat,
        } => bench::bench(&scenario, &overrides, repeat),
    };
    match outcome {
        Ok(()) => 0,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.code
        }
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
}

/// Loads a scenario and applies command-line overrides, checked like the file's values.
pub fn load(
    path: &std::path::Path,
    overrides: &Overrides,
) -> Result<hsctsim::model::Model, Failure> {
    let mut model = hsctsim::scenario::load(path).map_err(Failure::input)?;
    if let Some(n) = overrides.patients {
        if n == 0 || n > hsctsim::scenario::build::MAX_PATIENTS {
            return Err(Failure::input(format!(
                "--patients must be between 1 and {}, got {n}",
                hsctsim::scenario::build::MAX_PATIENTS
            )));
        }
        model.settings.patients = n;
    }
    if let Some(seed) = overrides.seed {
        model.settings.seed = seed;
    }
    if let Some(threads) = overrides.threads {
        if threads > 4096 {
            return Err(Failure::input(format!(
                "--threads must be between 0 (all cores) and 4096, got {threads}"
            )));
        }
        model.settings.threads = threads;
    }
    Ok(model)
}
