//! Drawing primitives on a plotters drawing area, in pixel coordinates, that look the same
//! in SVG and PNG.
//!
//! Figures are laid out by hand (journal figures need exact control of margins, ticks and
//! the number-at-risk table), so this layer offers what the figure modules need: text
//! placed by its baseline, lines with dash patterns, filled polygons, and text widths from
//! the embedded font's metrics. Two backend differences are smoothed over here:
//! - Vertical text placement: plotters places bitmap text by the font's pixel height and
//!   SVG text by `dy` in em; [`Canvas::text`] converts a baseline into either.
//! - Dashes: plotters has no dashed stroke in SVG. In SVG a curve is drawn as one
//!   `<polyline>` and its `stroke-dasharray` is added afterwards ([`finish_svg`]), so every
//!   curve stays one editable path; in PNG the dashes are cut from the path here.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform, RGBColor, ShapeStyle};

use super::PlotError;
use super::theme::{FONT_FAMILY, FONT_HEIGHT_PER_EM, INK, Marker, ROW_SHADE, SIZES, Scale};

/// What a canvas renders to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Vector output.
    Svg,
    /// Pixel output (encoded as PNG).
    Bitmap,
}

/// Horizontal alignment of text at its anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text starts at the anchor.
    Left,
    /// Text is centred on the anchor.
    Centre,
    /// Text ends at the anchor.
    Right,
}

/// A text style: size in points and weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Font {
    /// Size of the em in points.
    pub points: f64,
    /// Bold face.
    pub bold: bool,
}

impl Font {
    /// Regular face at `points`.
    pub fn regular(points: f64) -> Font {
        Font {
            points,
            bold: false,
        }
    }

    /// Bold face at `points`.
    pub fn bold(points: f64) -> Font {
        Font { points, bold: true }
    }
}

/// A dash to add to an SVG polyline after rendering: the exact `points` text plotters wrote
/// and the pattern in pixels.
#[derive(Debug, Clone)]
pub struct DashPatch {
    points: String,
    dasharray: String,
}

/// A drawing surface with the figure's scale.
pub struct Canvas<'a, DB: DrawingBackend> {
    area: DrawingArea<DB, Shift>,
    /// Backend kind.
    pub target: Surface,
    /// Points to pixels.
    pub scale: Scale,
    /// Width in pixels.
    pub width: f64,
    /// Height in pixels.
    pub height: f64,
    patches: Vec<DashPatch>,
    _marker: std::marker::PhantomData<&'a ()>,
}

fn drawing_error(e: impl std::fmt::Display) -> PlotError {
    PlotError::Drawing(e.to_string())
}

fn to_i(p: (f64, f64)) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

