//! Figures for papers: survival and cumulative-incidence curves with 95 % bands and a
//! number-at-risk table, stacked state occupancy, and calibration (published vs simulated).
//!
//! Figures are drawn from a run's files alone — `manifest.json`, `curves.csv`,
//! `summary.csv`, and `check.csv` when present — so a run can be restyled without
//! simulating again:
//!
//! ```no_run
//! use hsctsim::plot::{self, Measure, PlotOptions};
//! let options = PlotOptions {
//!     measures: vec![Measure::Os, Measure::Cir],
//!     to: Some(36.0),
//!     ..PlotOptions::default()
//! };
//! let written = plot::render_run("output/reference_markov".as_ref(), &options)?;
//! # Ok::<(), hsctsim::plot::PlotError>(())
//! ```
//!
//! The figures of a probabilistic or one-way sensitivity analysis (cost-effectiveness plane,
//! acceptability curves, EVPI, tornado) are drawn from that analysis's folder by
//! [`render_psa`]; see [`psa`] for its files.
//!
//! One module per figure kind ([`survival`], [`incidence`], [`occupancy`], [`calibration`],
//! [`psa`])
//! over a shared look ([`theme`]: embedded DejaVu font, Okabe–Ito colours, dashes per
//! strategy) and drawing layer ([`canvas`], [`axes`], [`curves`]). Text is laid out with the
//! embedded font's metrics, so figures render identically on machines without any fonts.

pub mod axes;
pub mod calibration;
pub mod canvas;
pub mod curves;
pub mod data;
pub mod encode;
pub mod incidence;
pub mod occupancy;
pub mod psa;
pub mod survival;
pub mod theme;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::{BitMapBackend, DrawingBackend, SVGBackend};
use rayon::prelude::*;

use crate::aggregate::results::Origin;
use crate::suggest::did_you_mean;

use calibration::{CalibrationPlot, CheckRow};
use canvas::{Canvas, Surface};
use curves::CurvePlot;
pub use data::RunData;
use data::StrategyInfo;
use occupancy::OccupancyPlot;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Vector graphics with real `<text>` elements (editable, for journals that take it).
    Svg,
    /// Bitmap at print resolution (300 dpi at the default 2100-pixel width).
    Png,
}

impl Format {
    /// Both formats, in the order files are listed.
    pub const ALL: [Format; 2] = [Format::Svg, Format::Png];

    /// File extension and command-line name.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }

    /// Parses `svg` or `png`.
    pub fn parse(text: &str) -> Result<Format, PlotError> {
        let t = text.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.name() == t)
            .ok_or_else(|| PlotError::selection(format!("unknown format `{text}`: use svg or png")))
    }
}

/// A kind of figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    /// Overall survival.
    Os,
    /// Leukaemia-free survival (alive without relapse).
    Lfs,
    /// Cumulative incidence of relapse.
    Cir,
    /// Non-relapse mortality (cumulative incidence).
    Nrm,
    /// Stacked state occupancy, a panel per strategy.
    Occupancy,
    /// Published vs simulated targets (needs `check.csv`).
    Calibration,
}

impl Measure {
    /// Every figure kind, in the order they are rendered.
    pub const ALL: [Measure; 6] = [
        Measure::Os,
        Measure::Lfs,
        Measure::Cir,
        Measure::Nrm,
        Measure::Occupancy,
        Measure::Calibration,
    ];

