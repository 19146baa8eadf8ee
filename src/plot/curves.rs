//! The figure shared by survival and cumulative incidence: one step curve per strategy with
//! a shaded 95 % band, a legend placed where it covers no curve, and a number-at-risk table
//! under the plot, its columns on the x ticks.

use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;

use super::PlotError;
use super::axes::{self, Axis};
use super::canvas::{Align, Canvas, Font};
use super::data::Curve;
use super::theme::{BAND_OPACITY, INK, SIZES, strategy_colour, strategy_dash};

/// One strategy's curve.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    /// Legend and table label.
    pub label: String,
    /// Position in the run (colour and dash).
    pub index: usize,
    /// The curve drawn.
    pub curve: &'a Curve,
    /// Survival curve whose value times `patients` is the number at risk, and `patients`.
    pub at_risk: Option<(&'a Curve, f64)>,
}

/// A curve figure.
#[derive(Debug, Clone)]
pub struct CurvePlot<'a> {
    /// Title above the plot (empty: none).
    pub title: String,
    /// Y-axis title.
    pub y_label: String,
    /// X-axis title.
    pub x_label: String,
    /// Curves, in legend order.
    pub series: Vec<Series<'a>>,
    /// Start of the time axis, months.
    pub from: f64,
    /// End of the time axis, months.
    pub to: f64,
    /// Logarithmic y axis.
    pub log: bool,
    /// Legend gives each curve's value at this time.
    pub landmark: Option<f64>,
    /// Curves rise from 0 (cumulative incidence): the legend tries the top left first.
    pub rising: bool,
}

/// Where the legend went.
#[derive(Debug, Clone, Copy, PartialEq)]
enum LegendPlace {
    Inside(f64, f64),
    Above,
}

/// The step function of `values` over `[from, to]` as (time, value) vertices: held from
/// each grid time to the next, where it jumps.
pub fn step_vertices(curve: &Curve, values: &[f64], from: f64, to: f64) -> Vec<(f64, f64)> {
    let Some(&start) = curve.index_at(from).and_then(|i| values.get(i)) else {
        return Vec::new();
    };
    let first = curve.index_at(from).unwrap_or(0);
    let mut out = vec![(from, start)];
    let mut current = start;
    for (&t, &value) in curve.time.iter().zip(values).skip(first + 1) {
        if t > to + 1e-9 * to.abs().max(1.0) {
            break;
        }
        if value != current {
            out.push((t, current));
            out.push((t, value));
            current = value;
        }
    }
    out.push((to, current));
    out
}

/// Removes vertices in the middle of straight horizontal or vertical runs (after rounding
/// to pixels), so paths stay short.
fn simplify(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let rounded: Vec<(f64, f64)> = points.iter().map(|p| (p.0.round(), p.1.round())).collect();
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(rounded.len());
    for p in rounded {
        if out.last() == Some(&p) {
            continue;
        }
        if out.len() >= 2 {
            let a = out[out.len() - 2];
            let b = out[out.len() - 1];
            if (a.0 == b.0 && b.0 == p.0) || (a.1 == b.1 && b.1 == p.1) {
                out.pop();
            }
        }
        out.push(p);
    }
    out
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    axes::group_digits(&n.to_string(), ',')
}

/// A label colour readable as text on white: very light palette colours are darkened.
pub fn text_colour(c: RGBColor) -> RGBColor {
    let luminance = 0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2);
    if luminance > 180.0 {
        let d = |v: u8| (f64::from(v) * 0.6) as u8;
        RGBColor(d(c.0), d(c.1), d(c.2))
    } else {
        c
    }
}

/// A percentage with one decimal.
fn percent(p: f64) -> String {
    format!("{:.1}", p * 100.0)
}

