//! PSA and one-way sensitivity figures, drawn from synthetic analysis folders written here
//! (so these tests do not depend on the analysis engine, only on its file contract):
//!
//! - each SVG has its axis titles, the strategies' labels in the legend, and one cloud or
//!   curve per strategy; the tornado's parameters are in order of swing;
//! - the PNG has the requested size and is not blank;
//! - a malformed file is an error naming the file and line;
//! - `hsctsim plot DIR` re-renders a PSA folder.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::common::{attribute, hsctsim};
use hsctsim::plot::{self, Format, PlotOptions};

use super::{COLOURS, STRATEGIES};
/// Thresholds of the acceptability curves.
const WTP_GRID: std::ops::RangeInclusive<u32> = 0..=30;
const WTP_STEP: f64 = 5_000.0;

// ---- Synthetic analysis folders. ----

/// A small deterministic generator (SplitMix64) for the fixture's draws.
struct Draws(u64);

impl Draws {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal (sum of uniforms), mean 0 and sd 1.
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }
}

fn manifest(kind: &str, draws: usize) -> String {
    let strategies: Vec<String> = STRATEGIES
        .iter()
        .map(|(n, l)| format!(r#"{{"name": "{n}", "label": "{l}", "description": "ignored"}}"#))
        .collect();
    format!(
        r#"{{"kind": "{kind}", "version": "0.1.0", "strategies": [{}], "reference": "palliation",
"currency": "EUR", "illustrative": true, "wtp": [50000, 100000], "draws": {draws}, "seed": 7}}"#,
        strategies.join(", ")
    )
}

/// `(cost, qalys)` of each draw (outer) and strategy (inner): later strategies cost more and
/// gain more, with correlated uncertainty.
fn simulate_draws(draws: usize) -> Vec<Vec<(f64, f64)>> {
    let mut rng = Draws(2024);
    (0..draws)
        .map(|_| {
            let shared = rng.normal();
            (0..STRATEGIES.len())
                .map(|s| {
                    let s = s as f64;
                    let qalys = 1.2 + 0.35 * s + 0.12 * s * shared + 0.08 * rng.normal();
                    let cost = 15_000.0 + 22_000.0 * s + 6_000.0 * s * rng.normal();
                    (cost, qalys)
                })
                .collect()
        })
        .collect()
}

/// Writes a PSA folder as the analysis does: manifest, draws, CEAC (with the frontier) and
/// EVPI computed from the draws.
fn write_psa(dir: &Path, draws: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("manifest.json"), manifest("psa", draws)).unwrap();
    let values = simulate_draws(draws);
    let mut csv = String::from(
        "draw,strategy,cost,qalys,life_years,cost_undiscounted,qalys_undiscounted,life_years_undiscounted\n",
    );
    for (d, row) in values.iter().enumerate() {
        for ((name, _), (cost, qalys)) in STRATEGIES.iter().zip(row) {
            let _ = writeln!(
                csv,
                "{},{name},{cost},{qalys},{},{},{},{}",
                d + 1,
                qalys * 1.3,
                cost * 1.1,
                qalys * 1.1,
                qalys * 1.4
            );
        }
    }
    std::fs::write(dir.join("psa_draws.csv"), csv).unwrap();

    let mut ceac = String::from("wtp,strategy,probability,expected_nmb,optimal\n");
    let mut evpi = String::from("wtp,evpi\n");
    for k in WTP_GRID {
        let wtp = f64::from(k) * WTP_STEP;
        let nmb = |&(cost, qalys): &(f64, f64)| wtp * qalys - cost;
        let mut wins = [0usize; STRATEGIES.len()];
        let mut expected = [0.0; STRATEGIES.len()];
        let mut perfect = 0.0;
        for row in &values {
            let nmbs: Vec<f64> = row.iter().map(nmb).collect();
            let best = (0..nmbs.len())
                .max_by(|&a, &b| nmbs[a].total_cmp(&nmbs[b]))
                .unwrap();
            wins[best] += 1;
            perfect += nmbs[best] / draws as f64;
            for (e, v) in expected.iter_mut().zip(&nmbs) {
                *e += v / draws as f64;
            }
        }
        let optimal = (0..expected.len())
            .max_by(|&a, &b| expected[a].total_cmp(&expected[b]))
            .unwrap();
        for (s, (name, _)) in STRATEGIES.iter().enumerate() {
            let _ = writeln!(
                ceac,
                "{wtp},{name},{},{},{}",
                wins[s] as f64 / draws as f64,
                expected[s],
                u8::from(s == optimal)
            );
        }
        let _ = writeln!(evpi, "{wtp},{}", perfect - expected[optimal]);
    }
    std::fs::write(dir.join("ceac.csv"), ceac).unwrap();
    std::fs::write(dir.join("evpi.csv"), evpi).unwrap();
}