    /// Name in files, options and `[figures]` keys (and the `measure` of curves.csv).
    pub fn name(&self) -> &'static str {
        match self {
            Measure::Os => "os",
            Measure::Lfs => "lfs",
            Measure::Cir => "cir",
            Measure::Nrm => "nrm",
            Measure::Occupancy => "occupancy",
            Measure::Calibration => "calibration",
        }
    }

    /// Parses a name, suggesting the closest on a typo.
    pub fn parse(text: &str) -> Result<Measure, PlotError> {
        let t = text.trim().to_ascii_lowercase();
        Measure::ALL
            .into_iter()
            .find(|m| m.name() == t)
            .ok_or_else(|| {
                PlotError::selection(format!(
                    "unknown measure `{text}`.{} Measures: {}",
                    did_you_mean(&t, Measure::ALL.iter().map(|m| m.name())),
                    Measure::ALL.map(|m| m.name()).join(", ")
                ))
            })
    }

    fn default_title(&self) -> &'static str {
        match self {
            Measure::Os => "Overall survival",
            Measure::Lfs => "Leukaemia-free survival",
            Measure::Cir => "Cumulative incidence of relapse",
            Measure::Nrm => "Non-relapse mortality",
            Measure::Occupancy => "State occupancy",
            Measure::Calibration => "Calibration: published vs simulated",
        }
    }

    fn default_y_label(&self) -> &'static str {
        match self {
            Measure::Os => "Overall survival (%)",
            Measure::Lfs => "Leukaemia-free survival (%)",
            Measure::Cir => "Cumulative incidence of relapse (%)",
            Measure::Nrm => "Non-relapse mortality (%)",
            Measure::Occupancy => "Patients (%)",
            Measure::Calibration => "Proportion of patients (%)",
        }
    }
}

/// Parses an origin name (`entry`, `hsct2`).
pub fn parse_origin(text: &str) -> Result<Origin, PlotError> {
    data::parse_origin(text.trim()).ok_or_else(|| {
        PlotError::selection(format!(
            "unknown origin `{text}`.{} Origins: entry, hsct2",
            did_you_mean(text.trim(), ["entry", "hsct2"])
        ))
    })
}

/// Default x-axis title of an origin.
fn default_x_label(origin: Origin) -> &'static str {
    match origin {
        Origin::Entry => "Months since relapse or graft failure after HSCT1",
        Origin::Hsct2 => "Months since second transplant (HSCT2)",
    }
}

/// What to draw and how. Empty lists mean "all"; `None` means the default.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// Output formats.
    pub formats: Vec<Format>,
    /// Time origins (empty: every origin the run has).
    pub origins: Vec<Origin>,
    /// Figures (empty: all, calibration only when the run has `check.csv`).
    pub measures: Vec<Measure>,
    /// Strategies by name, in legend order (empty: all, in run order).
    pub strategies: Vec<String>,
    /// Start of the time axis in months (default 0).
    pub from: Option<f64>,
    /// End of the time axis in months (default: the run's horizon).
    pub to: Option<f64>,
    /// Title of every figure drawn (empty string: no title); overrides `[figures]`.
    pub title: Option<String>,
    /// Width in pixels (default 2100: 7 inches at 300 dpi); the layout scales with it.
    pub width: Option<u32>,
    /// Height in pixels (default: each figure's own, scaled with the width).
    pub height: Option<u32>,
    /// Logarithmic y axis for survival and incidence curves.
    pub log: bool,
    /// Months at which legends give each curve's value (default: `[figures] landmark`).
    pub landmark: Option<f64>,
    /// A figure that cannot be laid out (too many strategies or panels for its size) is
    /// replaced by a note, `<stem>.omitted.txt`, saying why, instead of failing every
    /// figure. For figures drawn after a simulation, where the data must not be lost to a
    /// layout problem; `hsctsim plot`, asked for a figure, refuses instead.
    pub omit_undrawable: bool,
}

impl Default for PlotOptions {
    fn default() -> PlotOptions {
        PlotOptions {
            formats: Format::ALL.to_vec(),
            origins: Vec::new(),
            measures: Vec::new(),
            strategies: Vec::new(),
            from: None,
            to: None,
            title: None,
            width: None,
            height: None,
            log: false,
            landmark: None,
            omit_undrawable: false,
        }
    }
}

impl PlotOptions {
    /// The default figures of a run or analysis, drawn right after it: every figure, and a
    /// note in place of any that cannot be laid out (see [`PlotOptions::omit_undrawable`]).
    pub fn after_simulation() -> PlotOptions {
        PlotOptions {
            omit_undrawable: true,
            ..PlotOptions::default()
        }
    }
}

/// Smallest and largest figure sides accepted, in pixels.
pub const SIZE_LIMITS: (u32, u32) = (200, 20_000);

/// Largest figure area in pixels (an RGB buffer of 300 MB).
pub const MAX_PIXELS: u64 = 100_000_000;

