//! `hsctsim plot`: re-renders a run's figures from its files (no simulation), or the
//! figures of a sensitivity analysis from its folder.

use std::path::{Path, PathBuf};

use hsctsim::plot::{self, Format, Measure, PlotError, PlotOptions};

use super::Failure;

/// Command-line options of `plot`, as typed.
#[derive(Debug, Clone, clap::Args)]
pub struct PlotArgs {
    /// Formats, comma-separated: svg, png.
    #[arg(long, value_delimiter = ',', default_value = "svg,png")]
    pub format: Vec<String>,
    /// Time origins, comma-separated: entry, hsct2 (default: all the run has).
    #[arg(long, value_delimiter = ',')]
    pub origin: Vec<String>,
    /// Figures, comma-separated: os, lfs, cir, nrm, occupancy, calibration (default: all).
    #[arg(long, value_delimiter = ',')]
    pub measure: Vec<String>,
    /// Strategies by name, comma-separated, in legend order (default: all).
    #[arg(long, value_delimiter = ',')]
    pub strategies: Vec<String>,
    /// Start of the time axis, months.
    #[arg(long)]
    pub from: Option<f64>,
    /// End of the time axis, months (default: the run's horizon).
    #[arg(long)]
    pub to: Option<f64>,
    /// Title of every figure drawn ("" for none).
    #[arg(long)]
    pub title: Option<String>,
    /// Width in pixels (default 2100 = 7 inches at 300 dpi; the layout scales with it).
    #[arg(long)]
    pub width: Option<u32>,
    /// Height in pixels (default: each figure's own, scaled with the width).
    #[arg(long)]
    pub height: Option<u32>,
    /// Logarithmic y axis for survival and incidence.
    #[arg(long)]
    pub log: bool,
    /// Give each curve's value and 95 % CI at this many months in the legend.
    #[arg(long)]
    pub landmark: Option<f64>,
}

impl PlotArgs {
    /// Options given that apply to run figures only, as typed on the command line.
    fn run_only_options(&self) -> Vec<&'static str> {
        [
            ("--origin", !self.origin.is_empty()),
            ("--measure", !self.measure.is_empty()),
            ("--strategies", !self.strategies.is_empty()),
            ("--from", self.from.is_some()),
            ("--to", self.to.is_some()),
            ("--log", self.log),
            ("--landmark", self.landmark.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }

    /// The library's options (checked: unknown names are errors with suggestions).
    pub fn options(&self) -> Result<PlotOptions, PlotError> {
        // The library checks sizes too; here they are worded as the options they are.
        let (low, high) = plot::SIZE_LIMITS;
        for (flag, value) in [("--width", self.width), ("--height", self.height)] {
            if let Some(v) = value
                && !(low..=high).contains(&v)
            {
                return Err(PlotError::Selection {
                    message: format!("{flag} must be between {low} and {high} pixels, got {v}"),
                    help: None,
                });
            }
        }
        let mut formats = Vec::new();
        for f in &self.format {
            let f = Format::parse(f)?;
            if !formats.contains(&f) {
                formats.push(f);
            }
        }
        Ok(PlotOptions {
            formats,
            origins: self
                .origin
                .iter()
                .map(|o| plot::parse_origin(o))
                .collect::<Result<_, _>>()?,
            measures: self
                .measure
                .iter()
                .map(|m| Measure::parse(m))
                .collect::<Result<_, _>>()?,
            strategies: self
                .strategies
                .iter()
                .map(|s| s.trim().to_string())
                .collect(),
            from: self.from,
            to: self.to,
            title: self.title.clone(),
            width: self.width,
            height: self.height,
            log: self.log,
            landmark: self.landmark,
            // Asked for figures, `plot` refuses what it cannot draw (exit 2).
            omit_undrawable: false,
        })
    }
}

/// Maps a plotting error to an exit code: the user's input (2) or the system (1).
pub fn failure(e: PlotError) -> Failure {
    if e.is_input() {
        Failure::input(e)
    } else {
        Failure::run(e)
    }
}

/// Renders and writes the figures; prints the files written unless `quiet`.
pub fn plot(run_dir: &Path, args: &PlotArgs, quiet: bool) -> Result<(), Failure> {
    let options = args.options().map_err(failure)?;
    let written: Vec<PathBuf> = match plot::psa::analysis_kind(run_dir) {
        Some(kind) => {
            let ignored = args.run_only_options();
            if !ignored.is_empty() {
                let what = match kind {
                    plot::psa::AnalysisKind::Psa => "a probabilistic sensitivity analysis",
                    plot::psa::AnalysisKind::Owsa => "a one-way sensitivity analysis",
                };
                eprintln!(
                    "note: {} is the folder of {what}; {} apply to run figures only and are ignored",
                    run_dir.display(),
                    ignored.join(", ")
                );
            }
            plot::render_psa_dir(run_dir, &options).map_err(failure)?
        }
        // The folder of `hsctsim check`: its calibration figure alone.
        // (A run folder has no check.csv; a check folder's manifest is not a run's.)
        None if run_dir.join("check.csv").is_file() => {
            let ignored = args.run_only_options();
            if !ignored.is_empty() {
                eprintln!(
                    "note: {} is the folder of `hsctsim check`; {} apply to run figures only and are ignored",
                    run_dir.display(),
                    ignored.join(", ")
                );
            }
            let figures =
                plot::render_check(&run_dir.join("check.csv"), &options).map_err(failure)?;
            plot::write_figures(&run_dir.join("figures"), &figures).map_err(failure)?
        }
        None => plot::render_run(run_dir, &options).map_err(failure)?,
    };
    if !quiet {
        for path in written {
            println!("{}", path.display());
        }
    }
    Ok(())
}
