//! The look shared by every figure: the embedded font, sizes in points, the colour-blind-safe
//! palette, line dashes, and state colours.
//!
//! Sizes are given in typographic points of a figure 7 inches wide (a full-width journal
//! figure) and converted to pixels from the rendered width, so a figure keeps its
//! proportions at any resolution: at the default 2100 pixels it is 300 dpi.

use std::sync::OnceLock;

use plotters::style::{FontStyle, RGBColor};

use super::PlotError;

/// Nominal width of a figure in inches: a full-width figure in most journals (about 18 cm).
pub const FIGURE_WIDTH_INCHES: f64 = 7.0;

/// Font family written into SVG `font-family` attributes and used as plotters' font key. The
/// text is laid out with the embedded DejaVu Sans metrics; an SVG viewer without DejaVu
/// falls back to Helvetica or Arial, which are narrower, so labels still fit.
pub const FONT_FAMILY: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";

/// DejaVu Sans height (ascent − descent) per em, from its font tables (1901 + 483) / 2048.
/// ab_glyph scales fonts by this height, SVG by the em: converting keeps PNG and SVG text
/// the same size.
pub const FONT_HEIGHT_PER_EM: f64 = 2384.0 / 2048.0;

/// Registers the embedded DejaVu Sans (regular and bold) with plotters, once per process.
///
/// Plotters' default font lookup goes through the system (fontconfig) and fails on machines
/// without fonts; with the `ab_glyph` feature it uses only fonts registered here.
pub fn register_fonts() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| {
                    "the embedded DejaVu Sans regular font is not a valid font".to_string()
                })?;
            plotters::style::register_font(FONT_FAMILY, FontStyle::Bold, dejavu::sans::bold())
                .map_err(|_| "the embedded DejaVu Sans bold font is not a valid font".to_string())
        })
        .clone()
        .map_err(PlotError::Font)
}

/// Text and line sizes in points (1/72 inch) at the nominal figure width.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Figure title (bold).
    pub title: f64,
    /// Axis titles.
    pub axis_title: f64,
    /// Tick labels.
    pub tick_label: f64,
    /// Legend entries.
    pub legend: f64,
    /// Number-at-risk table and small panel titles.
    pub table: f64,
    /// Curves.
    pub curve: f64,
    /// Axis lines and ticks.
    pub axis: f64,
    /// Tick length (outward).
    pub tick: f64,
}

/// Journal sizes: 8–10 pt text after the figure is scaled to the page, lines about 1 pt.
pub const SIZES: Sizes = Sizes {
    title: 10.0,
    axis_title: 9.0,
    tick_label: 8.0,
    legend: 8.0,
    table: 7.5,
    curve: 1.25,
    axis: 0.6,
    tick: 3.0,
};

/// Converts points to pixels for a figure rendered `width` pixels wide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Pixels per inch of the rendered figure.
    pub ppi: f64,
}

impl Scale {
    /// The scale of a figure `width` × `height` pixels. The layout is that of a figure 7
    /// inches wide; a very flat figure is scaled by its height instead (at least 3.5 inches)
    /// so text never outgrows it.
    pub fn for_size(width: u32, height: u32) -> Scale {
        let by_width = f64::from(width) / FIGURE_WIDTH_INCHES;
        let by_height = f64::from(height) / 3.5;
        Scale {
            ppi: by_width.min(by_height).max(1.0),
        }
    }

    /// Pixels for `points`.
    pub fn px(&self, points: f64) -> f64 {
        points / 72.0 * self.ppi
    }

    /// Pixels for `inches`.
    pub fn inches(&self, inches: f64) -> f64 {
        inches * self.ppi
    }
}

/// The Okabe–Ito palette (Okabe & Ito 2008), distinguishable with every common colour
/// vision deficiency, in the order strategies get them. Yellow is last: it is hard to see
/// as a thin line on white.
pub const STRATEGY_COLOURS: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0xF0, 0xE4, 0x42), // yellow
];

/// Dash patterns in points (on, off, on, off, …; empty = solid), so strategies stay
/// distinguishable in greyscale print. Their count (6) is prime to the palette's (8): the
/// first 24 strategies all get a distinct colour–dash pair.
pub const STRATEGY_DASHES: [&[f64]; 6] = [
    &[],
    &[5.0, 2.5],
    &[1.2, 1.6],
    &[5.0, 1.8, 1.2, 1.8],
    &[9.0, 2.5],
    &[3.0, 1.8, 1.2, 1.8, 1.2, 1.8],
];