/// Why figures could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A run file is missing or malformed.
    #[error("{}", input_message(.path, *.line, .message, .help.as_deref()))]
    Input {
        /// The file.
        path: PathBuf,
        /// Line in it, when known.
        line: Option<u64>,
        /// What is wrong.
        message: String,
        /// How to fix it.
        help: Option<String>,
    },
    /// The options ask for something the run does not have or cannot draw.
    #[error("{message}{}", .help.as_ref().map_or(String::new(), |h| format!("\n  help: {h}")))]
    Selection {
        /// What is wrong.
        message: String,
        /// How to fix it.
        help: Option<String>,
    },
    /// The embedded font could not be loaded (a build problem, not a user's).
    #[error("font: {0}")]
    Font(String),
    /// Drawing or encoding failed.
    #[error("drawing failed: {0}")]
    Drawing(String),
    /// A figure file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
}

fn input_message(path: &Path, line: Option<u64>, message: &str, help: Option<&str>) -> String {
    let mut s = path.display().to_string();
    if let Some(line) = line {
        let _ = write!(s, ":{line}");
    }
    let _ = write!(s, ": {message}");
    if let Some(help) = help {
        let _ = write!(s, "\n  help: {help}");
    }
    s
}

impl PlotError {
    fn selection(message: String) -> PlotError {
        PlotError::Selection {
            message,
            help: None,
        }
    }

    /// A figure `height` pixels high has no room for `count` rows of `what`.
    pub(crate) fn rows_do_not_fit(height: f64, count: usize, what: &str) -> PlotError {
        PlotError::Selection {
            message: format!("a {height}-pixel-high figure is too small for {count} {what}"),
            help: Some("use a larger height".into()),
        }
    }

    /// True when the user's input (files, options) is at fault rather than the system.
    pub fn is_input(&self) -> bool {
        matches!(self, PlotError::Input { .. } | PlotError::Selection { .. })
    }
}

/// A rendered figure: its file name (`os_entry.svg`) and bytes; or, in place of a figure
/// that could not be laid out, a note (`os_entry.omitted.txt`) saying why.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name inside the figures folder.
    pub file_name: String,
    /// File contents.
    pub bytes: Vec<u8>,
}

/// How the file name of a note in place of a figure ends.
pub const NOTE_SUFFIX: &str = ".omitted.txt";

impl Figure {
    /// True for a note in place of a figure (see [`PlotOptions::omit_undrawable`]).
    pub fn is_note(&self) -> bool {
        self.file_name.ends_with(NOTE_SUFFIX)
    }

    /// The note in place of the figure `stem`, which could not be laid out because of
    /// `reason`: the first line is the reason, the rest says how to get the figure.
    fn note(stem: &str, reason: &PlotError) -> Figure {
        let reason = match reason {
            PlotError::Selection { message, .. } => message.clone(),
            other => other.to_string(),
        };
        Figure {
            file_name: format!("{stem}{NOTE_SUFFIX}"),
            bytes: format!(
                "{stem} was not drawn: {reason}.\n\
                 The data files beside figures/ are complete. `hsctsim plot` draws this figure \
                 again from them, larger or for a subset of the strategies (see `hsctsim plot --help`).\n"
            )
            .into_bytes(),
        }
    }
}

/// The reason a note in place of a figure gives (its first line, without the full stop),
/// for a file named `name` holding `bytes`; `None` for a file that is not such a note.
pub fn note_reason(name: &str, bytes: &[u8]) -> Option<String> {
    if !name.ends_with(NOTE_SUFFIX) {
        return None;
    }
    let text = String::from_utf8_lossy(bytes);
    Some(
        text.lines()
            .next()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_string(),
    )
}

/// The strategies, origin, window and text of one set of figures.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    /// The run.
    pub data: &'a RunData,
    /// Time origin.
    pub origin: Origin,
    /// Strategies in legend order.
    pub strategies: Vec<&'a StrategyInfo>,
    /// Time window, months.
    pub from: f64,
    /// Time window, months.
    pub to: f64,
    /// Log y axis.
    pub log: bool,
    /// Landmark for legends.
    pub landmark: Option<f64>,
    title: Option<String>,
}

