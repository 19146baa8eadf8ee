//! Calibration: each published target beside the simulated value, both with their 95 %
//! intervals, as a forest plot (a row per target, the numbers in columns beside it).
//!
//! Input is `check.csv`, written by `hsctsim check` into a run folder (or anywhere, for
//! [`super::render_check`]). Its columns, by name and in any order (others are ignored):
//!
//! | column | meaning |
//! |---|---|
//! | `study` | first author and reference, e.g. `Kharfan-Dabaja [12]` |
//! | `endpoint` | `os`, `lfs`, `cir`, `nrm`, `pfs`, `reached:<state>` … (proportions) or `median_os`, `rmst_…` (months) |
//! | `origin` | `entry` or `hsct2` |
//! | `horizon` | months at which the endpoint is read (blank for medians) |
//! | `published` | the study's value: a proportion in [0, 1], or months for `median_*`/`rmst_*` |
//! | `published_lower`, `published_upper` | its 95 % interval (e.g. binomial from `n`); blank if unknown |
//! | `simulated` | the model's value for the study's cohort |
//! | `simulated_lower`, `simulated_upper` | its Monte Carlo 95 % interval |
//! | `n` | patients in the study (blank if not reported) |
//!
//! Proportions and times are drawn on separate axes, one panel each.

use std::path::Path;

use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;

use super::PlotError;
use super::axes::{self, Axis};
use super::canvas::{Align, Canvas, Font};
use super::data::{Columns, csv_error, input, read};
use super::theme::{INK, SIZES, STRATEGY_COLOURS};

/// The columns of `check.csv`, in the order [`CheckRow`] reads them.
pub const CHECK_COLUMNS: [&str; 11] = [
    "study",
    "endpoint",
    "origin",
    "horizon",
    "published",
    "published_lower",
    "published_upper",
    "simulated",
    "simulated_lower",
    "simulated_upper",
    "n",
];

/// One target: published and simulated values with their intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRow {
    /// Study (first author, reference).
    pub study: String,
    /// Endpoint name.
    pub endpoint: String,
    /// Time origin (`entry`, `hsct2`).
    pub origin: String,
    /// Months at which it is read.
    pub horizon: Option<f64>,
    /// Published value.
    pub published: f64,
    /// Published 95 % interval.
    pub published_interval: Option<(f64, f64)>,
    /// Simulated value.
    pub simulated: f64,
    /// Monte Carlo 95 % interval.
    pub simulated_interval: Option<(f64, f64)>,
    /// Patients in the study.
    pub n: Option<f64>,
}

impl CheckRow {
    /// True for endpoints measured in months (medians, restricted means) rather than
    /// proportions.
    pub fn in_months(&self) -> bool {
        is_time_endpoint(&self.endpoint)
    }
}

/// Endpoints whose values are months.
pub fn is_time_endpoint(endpoint: &str) -> bool {
    endpoint.starts_with("median") || endpoint.starts_with("rmst") || endpoint.starts_with("mean")
}

/// `Lee [11]: HID`: a study's subgroups share its name.
pub fn study_label(study: &str, group: &str) -> String {
    if group.is_empty() {
        study.to_string()
    } else {
        format!("{study}: {group}")
    }
}

/// The endpoint of a percentage target as drawn: a published median is checked as survival
/// at that time, so `median_os` becomes `os` (its horizon is the median).
pub fn as_proportion(endpoint: &str) -> String {
    endpoint
        .strip_prefix("median_")
        .unwrap_or(endpoint)
        .to_string()
}

