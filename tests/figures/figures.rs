//! Figures: what the README and issue promise, checked on real renders of a 4-strategy run.
//!
//! - The SVG has real text (axis titles, legend entries, the number-at-risk table) and one
//!   curve path per strategy, and the curves drawn agree with `curves.csv` when their
//!   pixels are mapped back through the axes.
//! - The PNG has the requested size, print resolution by default, and is not blank.
//! - Fonts work with no system fonts (in a private mount namespace that hides them).
//! - `hsctsim plot` re-renders from the run folder with the options asked for, and bad run
//!   folders get clear errors naming the file.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::{attribute, hsctsim};
use hsctsim::aggregate::results::{Origin, Results};
use hsctsim::output::Manifest;
use hsctsim::plot::{self, Format, Measure, PlotOptions, RunData};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/figure_strategies.toml"
);
const CHECK_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/check.csv");
use super::{COLOURS, STRATEGIES};

struct Run {
    _dir: tempfile::TempDir,
    path: PathBuf,
    results: Results,
    manifest: Manifest,
}

/// The fixture simulated once and written with its figures, as `hsctsim run` does.
fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let model = hsctsim::scenario::load(FIXTURE).unwrap_or_else(|e| panic!("{e}"));
        let (tally, results) = common::run(&model, 20_000, 2);
        let bytes = std::fs::read(FIXTURE).unwrap();
        let manifest = Manifest::new(&model, FIXTURE, &bytes, &tally, 2, 0.1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figure_strategies");
        let figures_failed = hsctsim::service::run::write_run(
            &path,
            &results,
            &manifest,
            Some(&PlotOptions::default()),
            false,
        )
        .unwrap();
        assert!(figures_failed.is_none(), "{figures_failed:?}");
        Run {
            _dir: dir,
            path,
            results,
            manifest,
        }
    })
}

/// A copy of the run folder (without figures) that a test may change.
fn copy_run(to: &Path) -> PathBuf {
    let dir = to.join("run");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["curves.csv", "summary.csv", "manifest.json"] {
        std::fs::copy(run().path.join(f), dir.join(f)).unwrap();
    }
    dir
}

// ---- A small SVG reader: enough for plotters' output. ----

/// `(element text, content)` of every `<tag …>`; content is empty for self-closing tags.
fn elements<'a>(svg: &'a str, tag: &str) -> Vec<(&'a str, String)> {
    let open = format!("<{tag} ");
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i..];
        let end = after.find('>').unwrap();
        let element = &after[..=end];
        let content = if element.ends_with("/>") {
            String::new()
        } else {
            let close = format!("</{tag}>");
            let stop = after.find(&close).unwrap();
            after[end + 1..stop].trim().to_string()
        };
        out.push((element, content));
        rest = &after[end..];
    }
    out
}

fn texts(svg: &str) -> Vec<String> {
    elements(svg, "text").into_iter().map(|(_, c)| c).collect()
}

fn points(element: &str) -> Vec<(f64, f64)> {
    attribute(element, "points")
        .unwrap()
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

/// The plot's axes from the SVG itself: the longest dark horizontal line is the x axis,
/// the longest dark vertical line the y axis. Returns (left, right, bottom, top) pixels.
fn plot_frame(svg: &str) -> (f64, f64, f64, f64) {
    let mut x_axis = (0.0, 0.0, 0.0);
    let mut y_axis = (0.0, 0.0, 0.0);
    for (e, _) in elements(svg, "polyline") {
        if attribute(e, "stroke") != Some("#1A1A1A") {
            continue;
        }
        let p = points(e);
        if p.len() != 2 {
            continue;
        }
        let (a, b) = (p[0], p[1]);
        if a.1 == b.1 && (b.0 - a.0).abs() > x_axis.1 - x_axis.0 {
            x_axis = (a.0.min(b.0), a.0.max(b.0), a.1);
        }
        if a.0 == b.0 && (b.1 - a.1).abs() > y_axis.1 - y_axis.0 {
            y_axis = (a.1.min(b.1), a.1.max(b.1), a.0);
        }
    }
    assert_eq!(x_axis.0, y_axis.2, "the axes meet at the origin");
    (x_axis.0, x_axis.1, y_axis.1, y_axis.0)
}

/// Curves of a colour: polylines of that stroke spanning the whole time axis.
fn curves_of<'a>(svg: &'a str, colour: &str, left: f64, right: f64) -> Vec<&'a str> {
    elements(svg, "polyline")
        .into_iter()
        .map(|(e, _)| e)
        .filter(|e| attribute(e, "stroke") == Some(colour))
        .filter(|e| {
            let p = points(e);
            let min = p.iter().map(|q| q.0).fold(f64::INFINITY, f64::min);
            let max = p.iter().map(|q| q.0).fold(f64::NEG_INFINITY, f64::max);
            (min - left).abs() <= 1.0 && (max - right).abs() <= 1.0
        })
        .collect()
}