impl Selection<'_> {
    /// Title of a figure: the option, the scenario's `[figures]` title, or the default.
    pub fn title(&self, measure: Measure) -> String {
        self.title
            .clone()
            .or_else(|| self.data.overrides.titles.get(measure.name()).cloned())
            .unwrap_or_else(|| measure.default_title().to_string())
    }

    /// Y-axis title of a figure.
    pub fn y_label(&self, measure: Measure) -> String {
        self.data
            .overrides
            .y_labels
            .get(measure.name())
            .cloned()
            .unwrap_or_else(|| measure.default_y_label().to_string())
    }

    /// X-axis title for the origin.
    pub fn x_label(&self) -> String {
        self.data
            .overrides
            .x_labels
            .get(self.origin.as_str())
            .cloned()
            .unwrap_or_else(|| default_x_label(self.origin).to_string())
    }
}

/// A figure ready to draw.
enum Drawing<'a> {
    Curves(CurvePlot<'a>),
    Occupancy(OccupancyPlot<'a>),
    Calibration(CalibrationPlot<'a>),
    CePlane(psa::ce_plane::CePlanePlot),
    Wtp(psa::wtp::WtpPlot),
    Tornado(psa::tornado::TornadoPlot),
}

impl Drawing<'_> {
    fn default_size(&self) -> (u32, u32) {
        match self {
            Drawing::Curves(p) => p.default_size(),
            Drawing::Occupancy(p) => p.default_size(),
            Drawing::Calibration(p) => p.default_size(),
            Drawing::CePlane(p) => p.default_size(),
            Drawing::Wtp(p) => p.default_size(),
            Drawing::Tornado(p) => p.default_size(),
        }
    }

    fn title(&self) -> &str {
        match self {
            Drawing::Curves(p) => &p.title,
            Drawing::Occupancy(p) => &p.title,
            Drawing::Calibration(p) => &p.title,
            Drawing::CePlane(p) => &p.title,
            Drawing::Wtp(p) => &p.title,
            Drawing::Tornado(p) => &p.title,
        }
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), PlotError> {
        match self {
            Drawing::Curves(p) => p.draw(canvas),
            Drawing::Occupancy(p) => p.draw(canvas),
            Drawing::Calibration(p) => p.draw(canvas),
            Drawing::CePlane(p) => p.draw(canvas),
            Drawing::Wtp(p) => p.draw(canvas),
            Drawing::Tornado(p) => p.draw(canvas),
        }
    }
}

struct Job<'a> {
    stem: String,
    drawing: Drawing<'a>,
}

/// Checks sizes and returns the pixel size of a figure whose natural size is `natural`.
fn figure_size(options: &PlotOptions, natural: (u32, u32)) -> (u32, u32) {
    match (options.width, options.height) {
        (Some(w), Some(h)) => (w, h),
        (Some(w), None) => (
            w,
            (f64::from(natural.1) * f64::from(w) / f64::from(natural.0)).round() as u32,
        ),
        (None, Some(h)) => (natural.0, h),
        (None, None) => natural,
    }
}

/// Largest default height: figures with very many strategies get denser, not taller.
const MAX_DEFAULT_HEIGHT: u32 = 12_000;

/// Checks what every figure needs: sizes within limits and at least one format.
fn check_size_and_formats(options: &PlotOptions) -> Result<(), PlotError> {
    for (name, value) in [("width", options.width), ("height", options.height)] {
        if let Some(v) = value
            && !(SIZE_LIMITS.0..=SIZE_LIMITS.1).contains(&v)
        {
            return Err(PlotError::selection(format!(
                "the {name} must be between {} and {} pixels, got {v}",
                SIZE_LIMITS.0, SIZE_LIMITS.1
            )));
        }
    }
    let pixels =
        u64::from(options.width.unwrap_or(2100)) * u64::from(options.height.unwrap_or(2100));
    if pixels > MAX_PIXELS {
        return Err(PlotError::selection(format!(
            "a figure of {pixels} pixels is too large (the limit is {MAX_PIXELS}, e.g. 10000 × 10000)"
        )));
    }
    if options.formats.is_empty() {
        return Err(PlotError::selection(
            "no output format: use svg, png or both".into(),
        ));
    }
    Ok(())
}