impl<'a, DB: DrawingBackend> Canvas<'a, DB> {
    /// A canvas over a backend, cleared to white.
    pub fn new(backend: DB, target: Surface) -> Result<Canvas<'a, DB>, PlotError> {
        let area = backend.into_drawing_area();
        area.fill(&WHITE).map_err(drawing_error)?;
        let (w, h) = area.dim_in_pixel();
        Ok(Canvas {
            area,
            target,
            scale: Scale::for_size(w, h),
            width: f64::from(w),
            height: f64::from(h),
            patches: Vec::new(),
            _marker: std::marker::PhantomData,
        })
    }

    /// Pixels for `points`.
    pub fn px(&self, points: f64) -> f64 {
        self.scale.px(points)
    }

    /// The em of `font` in pixels.
    pub fn em(&self, font: Font) -> f64 {
        self.px(font.points)
    }

    /// The size plotters is given: ab_glyph (bitmap, and all measuring) scales by the font's
    /// full height, plotters' SVG writer divides its size by 1.24 to get the em.
    fn plotters_size(&self, font: Font, target: Surface) -> f64 {
        let em = self.em(font);
        match target {
            Surface::Bitmap => em * FONT_HEIGHT_PER_EM,
            Surface::Svg => em * 1.24,
        }
    }

    fn font_desc(&self, font: Font, target: Surface) -> FontDesc<'static> {
        let style = if font.bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        FontDesc::new(
            FontFamily::Name(FONT_FAMILY),
            self.plotters_size(font, target),
            style,
        )
    }

    /// Width of `text` in pixels (advance widths of the embedded font, kerning included).
    pub fn text_width(&self, text: &str, font: Font) -> f64 {
        if text.is_empty() {
            return 0.0;
        }
        self.font_desc(font, Surface::Bitmap).box_size(text).map_or(
            text.chars().count() as f64 * self.em(font) * 0.6,
            |(w, _)| f64::from(w),
        )
    }

    /// Width of a table column: its widest cell in `font` or its header in `header_font`.
    pub fn column_width<T: AsRef<str>>(
        &self,
        (header, header_font): (&str, Font),
        cells: impl IntoIterator<Item = T>,
        font: Font,
    ) -> f64 {
        cells
            .into_iter()
            .map(|c| self.text_width(c.as_ref(), font))
            .fold(self.text_width(header, header_font), f64::max)
    }

    /// Ascent of capital letters in pixels (DejaVu Sans cap height is 0.729 em).
    pub fn cap_height(&self, font: Font) -> f64 {
        0.729 * self.em(font)
    }

    /// Shortens `text` with an ellipsis so it fits in `max_width` pixels.
    pub fn fit(&self, text: &str, font: Font, max_width: f64) -> String {
        if self.text_width(text, font) <= max_width {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        let shortened = |keep: usize| {
            chars[..keep]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_string()
                + "…"
        };
        // Widths grow with the prefix: binary search for the longest that fits.
        let (mut fits, mut too_long) = (0, chars.len());
        while too_long - fits > 1 {
            let mid = (fits + too_long) / 2;
            if self.text_width(&shortened(mid), font) <= max_width {
                fits = mid;
            } else {
                too_long = mid;
            }
        }
        shortened(fits)
    }

    /// Draws `text` with its baseline at `y`, aligned at `x`.
    pub fn text(
        &self,
        text: &str,
        (x, y): (f64, f64),
        align: Align,
        font: Font,
        colour: RGBColor,
    ) -> Result<(), PlotError> {
        self.text_with(text, (x, y), align, font, colour, false)
    }

    /// Draws `text` reading upwards, its baseline at `x` (the text extends to the left of
    /// it), aligned at `y` (`Left` = starts at `y`).
    pub fn text_up(
        &self,
        text: &str,
        (x, y): (f64, f64),
        align: Align,
        font: Font,
        colour: RGBColor,
    ) -> Result<(), PlotError> {
        self.text_with(text, (x, y), align, font, colour, true)
    }

    fn text_with(
        &self,
        text: &str,
        (x, y): (f64, f64),
        align: Align,
        font: Font,
        colour: RGBColor,
        upwards: bool,
    ) -> Result<(), PlotError> {
        if text.is_empty() {
            return Ok(());
        }
        let h = match align {
            Align::Left => HPos::Left,
            Align::Centre => HPos::Center,
            Align::Right => HPos::Right,
        };
        // Distance from the anchor (top of plotters' text box) down to the baseline.
        let drop = match self.target {
            // ab_glyph draws the baseline half the font size below the box top.
            Surface::Bitmap => self.plotters_size(font, Surface::Bitmap) / 2.0,
            // plotters-svg writes dy="0.76em" for top-anchored text.
            Surface::Svg => 0.76 * self.em(font),
        };
        let mut style = self
            .font_desc(font, self.target)
            .color(&colour)
            .pos(Pos::new(h, VPos::Top));
        let anchor = if upwards {
            style = style.transform(FontTransform::Rotate270);
            // Rotated a quarter turn anticlockwise, "down" points to the right.
            (x - drop, y)
        } else {
            (x, y - drop)
        };
        self.area
            .draw(&Text::new(text.to_string(), to_i(anchor), style))
            .map_err(drawing_error)
    }

    /// A solid or dashed line through `points`; `dash` in points, empty for solid.
    pub fn line(
        &mut self,
        points: &[(f64, f64)],
        colour: RGBColor,
        width_points: f64,
        dash: &[f64],
    ) -> Result<(), PlotError> {
        if points.len() < 2 {
            return Ok(());
        }
        let width = self.px(width_points).round().max(1.0) as u32;
        let style = ShapeStyle {
            color: colour.to_rgba(),
            filled: false,
            stroke_width: width,
        };
        let pixels: Vec<(i32, i32)> = dedup(points.iter().map(|&p| to_i(p)).collect());
        if pixels.len() < 2 {
            return Ok(());
        }
        let dash_px: Vec<f64> = dash.iter().map(|&d| self.px(d).max(1.0)).collect();
        if dash_px.is_empty() || self.target == Surface::Svg {
            if !dash_px.is_empty() {
                self.patches.push(DashPatch {
                    points: svg_points(&pixels),
                    dasharray: dash_px
                        .iter()
                        .map(|d| format!("{:.1}", d))
                        .collect::<Vec<_>>()
                        .join(" "),
                });
            }
            return self
                .area
                .draw(&PathElement::new(pixels, style))
                .map_err(drawing_error);
        }
        let float: Vec<(f64, f64)> = pixels
            .iter()
            .map(|&(x, y)| (f64::from(x), f64::from(y)))
            .collect();
        for piece in dash_pieces(&float, &dash_px) {
            let piece: Vec<(i32, i32)> = dedup(piece.into_iter().map(to_i).collect());
            if piece.len() >= 2 {
                self.area
                    .draw(&PathElement::new(piece, style))
                    .map_err(drawing_error)?;
            }
        }
        Ok(())
    }

    /// A filled polygon.
    pub fn polygon(
        &self,
        points: &[(f64, f64)],
        colour: RGBColor,
        opacity: f64,
    ) -> Result<(), PlotError> {
        let pixels: Vec<(i32, i32)> = dedup(points.iter().map(|&p| to_i(p)).collect());
        if pixels.len() < 3 {
            return Ok(());
        }
        self.area
            .draw(&Polygon::new(pixels, colour.mix(opacity).filled()))
            .map_err(drawing_error)
    }

    /// A filled rectangle between two corners.
    pub fn fill_rect(
        &self,
        (x0, y0): (f64, f64),
        (x1, y1): (f64, f64),
        colour: RGBColor,
        opacity: f64,
    ) -> Result<(), PlotError> {
        // Corners in any order (a bar may run left of its base): SVG needs a positive width.
        let corners = [
            to_i((x0.min(x1), y0.min(y1))),
            to_i((x0.max(x1), y0.max(y1))),
        ];
        self.area
            .draw(&Rectangle::new(corners, colour.mix(opacity).filled()))
            .map_err(drawing_error)
    }

    /// A filled circle of `radius` points.
    pub fn dot(
        &self,
        centre: (f64, f64),
        radius_points: f64,
        colour: RGBColor,
    ) -> Result<(), PlotError> {
        self.marker(centre, Marker::Circle, radius_points, colour, 1.0)
    }

    /// A filled marker of `shape` whose circumscribed circle has `radius` points.
    pub fn marker(
        &self,
        centre: (f64, f64),
        shape: Marker,
        radius_points: f64,
        colour: RGBColor,
        opacity: f64,
    ) -> Result<(), PlotError> {
        let r = self.px(radius_points);
        let (x, y) = centre;
        let corners = |angles: &[f64]| -> Vec<(f64, f64)> {
            angles
                .iter()
                .map(|a| {
                    let a = a.to_radians();
                    (x + r * a.cos(), y - r * a.sin())
                })
                .collect()
        };
        let style = colour.mix(opacity).filled();
        match shape {
            Marker::Circle => self
                .area
                .draw(&Circle::new(to_i(centre), r.round().max(1.0) as i32, style))
                .map_err(drawing_error),
            // A square of the same area as the circle reads as the same size.
            Marker::Square => {
                let h = r * 0.886;
                self.fill_rect((x - h, y - h), (x + h, y + h), colour, opacity)
            }
            Marker::Triangle => self.polygon(&corners(&[90.0, 210.0, 330.0]), colour, opacity),
            Marker::Diamond => self.polygon(&corners(&[90.0, 180.0, 270.0, 0.0]), colour, opacity),
            Marker::InvertedTriangle => {
                self.polygon(&corners(&[270.0, 30.0, 150.0]), colour, opacity)
            }
        }
    }

    /// Starts row `k` of a table whose rows are `row_h` high and centred on `mid`: every
    /// other row is shaded across the figure (light guides help the eye from a label to its
    /// marks). Returns the baseline of the row's text in `font`.
    pub fn table_row(&self, k: usize, mid: f64, row_h: f64, font: Font) -> Result<f64, PlotError> {
        if k.is_multiple_of(2) {
            let pad = self.px(6.0);
            self.fill_rect(
                (pad, mid - row_h / 2.0),
                (self.width - pad, mid + row_h / 2.0),
                ROW_SHADE,
                1.0,
            )?;
        }
        Ok(mid + self.cap_height(font) / 2.0)
    }

    /// Draws `title` (if not empty) at the top left in the title font; returns the pixel
    /// row below it where the figure's content starts.
    pub fn heading(&self, title: &str, pad: f64) -> Result<f64, PlotError> {
        if title.is_empty() {
            return Ok(pad);
        }
        let font = Font::bold(SIZES.title);
        let text = self.fit(title, font, self.width - 2.0 * pad);
        self.text(
            &text,
            (pad, pad + self.cap_height(font)),
            Align::Left,
            font,
            INK,
        )?;
        Ok(pad + 2.0 * self.em(font))
    }

    /// Finishes drawing; returns the dashes SVG output still needs.
    pub fn finish(self) -> Result<Vec<DashPatch>, PlotError> {
        self.area.present().map_err(drawing_error)?;
        Ok(self.patches)
    }
}