/// Parameters of the one-way analysis in file order: `(name, label, low, high, inmb_low,
/// inmb_high)`. Their swings are 4 000, 30 000, 12 000 and 500.
const PARAMETERS: [(&str, &str, f64, f64, f64, f64); 4] = [
    (
        "utility_cr",
        "Utility in remission",
        0.7,
        0.9,
        8_000.0,
        12_000.0,
    ),
    (
        "cost_hsct",
        "Cost of HSCT2",
        80_000.0,
        160_000.0,
        25_000.0,
        -5_000.0,
    ),
    (
        "hr_relapse",
        "Relapse hazard ratio",
        0.6,
        1.4,
        16_000.0,
        4_000.0,
    ),
    ("discount", "Discount rate", 0.0, 0.05, 10_200.0, 9_700.0),
];
const SWING_ORDER: [&str; 4] = [
    "Cost of HSCT2",
    "Relapse hazard ratio",
    "Utility in remission",
    "Discount rate",
];

/// Writes a one-way analysis folder: manifest (kind `owsa`) and `tornado.csv` alone.
fn write_owsa(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("manifest.json"), manifest("owsa", 0)).unwrap();
    let mut csv = String::from(
        "parameter,label,strategy,comparator,wtp,low,high,inmb_low,inmb_high,inmb_base\n",
    );
    for (name, label, low, high, inmb_low, inmb_high) in PARAMETERS {
        let _ = writeln!(
            csv,
            "{name},{label},different_donor,palliation,50000,{low},{high},{inmb_low},{inmb_high},10000"
        );
    }
    std::fs::write(dir.join("tornado.csv"), csv).unwrap();
}

fn psa_folder(root: &Path, draws: usize) -> PathBuf {
    let dir = root.join("psa");
    write_psa(&dir, draws);
    dir
}

fn svg_options() -> PlotOptions {
    PlotOptions {
        formats: vec![Format::Svg],
        ..PlotOptions::default()
    }
}

fn render_svg(dir: &Path, name: &str) -> String {
    let figures = plot::render_psa(dir, &svg_options()).unwrap_or_else(|e| panic!("{e}"));
    let figure = figures
        .iter()
        .find(|f| f.file_name == format!("{name}.svg"))
        .unwrap_or_else(|| panic!("no {name}.svg"));
    String::from_utf8(figure.bytes.clone()).unwrap()
}

// ---- A small SVG reader: enough for plotters' output. ----

/// Opening tags of every `<tag …>`.
fn tags<'a>(svg: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    svg.match_indices(&open)
        .map(|(i, _)| &svg[i..i + svg[i..].find('>').unwrap() + 1])
        .collect()
}

/// Opening tag and content of each `<text>` element, in document order.
fn text_elements(svg: &str) -> Vec<(&str, String)> {
    svg.match_indices("<text ")
        .map(|(i, _)| {
            let start = i + svg[i..].find('>').unwrap() + 1;
            let end = start + svg[start..].find("</text>").unwrap();
            let content = svg[start..end]
                .trim()
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">");
            (&svg[i..start], content)
        })
        .collect()
}

/// Contents of the `<text>` elements, in document order.
fn texts(svg: &str) -> Vec<String> {
    text_elements(svg).into_iter().map(|(_, c)| c).collect()
}

/// Translucent filled shapes (one per draw) of a colour.
fn draw_markers(svg: &str, colour: &str) -> usize {
    ["circle", "polygon", "rect"]
        .iter()
        .flat_map(|t| tags(svg, t))
        .filter(|e| attribute(e, "fill") == Some(colour))
        .filter(|e| attribute(e, "opacity").is_some_and(|o| o.parse::<f64>().unwrap() < 1.0))
        .count()
}