fn check_options(options: &PlotOptions, horizon: f64) -> Result<(f64, f64), PlotError> {
    check_size_and_formats(options)?;
    let from = options.from.unwrap_or(0.0);
    let to = options.to.unwrap_or(horizon);
    if !(from.is_finite() && to.is_finite() && from >= 0.0 && to > from && to <= horizon + 1e-9) {
        return Err(PlotError::Selection {
            message: format!(
                "the time window {from}–{to} months is not within the run's follow-up 0–{horizon} months"
            ),
            help: Some(format!(
                "choose a window that starts at 0 or later and ends by {horizon} months"
            )),
        });
    }
    if let Some(t) = options.landmark
        && !(t.is_finite() && t > 0.0 && t <= horizon + 1e-9)
    {
        return Err(PlotError::selection(format!(
            "the landmark {t} months is not within the run's follow-up (0, {horizon}]"
        )));
    }
    Ok((from, to.min(horizon)))
}

fn select_strategies<'a>(
    data: &'a RunData,
    names: &[String],
) -> Result<Vec<&'a StrategyInfo>, PlotError> {
    if names.is_empty() {
        return Ok(data.strategies.iter().collect());
    }
    let mut out: Vec<&StrategyInfo> = Vec::new();
    for name in names {
        let s = data
            .strategies
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| PlotError::Selection {
                message: format!(
                    "the run has no strategy `{name}`.{}",
                    did_you_mean(name, data.strategies.iter().map(|s| s.name.as_str()))
                ),
                help: Some(format!(
                    "strategies of this run: {}",
                    data.strategies
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            })?;
        if !out.iter().any(|o| o.name == s.name) {
            out.push(s);
        }
    }
    Ok(out)
}

fn jobs<'a>(data: &'a RunData, options: &PlotOptions) -> Result<Vec<Job<'a>>, PlotError> {
    let (from, to) = check_options(options, data.horizon)?;
    let strategies = select_strategies(data, &options.strategies)?;
    let measures: Vec<Measure> = if options.measures.is_empty() {
        Measure::ALL
            .into_iter()
            .filter(|m| *m != Measure::Calibration || data.checks.is_some())
            .collect()
    } else {
        options.measures.clone()
    };
    let origins: Vec<Origin> = if options.origins.is_empty() {
        [Origin::Entry, Origin::Hsct2]
            .into_iter()
            .filter(|o| data.has_origin(*o))
            .collect()
    } else {
        for o in &options.origins {
            if !data.has_origin(*o) {
                return Err(PlotError::Selection {
                    message: format!("the run has no curves from origin `{}`", o.as_str()),
                    help: Some("curves since HSCT2 exist only when some patient reaches a state marked `hsct2 = true`".into()),
                });
            }
        }
        options.origins.clone()
    };
    let landmark = options.landmark.or(data.overrides.landmark);
    let mut jobs = Vec::new();
    for &origin in &origins {
        let present: Vec<&StrategyInfo> = strategies
            .iter()
            .copied()
            .filter(|s| data.curve(&s.name, origin, "os").is_some())
            .collect();
        if present.is_empty() {
            continue;
        }
        let selection = Selection {
            data,
            origin,
            strategies: present,
            from,
            to,
            log: options.log,
            landmark,
            title: options.title.clone(),
        };
        for &measure in &measures {
            let drawing = match measure {
                Measure::Os | Measure::Lfs => Drawing::Curves(survival::plot(&selection, measure)),
                Measure::Cir | Measure::Nrm => {
                    Drawing::Curves(incidence::plot(&selection, measure))
                }
                Measure::Occupancy => Drawing::Occupancy(occupancy::plot(&selection)),
                Measure::Calibration => continue,
            };
            jobs.push(Job {
                stem: format!("{}_{}", measure.name(), origin.as_str()),
                drawing,
            });
        }
    }
    if measures.contains(&Measure::Calibration) {
        let rows = data.checks.as_deref().ok_or_else(|| PlotError::Selection {
            message: "the run has no check.csv, so there is no calibration figure".into(),
            help: Some("`hsctsim check` writes check.csv; see the README for its columns".into()),
        })?;
        jobs.push(calibration_job(rows, data, options));
    }
    if jobs.is_empty() {
        return Err(PlotError::selection(
            "nothing to draw: no selected strategy has curves from the selected origins".into(),
        ));
    }
    Ok(jobs)
}

