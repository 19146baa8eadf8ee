//! Axes in the journal style: a left and a bottom axis line, outward ticks, no grid, no
//! box; and the choice of ticks (months in steps of 1, 2, 3, 6, 12 … that leave room for
//! their labels and the number-at-risk counts under them).

use plotters::prelude::DrawingBackend;

use super::PlotError;
use super::canvas::{Align, Canvas, Font};
use super::theme::{INK, SIZES};

/// A linear or logarithmic map from data values to pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    /// Data value at the start.
    pub lo: f64,
    /// Data value at the end.
    pub hi: f64,
    /// Pixel of `lo`.
    pub start: f64,
    /// Pixel of `hi`.
    pub end: f64,
    /// Logarithmic.
    pub log: bool,
}

impl Axis {
    /// The pixel of `value` (clamped into the axis range).
    pub fn map(&self, value: f64) -> f64 {
        let v = value.clamp(self.lo.min(self.hi), self.lo.max(self.hi));
        let f = if self.log {
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        self.start + f * (self.end - self.start)
    }
}

/// Candidate month steps for the time axis, smallest first.
const MONTH_STEPS: [f64; 12] = [
    1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 36.0, 60.0, 120.0, 240.0, 600.0, 1200.0,
];

/// The smallest step (months) with at most 12 intervals over `[from, to]` whose ticks are
/// at least `min_spacing` pixels apart at `px_per_month`.
pub fn month_step(from: f64, to: f64, px_per_month: f64, min_spacing: f64) -> f64 {
    let span = to - from;
    MONTH_STEPS
        .iter()
        .copied()
        .find(|&s| span / s <= 12.0 + 1e-9 && s * px_per_month >= min_spacing)
        .unwrap_or_else(|| {
            // Beyond the table: a power-of-ten multiple of 12 months.
            let mut s = 1200.0;
            while span / s > 12.0 || s * px_per_month < min_spacing {
                s *= 2.0;
            }
            s
        })
}

/// Multiples of `step` within `[from, to]`.
pub fn ticks(from: f64, to: f64, step: f64) -> Vec<f64> {
    let first = (from / step - 1e-9).ceil() as i64;
    let last = (to / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Y ticks of a percentage axis: every 20 % on a linear axis; on a log axis 1–2–5 steps
/// when the axis spans at most two decades, decades otherwise. `lo` is in percent.
pub fn percent_ticks(log: bool, lo: f64, hi: f64) -> Vec<f64> {
    if !log {
        return ticks(lo, hi, if hi - lo <= 50.0 { 10.0 } else { 20.0 });
    }
    let decades = (hi / lo).log10();
    let mut out = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi * (1.0 + 1e-9) {
        let multiples: &[f64] = if decades <= 2.0 + 1e-9 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        for m in multiples {
            let v = decade * m;
            if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                out.push(v);
            }
        }
        decade *= 10.0;
    }
    out
}

/// Formats a tick value without trailing zeros (`0.5`, `2`, `100`).
pub fn tick_label(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Draws a bottom axis at pixel row `y` with ticks and labels; returns the baseline of
/// the tick labels.
pub fn draw_x_axis<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    axis: &Axis,
    y: f64,
    ticks: &[f64],
    labels: bool,
) -> Result<f64, PlotError> {
    draw_x_axis_labelled(canvas, axis, y, ticks, |v| plain_label(v, labels))
}

/// [`draw_x_axis`] with tick labels written by `label` (currency, thousands separators).
pub fn draw_x_axis_labelled<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    axis: &Axis,
    y: f64,
    ticks: &[f64],
    label: impl Fn(f64) -> String,
) -> Result<f64, PlotError> {
    let tick = canvas.px(SIZES.tick);
    let font = Font::regular(SIZES.tick_label);
    canvas.line(&[(axis.start, y), (axis.end, y)], INK, SIZES.axis, &[])?;
    let baseline = y + tick + canvas.px(2.5) + canvas.cap_height(font);
    for &t in ticks {
        let x = axis.map(t);
        canvas.line(&[(x, y), (x, y + tick)], INK, SIZES.axis, &[])?;
        canvas.text(&label(t), (x, baseline), Align::Centre, font, INK)?;
    }
    Ok(baseline)
}

fn plain_label(v: f64, labels: bool) -> String {
    if labels { tick_label(v) } else { String::new() }
}

/// Draws a left axis at pixel column `x` with ticks and labels; returns the left edge of the
/// widest label.
pub fn draw_y_axis<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    axis: &Axis,
    x: f64,
    ticks: &[f64],
    labels: bool,
) -> Result<f64, PlotError> {
    draw_y_axis_labelled(canvas, axis, x, ticks, |v| plain_label(v, labels))
}