/// Polylines of a stroke colour with more than `min_points` vertices.
fn long_lines<'a>(svg: &'a str, colour: &str, min_points: usize) -> Vec<&'a str> {
    tags(svg, "polyline")
        .into_iter()
        .filter(|e| attribute(e, "stroke") == Some(colour))
        .filter(|e| attribute(e, "points").unwrap().split_whitespace().count() > min_points)
        .collect()
}

fn has_text(texts: &[String], wanted: &str) -> bool {
    texts.iter().any(|t| t == wanted)
}

// ---- The tests. ----

#[test]
fn psa_folder_gets_plane_acceptability_and_evpi_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = psa_folder(tmp.path(), 200);
    let written = plot::render_psa_dir(&dir, &PlotOptions::default()).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "ce_plane.svg",
            "ce_plane.png",
            "ceac.svg",
            "ceac.png",
            "evpi.svg",
            "evpi.png"
        ]
    );
    for path in &written {
        assert!(path.starts_with(dir.join("figures")));
        assert!(std::fs::metadata(path).unwrap().len() > 1000);
    }
}

#[test]
fn ce_plane_has_titles_legend_threshold_and_one_cloud_per_strategy() {
    let tmp = tempfile::tempdir().unwrap();
    let draws = 300;
    let svg = render_svg(&psa_folder(tmp.path(), draws), "ce_plane");
    let t = texts(&svg);
    for wanted in [
        "Cost-effectiveness plane",
        "Incremental QALYs (vs Palliative care)",
        "Incremental cost (EUR)",
        "WTP 50 000 EUR/QALY",
        "Illustrative values",
        "300 draws; large markers: means",
    ] {
        assert!(has_text(&t, wanted), "no text `{wanted}` in {t:?}");
    }
    // The reference is the origin, not a cloud: it is named in the axis title only.
    assert!(!has_text(&t, STRATEGIES[0].1));
    for ((_, label), colour) in STRATEGIES.iter().zip(COLOURS).skip(1) {
        assert!(has_text(&t, label), "legend lacks {label}");
        assert_eq!(
            draw_markers(&svg, colour),
            draws,
            "one marker per draw of {label}"
        );
    }
    assert_eq!(draw_markers(&svg, COLOURS[0]), 0);
    // The threshold is a dashed line.
    assert!(
        tags(&svg, "polyline")
            .iter()
            .filter(|e| attribute(e, "stroke-dasharray").is_some())
            .count()
            >= 2,
        "dashed threshold line and its legend sample"
    );
}

#[test]
fn acceptability_curves_have_a_line_per_strategy_and_the_frontier() {
    let tmp = tempfile::tempdir().unwrap();
    let svg = render_svg(&psa_folder(tmp.path(), 200), "ceac");
    let t = texts(&svg);
    for wanted in [
        "Willingness to pay (EUR/QALY)",
        "Probability cost-effective (%)",
        "Frontier (highest expected net benefit)",
        "WTP 50 000 EUR/QALY",
        "100 000",
    ] {
        assert!(has_text(&t, wanted), "no text `{wanted}` in {t:?}");
    }
    let points = WTP_GRID.count();
    for ((_, label), colour) in STRATEGIES.iter().zip(COLOURS) {
        assert!(has_text(&t, label), "legend lacks {label}");
        let lines = long_lines(&svg, colour, points - 1);
        assert_eq!(lines.len(), 1, "one curve of {label}");
    }
    // Strategies after the first are dashed, for greyscale.
    for colour in &COLOURS[1..] {
        assert!(attribute(long_lines(&svg, colour, 2)[0], "stroke-dasharray").is_some());
    }
    assert_eq!(
        long_lines(&svg, "#C4C4C4", points - 1).len(),
        1,
        "the frontier"
    );
}

#[test]
fn evpi_figure_has_its_axes() {
    let tmp = tempfile::tempdir().unwrap();
    let svg = render_svg(&psa_folder(tmp.path(), 200), "evpi");
    let t = texts(&svg);
    for wanted in [
        "Expected value of perfect information",
        "EVPI per patient (EUR)",
        "Willingness to pay (EUR/QALY)",
    ] {
        assert!(has_text(&t, wanted), "no text `{wanted}` in {t:?}");
    }
    assert_eq!(long_lines(&svg, "#1A1A1A", WTP_GRID.count() - 1).len(), 1);
}