fn calibration_job<'a>(rows: &'a [CheckRow], data: &RunData, options: &PlotOptions) -> Job<'a> {
    let title = options
        .title
        .clone()
        .or_else(|| data.overrides.titles.get("calibration").cloned())
        .unwrap_or_else(|| Measure::Calibration.default_title().to_string());
    let x_label = data
        .overrides
        .y_labels
        .get("calibration")
        .cloned()
        .unwrap_or_else(|| Measure::Calibration.default_y_label().to_string());
    Job {
        stem: "calibration".into(),
        drawing: Drawing::Calibration(CalibrationPlot {
            title,
            x_label,
            rows,
        }),
    }
}

fn render_one(job: &Job, format: Format, options: &PlotOptions) -> Result<Figure, PlotError> {
    theme::register_fonts()?;
    let natural = job.drawing.default_size();
    let size = figure_size(options, (natural.0, natural.1.min(MAX_DEFAULT_HEIGHT)));
    let bytes = match format {
        Format::Svg => {
            let mut svg = String::new();
            let (patches, scale) = {
                let mut canvas =
                    Canvas::new(SVGBackend::with_string(&mut svg, size), Surface::Svg)?;
                job.drawing.draw(&mut canvas)?;
                let scale = canvas.scale;
                (canvas.finish()?, scale)
            };
            let inches = (f64::from(size.0) / scale.ppi, f64::from(size.1) / scale.ppi);
            canvas::finish_svg(svg, &patches, size, inches, job.drawing.title())?.into_bytes()
        }
        Format::Png => {
            let mut rgb = vec![255u8; size.0 as usize * size.1 as usize * 3];
            let scale = {
                let mut canvas =
                    Canvas::new(BitMapBackend::with_buffer(&mut rgb, size), Surface::Bitmap)?;
                job.drawing.draw(&mut canvas)?;
                let scale = canvas.scale;
                canvas.finish()?;
                scale
            };
            encode::png(&rgb, size, scale.ppi, job.drawing.title())?
        }
    };
    Ok(Figure {
        file_name: format!("{}.{}", job.stem, format.name()),
        bytes,
    })
}

fn render_jobs(jobs: &[Job], options: &PlotOptions) -> Result<Vec<Figure>, PlotError> {
    let mut formats = options.formats.clone();
    formats.dedup();
    let tasks: Vec<(&Job, Format)> = jobs
        .iter()
        .flat_map(|j| formats.iter().map(move |f| (j, *f)))
        .collect();
    // Figures are independent: render them on all cores (order is kept).
    let rendered: Vec<Result<Figure, PlotError>> = tasks
        .par_iter()
        .map(|(job, format)| render_one(job, *format, options))
        .collect();
    // Each job's formats are adjacent in `tasks`: take them together, so a layout that
    // does not fit (the figure's problem, not the run's) gives one note in place of all
    // of them, and a folder never holds an SVG without its PNG.
    let mut out: Vec<Figure> = Vec::with_capacity(rendered.len());
    let mut rendered = rendered.into_iter();
    for job in jobs {
        let figures: Vec<Result<Figure, PlotError>> =
            rendered.by_ref().take(formats.len()).collect();
        let unfit = |f: &Result<Figure, PlotError>| matches!(f, Err(PlotError::Selection { .. }));
        match figures.iter().find(|f| unfit(f)) {
            Some(Err(e)) if options.omit_undrawable => {
                let note = Figure::note(&job.stem, e);
                // Any other failure (a font, say) is still the run's.
                if let Some(other) = figures.into_iter().find(|f| f.is_err() && !unfit(f)) {
                    other?;
                }
                out.push(note);
            }
            _ => {
                for figure in figures {
                    out.push(figure?);
                }
            }
        }
    }
    Ok(out)
}

/// Renders the figures `options` ask for from a run's data, in memory.
pub fn render(data: &RunData, options: &PlotOptions) -> Result<Vec<Figure>, PlotError> {
    let jobs = jobs(data, options)?;
    render_jobs(&jobs, options)
}