fn read_svg(name: &str) -> String {
    std::fs::read_to_string(run().path.join("figures").join(name)).unwrap()
}

// ---- The tests. ----

#[test]
fn run_writes_every_figure_for_both_origins() {
    let dir = run().path.join("figures");
    for measure in ["os", "lfs", "cir", "nrm", "occupancy"] {
        for origin in ["entry", "hsct2"] {
            for ext in ["svg", "png"] {
                let f = dir.join(format!("{measure}_{origin}.{ext}"));
                assert!(f.is_file(), "missing {}", f.display());
            }
        }
    }
    // Nothing half-written is left beside the run folder.
    let siblings: Vec<_> = std::fs::read_dir(run().path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(siblings, vec!["figure_strategies".to_string()]);
}

#[test]
fn svg_has_axis_titles_legend_table_and_one_curve_per_strategy() {
    let svg = read_svg("os_entry.svg");
    let t = texts(&svg);
    for expected in [
        "Overall survival",
        "Overall survival (%)",
        "Months since relapse or graft failure after HSCT1",
        "No. at risk",
        "20,000",
    ] {
        assert!(
            t.iter().any(|x| x == expected),
            "no text `{expected}` in {t:?}"
        );
    }
    for (_, label) in STRATEGIES {
        // Once in the legend, once in the number-at-risk table.
        assert_eq!(t.iter().filter(|x| *x == label).count(), 2, "{label}");
    }
    assert!(svg.contains("font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""));
    let (left, right, _, _) = plot_frame(&svg);
    for colour in COLOURS {
        assert_eq!(curves_of(&svg, colour, left, right).len(), 1, "{colour}");
    }
    // Strategies differ by dash as well as colour (greyscale print): the first is solid,
    // the others have distinct dash arrays.
    let dashes: Vec<Option<&str>> = COLOURS
        .iter()
        .map(|c| attribute(curves_of(&svg, c, left, right)[0], "stroke-dasharray"))
        .collect();
    assert_eq!(dashes[0], None);
    let distinct: std::collections::HashSet<_> = dashes.iter().collect();
    assert_eq!(distinct.len(), 4, "{dashes:?}");
    // Physical size for word processors: 7 inches wide.
    assert!(svg.starts_with("<svg width=\"7.00in\""), "{}", &svg[..80]);
}

/// Maps every vertex of every curve back to (months, proportion) through the axes and
/// compares it with curves.csv: each vertex of a step curve sits at a grid time, at the
/// value before or after the step.
#[test]
fn svg_curves_agree_with_curves_csv() {
    for (measure, origin) in [
        ("os", "entry"),
        ("cir", "entry"),
        ("nrm", "hsct2"),
        ("lfs", "hsct2"),
    ] {
        let svg = read_svg(&format!("{measure}_{origin}.svg"));
        let (left, right, bottom, top) = plot_frame(&svg);
        let horizon = 60.0;
        let pixel = (bottom - top) / 100.0; // one pixel in percent
        let t = texts(&svg);
        assert!(
            t.iter().any(|x| x == "0")
                && t.iter().any(|x| x == "60")
                && t.iter().any(|x| x == "100")
        );
        let origin_value = if origin == "entry" {
            Origin::Entry
        } else {
            Origin::Hsct2
        };
        for (k, (name, _)) in STRATEGIES.iter().enumerate() {
            let csv = common::curve(&run().results, name, origin, measure);
            let found = curves_of(&svg, COLOURS[k], left, right);
            if csv.is_empty() {
                // Palliation has nobody transplanted: no curve since HSCT2.
                assert_eq!(origin_value, Origin::Hsct2);
                assert!(found.is_empty());
                continue;
            }
            assert_eq!(found.len(), 1);
            let p = points(found[0]);
            let value = |t: f64| csv[(t.round() as usize).min(csv.len() - 1)].1 * 100.0;
            for &(x, y) in &p {
                let months = (x - left) / (right - left) * horizon;
                let percent = (bottom - y) / (bottom - top) * 100.0;
                let grid = months.round();
                assert!(
                    (months - grid).abs() < 0.05,
                    "{measure} vertex at {months} months"
                );
                let before = if grid >= 1.0 {
                    value(grid - 1.0)
                } else {
                    value(0.0)
                };
                let close = |v: f64| (percent - v).abs() <= 0.6 * pixel + 0.05;
                assert!(
                    close(value(grid)) || close(before),
                    "{measure}/{origin}/{name}: vertex at {months:.2} months is {percent:.2} %, csv has {:.2} or {:.2}",
                    value(grid),
                    before
                );
            }
            // The curve ends at the horizon at the last value.
            let (x, y) = *p.last().unwrap();
            assert!((x - right).abs() < 0.5);
            assert!(((bottom - y) / pixel - value(horizon)).abs() <= 0.6 + 0.05 / pixel);
        }
    }
}

fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>, Option<png::PixelDimensions>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let dims = reader.info().pixel_dims;
    buf.truncate(info.buffer_size());
    (info, buf, dims)
}

/// Fraction of pixels that are not white, and the number of distinct colours.
fn ink(info: &png::OutputInfo, pixels: &[u8]) -> (f64, usize) {
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    for p in pixels.chunks(3) {
        if p != [255, 255, 255] {
            inked += 1;
        }
        colours.insert((p[0], p[1], p[2]));
    }
    (inked as f64 / (pixels.len() / 3) as f64, colours.len())
}

#[test]
fn png_is_print_resolution_and_not_blank() {
    let bytes = std::fs::read(run().path.join("figures/os_entry.png")).unwrap();
    let (info, pixels, dims) = decode(&bytes);
    assert!(info.width >= 2000, "full-width figure at print resolution");
    let dims = dims.expect("a pHYs chunk");
    let ppi = f64::from(dims.xppu) * 0.0254;
    assert!((ppi - 300.0).abs() < 1.0, "{ppi} dpi");
    let (fraction, colours) = ink(&info, &pixels);
    assert!(fraction > 0.02 && fraction < 0.6, "ink {fraction}");
    assert!(colours > 20, "{colours} colours");
}

#[test]
fn png_has_the_requested_size() {
    let data = RunData::from_results(&run().results, &run().manifest);
    for (width, height) in [(2400, 1800), (800, 600)] {
        let options = PlotOptions {
            formats: vec![Format::Png],
            origins: vec![Origin::Entry],
            measures: vec![Measure::Cir, Measure::Occupancy],
            width: Some(width),
            height: Some(height),
            ..PlotOptions::default()
        };
        let figures = plot::render(&data, &options).unwrap();
        assert_eq!(figures.len(), 2);
        for f in figures {
            let (info, pixels, _) = decode(&f.bytes);
            assert_eq!(
                (info.width, info.height),
                (width, height),
                "{}",
                f.file_name
            );
            let (fraction, colours) = ink(&info, &pixels);
            assert!(
                fraction > 0.02 && colours > 10,
                "{} looks blank",
                f.file_name
            );
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    let data = RunData::from_results(&run().results, &run().manifest);
    let options = PlotOptions {
        origins: vec![Origin::Hsct2],
        measures: vec![Measure::Os],
        ..PlotOptions::default()
    };
    let a = plot::render(&data, &options).unwrap();
    let b = plot::render(&data, &options).unwrap();
    assert_eq!(a, b);
    // Rendering from the folder gives the same figures as rendering at the end of the run.
    let from_dir = RunData::from_dir(&run().path).unwrap();
    assert_eq!(plot::render(&from_dir, &options).unwrap(), a);
}

#[test]
fn strategy_colours_are_stable_across_figures_and_subsets() {
    let data = RunData::from_results(&run().results, &run().manifest);
    let options = PlotOptions {
        formats: vec![Format::Svg],
        origins: vec![Origin::Entry],
        measures: vec![Measure::Nrm],
        strategies: vec!["hsct2_for_all".into(), "same_donor".into()],
        ..PlotOptions::default()
    };
    let figures = plot::render(&data, &options).unwrap();
    let svg = String::from_utf8(figures[0].bytes.clone()).unwrap();
    let (left, right, _, _) = plot_frame(&svg);
    assert_eq!(curves_of(&svg, COLOURS[3], left, right).len(), 1);
    assert_eq!(curves_of(&svg, COLOURS[1], left, right).len(), 1);
    assert!(curves_of(&svg, COLOURS[0], left, right).is_empty());
    // Legend order is the order asked for.
    let t = texts(&svg);
    let first = t.iter().position(|x| x == STRATEGIES[3].1).unwrap();
    let second = t.iter().position(|x| x == STRATEGIES[1].1).unwrap();
    assert!(first < second);
}

#[test]
fn log_axis_and_landmark_legend() {
    let data = RunData::from_results(&run().results, &run().manifest);
    let options = PlotOptions {
        formats: vec![Format::Svg],
        origins: vec![Origin::Hsct2],
        measures: vec![Measure::Os],
        log: true,
        landmark: Some(24.0),
        ..PlotOptions::default()
    };
    let svg = String::from_utf8(plot::render(&data, &options).unwrap()[0].bytes.clone()).unwrap();
    let t = texts(&svg);
    assert!(t.iter().any(|x| x == "At 24 months (95 % CI)"), "{t:?}");
    let os24 = common::curve(&run().results, "same_donor", "hsct2", "os")[24].1;
    let expected = format!("HSCT2, same donor: {:.1} %", os24 * 100.0);
    assert!(
        t.iter().any(|x| x.starts_with(&expected)),
        "{expected} not in {t:?}"
    );
    // A log axis has 1–2–5 ticks, e.g. 50 and 20.
    assert!(t.iter().any(|x| x == "50") && t.iter().any(|x| x == "20"));
}

#[test]
fn plot_command_restyles_from_the_csv_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_run(tmp.path());
    let (code, stdout, stderr) = hsctsim(&[
        "plot",
        dir.to_str().unwrap(),
        "--format",
        "svg",
        "--origin",
        "hsct2",
        "--measure",
        "os,cir",
        "--strategies",
        "same_donor,hsct2_for_all",
        "--from",
        "0",
        "--to",
        "36",
        "--title",
        "Donor policy",
        "--width",
        "1500",
        "--height",
        "1000",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let mut files: Vec<String> = std::fs::read_dir(dir.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, vec!["cir_hsct2.svg", "os_hsct2.svg"]);
    assert_eq!(stdout.lines().count(), 2);
    let svg = std::fs::read_to_string(dir.join("figures/os_hsct2.svg")).unwrap();
    assert!(svg.contains("viewBox=\"0 0 1500 1000\""));
    let t = texts(&svg);
    assert!(t.iter().any(|x| x == "Donor policy"));
    assert!(t.iter().any(|x| x == "36") && !t.iter().any(|x| x == "48"));
    let (left, right, _, _) = plot_frame(&svg);
    let drawn: usize = COLOURS
        .iter()
        .map(|c| curves_of(&svg, c, left, right).len())
        .sum();
    assert_eq!(drawn, 2);
}

#[test]
fn figures_table_overrides_titles_and_labels() {
    let text = std::fs::read_to_string(FIXTURE).unwrap()
        + r#"
[figures]
titles = { os = "", cir = "Relapse by donor policy" }
y_labels = { cir = "Relapsed (%)" }
x_labels = { entry = "Months after relapse" }
strategies = { palliation = "Best supportive care" }
states = { relapse2 = "Second relapse" }
landmark = "2y"
"#;
    let model = common::parse(&text);
    assert_eq!(model.figures.landmark, Some(24.0));
    let (tally, results) = common::run(&model, 5_000, 1);
    let manifest = Manifest::new(&model, "x.toml", text.as_bytes(), &tally, 1, 0.1);
    // The overrides travel in the manifest, so `hsctsim plot` uses them.
    let read_back = Manifest::from_json(&manifest.to_json()).unwrap();
    assert_eq!(read_back.figures, model.figures);
    let data = RunData::from_results(&results, &read_back);
    let options = PlotOptions {
        formats: vec![Format::Svg],
        origins: vec![Origin::Entry],
        measures: vec![Measure::Os, Measure::Cir, Measure::Occupancy],
        ..PlotOptions::default()
    };
    let figures = plot::render(&data, &options).unwrap();
    let svg = |name: &str| {
        let f = figures.iter().find(|f| f.file_name == name).unwrap();
        texts(std::str::from_utf8(&f.bytes).unwrap())
    };
    let os = svg("os_entry.svg");
    assert!(
        !os.iter().any(|x| x == "Overall survival"),
        "empty title removes it"
    );
    assert!(os.iter().any(|x| x == "Months after relapse"));
    assert!(os.iter().any(|x| x.starts_with("Best supportive care")));
    assert!(os.iter().any(|x| x == "At 24 months (95 % CI)"));
    let cir = svg("cir_entry.svg");
    assert!(cir.iter().any(|x| x == "Relapse by donor policy"));
    assert!(cir.iter().any(|x| x == "Relapsed (%)"));
    assert!(
        svg("occupancy_entry.svg")
            .iter()
            .any(|x| x == "Second relapse")
    );

    // Names are checked, with suggestions; the error points into the file.
    let bad = std::fs::read_to_string(FIXTURE).unwrap()
        + "\n[figures]\nstrategies = { same_donr = \"x\" }\n";
    let e = hsctsim::scenario::parse(&bad, "bad.toml", "bad")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("same_donr") && e.contains("Did you mean `same_donor`?"),
        "{e}"
    );
    assert!(e.contains("bad.toml:"), "{e}");
    let bad = std::fs::read_to_string(FIXTURE).unwrap() + "\n[figures]\ntitle = \"x\"\n";
    let e = hsctsim::scenario::parse(&bad, "bad.toml", "bad")
        .unwrap_err()
        .to_string();
    assert!(e.contains("title"), "{e}");
}

#[test]
fn calibration_figure_from_check_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_run(tmp.path());
    std::fs::copy(CHECK_CSV, dir.join("check.csv")).unwrap();
    let (code, stdout, stderr) =
        hsctsim(&["plot", dir.to_str().unwrap(), "--measure", "calibration"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("calibration.svg") && stdout.contains("calibration.png"));
    let svg = std::fs::read_to_string(dir.join("figures/calibration.svg")).unwrap();
    let t = texts(&svg);
    for expected in [
        "Kharfan-Dabaja [12]",
        "OS at 24 mo (HSCT2)",
        "Median OS (HSCT2)",
        "Months",
        "38.0 (31.0–45.0)",
    ] {
        assert!(t.iter().any(|x| x == expected), "no `{expected}` in {t:?}");
    }
    // The library entry point for `hsctsim check`.
    let figures = plot::render_check(Path::new(CHECK_CSV), &PlotOptions::default()).unwrap();
    assert_eq!(figures.len(), 2);

    // Percentages instead of proportions are refused with the line and a hint.
    std::fs::write(
        dir.join("check.csv"),
        "study,endpoint,origin,horizon,published,published_lower,published_upper,simulated,simulated_lower,simulated_upper,n\nA,os,entry,12,45,,,0.4,,,\n",
    )
    .unwrap();
    let (code, _, stderr) = hsctsim(&["plot", dir.to_str().unwrap(), "--measure", "calibration"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("check.csv:2") && stderr.contains("not a proportion"),
        "{stderr}"
    );
}

/// `check.csv` as `hsctsim check` writes it (percentages, subgroups, hazard ratios, a
/// median checked as survival at the published median) reads as the figure's proportions.
#[test]
fn hsctsim_check_output_reads_as_proportions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("check.csv");
    std::fs::write(
        &path,
        "study,id,cohort,group,endpoint,origin,horizon,scale,published,published_lower,published_upper,simulated,simulated_lower,simulated_upper,n\n\
         Lee [11],T034,lee,HID,os,hsct2,24,percent,41,25.63,58.35,27.7,27.3,28,31\n\
         Yalniz [18],E039,yalniz,,os_hr,hsct2,60,ratio,2.9,1.71,4.92,3.12,3.09,3.16,\n\
         EBMT [27],T143,ebmt,,median_os,entry,4,percent,50,36,64,52,51.7,52.4,45\n",
    )
    .unwrap();
    let rows = plot::calibration::read_check_csv(&path).unwrap();
    assert_eq!(rows.len(), 2, "the hazard ratio is left out: {rows:?}");
    assert_eq!(rows[0].study, "Lee [11]: HID");
    assert!((rows[0].published - 0.41).abs() < 1e-12);
    assert_eq!(rows[0].published_interval, Some((0.2563, 0.5835)));
    assert!((rows[0].simulated - 0.277).abs() < 1e-12);
    assert_eq!(
        (rows[1].endpoint.as_str(), rows[1].horizon),
        ("os", Some(4.0))
    );
    assert!(!rows[1].in_months());
    std::fs::write(&path, "study,endpoint,origin,horizon,scale,published,published_lower,published_upper,simulated,simulated_lower,simulated_upper,n\nA,os,entry,12,permille,450,,,400,,,\n").unwrap();
    let error = plot::calibration::read_check_csv(&path)
        .unwrap_err()
        .to_string();
    assert!(error.contains("`scale` is `permille`"), "{error}");
    std::fs::write(&path, "study,endpoint,origin,horizon,scale,published,published_lower,published_upper,simulated,simulated_lower,simulated_upper,n\nA,os_hr,hsct2,60,ratio,2.9,1.7,4.9,3.1,3.0,3.2,\n").unwrap();
    let error = plot::calibration::read_check_csv(&path)
        .unwrap_err()
        .to_string();
    assert!(error.contains("no targets to draw"), "{error}");
}

#[test]
fn bad_run_folders_get_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_run(tmp.path());
    let d = dir.to_str().unwrap();
    let expect = |args: &[&str], code: i32, parts: &[&str]| {
        let (c, _, stderr) = hsctsim(args);
        assert_eq!(c, code, "{args:?}: {stderr}");
        for p in parts {
            assert!(stderr.contains(p), "{args:?}: `{p}` not in {stderr}");
        }
    };
    let curves = std::fs::read_to_string(dir.join("curves.csv")).unwrap();

    // Options.
    expect(
        &["plot", d, "--measure", "surv"],
        2,
        &["unknown measure `surv`"],
    );
    expect(
        &["plot", d, "--measure", "occupncy"],
        2,
        &["Did you mean `occupancy`?"],
    );
    expect(
        &["plot", d, "--format", "pdf"],
        2,
        &["unknown format `pdf`"],
    );
    expect(&["plot", d, "--origin", "hsct3"], 2, &["unknown origin"]);
    expect(
        &["plot", d, "--to", "100"],
        2,
        &["not within the run's follow-up"],
    );
    expect(
        &["plot", d, "--from", "30", "--to", "20"],
        2,
        &["time window"],
    );
    expect(
        &["plot", d, "--width", "10"],
        2,
        &["--width must be between"],
    );
    expect(
        &["plot", d, "--width", "15000", "--height", "15000"],
        2,
        &["too large"],
    );
    expect(
        &["plot", d, "--measure", "calibration"],
        2,
        &["no check.csv"],
    );

    // Files.
    expect(
        &["plot", tmp.path().join("nope").to_str().unwrap()],
        2,
        &["nope", "is not a folder"],
    );
    std::fs::write(
        dir.join("curves.csv"),
        curves.replacen(",os,1,", ",os,one,", 1),
    )
    .unwrap();
    expect(&["plot", d], 2, &["curves.csv:", "`time` is `one`"]);
    std::fs::write(dir.join("curves.csv"), curves.replace("estimate", "value")).unwrap();
    expect(&["plot", d], 2, &["curves.csv:1", "no column `estimate`"]);
    std::fs::write(
        dir.join("curves.csv"),
        curves.replacen("palliation,", "palliatoin,", 1),
    )
    .unwrap();
    expect(
        &["plot", d],
        2,
        &["strategy `palliatoin` is not in manifest.json"],
    );
    std::fs::write(dir.join("curves.csv"), "strategy,origin").unwrap();
    expect(&["plot", d], 2, &["curves.csv"]);
    std::fs::remove_file(dir.join("curves.csv")).unwrap();
    expect(&["plot", d], 2, &["curves.csv", "cannot read"]);
    std::fs::write(dir.join("curves.csv"), &curves).unwrap();
    std::fs::write(dir.join("manifest.json"), "{ not json").unwrap();
    expect(&["plot", d], 2, &["manifest.json:1", "not a manifest"]);
    std::fs::copy(run().path.join("manifest.json"), dir.join("manifest.json")).unwrap();
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let without: String = summary
        .lines()
        .filter(|l| !l.contains(",patients,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("summary.csv"), without).unwrap();
    expect(&["plot", d], 2, &["summary.csv", "no `patients` row"]);
    std::fs::write(dir.join("summary.csv"), summary).unwrap();
    // A curve with a row missing no longer shares its strategy's grid.
    let missing: String = curves
        .lines()
        .filter(|l| !l.starts_with("same_donor,entry,state:salvage,7,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("curves.csv"), missing).unwrap();
    expect(&["plot", d], 2, &["curves.csv", "different time grids"]);
    std::fs::write(dir.join("curves.csv"), &curves).unwrap();
    expect(&["plot", d, "--quiet"], 0, &[]);
}

/// The legend covers no curve: in each curve figure, the box spanned by the legend's line
/// samples and texts is crossed by no curve segment.
#[test]
fn legend_covers_no_curve() {
    for name in [
        "os_entry.svg",
        "lfs_entry.svg",
        "cir_entry.svg",
        "nrm_entry.svg",
        "os_hsct2.svg",
        "cir_hsct2.svg",
    ] {
        let svg = read_svg(name);
        let (left, right, bottom, top) = plot_frame(&svg);
        // Legend samples: short two-point lines in a strategy colour inside the plot.
        let mut samples = Vec::new();
        for (e, _) in elements(&svg, "polyline") {
            let p = points(e);
            let coloured = COLOURS.iter().any(|c| attribute(e, "stroke") == Some(c));
            if coloured
                && p.len() == 2
                && p[0].1 == p[1].1
                && p[0].1 > top - 1.0
                && p[0].1 < bottom
                && p[0].0 > left
            {
                samples.push((p[0], p[1]));
            }
        }
        assert!(!samples.is_empty(), "{name}: no legend found");
        let row = 40.0;
        let x0 = samples.iter().map(|s| s.0.0).fold(f64::INFINITY, f64::min);
        let y0 = samples.iter().map(|s| s.0.1).fold(f64::INFINITY, f64::min) - row / 2.0;
        let y1 = samples
            .iter()
            .map(|s| s.0.1)
            .fold(f64::NEG_INFINITY, f64::max)
            + row / 2.0;
        // Texts of the legend start right of the samples on the same rows.
        let mut x1 = samples
            .iter()
            .map(|s| s.1.0)
            .fold(f64::NEG_INFINITY, f64::max);
        for (e, content) in elements(&svg, "text") {
            let (x, y): (f64, f64) = (
                attribute(e, "x").unwrap().parse().unwrap(),
                attribute(e, "y").unwrap().parse().unwrap(),
            );
            let size: f64 = attribute(e, "font-size").unwrap().parse().unwrap();
            if x > x0 && y > y0 - row && y < y1 && x < right {
                x1 = x1.max(x + 0.62 * size * content.chars().count() as f64);
            }
        }
        for colour in COLOURS {
            for curve in curves_of(&svg, colour, left, right) {
                for seg in points(curve).windows(2) {
                    let (a, b) = (seg[0], seg[1]);
                    let crosses = a.0.max(b.0) >= x0
                        && a.0.min(b.0) <= x1
                        && a.1.max(b.1) >= y0
                        && a.1.min(b.1) <= y1;
                    assert!(
                        !crosses,
                        "{name}: a {colour} curve crosses the legend box ({x0},{y0})–({x1},{y1}) at {a:?}–{b:?}"
                    );
                }
            }
        }
    }
}

/// Text renders with no fonts on the machine: the figures are made in a private mount
/// namespace where the font folders and fontconfig's configuration and caches are empty.
#[test]
fn fonts_work_without_system_fonts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_run(tmp.path());
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let hidden: Vec<&str> = [
        "/usr/share/fonts",
        "/usr/local/share/fonts",
        "/etc/fonts",
        "/var/cache/fontconfig",
    ]
    .into_iter()
    .filter(|p| Path::new(p).exists())
    .collect();
    let mounts: String = hidden
        .iter()
        .map(|p| format!("mount -t tmpfs -o size=1m none {p} && "))
        .collect();
    let script = format!(
        "{mounts} if command -v fc-list >/dev/null; then test -z \"$(fc-list)\" || exit 97; fi; \
         exec \"$0\" plot \"$1\" --measure os,occupancy --origin entry"
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .arg(env!("CARGO_BIN_EXE_hsctsim"))
        .arg(&dir)
        .env("HOME", &empty)
        .env("XDG_CACHE_HOME", &empty)
        .env("XDG_DATA_HOME", &empty)
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED fonts_work_without_system_fonts: cannot run unshare: {e}");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success()
        && (stderr.contains("unshare") || stderr.contains("mount"))
        && !dir.join("figures").exists()
    {
        eprintln!(
            "SKIPPED fonts_work_without_system_fonts: no private mount namespace here ({})",
            stderr.trim()
        );
        return;
    }
    assert_ne!(
        out.status.code(),
        Some(97),
        "fonts were still visible inside the namespace"
    );
    assert!(
        out.status.success(),
        "plot failed without system fonts: {stderr}"
    );
    // Text was drawn: the PNG has dark pixels in the title's place, the SVG has text.
    let (info, pixels, _) = decode(&std::fs::read(dir.join("figures/os_entry.png")).unwrap());
    let title_dark = (0..120usize)
        .flat_map(|y| (0..600usize).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let i = (y * info.width as usize + x) * 3;
            pixels[i] < 100 && pixels[i + 1] < 100 && pixels[i + 2] < 100
        })
        .count();
    assert!(
        title_dark > 500,
        "no title text drawn ({title_dark} dark pixels)"
    );
    let svg = std::fs::read_to_string(dir.join("figures/occupancy_entry.svg")).unwrap();
    assert!(texts(&svg).iter().any(|x| x == "Relapse after HSCT1"));
}

/// The README's `[figures]` example is valid, and the example figures it shows exist.
#[test]
fn readme_figures_section_is_accurate() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```toml\n[figures]")
        .expect("a [figures] example")
        + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    // The example names strategies and states of the donor-policy scenarios; give the
    // fixture those names.
    let text = std::fs::read_to_string(FIXTURE).unwrap() + "\n" + &readme[start..end];
    let model = common::parse(&text);
    assert_eq!(
        model.figures.titles.get("lfs").map(String::as_str),
        Some("")
    );
    assert_eq!(model.figures.landmark, Some(24.0));
    for image in readme.split("](docs/figures/").skip(1) {
        let name = &image[..image.find(')').unwrap()];
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/figures")
            .join(name);
        let size = std::fs::metadata(&path)
            .unwrap_or_else(|_| panic!("{name} is missing"))
            .len();
        assert!(
            size < 150_000,
            "{name} is {size} bytes: keep README images small"
        );
    }
    for measure in ["os", "lfs", "cir", "nrm", "occupancy", "calibration"] {
        assert!(
            readme.contains(&format!("docs/figures/{measure}_"))
                || readme.contains(&format!("docs/figures/{measure}.png")),
            "no README example of {measure}"
        );
    }
}

/// Manifests written before figures existed (no death causes, no `[figures]` text) still
/// plot: deaths are then coloured like living states, and default text is used.
#[test]
fn older_manifests_still_plot() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_run(tmp.path());
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    for state in json["states"].as_array_mut().unwrap() {
        state.as_object_mut().unwrap().remove("death");
    }
    json.as_object_mut().unwrap().remove("figures");
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec(&json).unwrap(),
    )
    .unwrap();
    let options = PlotOptions {
        formats: vec![Format::Svg],
        measures: vec![Measure::Occupancy],
        ..PlotOptions::default()
    };
    let written = plot::render_run(&dir, &options).unwrap();
    assert_eq!(written.len(), 2);
}
