//! State occupancy: for each strategy a panel of stacked areas, the proportion of patients
//! in each state over time, states stacked in clinical order from the bottom (so death
//! states, listed last, sit on top and the boundary of the living is the survival curve).
//! Every state keeps one colour in all panels and all runs of the same model.

use plotters::prelude::DrawingBackend;

use super::axes::{self, Axis};
use super::canvas::{Align, Canvas, Font};
use super::curves::step_vertices;
use super::data::{Curve, StateInfo};
use super::theme::{INK, SIZES, state_colour};
use super::{Measure, PlotError, Selection};

/// One strategy's panel: the occupancy curve of each state, in clinical order.
#[derive(Debug, Clone)]
pub struct Panel<'a> {
    /// Panel title (the strategy's label).
    pub label: String,
    /// States and their curves.
    pub layers: Vec<(&'a StateInfo, &'a Curve)>,
}

/// The occupancy figure.
#[derive(Debug, Clone)]
pub struct OccupancyPlot<'a> {
    /// Title (empty: none).
    pub title: String,
    /// Y-axis title.
    pub y_label: String,
    /// X-axis title.
    pub x_label: String,
    /// One panel per strategy.
    pub panels: Vec<Panel<'a>>,
    /// Start of the time axis, months.
    pub from: f64,
    /// End of the time axis, months.
    pub to: f64,
}

/// Builds the figure from a selection.
pub fn plot<'a>(selection: &Selection<'a>) -> OccupancyPlot<'a> {
    let data = selection.data;
    let panels = selection
        .strategies
        .iter()
        .filter_map(|s| {
            let layers: Vec<_> = data
                .states
                .iter()
                .filter_map(|state| {
                    data.curve(&s.name, selection.origin, &format!("state:{}", state.name))
                        .map(|c| (state, c))
                })
                .collect();
            (!layers.is_empty()).then(|| Panel {
                label: s.label.clone(),
                layers,
            })
        })
        .collect();
    OccupancyPlot {
        title: selection.title(Measure::Occupancy),
        y_label: selection.y_label(Measure::Occupancy),
        x_label: selection.x_label(),
        panels,
        from: selection.from,
        to: selection.to,
    }
}

/// Panel grid: columns and rows for `n` panels.
fn grid(n: usize) -> (usize, usize) {
    let cols = match n {
        0..=3 => n.max(1),
        4 => 2,
        _ => 3,
    };
    (cols, n.div_ceil(cols))
}

