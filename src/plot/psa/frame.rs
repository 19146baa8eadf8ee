//! The layout shared by the PSA figures: a title, a legend that flows in rows above the
//! plot (so it never covers a cloud of draws or a curve), notes at the top right, and
//! left and bottom axes whose numbers are grouped in thousands.

use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;

use crate::plot::PlotError;
use crate::plot::axes::{self, Axis};
use crate::plot::canvas::{Align, Canvas, Font};
use crate::plot::theme::{INK, Marker, SIZES};

/// Thousands separator of money and thresholds (`50 000`): unambiguous in every language,
/// unlike a comma or a point.
pub const GROUP_SEPARATOR: char = ' ';

/// Grey of reference lines (axes through zero, thresholds) and notes.
pub const GUIDE: RGBColor = RGBColor(0x73, 0x73, 0x73);

/// Dash pattern of threshold lines, in points.
pub const THRESHOLD_DASH: &[f64] = &[4.0, 2.5];

/// `v` grouped in thousands with as many decimals as multiples of `step` need.
pub fn money(v: f64, step: f64) -> String {
    axes::grouped(v, axes::decimals_for(step), GROUP_SEPARATOR)
}

/// `WTP 50 000 EUR/QALY`.
pub fn threshold_label(wtp: f64, per_qaly: &str) -> String {
    format!("WTP {} {per_qaly}", money(wtp, 1.0))
}

/// The ticks of one axis: its range and the values marked on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    /// Value at the start of the axis.
    pub lo: f64,
    /// Value at the end of the axis.
    pub hi: f64,
    /// Values marked.
    pub values: Vec<f64>,
    /// Distance between marks (fixes the decimals of labels).
    pub step: f64,
}

impl Ticks {
    /// An axis covering `[lo, hi]`, widened to whole steps.
    pub fn covering(lo: f64, hi: f64, max_intervals: usize) -> Ticks {
        let (lo, hi, step) = axes::nice_range(lo, hi, max_intervals);
        Ticks {
            lo,
            hi,
            values: axes::ticks(lo, hi, step),
            step,
        }
    }

    /// 0–100 % in steps of 20.
    pub fn percent() -> Ticks {
        Ticks {
            lo: 0.0,
            hi: 100.0,
            values: axes::percent_ticks(false, 0.0, 100.0),
            step: 20.0,
        }
    }

    /// The axis from pixel `start` (at `lo`) to pixel `end` (at `hi`).
    pub fn axis(&self, start: f64, end: f64) -> Axis {
        Axis {
            lo: self.lo,
            hi: self.hi,
            start,
            end,
            log: false,
        }
    }

    /// The label of a mark.
    pub fn label(&self, v: f64) -> String {
        money(v, self.step)
    }
}

/// How a legend entry shows what it names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sample {
    /// A line of this dash (points) and width (points).
    Line(&'static [f64], f64),
    /// A marker with a white outline, as the means of a cloud are drawn.
    Marker(Marker),
    /// A filled bar.
    Bar,
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    /// Text.
    pub text: String,
    /// Colour of the sample.
    pub colour: RGBColor,
    /// The sample.
    pub sample: Sample,
}

/// Radius (points) of a mean marker and the width of its white outline.
pub const MEAN_MARKER: (f64, f64) = (4.2, 1.0);

/// Draws a marker with a white outline, so it stands out on a cloud of its own colour.
pub fn outlined_marker<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    centre: (f64, f64),
    shape: Marker,
    colour: RGBColor,
) -> Result<(), PlotError> {
    let (radius, outline) = MEAN_MARKER;
    // Pointed shapes need a wider halo for the outline to look as thick as a disc's.
    let halo = match shape {
        Marker::Circle | Marker::Square => outline,
        _ => 1.8 * outline,
    };
    canvas.marker(centre, shape, radius + halo, RGBColor(255, 255, 255), 1.0)?;
    canvas.marker(centre, shape, radius, colour, 1.0)
}

struct LegendLayout {
    /// Left offset and row of each entry.
    places: Vec<(f64, usize)>,
    /// Entry texts, shortened to fit.
    texts: Vec<String>,
    rows: usize,
}

fn legend_font() -> Font {
    Font::regular(SIZES.legend)
}

fn sample_width<DB: DrawingBackend>(canvas: &Canvas<DB>) -> f64 {
    canvas.px(20.0)
}

fn legend_row<DB: DrawingBackend>(canvas: &Canvas<DB>) -> f64 {
    1.6 * canvas.em(legend_font())
}

/// Entries left to right, wrapping to a new row when the next does not fit in `width`.
fn layout_legend<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    entries: &[LegendEntry],
    width: f64,
) -> LegendLayout {
    let font = legend_font();
    let lead = sample_width(canvas) + canvas.px(5.0);
    let spacing = 1.4 * canvas.em(font);
    let mut places = Vec::with_capacity(entries.len());
    let mut texts = Vec::with_capacity(entries.len());
    let (mut x, mut row) = (0.0, 0);
    for entry in entries {
        let text = canvas.fit(&entry.text, font, (width - lead).max(0.0));
        let w = lead + canvas.text_width(&text, font);
        if x > 0.0 && x + w > width {
            x = 0.0;
            row += 1;
        }
        places.push((x, row));
        texts.push(text);
        x += w + spacing;
    }
    LegendLayout {
        places,
        texts,
        rows: if entries.is_empty() { 0 } else { row + 1 },
    }
}

