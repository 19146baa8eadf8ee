//! PNG encoding of a rendered bitmap.
//!
//! The `png` crate is used directly rather than through plotters' encoder: it writes the
//! resolution (a pHYs chunk, so a word processor places the figure at its print size) and
//! compresses fast, which keeps all figures of a run well within the time budget.

use super::PlotError;

/// Encodes 8-bit RGB pixels as PNG at `ppi` pixels per inch, with a title and the
/// program's name as text chunks. The bytes depend only on the inputs (no timestamps), so
/// figures are reproducible byte for byte.
pub fn png(
    rgb: &[u8],
    (width, height): (u32, u32),
    ppi: f64,
    title: &str,
) -> Result<Vec<u8>, PlotError> {
    let error = |e: png::EncodingError| PlotError::Drawing(format!("PNG encoding failed: {e}"));
    let mut out = Vec::with_capacity(rgb.len() / 16);
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let per_metre = (ppi / 0.0254).round() as u32;
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: per_metre,
            yppu: per_metre,
            unit: png::Unit::Meter,
        }));
        let latin1: String = title
            .chars()
            .map(|c| if (c as u32) < 256 { c } else { '?' })
            .collect();
        if !latin1.is_empty() {
            encoder
                .add_text_chunk("Title".into(), latin1)
                .map_err(error)?;
        }
        encoder
            .add_text_chunk(
                "Software".into(),
                format!("hsctsim {}", env!("CARGO_PKG_VERSION")),
            )
            .map_err(error)?;
        let mut writer = encoder.write_header().map_err(error)?;
        writer.write_image_data(rgb).map_err(error)?;
        writer.finish().map_err(error)?;
    }
    Ok(out)
}