/// Renders the calibration figure of a `check.csv` file (see [`calibration`] for its
/// columns), for `hsctsim check`.
pub fn render_check(check_csv: &Path, options: &PlotOptions) -> Result<Vec<Figure>, PlotError> {
    render_check_rows(
        &calibration::read_check_csv(check_csv)?,
        "calibration",
        options,
    )
}

/// The calibration figure of targets already in memory (e.g. from `hsctsim check`, through
/// `calibrate::check::figure_rows`), in files named `stem` (`calibration.svg` …).
pub fn render_check_rows(
    rows: &[calibration::CheckRow],
    stem: &str,
    options: &PlotOptions,
) -> Result<Vec<Figure>, PlotError> {
    let title = options
        .title
        .clone()
        .unwrap_or_else(|| Measure::Calibration.default_title().to_string());
    let job = Job {
        stem: stem.into(),
        drawing: Drawing::Calibration(CalibrationPlot {
            title,
            x_label: Measure::Calibration.default_y_label().to_string(),
            rows,
        }),
    };
    render_jobs(std::slice::from_ref(&job), options)
}

/// Writes figures into `dir`, each atomically (a temporary name, then a rename), so a
/// figure file is always whole even if the program is stopped while writing.
pub fn write_figures(dir: &Path, figures: &[Figure]) -> Result<Vec<PathBuf>, PlotError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PlotError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut written = Vec::with_capacity(figures.len());
    for figure in figures {
        let path = dir.join(&figure.file_name);
        let partial = dir.join(format!(
            ".{}.partial-{}",
            figure.file_name,
            std::process::id()
        ));
        let result = (|| {
            let mut file = std::fs::File::create(&partial)?;
            file.write_all(&figure.bytes)?;
            file.sync_all()?;
            std::fs::rename(&partial, &path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&partial);
            return Err(io(&path)(e));
        }
        written.push(path);
    }
    Ok(written)
}

/// Re-renders a run's figures from its folder into `<dir>/figures/`; returns the files
/// written.
pub fn render_run(dir: &Path, options: &PlotOptions) -> Result<Vec<PathBuf>, PlotError> {
    let data = RunData::from_dir(dir)?;
    let figures = render(&data, options)?;
    write_figures(&data::figures_dir(dir), &figures)
}

/// Renders the figures of a probabilistic or one-way sensitivity analysis from its folder,
/// in memory: the cost-effectiveness plane (`ce_plane`, from `psa_draws.csv`), the
/// acceptability curves (`ceac`, from `ceac.csv`), EVPI (`evpi`, from `evpi.csv`) and the
/// tornado diagram (`tornado`, from `tornado.csv`) — each whose file the folder has (see
/// [`psa`]). Of `options`, the formats, sizes and title apply; strategies, origins,
/// measures, time window, log axis and landmark are for run figures and are ignored.
pub fn render_psa(dir: &Path, options: &PlotOptions) -> Result<Vec<Figure>, PlotError> {
    check_size_and_formats(options)?;
    let folder = psa::PsaFolder::read(dir)?;
    let title = options.title.as_deref();
    let drawings = [
        ("ce_plane", folder.ce_plane(title).map(Drawing::CePlane)),
        ("ceac", folder.ceac(title).map(Drawing::Wtp)),
        ("evpi", folder.evpi(title).map(Drawing::Wtp)),
        ("tornado", folder.tornado(title).map(Drawing::Tornado)),
    ];
    let jobs: Vec<Job> = drawings
        .into_iter()
        .filter_map(|(stem, drawing)| {
            drawing.map(|drawing| Job {
                stem: stem.into(),
                drawing,
            })
        })
        .collect();
    render_jobs(&jobs, options)
}

/// Re-renders an analysis folder's figures (see [`render_psa`]) into `<dir>/figures/`;
/// returns the files written.
pub fn render_psa_dir(dir: &Path, options: &PlotOptions) -> Result<Vec<PathBuf>, PlotError> {
    let figures = render_psa(dir, options)?;
    write_figures(&data::figures_dir(dir), &figures)
}