/// Height of the legend of `entries` laid out in `width` pixels.
pub fn legend_height<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    entries: &[LegendEntry],
    width: f64,
) -> f64 {
    layout_legend(canvas, entries, width).rows as f64 * legend_row(canvas)
}

/// Draws the legend with its top left corner at `(left, top)`, in rows `width` wide.
pub fn draw_legend<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    entries: &[LegendEntry],
    (left, top): (f64, f64),
    width: f64,
) -> Result<(), PlotError> {
    let font = legend_font();
    let layout = layout_legend(canvas, entries, width);
    let sample = sample_width(canvas);
    let row_h = legend_row(canvas);
    for ((entry, text), &(dx, row)) in entries.iter().zip(&layout.texts).zip(&layout.places) {
        let x = left + dx;
        let mid = top + (row as f64 + 0.5) * row_h;
        match entry.sample {
            Sample::Line(dash, width) => {
                canvas.line(&[(x, mid), (x + sample, mid)], entry.colour, width, dash)?;
            }
            Sample::Marker(shape) => {
                outlined_marker(canvas, (x + sample / 2.0, mid), shape, entry.colour)?;
            }
            Sample::Bar => {
                let half = 0.3 * row_h;
                canvas.fill_rect((x, mid - half), (x + sample, mid + half), entry.colour, 1.0)?;
            }
        }
        canvas.text(
            text,
            (
                x + sample + canvas.px(5.0),
                mid + canvas.cap_height(font) / 2.0,
            ),
            Align::Left,
            font,
            INK,
        )?;
    }
    Ok(())
}

/// Notes at the top right ("Illustrative values"): their width and height.
fn notes_size<DB: DrawingBackend>(canvas: &Canvas<DB>, notes: &[String]) -> (f64, f64) {
    let font = Font::regular(SIZES.table);
    let width = notes
        .iter()
        .map(|n| canvas.text_width(n, font))
        .fold(0.0, f64::max);
    (width, notes.len() as f64 * 1.4 * canvas.em(font))
}

fn draw_notes<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    notes: &[String],
    (right, top): (f64, f64),
) -> Result<(), PlotError> {
    let font = Font::regular(SIZES.table);
    for (k, note) in notes.iter().enumerate() {
        let baseline =
            top + (k as f64 + 0.5) * 1.4 * canvas.em(font) + canvas.cap_height(font) / 2.0;
        canvas.text(note, (right, baseline), Align::Right, font, GUIDE)?;
    }
    Ok(())
}

/// What sits around a plot: title, legend, notes, axis titles.
#[derive(Debug, Clone, Copy)]
pub struct Surround<'a> {
    /// Title (empty: none).
    pub title: &'a str,
    /// Legend entries (empty: no legend).
    pub legend: &'a [LegendEntry],
    /// Notes at the top right.
    pub notes: &'a [String],
    /// X-axis title.
    pub x_label: &'a str,
}

/// The plot area laid out by [`Surround::place`]: pixels between the margins and where the
/// x-axis title goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotArea {
    /// Left edge (the y axis).
    pub left: f64,
    /// Right edge.
    pub right: f64,
    /// Top edge.
    pub top: f64,
    /// Bottom edge (the x axis).
    pub bottom: f64,
    /// Baseline of the x-axis title.
    pub x_title_baseline: f64,
}

impl Surround<'_> {
    /// Draws title, legend and notes, and returns the plot area: between `left` and the
    /// right margin less `right_inset`, below the legend, above the x axis (whose tick
    /// labels and title are left room for).
    pub fn place<DB: DrawingBackend>(
        &self,
        canvas: &mut Canvas<DB>,
        left: f64,
        right_inset: f64,
    ) -> Result<PlotArea, PlotError> {
        let (w, h) = (canvas.width, canvas.height);
        let pad = canvas.px(6.0);
        let axis_font = Font::regular(SIZES.axis_title);
        let top = canvas.heading(self.title, pad)?;
        let right = w - pad - right_inset;
        let (notes_w, notes_h) = notes_size(canvas, self.notes);
        let note_gap = if self.notes.is_empty() {
            0.0
        } else {
            canvas.em(axis_font)
        };
        let legend_w = (right - left - notes_w - note_gap).max(0.2 * w);
        let legend_h = legend_height(canvas, self.legend, legend_w);
        let head = legend_h.max(notes_h);
        let plot_top = top + head + 0.8 * canvas.em(Font::regular(SIZES.tick_label));
        let x_title_baseline = h - pad - 0.3 * canvas.em(axis_font);
        let bottom = x_title_baseline
            - canvas.cap_height(axis_font)
            - 0.7 * canvas.em(axis_font)
            - axes::x_axis_height(canvas);
        if right - left < 0.2 * w || bottom - plot_top < 0.15 * h {
            return Err(PlotError::Selection {
                message: format!("a {w}×{h} pixel figure is too small for its labels"),
                help: Some("use a larger width or height".into()),
            });
        }
        draw_legend(canvas, self.legend, (left, top), legend_w)?;
        draw_notes(canvas, self.notes, (w - pad, top))?;
        // Centred on the plot, but shifted to stay within the figure when it is long.
        let x_title = canvas.fit(self.x_label, axis_font, w - 2.0 * pad);
        let half = canvas.text_width(&x_title, axis_font) / 2.0;
        let centre = ((left + right) / 2.0).min(w - pad - half).max(pad + half);
        canvas.text(
            &x_title,
            (centre, x_title_baseline),
            Align::Centre,
            axis_font,
            INK,
        )?;
        Ok(PlotArea {
            left,
            right,
            top: plot_top,
            bottom,
            x_title_baseline,
        })
    }
}

