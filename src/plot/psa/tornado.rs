//! The tornado diagram of a one-way sensitivity analysis: a row per parameter, widest swing
//! on top, with bars from the base-case incremental net monetary benefit to its value at the
//! parameter's low and at its high value (two colours of different lightness, so they read
//! in greyscale too), the base case as a vertical line, and the range of each parameter in
//! a column on the right.

use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;

use super::frame::{self, GROUP_SEPARATOR, LegendEntry, Sample, Surround, Ticks};
use crate::plot::PlotError;
use crate::plot::axes;
use crate::plot::canvas::{Align, Canvas, Font};
use crate::plot::theme::{INK, SIZES, STRATEGY_COLOURS};

/// Bars of the parameter's low value: sky blue (light in greyscale).
pub const LOW: RGBColor = STRATEGY_COLOURS[5];
/// Bars of the parameter's high value: vermillion (dark in greyscale).
pub const HIGH: RGBColor = STRATEGY_COLOURS[1];

/// One parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct TornadoBar {
    /// Label in the figure.
    pub label: String,
    /// Low value of the parameter.
    pub low: f64,
    /// High value of the parameter.
    pub high: f64,
    /// Incremental net monetary benefit at the low value.
    pub inmb_low: f64,
    /// Incremental net monetary benefit at the high value.
    pub inmb_high: f64,
}

impl TornadoBar {
    /// How far the result moves across the parameter's range.
    pub fn swing(&self) -> f64 {
        (self.inmb_high - self.inmb_low).abs()
    }
}

/// The tornado diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct TornadoPlot {
    /// Title (empty: none).
    pub title: String,
    /// X-axis title (the comparison and threshold).
    pub x_label: String,
    /// Parameters, top to bottom.
    pub bars: Vec<TornadoBar>,
    /// Base-case incremental net monetary benefit.
    pub base: f64,
    /// Notes at the top right.
    pub notes: Vec<String>,
}

/// A parameter value with three significant digits (grouped in thousands when large):
/// `0.25`, `12.5`, `15 000`.
pub fn parameter_value(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor();
    let decimals = (2.0 - magnitude).max(0.0) as usize;
    let text = axes::grouped(v, decimals, GROUP_SEPARATOR);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

impl TornadoPlot {
    /// Size at 300 dpi: 7 inches wide, 0.28 inches per parameter.
    pub fn default_size(&self) -> (u32, u32) {
        let title = if self.title.is_empty() { 0.0 } else { 0.3 };
        let inches = 1.35 + title + self.bars.len().max(3) as f64 * 0.28;
        (2100, (inches * 300.0).round() as u32)
    }

    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), PlotError> {
        let (w, h) = (canvas.width, canvas.height);
        let pad = canvas.px(6.0);
        let gap = canvas.px(6.0);
        let font = Font::regular(SIZES.table);
        let header = Font::bold(SIZES.table);
        let tick_font = Font::regular(SIZES.tick_label);

        let (lo, hi) = self
            .bars
            .iter()
            .flat_map(|b| [b.inmb_low, b.inmb_high])
            .fold((self.base, self.base), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let x = Ticks::covering(lo, hi, 6);

        let label_w = canvas
            .column_width(
                ("Parameter", header),
                self.bars.iter().map(|b| &b.label),
                font,
            )
            .min(0.34 * w);
        let ranges: Vec<String> = self
            .bars
            .iter()
            .map(|b| format!("{}–{}", parameter_value(b.low), parameter_value(b.high)))
            .collect();
        let range_w = canvas.column_width(("Range", header), &ranges, font);
        let last_tick = x
            .values
            .last()
            .map_or(0.0, |&v| canvas.text_width(&x.label(v), tick_font));

        let legend = [
            LegendEntry {
                text: "Parameter at its low value".into(),
                colour: LOW,
                sample: Sample::Bar,
            },
            LegendEntry {
                text: "at its high value".into(),
                colour: HIGH,
                sample: Sample::Bar,
            },
            LegendEntry {
                text: format!("Base case ({})", frame::money(self.base, 1.0)),
                colour: INK,
                sample: Sample::Line(&[], 1.0),
            },
        ];
        let surround = Surround {
            title: &self.title,
            legend: &legend,
            notes: &self.notes,
            x_label: &self.x_label,
        };
        let left = pad + label_w + 2.0 * gap;
        let area = surround.place(canvas, left, range_w + 2.0 * gap + last_tick / 2.0)?;

        let header_baseline = area.top + canvas.cap_height(header);
        canvas.text(
            "Parameter",
            (pad, header_baseline),
            Align::Left,
            header,
            INK,
        )?;
        canvas.text(
            "Range",
            (w - pad, header_baseline),
            Align::Right,
            header,
            INK,
        )?;
        let rows_top = area.top + 1.6 * canvas.em(header);
        let row_h = (area.bottom - rows_top) / self.bars.len().max(1) as f64;
        if row_h < 1.1 * canvas.em(font) {
            return Err(PlotError::rows_do_not_fit(h, self.bars.len(), "parameters"));
        }
        let x_axis = x.axis(area.left, area.right);
        let base_px = x_axis.map(self.base);
        for (k, (bar, range)) in self.bars.iter().zip(&ranges).enumerate() {
            let mid = rows_top + (k as f64 + 0.5) * row_h;
            let baseline = canvas.table_row(k, mid, row_h, font)?;
            let label = canvas.fit(&bar.label, font, label_w);
            canvas.text(&label, (pad, baseline), Align::Left, font, INK)?;
            canvas.text(range, (w - pad, baseline), Align::Right, font, INK)?;
            // The longer bar first, so a shorter one on the same side stays visible on it.
            let mut sides = [(bar.inmb_low, LOW), (bar.inmb_high, HIGH)];
            sides.sort_by(|a, b| (b.0 - self.base).abs().total_cmp(&(a.0 - self.base).abs()));
            let half = 0.33 * row_h;
            for (value, colour) in sides {
                canvas.fill_rect(
                    (base_px, mid - half),
                    (x_axis.map(value), mid + half),
                    colour,
                    1.0,
                )?;
            }
        }
        canvas.line(
            &[(base_px, rows_top), (base_px, area.bottom)],
            INK,
            1.0,
            &[],
        )?;
        axes::draw_x_axis_labelled(canvas, &x_axis, area.bottom, &x.values, |v| x.label(v))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_values_have_three_significant_digits() {
        assert_eq!(parameter_value(0.25), "0.25");
        assert_eq!(parameter_value(12.5), "12.5");
        assert_eq!(parameter_value(0.012345), "0.0123");
        assert_eq!(parameter_value(15_000.0), "15 000");
        assert_eq!(parameter_value(-2.0), "\u{2212}2");
        assert_eq!(parameter_value(0.0), "0");
    }
}