/// Reads `check.csv`: proportions as in `curves.csv`, or with a `scale` column as
/// `hsctsim check` writes it (`percent` rows divided by 100, `ratio` rows left out).
pub fn read_check_csv(path: &Path) -> Result<Vec<CheckRow>, PlotError> {
    let bytes = read(path)?;
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let columns = Columns::new(path, &mut reader, &CHECK_COLUMNS)?;
    // Optional, as `hsctsim check` writes them: the study's subgroup, and the scale
    // (percentages or hazard ratios).
    let headers = reader.headers().cloned().unwrap_or_default();
    let optional = |name: &str| headers.iter().position(|c| c.trim() == name);
    let (group_column, scale_column) = (optional("group"), optional("scale"));
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        let factor = match scale_column.and_then(|i| record.get(i)).map(str::trim) {
            None | Some("") => 1.0,
            Some("percent") => 0.01,
            Some("ratio") => continue, // hazard ratios have no place on either axis
            Some(other) => {
                return Err(input(
                    path,
                    line,
                    format!(
                        "`scale` is `{other}`; known: percent, ratio, or empty (proportions as in curves.csv, months for median_*/rmst_*)"
                    ),
                ));
            }
        };
        let number = |c: usize| {
            columns
                .optional_number(path, &record, c, line)
                .map(|x| x.map(|x| x * factor))
        };
        let interval = |lo: Option<f64>, hi: Option<f64>, what: &str| match (lo, hi) {
            (Some(l), Some(h)) if l <= h => Ok(Some((l, h))),
            (None, None) => Ok(None),
            (Some(l), Some(h)) => Err(input(
                path,
                line,
                format!("the {what} interval ({l}, {h}) has its lower limit above the upper"),
            )),
            _ => Err(input(
                path,
                line,
                format!("the {what} interval needs both limits or neither"),
            )),
        };
        let endpoint = columns.text(&record, 1);
        let group = group_column
            .and_then(|i| record.get(i))
            .map_or("", str::trim);
        let row = CheckRow {
            study: study_label(columns.text(&record, 0), group),
            endpoint: if factor == 1.0 {
                endpoint.to_string()
            } else {
                as_proportion(endpoint)
            },
            origin: columns.text(&record, 2).to_string(),
            horizon: columns.optional_number(path, &record, 3, line)?,
            published: columns.number(path, &record, 4, line)? * factor,
            published_interval: interval(number(5)?, number(6)?, "published")?,
            simulated: columns.number(path, &record, 7, line)? * factor,
            simulated_interval: interval(number(8)?, number(9)?, "simulated")?,
            n: columns.optional_number(path, &record, 10, line)?,
        };
        if row.endpoint.is_empty() {
            return Err(input(path, line, "`endpoint` is empty".into()));
        }
        if !row.in_months() {
            let values = [Some(row.published), Some(row.simulated)]
                .into_iter()
                .chain(
                    row.published_interval
                        .iter()
                        .flat_map(|&(a, b)| [Some(a), Some(b)]),
                )
                .chain(
                    row.simulated_interval
                        .iter()
                        .flat_map(|&(a, b)| [Some(a), Some(b)]),
                )
                .flatten();
            for v in values {
                if !(0.0..=1.0).contains(&v) {
                    return Err(PlotError::Input {
                        path: path.to_path_buf(),
                        line: Some(line),
                        message: format!("endpoint `{}` has the value {v}, not a proportion in [0, 1]", row.endpoint),
                        help: Some("proportions are written as in curves.csv (0.45, not 45); medians and restricted means go in endpoints named median_* or rmst_*, in months".into()),
                    });
                }
            }
        } else if row.published < 0.0 || row.simulated < 0.0 {
            return Err(input(
                path,
                line,
                format!(
                    "endpoint `{}` is in months and cannot be negative",
                    row.endpoint
                ),
            ));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(input(
            path,
            1,
            "has no targets to draw (rows with `scale = ratio`, hazard ratios, are left out)"
                .into(),
        ));
    }
    Ok(rows)
}

/// The calibration figure.
#[derive(Debug, Clone)]
pub struct CalibrationPlot<'a> {
    /// Title (empty: none).
    pub title: String,
    /// Axis title of the proportions panel.
    pub x_label: String,
    /// Targets, in file order.
    pub rows: &'a [CheckRow],
}

const PUBLISHED: RGBColor = INK;
const SIMULATED: RGBColor = STRATEGY_COLOURS[0];

/// `OS at 24 mo (HSCT2)`, `Median OS (HSCT2)`, `Reached hsct3 at 60 mo`.
fn endpoint_label(row: &CheckRow) -> String {
    const ABBREVIATIONS: [&str; 9] = [
        "os", "lfs", "cir", "nrm", "pfs", "efs", "dfs", "trm", "rmst",
    ];
    let words: Vec<String> = row
        .endpoint
        .split(['_', ':'])
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(i, w)| {
            if ABBREVIATIONS.contains(&w.to_ascii_lowercase().as_str()) {
                w.to_uppercase()
            } else if i == 0 {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            } else {
                w.to_string()
            }
        })
        .collect();
    let at = row
        .horizon
        .map(|h| format!(" at {} mo", axes::tick_label((h * 10.0).round() / 10.0)))
        .unwrap_or_default();
    let origin = if row.origin == "hsct2" {
        " (HSCT2)"
    } else {
        ""
    };
    format!("{}{at}{origin}", words.join(" "))
}

fn value_text(value: f64, interval: Option<(f64, f64)>, months: bool) -> String {
    let f = |v: f64| {
        if months {
            format!("{v:.1}")
        } else {
            format!("{:.1}", v * 100.0)
        }
    };
    match interval {
        Some((l, h)) => format!("{} ({}–{})", f(value), f(l), f(h)),
        None => f(value),
    }
}