impl CurvePlot<'_> {
    fn has_table(&self) -> bool {
        self.series.iter().any(|s| s.at_risk.is_some())
    }

    /// Size at 300 dpi for a 7-inch-wide figure: the plot, plus a row per strategy in the
    /// number-at-risk table.
    pub fn default_size(&self) -> (u32, u32) {
        let rows = if self.has_table() {
            self.series.len() + 1
        } else {
            0
        };
        let title = if self.title.is_empty() { 0.0 } else { 0.3 };
        // Many strategies may push the legend above the plot, two columns wide.
        let legend = if self.series.len() > 4 {
            self.series.len().div_ceil(2) as f64 * 0.15
        } else {
            0.0
        };
        let inches = 4.0 + title + rows as f64 * 0.16 + legend;
        (2100, (inches * 300.0).round() as u32)
    }

    /// The lowest percentage a log axis shows: the decade below the smallest positive value
    /// drawn (limits included), at least 0.01 %.
    fn log_floor(&self) -> f64 {
        let mut smallest = f64::INFINITY;
        for s in &self.series {
            for v in s.curve.lower.iter().chain(&s.curve.estimate) {
                if *v > 0.0 {
                    smallest = smallest.min(v * 100.0);
                }
            }
        }
        if !smallest.is_finite() {
            return 1.0;
        }
        10f64.powf(smallest.log10().floor()).clamp(0.01, 10.0)
    }

    fn legend_texts(&self) -> (Option<String>, Vec<String>) {
        match self.landmark.filter(|t| *t >= self.from && *t <= self.to) {
            Some(t) => {
                let header = format!("At {} months (95 % CI)", axes::tick_label(t));
                let texts = self
                    .series
                    .iter()
                    .map(|s| match s.curve.index_at(t) {
                        Some(i) => format!(
                            "{}: {} % ({}–{})",
                            s.label,
                            percent(s.curve.estimate[i]),
                            percent(s.curve.lower[i]),
                            percent(s.curve.upper[i])
                        ),
                        None => s.label.clone(),
                    })
                    .collect();
                (Some(header), texts)
            }
            None => (None, self.series.iter().map(|s| s.label.clone()).collect()),
        }
    }

    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), PlotError> {
        let (w, h) = (canvas.width, canvas.height);
        let pad = canvas.px(6.0);
        let axis_font = Font::regular(SIZES.axis_title);
        let tick_font = Font::regular(SIZES.tick_label);
        let legend_font = Font::regular(SIZES.legend);
        let table_font = Font::regular(SIZES.table);
        let table_header = Font::bold(SIZES.table);
        let sample = canvas.px(20.0);
        let gap = canvas.px(4.0);

        // Title.
        let top = canvas.heading(&self.title, pad)?;

        // Y axis range and ticks (percent).
        let y_lo = if self.log { self.log_floor() } else { 0.0 };
        let y_ticks = axes::percent_ticks(self.log, y_lo, 100.0);

        // Number-at-risk table rows.
        let table = self.has_table();
        let row_h = 1.55 * canvas.em(table_font);
        let label_limit = 0.3 * w;
        let labels: Vec<String> = self
            .series
            .iter()
            .map(|s| canvas.fit(&s.label, table_font, label_limit))
            .collect();
        let label_w = labels
            .iter()
            .map(|l| canvas.text_width(l, table_font))
            .fold(canvas.text_width("No. at risk", table_header), f64::max);
        let max_at_risk = self
            .series
            .iter()
            .filter_map(|s| s.at_risk.map(|(_, n)| n))
            .fold(0.0, f64::max);
        let number_w = if table {
            canvas.text_width(&thousands(max_at_risk.round() as u64), table_font)
        } else {
            0.0
        };

        // Margins.
        let y_title_w = 1.3 * canvas.em(axis_font);
        let y_axis_w = axes::y_axis_width(canvas, &y_ticks);
        let mut left = pad + y_title_w + y_axis_w;
        if table {
            left = left.max(pad + sample + gap + label_w + canvas.em(table_font) + number_w / 2.0);
        }
        let last_label_w = canvas.text_width(&axes::tick_label(self.to), tick_font);
        let right = w - pad - (last_label_w / 2.0).max(number_w / 2.0);
        let table_h = if table {
            (self.series.len() + 1) as f64 * row_h
        } else {
            0.0
        };
        let table_top = h - pad - table_h;
        let x_title_baseline = table_top
            - if table {
                1.1 * canvas.em(axis_font)
            } else {
                0.3 * canvas.em(axis_font)
            };
        let bottom = x_title_baseline
            - canvas.cap_height(axis_font)
            - 0.7 * canvas.em(axis_font)
            - axes::x_axis_height(canvas);
        let plot_top = top + 0.6 * canvas.em(tick_font);
        if right - left < w * 0.2 || bottom - plot_top < h * 0.15 {
            return Err(PlotError::Selection {
                message: format!("a {}×{} pixel figure is too small for its labels", w, h),
                help: Some("use a larger width or height, or shorter labels".into()),
            });
        }

        // X ticks: far enough apart for their labels and the numbers at risk.
        let px_per_month = (right - left) / (self.to - self.from);
        let tick_label_w =
            canvas.text_width(&axes::tick_label(self.to.max(self.from.abs())), tick_font);
        let step = axes::month_step(
            self.from,
            self.to,
            px_per_month,
            tick_label_w.max(number_w) + 1.2 * canvas.em(table_font),
        );
        let x_ticks = axes::ticks(self.from, self.to, step);

        // Legend: inside the plot where it covers no curve, else above it.
        let (legend_header, legend_texts) = self.legend_texts();
        let legend_row = 1.5 * canvas.em(legend_font);
        let legend_w = sample
            + gap * 1.5
            + legend_texts
                .iter()
                .map(|t| canvas.text_width(t, legend_font))
                .chain(
                    legend_header
                        .iter()
                        .map(|t| canvas.text_width(t, legend_font)),
                )
                .fold(0.0, f64::max);
        let legend_rows = legend_texts.len() + usize::from(legend_header.is_some());
        let legend_h = legend_rows as f64 * legend_row;

        let x_axis_at = |top: f64| {
            (
                Axis {
                    lo: self.from,
                    hi: self.to,
                    start: left,
                    end: right,
                    log: false,
                },
                Axis {
                    lo: y_lo,
                    hi: 100.0,
                    start: bottom,
                    end: top,
                    log: self.log,
                },
            )
        };
        let (mut x_axis, mut y_axis) = x_axis_at(plot_top);
        let place = self.place_legend(&x_axis, &y_axis, legend_w, legend_h, canvas.em(legend_font));
        // Above the plot, entries run in as many columns as fit across it.
        let column_w = legend_w + 1.5 * canvas.em(legend_font);
        let columns = if place == LegendPlace::Above {
            (((right - left) / column_w).floor() as usize).clamp(1, legend_texts.len().max(1))
        } else {
            1
        };
        let rows = legend_texts.len().div_ceil(columns);
        if place == LegendPlace::Above {
            let shift = (rows + usize::from(legend_header.is_some())) as f64 * legend_row
                + 0.6 * canvas.em(legend_font);
            (x_axis, y_axis) = x_axis_at(plot_top + shift);
            if bottom - y_axis.end < h * 0.12 {
                return Err(PlotError::Selection {
                    message: format!(
                        "a {w}×{h} pixel figure has no room for the curves of {} strategies",
                        self.series.len()
                    ),
                    help: Some("use a larger height, or fewer strategies".into()),
                });
            }
        }

        // Bands, then axes, then curves (the first strategy on top).
        for s in &self.series {
            let band = self.band_polygon(s.curve, &x_axis, &y_axis);
            canvas.polygon(&band, strategy_colour(s.index), BAND_OPACITY)?;
        }
        axes::draw_x_axis(canvas, &x_axis, bottom, &x_ticks, true)?;
        let y_left = axes::draw_y_axis(canvas, &y_axis, left, &y_ticks, true)?;
        for s in self.series.iter().rev() {
            let points = self.curve_pixels(s.curve, &s.curve.estimate, &x_axis, &y_axis);
            canvas.line(
                &points,
                strategy_colour(s.index),
                SIZES.curve,
                strategy_dash(s.index),
            )?;
        }

        // Axis titles.
        canvas.text(
            &self.x_label,
            ((left + right) / 2.0, x_title_baseline),
            Align::Centre,
            axis_font,
            INK,
        )?;
        let y_title_x =
            (y_left - 0.45 * canvas.em(axis_font)).max(pad + canvas.cap_height(axis_font));
        canvas.text_up(
            &canvas.fit(&self.y_label, axis_font, bottom - y_axis.end),
            (y_title_x, (bottom + y_axis.end) / 2.0),
            Align::Centre,
            axis_font,
            INK,
        )?;

        // Legend.
        let (lx, ly) = match place {
            LegendPlace::Inside(x, y) => (x, y),
            LegendPlace::Above => (left + canvas.px(4.0), plot_top),
        };
        let mut row_y = ly;
        if let Some(header) = &legend_header {
            canvas.text(
                header,
                (
                    lx,
                    row_y + 0.5 * legend_row + canvas.cap_height(legend_font) / 2.0,
                ),
                Align::Left,
                legend_font,
                INK,
            )?;
            row_y += legend_row;
        }
        for (k, (s, text)) in self.series.iter().zip(&legend_texts).enumerate() {
            let lx = lx + (k / rows) as f64 * column_w;
            let mid = row_y + (k % rows) as f64 * legend_row + 0.5 * legend_row;
            canvas.line(
                &[(lx, mid), (lx + sample, mid)],
                strategy_colour(s.index),
                SIZES.curve,
                strategy_dash(s.index),
            )?;
            canvas.text(
                text,
                (
                    lx + sample + gap * 1.5,
                    mid + canvas.cap_height(legend_font) / 2.0,
                ),
                Align::Left,
                legend_font,
                INK,
            )?;
        }

        // Number at risk.
        if table {
            let header_baseline = table_top + 0.5 * row_h + canvas.cap_height(table_header) / 2.0;
            canvas.text(
                "No. at risk",
                (pad, header_baseline),
                Align::Left,
                table_header,
                INK,
            )?;
            for (k, (s, label)) in self.series.iter().zip(&labels).enumerate() {
                let mid = table_top + (k as f64 + 1.5) * row_h;
                let baseline = mid + canvas.cap_height(table_font) / 2.0;
                let colour = strategy_colour(s.index);
                canvas.line(
                    &[(pad, mid), (pad + sample, mid)],
                    colour,
                    SIZES.curve,
                    strategy_dash(s.index),
                )?;
                canvas.text(
                    label,
                    (pad + sample + gap, baseline),
                    Align::Left,
                    table_font,
                    text_colour(colour),
                )?;
                if let Some((survival, patients)) = s.at_risk {
                    for &t in &x_ticks {
                        if let Some(p) = survival.at(t) {
                            let n = (p * patients).round().max(0.0) as u64;
                            canvas.text(
                                &thousands(n),
                                (x_axis.map(t), baseline),
                                Align::Centre,
                                table_font,
                                INK,
                            )?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn curve_pixels(&self, curve: &Curve, values: &[f64], x: &Axis, y: &Axis) -> Vec<(f64, f64)> {
        simplify(
            step_vertices(curve, values, self.from, self.to)
                .into_iter()
                .map(|(t, v)| (x.map(t), y.map(v * 100.0)))
                .collect(),
        )
    }

    fn band_polygon(&self, curve: &Curve, x: &Axis, y: &Axis) -> Vec<(f64, f64)> {
        let mut upper = self.curve_pixels(curve, &curve.upper, x, y);
        let lower = self.curve_pixels(curve, &curve.lower, x, y);
        upper.extend(lower.into_iter().rev());
        upper
    }

    /// The first legend position (in an order that suits falling or rising curves) whose
    /// box, with a margin, contains no point of any curve or band; `Above` if none is free.
    fn place_legend(&self, x: &Axis, y: &Axis, w: f64, h: f64, em: f64) -> LegendPlace {
        let margin = 0.8 * em;
        let (left, right, top, bottom) = (x.start, x.end, y.end, y.start);
        if right - left < w + 2.0 * margin || bottom - top < h + 2.0 * margin {
            return LegendPlace::Above;
        }
        let xl = left + 1.6 * margin;
        let xr = right - margin - w;
        let yt = top + margin * 0.5;
        let yb = bottom - margin - h;
        let candidates = if self.rising {
            [(xl, yt), (xr, yb), (xr, yt), (xl, yb)]
        } else {
            [(xr, yt), (xl, yb), (xr, yb), (xl, yt)]
        };
        let mut samples = Vec::new();
        for s in &self.series {
            for values in [&s.curve.estimate, &s.curve.lower, &s.curve.upper] {
                let path = self.curve_pixels(s.curve, values, x, y);
                for seg in path.windows(2) {
                    let (a, b) = (seg[0], seg[1]);
                    let length = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
                    let n = (length / 2.0).ceil().max(1.0) as usize;
                    for k in 0..=n {
                        let f = k as f64 / n as f64;
                        samples.push((a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f));
                    }
                }
            }
        }
        let pad = 0.4 * em;
        for (cx, cy) in candidates {
            let hit = samples.iter().any(|&(px, py)| {
                px >= cx - pad && px <= cx + w + pad && py >= cy - pad && py <= cy + h + pad
            });
            if !hit {
                return LegendPlace::Inside(cx, cy);
            }
        }
        LegendPlace::Above
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(values: &[f64]) -> Curve {
        Curve {
            time: (0..values.len()).map(|i| i as f64).collect(),
            estimate: values.to_vec(),
            lower: values.to_vec(),
            upper: values.to_vec(),
        }
    }

    #[test]
    fn steps_hold_until_the_next_grid_time() {
        let c = curve(&[1.0, 0.8, 0.8, 0.5]);
        assert_eq!(
            step_vertices(&c, &c.estimate, 0.0, 3.0),
            vec![
                (0.0, 1.0),
                (1.0, 1.0),
                (1.0, 0.8),
                (3.0, 0.8),
                (3.0, 0.5),
                (3.0, 0.5)
            ]
        );
        // A window inside the grid starts at the value in force.
        assert_eq!(
            step_vertices(&c, &c.estimate, 1.5, 2.5),
            vec![(1.5, 0.8), (2.5, 0.8)]
        );
    }

    #[test]
    fn simplify_drops_collinear_vertices() {
        let p = vec![
            (0.0, 0.0),
            (1.0, 0.0),
            (2.0, 0.0),
            (2.0, 1.0),
            (2.0, 2.0),
            (2.0, 2.0),
        ];
        assert_eq!(simplify(p), vec![(0.0, 0.0), (2.0, 0.0), (2.0, 2.0)]);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