/// A filled marker shape: a second cue beside colour for points (greyscale print,
/// colour-blind readers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    /// A disc.
    Circle,
    /// A square.
    Square,
    /// A triangle pointing up.
    Triangle,
    /// A diamond.
    Diamond,
    /// A triangle pointing down.
    InvertedTriangle,
}

/// Marker shapes of strategies, in order. Their count (5) is prime to the palette's (8), as
/// the dashes' is.
pub const STRATEGY_MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::InvertedTriangle,
];

/// Marker shape of the strategy at `index` in the run's strategy list.
pub fn strategy_marker(index: usize) -> Marker {
    STRATEGY_MARKERS[index % STRATEGY_MARKERS.len()]
}

/// Colour of the strategy at `index` in the run's strategy list. The index is the run's,
/// not the selection's, so a strategy keeps its colour in every figure of a run and when
/// `hsctsim plot --strategies` shows a subset.
pub fn strategy_colour(index: usize) -> RGBColor {
    STRATEGY_COLOURS[index % STRATEGY_COLOURS.len()]
}

/// Dash pattern (points) of the strategy at `index` in the run's strategy list.
pub fn strategy_dash(index: usize) -> &'static [f64] {
    STRATEGY_DASHES[index % STRATEGY_DASHES.len()]
}

/// Fill colours of the living states, by their rank among living states in clinical order:
/// the Okabe–Ito hues, then lighter tints of them for models with more states.
const STATE_COLOURS: [RGBColor; 7] = [
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xF0, 0xE4, 0x42), // yellow
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
];

/// How a state is coloured in occupancy plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateRole {
    /// A living state: a hue.
    Alive,
    /// Death from relapse: dark grey (death reads as grey in every print).
    DeathRelapse,
    /// Non-relapse mortality: mid grey.
    DeathNrm,
}

/// Fill colour of a state. `alive_rank` counts the living states before it in clinical
/// order, so a state's colour depends only on the model, never on which states a figure
/// happens to show.
pub fn state_colour(role: StateRole, alive_rank: usize) -> RGBColor {
    match role {
        StateRole::DeathRelapse => RGBColor(0x59, 0x59, 0x59),
        StateRole::DeathNrm => RGBColor(0xA6, 0xA6, 0xA6),
        StateRole::Alive => {
            let base = STATE_COLOURS[alive_rank % STATE_COLOURS.len()];
            // Each further round of the palette is mixed halfway towards white.
            let round = (alive_rank / STATE_COLOURS.len()) as u32;
            let mix = |c: u8| {
                let c = u32::from(c);
                (255 - ((255 - c) >> round)) as u8
            };
            RGBColor(mix(base.0), mix(base.1), mix(base.2))
        }
    }
}

/// Dark grey for text and axes: softer than pure black, still near-black in print.
pub const INK: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);

/// Shading of every other row of a table.
pub const ROW_SHADE: RGBColor = RGBColor(0xF2, 0xF2, 0xF2);

/// Opacity of confidence bands: light enough that overlapping bands stay readable.
pub const BAND_OPACITY: f64 = 0.18;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_dash_pairs_are_distinct_for_24_strategies() {
        let distinct: std::collections::HashSet<_> = (0..24)
            .map(|i| {
                let c = strategy_colour(i);
                (c.0, c.1, c.2, format!("{:?}", strategy_dash(i)))
            })
            .collect();
        assert_eq!(distinct.len(), 24);
    }

    #[test]
    fn state_tints_get_lighter() {
        let first = state_colour(StateRole::Alive, 0);
        let tint = state_colour(StateRole::Alive, 7);
        assert_eq!(first, RGBColor(0x56, 0xB4, 0xE9));
        assert!(tint.0 > first.0 && tint.1 > first.1 && tint.2 >= first.2);
    }

    #[test]
    fn default_width_is_300_dpi() {
        let s = Scale::for_size(2100, 1500);
        assert!((s.ppi - 300.0).abs() < 1e-9);
        assert!((s.px(72.0) - 300.0).abs() < 1e-9);
    }
}
