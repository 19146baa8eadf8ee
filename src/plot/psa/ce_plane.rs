//! The cost-effectiveness plane: for each strategy against the reference, one small
//! translucent marker per PSA draw (incremental QALYs across, incremental cost up), the
//! mean of the draws as a large outlined marker, the axes through zero, and the main
//! willingness-to-pay threshold as a dashed line through the origin (draws below it are
//! cost-effective at that threshold). Strategies differ by colour and by marker shape, so
//! the clouds stay apart in greyscale.

use plotters::prelude::DrawingBackend;

use super::frame::{
    self, GUIDE, LegendEntry, Sample, Surround, THRESHOLD_DASH, Ticks, draw_xy_frame,
    outlined_marker,
};
use crate::plot::PlotError;
use crate::plot::axes::Axis;
use crate::plot::canvas::Canvas;
use crate::plot::theme::{strategy_colour, strategy_marker};

/// Opacity of one draw's marker: dense regions of a cloud darken, single draws stay visible.
const DRAW_OPACITY: f64 = 0.3;

/// Radius of one draw's marker, in points.
const DRAW_RADIUS: f64 = 1.3;

/// One strategy's draws against the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Cloud {
    /// Legend label.
    pub label: String,
    /// Position in the scenario (colour and marker).
    pub index: usize,
    /// `(incremental QALYs, incremental cost)` of each draw.
    pub points: Vec<(f64, f64)>,
}

impl Cloud {
    /// Mean incremental QALYs and cost.
    pub fn mean(&self) -> Option<(f64, f64)> {
        let n = self.points.len() as f64;
        (n > 0.0).then(|| {
            let (q, c) = self
                .points
                .iter()
                .fold((0.0, 0.0), |(q, c), p| (q + p.0, c + p.1));
            (q / n, c / n)
        })
    }
}

/// The cost-effectiveness plane.
#[derive(Debug, Clone, PartialEq)]
pub struct CePlanePlot {
    /// Title (empty: none).
    pub title: String,
    /// X-axis title.
    pub x_label: String,
    /// Y-axis title.
    pub y_label: String,
    /// The non-reference strategies, in scenario order.
    pub clouds: Vec<Cloud>,
    /// Threshold drawn through the origin, per QALY.
    pub wtp: Option<f64>,
    /// Unit of the threshold (`EUR/QALY`).
    pub per_qaly: String,
    /// Number of draws.
    pub draws: usize,
    /// Notes at the top right.
    pub notes: Vec<String>,
}

impl CePlanePlot {
    /// Size at 300 dpi: 7 × 5.25 inches (a legend row more for many strategies).
    pub fn default_size(&self) -> (u32, u32) {
        let title = if self.title.is_empty() { 0.0 } else { 0.3 };
        let legend = (self.clouds.len() + 1).div_ceil(4) as f64 * 0.15;
        (2100, ((4.8 + title + legend) * 300.0).round() as u32)
    }

    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), PlotError> {
        let means: Vec<Option<(f64, f64)>> = self.clouds.iter().map(Cloud::mean).collect();
        // The axes always include the origin: the reference strategy sits there.
        let (mut q_lo, mut q_hi, mut c_lo, mut c_hi) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for &(q, c) in self.clouds.iter().flat_map(|c| &c.points) {
            (q_lo, q_hi) = (q_lo.min(q), q_hi.max(q));
            (c_lo, c_hi) = (c_lo.min(c), c_hi.max(c));
        }
        let x = Ticks::covering(q_lo, q_hi, 7);
        let y = Ticks::covering(c_lo, c_hi, 6);

        let mut legend: Vec<LegendEntry> = self
            .clouds
            .iter()
            .map(|c| LegendEntry {
                text: c.label.clone(),
                colour: strategy_colour(c.index),
                sample: Sample::Marker(strategy_marker(c.index)),
            })
            .collect();
        if let Some(wtp) = self.wtp {
            legend.push(LegendEntry {
                text: frame::threshold_label(wtp, &self.per_qaly),
                colour: GUIDE,
                sample: Sample::Line(THRESHOLD_DASH, 1.0),
            });
        }
        let mut notes = vec![format!(
            "{} draws; large markers: means",
            frame::money(self.draws as f64, 1.0)
        )];
        notes.extend(self.notes.iter().cloned());
        let surround = Surround {
            title: &self.title,
            legend: &legend,
            notes: &notes,
            x_label: &self.x_label,
        };
        let (x_axis, y_axis) = draw_xy_frame(canvas, &surround, &self.y_label, &x, &y)?;
        let to_px = |(q, c): (f64, f64)| (x_axis.map(q), y_axis.map(c));

        zero_lines(canvas, &x_axis, &y_axis)?;
        // The first strategy's cloud on top, as curves are in run figures.
        for cloud in self.clouds.iter().rev() {
            let (colour, shape) = (strategy_colour(cloud.index), strategy_marker(cloud.index));
            for &p in &cloud.points {
                canvas.marker(to_px(p), shape, DRAW_RADIUS, colour, DRAW_OPACITY)?;
            }
        }
        if let Some([a, b]) = self
            .wtp
            .and_then(|wtp| frame::clip_ray(wtp, &x_axis, &y_axis))
        {
            canvas.line(&[to_px(a), to_px(b)], GUIDE, 1.0, THRESHOLD_DASH)?;
        }
        for (cloud, mean) in self.clouds.iter().zip(means) {
            if let Some(mean) = mean {
                outlined_marker(
                    canvas,
                    to_px(mean),
                    strategy_marker(cloud.index),
                    strategy_colour(cloud.index),
                )?;
            }
        }
        Ok(())
    }
}

/// Thin lines through zero on both axes (where zero is inside the plot, not on its edge):
/// the quadrants of the plane.
fn zero_lines<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    x: &Axis,
    y: &Axis,
) -> Result<(), PlotError> {
    let inside = |a: &Axis| a.lo.min(a.hi) < 0.0 && 0.0 < a.lo.max(a.hi);
    if inside(x) {
        let px = x.map(0.0);
        canvas.line(&[(px, y.start), (px, y.end)], GUIDE, 0.5, &[])?;
    }
    if inside(y) {
        let py = y.map(0.0);
        canvas.line(&[(x.start, py), (x.end, py)], GUIDE, 0.5, &[])?;
    }
    Ok(())
}