impl CalibrationPlot<'_> {
    fn groups(&self) -> Vec<(bool, Vec<&CheckRow>)> {
        let proportions: Vec<&CheckRow> = self.rows.iter().filter(|r| !r.in_months()).collect();
        let months: Vec<&CheckRow> = self.rows.iter().filter(|r| r.in_months()).collect();
        [(false, proportions), (true, months)]
            .into_iter()
            .filter(|(_, rows)| !rows.is_empty())
            .collect()
    }

    /// Size at 300 dpi: 7 inches wide, a fifth of an inch per target.
    pub fn default_size(&self) -> (u32, u32) {
        let groups = self.groups();
        let title = if self.title.is_empty() { 0.0 } else { 0.3 };
        let inches = title + 0.45 + groups.len() as f64 * 0.75 + self.rows.len() as f64 * 0.2;
        (2100, (inches * 300.0).round() as u32)
    }

    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), PlotError> {
        let (w, h) = (canvas.width, canvas.height);
        let pad = canvas.px(6.0);
        let axis_font = Font::regular(SIZES.axis_title);
        let font = Font::regular(SIZES.table);
        let header = Font::bold(SIZES.table);
        let gap = canvas.px(6.0);

        let mut top = canvas.heading(&self.title, pad)?;

        // Legend line.
        let legend_mid = top + 0.6 * canvas.em(font);
        let mut x = pad;
        for (colour, square, text) in [
            (PUBLISHED, true, "Published (95 % CI)"),
            (SIMULATED, false, "Simulated (95 % Monte Carlo interval)"),
        ] {
            self.marker(
                canvas,
                (x + canvas.px(8.0), legend_mid),
                colour,
                square,
                Some(canvas.px(8.0)),
            )?;
            canvas.text(
                text,
                (
                    x + canvas.px(19.0),
                    legend_mid + canvas.cap_height(font) / 2.0,
                ),
                Align::Left,
                font,
                INK,
            )?;
            x += canvas.px(19.0) + canvas.text_width(text, font) + canvas.px(16.0);
        }
        top += 1.9 * canvas.em(font);

        // Columns: study | endpoint | plot | published | simulated.
        let study_w = canvas
            .column_width(("Study", header), self.rows.iter().map(|r| &r.study), font)
            .min(0.2 * w);
        let endpoint_w = canvas
            .column_width(
                ("Endpoint", header),
                self.rows.iter().map(endpoint_label),
                font,
            )
            .min(0.2 * w);
        let values = self.rows.iter().flat_map(|r| {
            [
                value_text(r.published, r.published_interval, r.in_months()),
                value_text(r.simulated, r.simulated_interval, r.in_months()),
            ]
        });
        let value_w = canvas.column_width(("Simulated, months", header), values, font);
        let study_x = pad;
        let endpoint_x = study_x + study_w + gap;
        let plot_left = endpoint_x + endpoint_w + 2.0 * gap;
        let simulated_right = w - pad;
        let published_right = simulated_right - value_w - 3.0 * gap;
        let plot_right = published_right - value_w - 2.5 * gap;
        if plot_right - plot_left < 0.15 * w {
            return Err(PlotError::Selection {
                message: format!("a {w}-pixel-wide figure is too narrow for the calibration table"),
                help: Some("use a larger width, or shorter study names".into()),
            });
        }

        let groups = self.groups();
        let row_h = (h
            - top
            - pad
            - groups.len() as f64
                * (1.6 * canvas.em(header)
                    + axes::x_axis_height(canvas)
                    + 1.8 * canvas.em(axis_font)))
            / self.rows.len() as f64;
        if row_h < 1.1 * canvas.em(font) {
            return Err(PlotError::rows_do_not_fit(h, self.rows.len(), "targets"));
        }
        let mut y = top;
        for (months, rows) in groups {
            // Column headers.
            let baseline = y + canvas.cap_height(header);
            canvas.text("Study", (study_x, baseline), Align::Left, header, INK)?;
            canvas.text("Endpoint", (endpoint_x, baseline), Align::Left, header, INK)?;
            let unit = if months { "months" } else { "%" };
            canvas.text(
                &format!("Published, {unit}"),
                (published_right, baseline),
                Align::Right,
                header,
                INK,
            )?;
            canvas.text(
                &format!("Simulated, {unit}"),
                (simulated_right, baseline),
                Align::Right,
                header,
                SIMULATED,
            )?;
            y += 1.6 * canvas.em(header);
            let panel_top = y;
            let hi = if months {
                let max = rows
                    .iter()
                    .flat_map(|r| {
                        [r.published, r.simulated]
                            .into_iter()
                            .chain(r.published_interval.map(|i| i.1))
                            .chain(r.simulated_interval.map(|i| i.1))
                    })
                    .fold(1.0, f64::max);
                let step = axes::month_step(0.0, max, 1.0, 0.0).max(1.0);
                (max / step).ceil() * step
            } else {
                100.0
            };
            let scale = if months { 1.0 } else { 100.0 };
            let x_axis = Axis {
                lo: 0.0,
                hi,
                start: plot_left,
                end: plot_right,
                log: false,
            };
            for (k, row) in rows.iter().enumerate() {
                let mid = panel_top + (k as f64 + 0.5) * row_h;
                let baseline = canvas.table_row(k, mid, row_h, font)?;
                canvas.text(
                    &canvas.fit(&row.study, font, study_w),
                    (study_x, baseline),
                    Align::Left,
                    font,
                    INK,
                )?;
                canvas.text(
                    &canvas.fit(&endpoint_label(row), font, endpoint_w),
                    (endpoint_x, baseline),
                    Align::Left,
                    font,
                    INK,
                )?;
                canvas.text(
                    &value_text(row.published, row.published_interval, months),
                    (published_right, baseline),
                    Align::Right,
                    font,
                    INK,
                )?;
                canvas.text(
                    &value_text(row.simulated, row.simulated_interval, months),
                    (simulated_right, baseline),
                    Align::Right,
                    font,
                    SIMULATED,
                )?;
                let offset = 0.17 * row_h;
                for (value, interval, colour, square, dy) in [
                    (
                        row.published,
                        row.published_interval,
                        PUBLISHED,
                        true,
                        -offset,
                    ),
                    (
                        row.simulated,
                        row.simulated_interval,
                        SIMULATED,
                        false,
                        offset,
                    ),
                ] {
                    let my = mid + dy;
                    if let Some((l, u)) = interval {
                        canvas.line(
                            &[(x_axis.map(l * scale), my), (x_axis.map(u * scale), my)],
                            colour,
                            1.0,
                            &[],
                        )?;
                    }
                    self.marker(
                        canvas,
                        (x_axis.map(value * scale), my),
                        colour,
                        square,
                        None,
                    )?;
                }
            }
            let bottom = panel_top + rows.len() as f64 * row_h;
            let step = if months {
                axes::month_step(0.0, hi, (plot_right - plot_left) / hi, canvas.px(24.0))
            } else {
                20.0
            };
            axes::draw_x_axis(canvas, &x_axis, bottom, &axes::ticks(0.0, hi, step), true)?;
            let title = if months {
                "Months".to_string()
            } else {
                self.x_label.clone()
            };
            let title_baseline = bottom + axes::x_axis_height(canvas) + 1.3 * canvas.em(axis_font);
            canvas.text(
                &title,
                ((plot_left + plot_right) / 2.0, title_baseline),
                Align::Centre,
                axis_font,
                INK,
            )?;
            y = title_baseline + 0.9 * canvas.em(axis_font);
        }
        Ok(())
    }

    fn marker<DB: DrawingBackend>(
        &self,
        canvas: &mut Canvas<DB>,
        (x, y): (f64, f64),
        colour: RGBColor,
        square: bool,
        line: Option<f64>,
    ) -> Result<(), PlotError> {
        if let Some(half) = line {
            canvas.line(&[(x - half, y), (x + half, y)], colour, 1.0, &[])?;
        }
        let r = canvas.px(2.3);
        if square {
            canvas.fill_rect((x - r, y - r), (x + r, y + r), colour, 1.0)
        } else {
            canvas.dot((x, y), 2.6, colour)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(endpoint: &str, origin: &str, horizon: Option<f64>) -> CheckRow {
        CheckRow {
            study: "S".into(),
            endpoint: endpoint.into(),
            origin: origin.into(),
            horizon,
            published: 0.5,
            published_interval: None,
            simulated: 0.5,
            simulated_interval: None,
            n: None,
        }
    }

    #[test]
    fn endpoint_labels_read_like_a_paper() {
        assert_eq!(
            endpoint_label(&row("os", "hsct2", Some(24.0))),
            "OS at 24 mo (HSCT2)"
        );
        assert_eq!(
            endpoint_label(&row("median_os", "hsct2", None)),
            "Median OS (HSCT2)"
        );
        assert_eq!(
            endpoint_label(&row("reached:hsct3", "entry", Some(60.0))),
            "Reached hsct3 at 60 mo"
        );
        assert!(row("rmst_lfs", "entry", None).in_months());
        assert!(!row("cir", "entry", None).in_months());
    }
}
