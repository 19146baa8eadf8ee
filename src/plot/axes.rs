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
    let tick = canvas.px(SIZES.tick);
    let font = Font::regular(SIZES.tick_label);
    canvas.line(&[(axis.start, y), (axis.end, y)], INK, SIZES.axis, &[])?;
    let baseline = y + tick + canvas.px(2.5) + canvas.cap_height(font);
    for &t in ticks {
        let x = axis.map(t);
        canvas.line(&[(x, y), (x, y + tick)], INK, SIZES.axis, &[])?;
        if labels {
            canvas.text(&tick_label(t), (x, baseline), Align::Centre, font, INK)?;
        }
    }
    Ok(baseline)
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
    let tick = canvas.px(SIZES.tick);
    let font = Font::regular(SIZES.tick_label);
    canvas.line(&[(x, axis.start), (x, axis.end)], INK, SIZES.axis, &[])?;
    let right = x - tick - canvas.px(2.5);
    let mut left = right;
    for &v in ticks {
        let y = axis.map(v);
        canvas.line(&[(x - tick, y), (x, y)], INK, SIZES.axis, &[])?;
        if labels {
            let text = tick_label(v);
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
    let font = Font::regular(SIZES.tick_label);
    let widest = ticks
        .iter()
        .map(|&v| canvas.text_width(&tick_label(v), font))
        .fold(0.0, f64::max);
    canvas.px(SIZES.tick) + canvas.px(2.5) + widest
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