/// [`draw_y_axis`] with tick labels written by `label`.
pub fn draw_y_axis_labelled<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    axis: &Axis,
    x: f64,
    ticks: &[f64],
    label: impl Fn(f64) -> String,
) -> Result<f64, PlotError> {
    let tick = canvas.px(SIZES.tick);
    let font = Font::regular(SIZES.tick_label);
    canvas.line(&[(x, axis.start), (x, axis.end)], INK, SIZES.axis, &[])?;
    let right = x - tick - canvas.px(2.5);
    let mut left = right;
    for &v in ticks {
        let y = axis.map(v);
        canvas.line(&[(x - tick, y), (x, y)], INK, SIZES.axis, &[])?;
        let text = label(v);
        if !text.is_empty() {
            left = left.min(right - canvas.text_width(&text, font));
            // Centre the digits' height on the tick.
            let baseline = y + canvas.cap_height(font) / 2.0;
            canvas.text(&text, (right, baseline), Align::Right, font, INK)?;
        }
    }
    Ok(left)
}

/// Width the labels of a left axis take, tick included.
pub fn y_axis_width<DB: DrawingBackend>(canvas: &Canvas<DB>, ticks: &[f64]) -> f64 {
    y_axis_width_labelled(canvas, ticks, tick_label)
}

/// [`y_axis_width`] for labels written by `label`.
pub fn y_axis_width_labelled<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    ticks: &[f64],
    label: impl Fn(f64) -> String,
) -> f64 {
    let font = Font::regular(SIZES.tick_label);
    let widest = ticks
        .iter()
        .map(|&v| canvas.text_width(&label(v), font))
        .fold(0.0, f64::max);
    canvas.px(SIZES.tick) + canvas.px(2.5) + widest
}

/// Multiples of a power of ten that make steps readers take in at a glance.
const NICE_MULTIPLES: [f64; 4] = [1.0, 2.0, 2.5, 5.0];

/// The smallest 1–2–2.5–5 step (times a power of ten) giving at most `max_intervals`
/// intervals over `span`.
pub fn nice_step(span: f64, max_intervals: usize) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / max_intervals.max(1) as f64;
    let decade = 10f64.powf(raw.log10().floor());
    NICE_MULTIPLES
        .into_iter()
        .map(|m| m * decade)
        .find(|&s| span / s <= max_intervals as f64 + 1e-9)
        .unwrap_or(10.0 * decade)
}

/// The range `[lo, hi]` widened outwards to multiples of a nice step; returns
/// `(lo, hi, step)`. Of the steps that leave at most `max_intervals + 1` intervals, the
/// one that widens the range least is taken (on a tie, the one with more ticks), so an
/// axis ends near the data. A range of one value is widened around it.
pub fn nice_range(lo: f64, hi: f64, max_intervals: usize) -> (f64, f64, f64) {
    let (lo, hi) = if hi - lo > 1e-12 * hi.abs().max(lo.abs()) {
        (lo, hi)
    } else {
        let half = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - half, hi + half)
    };
    let widen = |step: f64| {
        (
            (lo / step + 1e-9).floor() * step,
            (hi / step - 1e-9).ceil() * step,
        )
    };
    let first = nice_step(hi - lo, max_intervals);
    let mut best = (widen(first), first);
    for decade in [first / 10.0, first, first * 10.0] {
        let decade = 10f64.powf(decade.log10().floor());
        for step in NICE_MULTIPLES.map(|m| m * decade) {
            let (a, b) = widen(step);
            let intervals = ((b - a) / step).round() as usize;
            let ((best_a, best_b), best_step) = best;
            let (span, best_span) = (b - a, best_b - best_a);
            let tighter = span < best_span * (1.0 - 1e-9)
                || (span <= best_span * (1.0 + 1e-9) && step < best_step);
            if intervals <= max_intervals + 1 && tighter {
                best = ((a, b), step);
            }
        }
    }
    let ((a, b), step) = best;
    (a, b, step)
}