/// Drops consecutive duplicate points (zero-length segments draw badly in both backends).
fn dedup(mut points: Vec<(i32, i32)>) -> Vec<(i32, i32)> {
    points.dedup();
    points
}

/// The `points` attribute plotters-svg writes for a path: `x,y ` per point.
fn svg_points(points: &[(i32, i32)]) -> String {
    let mut s = String::with_capacity(points.len() * 10);
    for (x, y) in points {
        s.push_str(&format!("{x},{y} "));
    }
    s
}

/// Cuts a polyline into its dashes: `pattern` alternates on and off lengths (pixels) and
/// runs on across vertices, as an SVG dash array does.
pub fn dash_pieces(points: &[(f64, f64)], pattern: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let total: f64 = pattern.iter().sum();
    if pattern.is_empty() || total <= 0.0 {
        return vec![points.to_vec()];
    }
    let mut pieces = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let mut index = 0; // position in the pattern
    let mut left = pattern[0]; // length left in the current pattern element
    let on = |i: usize| i.is_multiple_of(2);
    if let Some(&first) = points.first() {
        current.push(first);
    }
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        let length = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut done = 0.0;
        while length - done > left {
            done += left;
            let t = done / length;
            let p = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            if on(index) {
                if current.last() != Some(&p) {
                    current.push(p);
                }
                pieces.push(std::mem::take(&mut current));
            } else {
                current = vec![p];
            }
            index = (index + 1) % pattern.len();
            left = pattern[index];
        }
        left -= length - done;
        if on(index) {
            current.push(b);
        }
    }
    if on(index) && current.len() >= 2 {
        pieces.push(current);
    }
    pieces
}