impl OccupancyPlot<'_> {
    /// Size at 300 dpi: 7 inches wide, about 2.2 inches per row of panels.
    pub fn default_size(&self) -> (u32, u32) {
        let (_, rows) = grid(self.panels.len());
        let title = if self.title.is_empty() { 0.0 } else { 0.3 };
        let inches = title + 0.7 + rows as f64 * 2.2;
        (2100, (inches * 300.0).round() as u32)
    }

    /// States with any occupancy within the window in any panel, in clinical order.
    fn shown_states(&self) -> Vec<&StateInfo> {
        let mut shown: Vec<&StateInfo> = Vec::new();
        for panel in &self.panels {
            for (state, curve) in &panel.layers {
                let occupied = curve
                    .time
                    .iter()
                    .zip(&curve.estimate)
                    .any(|(&t, &v)| t <= self.to + 1e-9 && v > 0.0);
                if occupied && !shown.iter().any(|s| s.name == state.name) {
                    shown.push(state);
                }
            }
        }
        let order = |s: &StateInfo| {
            self.panels
                .iter()
                .flat_map(|p| p.layers.iter())
                .position(|(x, _)| x.name == s.name)
        };
        shown.sort_by_key(|s| order(s));
        shown
    }

    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), PlotError> {
        let (w, h) = (canvas.width, canvas.height);
        let pad = canvas.px(6.0);
        let axis_font = Font::regular(SIZES.axis_title);
        let tick_font = Font::regular(SIZES.tick_label);
        let panel_font = Font::bold(SIZES.table + 0.5);
        let legend_font = Font::regular(SIZES.legend);

        let top = canvas.heading(&self.title, pad)?;

        // Legend on the right: states from the top of the stack down.
        let states = self.shown_states();
        let swatch = canvas.px(9.0);
        let gap = canvas.px(4.0);
        let labels: Vec<String> = states
            .iter()
            .map(|s| canvas.fit(&s.label, legend_font, 0.28 * w))
            .collect();
        let legend_w = swatch
            + gap
            + labels
                .iter()
                .map(|l| canvas.text_width(l, legend_font))
                .fold(0.0, f64::max);
        let legend_left = w - pad - legend_w;

        let y_ticks = axes::percent_ticks(false, 0.0, 100.0);
        let y_title_w = 1.3 * canvas.em(axis_font);
        let y_axis_w = axes::y_axis_width(canvas, &y_ticks);
        let left = pad + y_title_w + y_axis_w;
        let right = legend_left - 2.0 * canvas.em(legend_font);
        let x_title_baseline = h - pad - 0.3 * canvas.em(axis_font);
        let bottom = x_title_baseline
            - canvas.cap_height(axis_font)
            - 0.7 * canvas.em(axis_font)
            - axes::x_axis_height(canvas);
        let (cols, rows) = grid(self.panels.len());
        let h_gap = y_axis_w + 0.8 * canvas.em(tick_font);
        let v_gap = axes::x_axis_height(canvas) + 0.6 * canvas.em(tick_font);
        let title_h = 1.6 * canvas.em(panel_font);
        let panel_w = (right - left - (cols - 1) as f64 * h_gap) / cols as f64;
        let panel_h =
            (bottom - top - rows as f64 * title_h - (rows - 1) as f64 * v_gap) / rows as f64;
        if panel_w < w * 0.08 || panel_h < h * 0.08 {
            return Err(PlotError::Selection {
                message: format!(
                    "a {w}×{h} pixel figure is too small for {} panels",
                    self.panels.len()
                ),
                help: Some("use a larger width or height, or fewer strategies".into()),
            });
        }
        let px_per_month = panel_w / (self.to - self.from);
        let step = axes::month_step(
            self.from,
            self.to,
            px_per_month,
            canvas.text_width(&axes::tick_label(self.to), tick_font) + 1.0 * canvas.em(tick_font),
        );
        let x_ticks = axes::ticks(self.from, self.to, step);

        let mut panels_top = f64::INFINITY;
        for (k, panel) in self.panels.iter().enumerate() {
            let (col, row) = (k % cols, k / cols);
            let p_left = left + col as f64 * (panel_w + h_gap);
            let p_top = top + title_h + row as f64 * (panel_h + title_h + v_gap);
            panels_top = panels_top.min(p_top);
            let p_bottom = p_top + panel_h;
            let x = Axis {
                lo: self.from,
                hi: self.to,
                start: p_left,
                end: p_left + panel_w,
                log: false,
            };
            let y = Axis {
                lo: 0.0,
                hi: 100.0,
                start: p_bottom,
                end: p_top,
                log: false,
            };
            self.draw_stack(canvas, panel, &x, &y)?;
            // Tick labels on the outer panels only: all panels share both scales.
            let last_in_column = k + cols >= self.panels.len();
            axes::draw_x_axis(canvas, &x, p_bottom, &x_ticks, last_in_column)?;
            axes::draw_y_axis(canvas, &y, p_left, &y_ticks, col == 0)?;
            let text = canvas.fit(&panel.label, panel_font, panel_w);
            canvas.text(
                &text,
                (p_left, p_top - 0.55 * canvas.em(panel_font)),
                Align::Left,
                panel_font,
                INK,
            )?;
        }

        // Shared axis titles.
        canvas.text(
            &self.x_label,
            ((left + right) / 2.0, x_title_baseline),
            Align::Centre,
            axis_font,
            INK,
        )?;
        canvas.text_up(
            &canvas.fit(&self.y_label, axis_font, bottom - top),
            (pad + canvas.cap_height(axis_font), (top + bottom) / 2.0),
            Align::Centre,
            axis_font,
            INK,
        )?;

        // Legend, top of the stack first, level with the top panels.
        let row_h = 1.6 * canvas.em(legend_font);
        let mut y = panels_top;
        for (state, label) in states.iter().zip(&labels).rev() {
            let colour = state_colour(state.role, state.alive_rank);
            canvas.fill_rect(
                (legend_left, y),
                (legend_left + swatch, y + swatch),
                colour,
                1.0,
            )?;
            canvas.text(
                label,
                (
                    legend_left + swatch + gap,
                    y + swatch / 2.0 + canvas.cap_height(legend_font) / 2.0,
                ),
                Align::Left,
                legend_font,
                INK,
            )?;
            y += row_h;
        }
        Ok(())
    }

    fn draw_stack<DB: DrawingBackend>(
        &self,
        canvas: &mut Canvas<DB>,
        panel: &Panel,
        x: &Axis,
        y: &Axis,
    ) -> Result<(), PlotError> {
        let Some((_, grid_curve)) = panel.layers.first() else {
            return Ok(());
        };
        let n = grid_curve.time.len();
        let mut below = vec![0.0; n];
        let mut boundaries = Vec::new();
        for (state, curve) in &panel.layers {
            let above: Vec<f64> = below
                .iter()
                .zip(&curve.estimate)
                .map(|(b, v)| (b + v).min(1.0))
                .collect();
            if curve.estimate.iter().any(|&v| v > 0.0) {
                let to_px = |(t, v): (f64, f64)| (x.map(t), y.map(v * 100.0));
                let mut polygon: Vec<(f64, f64)> =
                    step_vertices(grid_curve, &above, self.from, self.to)
                        .into_iter()
                        .map(to_px)
                        .collect();
                let lower: Vec<(f64, f64)> = step_vertices(grid_curve, &below, self.from, self.to)
                    .into_iter()
                    .map(to_px)
                    .collect();
                boundaries.push(polygon.clone());
                polygon.extend(lower.into_iter().rev());
                canvas.polygon(&polygon, state_colour(state.role, state.alive_rank), 1.0)?;
            }
            below = above;
        }
        // Thin white lines between layers keep neighbouring colours apart in print.
        boundaries.pop();
        for b in boundaries {
            canvas.line(&b, plotters::style::RGBColor(255, 255, 255), 0.5, &[])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::grid;

    #[test]
    fn panel_grids() {
        assert_eq!(grid(1), (1, 1));
        assert_eq!(grid(3), (3, 1));
        assert_eq!(grid(4), (2, 2));
        assert_eq!(grid(5), (3, 2));
        assert_eq!(grid(9), (3, 3));
    }
}