/// Decimals that show every multiple of `step` exactly (0 for whole steps).
pub fn decimals_for(step: f64) -> usize {
    (0..12)
        .find(|&d| {
            let scaled = step * 10f64.powi(d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(12) as usize
}

/// `digits` (an unsigned integer's decimal digits) in groups of three.
pub fn group_digits(digits: &str, separator: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// `v` with `decimals` decimals, its integer part in groups of three, and a typographic
/// minus: `−12 500`, `0.25`.
pub fn grouped(v: f64, decimals: usize, separator: char) -> String {
    let text = format!("{:.*}", decimals, v.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let zero = text.chars().all(|c| c == '0' || c == '.');
    let mut out = String::new();
    if v < 0.0 && !zero {
        out.push('\u{2212}');
    }
    out.push_str(&group_digits(whole, separator));
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// Height below a bottom axis line taken by ticks and tick labels (to their baseline plus
/// descent).
pub fn x_axis_height<DB: DrawingBackend>(canvas: &Canvas<DB>) -> f64 {
    let font = Font::regular(SIZES.tick_label);
    canvas.px(SIZES.tick) + canvas.px(2.5) + canvas.cap_height(font) + 0.25 * canvas.em(font)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_steps_follow_the_journal_habit() {
        // 60 months over 1700 px with room for 100 px labels: every 6 months.
        assert_eq!(month_step(0.0, 60.0, 1700.0 / 60.0, 100.0), 6.0);
        // Wider labels (large numbers at risk): every 12 months.
        assert_eq!(month_step(0.0, 60.0, 1700.0 / 60.0, 200.0), 12.0);
        assert_eq!(month_step(0.0, 24.0, 1700.0 / 24.0, 100.0), 2.0);
        assert_eq!(month_step(0.0, 120.0, 1700.0 / 120.0, 100.0), 12.0);
        assert_eq!(
            ticks(0.0, 60.0, 12.0),
            vec![0.0, 12.0, 24.0, 36.0, 48.0, 60.0]
        );
        assert_eq!(ticks(3.0, 20.0, 6.0), vec![6.0, 12.0, 18.0]);
    }

    #[test]
    fn percent_ticks_linear_and_log() {
        assert_eq!(
            percent_ticks(false, 0.0, 100.0),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(
            percent_ticks(true, 1.0, 100.0),
            vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
        );
        assert_eq!(
            percent_ticks(true, 0.01, 100.0),
            vec![0.01, 0.1, 1.0, 10.0, 100.0]
        );
        assert_eq!(tick_label(0.1), "0.1");
        assert_eq!(tick_label(20.0), "20");
    }

    #[test]
    fn nice_steps_and_grouped_numbers() {
        assert_eq!(nice_step(100_000.0, 6), 20_000.0);
        assert_eq!(nice_step(0.3, 6), 0.05);
        assert_eq!(nice_step(7.0, 8), 1.0);
        assert_eq!(nice_range(-0.13, 0.42, 6), (-0.2, 0.5, 0.1));
        assert_eq!(nice_range(0.0, 0.0, 5), (-1.0, 1.0, 0.5));
        // Widening to whole steps: an axis ending on a data value is not widened.
        assert_eq!(nice_range(0.0, 150_000.0, 8), (0.0, 150_000.0, 25_000.0));
        assert_eq!(
            nice_range(-300.0, 123_000.0, 6),
            (-25_000.0, 125_000.0, 25_000.0)
        );
        assert_eq!(nice_range(0.0, 1.0, 6), (0.0, 1.0, 0.2));
        assert_eq!(decimals_for(0.25), 2);
        assert_eq!(decimals_for(0.05), 2);
        assert_eq!(decimals_for(0.1), 1);
        assert_eq!(decimals_for(20_000.0), 0);
        assert_eq!(grouped(50_000.0, 0, ' '), "50 000");
        assert_eq!(grouped(-1_234_567.0, 0, ','), "\u{2212}1,234,567");
        assert_eq!(grouped(-0.001, 2, ' '), "0.00");
        assert_eq!(grouped(0.25, 2, ' '), "0.25");
        assert_eq!(grouped(999.0, 0, ' '), "999");
    }

    #[test]
    fn axis_maps_both_ways() {
        let a = Axis {
            lo: 0.0,
            hi: 100.0,
            start: 500.0,
            end: 100.0,
            log: false,
        };
        assert_eq!(a.map(0.0), 500.0);
        assert_eq!(a.map(50.0), 300.0);
        let l = Axis {
            lo: 1.0,
            hi: 100.0,
            start: 500.0,
            end: 100.0,
            log: true,
        };
        assert!((l.map(10.0) - 300.0).abs() < 1e-9);
        assert_eq!(l.map(0.0), 500.0);
    }
}
