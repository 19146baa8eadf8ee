//! Curves over willingness to pay: the cost-effectiveness acceptability curves (the share of
//! draws in which each strategy has the highest net benefit, a line per strategy with its
//! colour and dash) with the acceptability frontier (the strategy with the highest
//! expected net benefit at each threshold, drawn as a broad grey band under its curve),
//! and the expected value of perfect information. The main threshold is a dashed
//! vertical line.

use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;

use super::frame::{
    self, GUIDE, LegendEntry, Sample, Surround, THRESHOLD_DASH, Ticks, draw_xy_frame,
};
use crate::plot::PlotError;
use crate::plot::canvas::Canvas;
use crate::plot::theme::SIZES;

/// Colour of the frontier band: light enough to sit under any curve.
const FRONTIER: RGBColor = RGBColor(0xC4, 0xC4, 0xC4);

/// Width of the frontier band, in points.
const FRONTIER_WIDTH: f64 = 5.0;

/// One curve.
#[derive(Debug, Clone, PartialEq)]
pub struct WtpSeries {
    /// Legend label.
    pub label: String,
    /// Line colour.
    pub colour: RGBColor,
    /// Dash pattern (points; empty for solid).
    pub dash: &'static [f64],
    /// `(threshold, value)` in increasing threshold; values in percent for acceptability.
    pub points: Vec<(f64, f64)>,
}

impl WtpSeries {
    /// The value at threshold `w`, linear between the points (`None` outside them).
    pub fn at(&self, w: f64) -> Option<f64> {
        let i = self.points.partition_point(|p| p.0 < w);
        let after = *self.points.get(i)?;
        if after.0 == w {
            return Some(after.1);
        }
        let before = *self.points.get(i.checked_sub(1)?)?;
        let f = (w - before.0) / (after.0 - before.0);
        Some(before.1 + f * (after.1 - before.1))
    }
}

/// A figure of curves over willingness to pay.
#[derive(Debug, Clone, PartialEq)]
pub struct WtpPlot {
    /// Title (empty: none).
    pub title: String,
    /// X-axis title.
    pub x_label: String,
    /// Y-axis title.
    pub y_label: String,
    /// Curves in legend order (named in a legend when there are several).
    pub series: Vec<WtpSeries>,
    /// `(threshold, position in series)` of the optimal strategy, increasing thresholds.
    pub frontier: Vec<(f64, usize)>,
    /// The y axis is 0–100 %.
    pub percent: bool,
    /// Main threshold, per QALY.
    pub wtp: Option<f64>,
    /// Unit of thresholds (`EUR/QALY`).
    pub per_qaly: String,
    /// Notes at the top right.
    pub notes: Vec<String>,
}

impl WtpPlot {
    /// Size at 300 dpi: 7 × 4.5 inches, a legend row more per four curves.
    pub fn default_size(&self) -> (u32, u32) {
        let title = if self.title.is_empty() { 0.0 } else { 0.3 };
        let legend = (self.series.len() + 2).div_ceil(4) as f64 * 0.15;
        (2100, ((4.2 + title + legend) * 300.0).round() as u32)
    }

    /// The frontier as one path: along the optimal strategy's curve, jumping to the next
    /// optimal strategy's curve halfway between the thresholds where it changes.
    pub fn frontier_path(&self) -> Vec<(f64, f64)> {
        let mut path = Vec::with_capacity(self.frontier.len() + 4);
        let value = |s: usize, w: f64| self.series.get(s).and_then(|c| c.at(w));
        for (k, &(w, s)) in self.frontier.iter().enumerate() {
            if let Some(v) = value(s, w) {
                path.push((w, v));
            }
            if let Some(&(next_w, next_s)) = self.frontier.get(k + 1)
                && next_s != s
            {
                let mid = (w + next_w) / 2.0;
                path.extend(
                    [value(s, mid), value(next_s, mid)]
                        .into_iter()
                        .flatten()
                        .map(|v| (mid, v)),
                );
            }
        }
        path
    }

    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), PlotError> {
        let all = self.series.iter().flat_map(|s| &s.points);
        let (w_lo, w_hi) = all
            .clone()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.0), hi.max(p.0))
            });
        if !w_lo.is_finite() {
            return Err(PlotError::Selection {
                message: format!("`{}` has no points to draw", self.title),
                help: None,
            });
        }
        let x = Ticks::covering(w_lo, w_hi, 8);
        let y = if self.percent {
            Ticks::percent()
        } else {
            // From zero (or below, should a value be negative) to the largest value.
            let (lo, hi) = all.fold((0.0f64, 0.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
            Ticks::covering(lo, hi, 6)
        };

        let mut legend: Vec<LegendEntry> = Vec::new();
        if self.series.len() > 1 {
            legend.extend(self.series.iter().map(|s| LegendEntry {
                text: s.label.clone(),
                colour: s.colour,
                sample: Sample::Line(s.dash, SIZES.curve),
            }));
        }
        if !self.frontier.is_empty() {
            legend.push(LegendEntry {
                text: "Frontier (highest expected net benefit)".into(),
                colour: FRONTIER,
                sample: Sample::Line(&[], FRONTIER_WIDTH),
            });
        }
        let threshold = self.wtp.filter(|w| (x.lo..=x.hi).contains(w));
        if let Some(wtp) = threshold {
            legend.push(LegendEntry {
                text: frame::threshold_label(wtp, &self.per_qaly),
                colour: GUIDE,
                sample: Sample::Line(THRESHOLD_DASH, 1.0),
            });
        }
        let surround = Surround {
            title: &self.title,
            legend: &legend,
            notes: &self.notes,
            x_label: &self.x_label,
        };
        let (x_axis, y_axis) = draw_xy_frame(canvas, &surround, &self.y_label, &x, &y)?;
        let to_px = |&(w, v): &(f64, f64)| (x_axis.map(w), y_axis.map(v));

        let frontier: Vec<(f64, f64)> = self.frontier_path().iter().map(to_px).collect();
        canvas.line(&frontier, FRONTIER, FRONTIER_WIDTH, &[])?;
        if let Some(wtp) = threshold {
            let px = x_axis.map(wtp);
            canvas.line(
                &[(px, y_axis.start), (px, y_axis.end)],
                GUIDE,
                1.0,
                THRESHOLD_DASH,
            )?;
        }
        for s in self.series.iter().rev() {
            let points: Vec<(f64, f64)> = s.points.iter().map(to_px).collect();
            canvas.line(&points, s.colour, SIZES.curve, s.dash)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(f64, f64)]) -> WtpSeries {
        WtpSeries {
            label: String::new(),
            colour: GUIDE,
            dash: &[],
            points: points.to_vec(),
        }
    }

    #[test]
    fn frontier_follows_the_optimal_curve_and_jumps_halfway() {
        let plot = WtpPlot {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            series: vec![
                series(&[(0.0, 90.0), (10.0, 60.0), (20.0, 30.0)]),
                series(&[(0.0, 10.0), (10.0, 40.0), (20.0, 70.0)]),
            ],
            frontier: vec![(0.0, 0), (10.0, 0), (20.0, 1)],
            percent: true,
            wtp: None,
            per_qaly: String::new(),
            notes: Vec::new(),
        };
        assert_eq!(
            plot.frontier_path(),
            vec![
                (0.0, 90.0),
                (10.0, 60.0),
                (15.0, 45.0),
                (15.0, 55.0),
                (20.0, 70.0)
            ]
        );
        assert_eq!(plot.series[0].at(-1.0), None);
        assert_eq!(plot.series[0].at(25.0), None);
    }
}