/// Completes plotters' SVG: dash arrays on dashed curves, the physical size of the figure
/// (so a word processor places it at print size), and a title for accessibility.
pub fn finish_svg(
    mut svg: String,
    patches: &[DashPatch],
    (width, height): (u32, u32),
    inches: (f64, f64),
    title: &str,
) -> Result<String, PlotError> {
    let mut from = 0;
    for patch in patches {
        let needle = format!("points=\"{}\"", patch.points);
        let found = svg[from..]
            .find(&needle)
            .map(|i| i + from)
            .ok_or_else(|| PlotError::Drawing("a dashed curve is missing from the SVG".into()))?;
        let tag = svg[..found]
            .rfind("<polyline")
            .ok_or_else(|| PlotError::Drawing("a dashed curve is not a polyline".into()))?;
        let insert = tag + "<polyline".len();
        let attributes = format!(" stroke-dasharray=\"{}\"", patch.dasharray);
        svg.insert_str(insert, &attributes);
        from = found + attributes.len() + needle.len();
    }
    let header = format!("width=\"{width}\" height=\"{height}\" viewBox");
    let sized = format!(
        "width=\"{:.2}in\" height=\"{:.2}in\" viewBox",
        inches.0, inches.1
    );
    if !svg.contains(&header) {
        return Err(PlotError::Drawing("unexpected SVG header".into()));
    }
    svg = svg.replacen(&header, &sized, 1);
    if let Some(end) = svg.find('>') {
        let escaped = title
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        svg.insert_str(end + 1, &format!("\n<title>{escaped}</title>"));
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashes_run_on_across_vertices() {
        // An L of total length 20 with pattern 4 on, 2 off: dashes at 0–4, 6–10, 12–16, 18–20.
        let path = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)];
        let pieces = dash_pieces(&path, &[4.0, 2.0]);
        assert_eq!(pieces.len(), 4);
        assert_eq!(pieces[0], vec![(0.0, 0.0), (4.0, 0.0)]);
        assert_eq!(pieces[1], vec![(6.0, 0.0), (10.0, 0.0)]);
        // The third dash turns the corner: 12–16 is (10,2)–(10,6).
        assert_eq!(pieces[2], vec![(10.0, 2.0), (10.0, 6.0)]);
        assert_eq!(pieces[3], vec![(10.0, 8.0), (10.0, 10.0)]);
    }

    #[test]
    fn dash_crossing_a_corner_keeps_the_corner() {
        let path = [(0.0, 0.0), (3.0, 0.0), (3.0, 3.0)];
        let pieces = dash_pieces(&path, &[5.0, 1.0]);
        assert_eq!(pieces[0], vec![(0.0, 0.0), (3.0, 0.0), (3.0, 2.0)]);
    }

    #[test]
    fn solid_pattern_is_the_whole_path() {
        let path = [(0.0, 0.0), (3.0, 0.0)];
        assert_eq!(dash_pieces(&path, &[]), vec![path.to_vec()]);
    }

    #[test]
    fn long_labels_are_shortened_to_fit() {
        super::super::theme::register_fonts().unwrap();
        let mut svg = String::new();
        let canvas = Canvas::new(
            SVGBackend::with_string(&mut svg, (2100, 1500)),
            Surface::Svg,
        )
        .unwrap();
        let font = Font::regular(8.0);
        let long = "A strategy label far too long to fit in the margin of any figure ".repeat(50);
        let fitted = canvas.fit(&long, font, 300.0);
        assert!(fitted.ends_with('…'));
        assert!(canvas.text_width(&fitted, font) <= 300.0);
        assert!(canvas.text_width(&(fitted.clone() + "xx"), font) > 300.0 - 40.0);
        assert_eq!(canvas.fit("Short", font, 300.0), "Short");
    }

    #[test]
    fn svg_finishing_adds_dasharray_size_and_title() {
        let svg = "<svg width=\"100\" height=\"50\" viewBox=\"0 0 100 50\" xmlns=\"x\">\n<polyline fill=\"none\" points=\"1,2 3,4 \"/>\n</svg>\n".to_string();
        let patch = DashPatch {
            points: "1,2 3,4 ".into(),
            dasharray: "4.0 2.0".into(),
        };
        let out = finish_svg(svg, &[patch], (100, 50), (7.0, 3.5), "A & B").unwrap();
        assert!(out.contains("<polyline stroke-dasharray=\"4.0 2.0\" fill=\"none\""));
        assert!(out.contains("width=\"7.00in\" height=\"3.50in\" viewBox=\"0 0 100 50\""));
        assert!(out.contains("<title>A &amp; B</title>"));
    }
}