/// Draws the title, legend, notes, both axes and their titles of an x–y figure; returns
/// the axes to draw the data on.
pub fn draw_xy_frame<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    surround: &Surround,
    y_label: &str,
    x: &Ticks,
    y: &Ticks,
) -> Result<(Axis, Axis), PlotError> {
    let pad = canvas.px(6.0);
    let axis_font = Font::regular(SIZES.axis_title);
    let tick_font = Font::regular(SIZES.tick_label);
    let left = pad
        + 1.3 * canvas.em(axis_font)
        + axes::y_axis_width_labelled(canvas, &y.values, |v| y.label(v));
    // Room for half of the last tick label beyond the axis end.
    let last = x
        .values
        .last()
        .map_or(0.0, |&v| canvas.text_width(&x.label(v), tick_font));
    let area = surround.place(canvas, left, last / 2.0)?;
    let x_axis = x.axis(area.left, area.right);
    let y_axis = y.axis(area.bottom, area.top);
    axes::draw_x_axis_labelled(canvas, &x_axis, area.bottom, &x.values, |v| x.label(v))?;
    let y_left = axes::draw_y_axis_labelled(canvas, &y_axis, area.left, &y.values, |v| y.label(v))?;
    let y_title_x = (y_left - 0.45 * canvas.em(axis_font)).max(pad + canvas.cap_height(axis_font));
    canvas.text_up(
        &canvas.fit(y_label, axis_font, area.bottom - area.top),
        (y_title_x, (area.bottom + area.top) / 2.0),
        Align::Centre,
        axis_font,
        INK,
    )?;
    Ok((x_axis, y_axis))
}

/// The part of the line `y = slope · x` inside the rectangle of two axes, in data units.
pub fn clip_ray(slope: f64, x: &Axis, y: &Axis) -> Option<[(f64, f64); 2]> {
    let (mut lo, mut hi) = (x.lo.min(x.hi), x.lo.max(x.hi));
    let (ylo, yhi) = (y.lo.min(y.hi), y.lo.max(y.hi));
    if slope.abs() > 0.0 {
        let (a, b) = (ylo / slope, yhi / slope);
        lo = lo.max(a.min(b));
        hi = hi.min(a.max(b));
    } else if !(ylo..=yhi).contains(&0.0) {
        return None;
    }
    (hi > lo).then_some([(lo, slope * lo), (hi, slope * hi)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_lines_are_clipped_to_the_plot() {
        let x = Axis {
            lo: -0.5,
            hi: 1.0,
            start: 0.0,
            end: 100.0,
            log: false,
        };
        let y = Axis {
            lo: -10_000.0,
            hi: 20_000.0,
            start: 100.0,
            end: 0.0,
            log: false,
        };
        // 50 000 per QALY leaves through the top at 0.4 QALYs and the bottom at −0.2.
        let [a, b] = clip_ray(50_000.0, &x, &y).unwrap();
        assert!((a.0 + 0.2).abs() < 1e-12 && (a.1 + 10_000.0).abs() < 1e-6);
        assert!((b.0 - 0.4).abs() < 1e-12 && (b.1 - 20_000.0).abs() < 1e-6);
        // A flat line runs across; a line missing the box is None.
        assert_eq!(clip_ray(0.0, &x, &y), Some([(-0.5, 0.0), (1.0, 0.0)]));
        let above = Axis {
            lo: 1.0,
            hi: 2.0,
            ..y
        };
        assert_eq!(clip_ray(0.0, &x, &above), None);
    }

    #[test]
    fn money_and_threshold_labels() {
        assert_eq!(threshold_label(50_000.0, "EUR/QALY"), "WTP 50 000 EUR/QALY");
        assert_eq!(money(-2500.0, 500.0), "\u{2212}2 500");
        let t = Ticks::covering(-0.13, 0.42, 6);
        assert_eq!(t.label(0.0), "0.0");
        assert_eq!(t.values.len(), 8);
        let w = Ticks::covering(0.0, 150_000.0, 8);
        assert_eq!((w.step, w.hi), (25_000.0, 150_000.0));
    }
}