#[test]
fn tornado_lists_parameters_widest_swing_first() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("owsa");
    write_owsa(&dir);
    let figures = plot::render_psa(&dir, &svg_options()).unwrap();
    assert_eq!(figures.len(), 1, "an OWSA folder has the tornado only");
    assert_eq!(figures[0].file_name, "tornado.svg");
    let svg = String::from_utf8(figures[0].bytes.clone()).unwrap();
    let t = texts(&svg);
    let positions: Vec<usize> = SWING_ORDER
        .iter()
        .map(|label| {
            t.iter()
                .position(|x| x == label)
                .unwrap_or_else(|| panic!("no label {label} in {t:?}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    // Rows run top to bottom in that order too.
    let elements = text_elements(&svg);
    let y_of = |label: &str| {
        let (tag, _) = elements.iter().find(|(_, c)| c == label).unwrap();
        attribute(tag, "y").unwrap().parse::<f64>().unwrap()
    };
    assert!(SWING_ORDER.windows(2).all(|w| y_of(w[0]) < y_of(w[1])));
    for wanted in [
        "Incremental net monetary benefit (EUR), HSCT2, different donor vs Palliative care at 50 000 EUR/QALY",
        "Parameter at its low value",
        "at its high value",
        "Base case (10 000)",
        "80 000–160 000",
        "0.6–1.4",
    ] {
        assert!(has_text(&t, wanted), "no text `{wanted}` in {t:?}");
    }
    // Two bars per parameter, in the low and high colours.
    for colour in ["#56B4E9", "#D55E00"] {
        let bars = tags(&svg, "rect")
            .into_iter()
            .filter(|e| attribute(e, "fill") == Some(colour))
            .count();
        assert_eq!(
            bars,
            PARAMETERS.len() + 1,
            "bars and legend sample of {colour}"
        );
    }
}

fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn png_has_the_requested_size_and_is_not_blank() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = psa_folder(tmp.path(), 200);
    write_owsa(&dir);
    let defaults = plot::render_psa(
        &dir,
        &PlotOptions {
            formats: vec![Format::Png],
            ..PlotOptions::default()
        },
    )
    .unwrap();
    assert_eq!(defaults.len(), 4, "with tornado.csv beside the PSA files");
    for figure in &defaults {
        let (width, _, pixels) = decode(&figure.bytes);
        assert!(width >= 2000, "{} is {width} px wide", figure.file_name);
        let inked = pixels.chunks(3).filter(|p| p != &[255, 255, 255]).count();
        let fraction = inked as f64 / (pixels.len() / 3) as f64;
        assert!(
            fraction > 0.01 && fraction < 0.6,
            "{}: ink {fraction}",
            figure.file_name
        );
    }
    let options = PlotOptions {
        formats: vec![Format::Png],
        width: Some(1600),
        height: Some(1200),
        ..PlotOptions::default()
    };
    for figure in plot::render_psa(&dir, &options).unwrap() {
        let (width, height, _) = decode(&figure.bytes);
        assert_eq!((width, height), (1600, 1200), "{}", figure.file_name);
    }
}

#[test]
fn malformed_files_name_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = psa_folder(tmp.path(), 20);
    let path = dir.join("psa_draws.csv");
    let good = std::fs::read_to_string(&path).unwrap();
    let error = |text: &str, file: &Path| {
        std::fs::write(file, text).unwrap();
        let e = plot::render_psa(&dir, &svg_options()).unwrap_err();
        assert!(e.is_input(), "{e}");
        e.to_string()
    };
    // Line 5 is the fourth data row.
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[4].split(',').collect();
    fields[2] = "lots";
    lines[4] = fields.join(",");
    let message = error(&(lines.join("\n") + "\n"), &path);
    assert!(
        message.contains("psa_draws.csv:5:") && message.contains("`cost` is `lots`"),
        "{message}"
    );
    let message = error(&good.replace("same_donor", "same_donr"), &path);
    assert!(
        message.contains("psa_draws.csv:3:") && message.contains("same_donr"),
        "{message}"
    );
    assert!(message.contains("help:"), "{message}");
    let cut = good
        .lines()
        .take(good.lines().count() - 1)
        .collect::<Vec<_>>();
    let message = error(&(cut.join("\n") + "\n"), &path);
    assert!(
        message.contains("psa_draws.csv:")
            && message.contains("draw 20 has no row for strategy `hsct2_for_all`"),
        "{message}"
    );
    let message = error(&good.replace("qalys,", "qaly,"), &path);
    assert!(
        message.contains("psa_draws.csv:1:") && message.contains("no column `qalys`"),
        "{message}"
    );
    std::fs::write(&path, &good).unwrap();

    let ceac = dir.join("ceac.csv");
    let text = std::fs::read_to_string(&ceac).unwrap();
    let message = error(&text.replacen(",1\n", ",yes\n", 1), &ceac);
    assert!(
        message.contains("ceac.csv:") && message.contains("`optimal` is `yes`"),
        "{message}"
    );
    std::fs::write(&ceac, &text).unwrap();

    let owsa = tmp.path().join("owsa");
    write_owsa(&owsa);
    let tornado = owsa.join("tornado.csv");
    let text = std::fs::read_to_string(&tornado).unwrap();
    std::fs::write(
        &tornado,
        text.replacen(",10000\n", ",NaN\n", 2)
            .replacen("NaN", "10000", 1),
    )
    .unwrap();
    let message = plot::render_psa(&owsa, &svg_options())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("tornado.csv:3:") && message.contains("inmb_base"),
        "{message}"
    );

    let manifest = dir.join("manifest.json");
    std::fs::write(
        &manifest,
        r#"{"kind": "psa", "strategies": [{"name": "a"}]}"#,
    )
    .unwrap();
    let message = plot::render_psa(&dir, &svg_options())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("manifest.json") && message.contains("reference"),
        "{message}"
    );
}

#[test]
fn plot_command_rerenders_a_psa_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = psa_folder(tmp.path(), 100);
    let dir_text = dir.to_str().unwrap();
    let (code, stdout, stderr) = hsctsim(&["plot", dir_text, "--format", "svg"]);
    assert_eq!(code, 0, "{stderr}");
    for name in ["ce_plane.svg", "ceac.svg", "evpi.svg"] {
        assert!(stdout.contains(name), "{stdout}");
        assert!(dir.join("figures").join(name).exists());
    }
    assert!(stderr.is_empty(), "{stderr}");

    // Options for run figures are named as not applying; the figures are still drawn.
    let (code, stdout, stderr) = hsctsim(&[
        "plot",
        dir_text,
        "--measure",
        "os",
        "--origin",
        "hsct2",
        "--title",
        "",
        "--width",
        "1200",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("note:") && stderr.contains("--origin, --measure"),
        "{stderr}"
    );
    assert!(stdout.contains("ceac.png"), "{stdout}");
    let svg = std::fs::read_to_string(dir.join("figures/ceac.svg")).unwrap();
    assert!(!has_text(
        &texts(&svg),
        "Cost-effectiveness acceptability curves"
    ));

    // An OWSA folder: the tornado.
    let owsa = tmp.path().join("owsa");
    write_owsa(&owsa);
    let (code, stdout, stderr) = hsctsim(&["plot", owsa.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("tornado.svg") && stdout.contains("tornado.png"));

    // A broken file: exit code 2 and the file and line.
    std::fs::write(
        owsa.join("tornado.csv"),
        "parameter,label,strategy,comparator,wtp,low,high,inmb_low,inmb_high,inmb_base\nx,X,a,b,1,2,3,4,five,6\n",
    )
    .unwrap();
    let (code, _, stderr) = hsctsim(&["plot", owsa.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("tornado.csv:2:"), "{stderr}");
}

/// Rendering time of every figure of a 4-strategy, 1000-draw folder in both formats
/// (`cargo test --release --test figures render_time -- --ignored --nocapture`).
#[test]
#[ignore = "a measurement, not a check"]
fn render_time_of_a_1000_draw_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = psa_folder(tmp.path(), 1000);
    write_owsa(&dir);
    let options = PlotOptions::default();
    plot::render_psa(&dir, &options).unwrap();
    let runs = 5;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        plot::render_psa_dir(&dir, &options).unwrap();
    }
    println!(
        "read + render + write 4 PSA figures × svg+png, 4 strategies, 1000 draws: {:.3} s",
        start.elapsed().as_secs_f64() / f64::from(runs)
    );
}
