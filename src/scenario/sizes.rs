//! The sizes of a composed scenario file against the bounds of [`crate::model::limits`],
//! checked before anything is compiled.
//!
//! Compiling, simulating and drawing are each linear in these sizes (times the model's
//! own size, itself bounded), so checking them first is what makes "everything `validate`
//! accepts runs in time roughly linear in the file" true, and what lets every figure be
//! laid out after a simulation instead of failing there. Each refusal names the first
//! element beyond the bound, the bound, and what to do instead.

use super::error::{BuildError, Path, Segment};
use super::format::{ScenarioFile, TransitionDef};
use crate::model::limits::{
    MAX_DECISIONS, MAX_EFFECTS, MAX_ENTRIES, MAX_LABEL_CHARS, MAX_LANDMARKS, MAX_PIECES,
    MAX_RULE_BYTES, MAX_STATES, MAX_STRATEGIES, MAX_TEXT_CHARS, MAX_TRANSITIONS, MAX_VARIABLES,
    MAX_WTP_POINTS,
};
use crate::toml_path;

type Result<T> = std::result::Result<T, BuildError>;

fn at(base: &Path, tail: &[Segment]) -> Path {
    let mut p = base.clone();
    p.extend_from_slice(tail);
    p
}

fn key(k: &str) -> Segment {
    Segment::Key(k.to_string())
}

/// A list of `len` elements at `path` may have at most `max`.
fn count(len: usize, max: usize, path: &Path, what: &str, fix: &str) -> Result<()> {
    if len <= max {
        return Ok(());
    }
    Err(BuildError::new(
        at(path, &[Segment::Index(max)]),
        format!("the scenario has {len} {what}; at most {max} are supported"),
    )
    .help(fix.to_string()))
}

/// A text drawn in figures (a label or title).
fn label(text: Option<&String>, path: Path) -> Result<()> {
    let Some(text) = text else { return Ok(()) };
    // Count no further than needed: a 16 MB label costs no more than a short one.
    let chars = text.chars().take(MAX_LABEL_CHARS + 1).count();
    if chars <= MAX_LABEL_CHARS {
        return Ok(());
    }
    Err(BuildError::new(
        path,
        format!("this label is longer than {MAX_LABEL_CHARS} characters, too long to lay out in a figure"),
    )
    .help("shorten it; a longer explanation belongs in a `description` or `source`"))
}

/// A description, note or source (kept in the manifest, not drawn).
fn text(text: Option<&String>, path: Path) -> Result<()> {
    let Some(text) = text else { return Ok(()) };
    let chars = text.chars().take(MAX_TEXT_CHARS + 1).count();
    if chars <= MAX_TEXT_CHARS {
        return Ok(());
    }
    Err(BuildError::new(
        path,
        format!("this text is longer than {MAX_TEXT_CHARS} characters"),
    )
    .help("shorten it, and cite the longer document it comes from instead"))
}

/// A rule text (`if = "…"`, `per = "…"`).
fn rule(text: Option<&String>, path: Path) -> Result<()> {
    match text {
        Some(t) if t.len() > MAX_RULE_BYTES => Err(BuildError::new(
            path,
            format!(
                "this rule is {} bytes long; at most {MAX_RULE_BYTES} are supported",
                t.len()
            ),
        )
        .help("split it: a patient variable set at a decision can carry a long condition")),
        _ => Ok(()),
    }
}

fn transitions(defs: &[TransitionDef], path: &Path) -> Result<()> {
    count(
        defs.len(),
        MAX_TRANSITIONS,
        path,
        "transitions in this list",
        "each ordered pair of states has at most one transition: combine competing causes into one hazard",
    )?;
    for (i, t) in defs.iter().enumerate() {
        let tp = at(path, &[Segment::Index(i)]);
        rule(t.condition.as_ref(), at(&tp, &[key("if")]))?;
        text(t.source.as_ref(), at(&tp, &[key("source")]))?;
        if let Some(h) = &t.hazard {
            for (field, len) in [
                ("starts", h.starts.as_ref().map_or(0, Vec::len)),
                ("rates", h.rates.as_ref().map_or(0, Vec::len)),
            ] {
                count(
                    len,
                    MAX_PIECES,
                    &at(&tp, &[key("hazard"), key(field)]),
                    "pieces in this piecewise hazard",
                    "merge neighbouring pieces with similar rates",
                )?;
            }
        }
        let effects = t.effects.as_deref().unwrap_or_default();
        count(
            effects.len(),
            MAX_EFFECTS,
            &at(&tp, &[key("effects")]),
            "effects on this transition",
            "combine effects that share a condition into one hazard ratio",
        )?;
        for (e, effect) in effects.iter().enumerate() {
            let ep = at(&tp, &[key("effects"), Segment::Index(e)]);
            rule(effect.condition.as_ref(), at(&ep, &[key("if")]))?;
            rule(effect.per.as_ref(), at(&ep, &[key("per")]))?;
            text(effect.source.as_ref(), at(&ep, &[key("source")]))?;
        }
    }
    Ok(())
}

fn branches(defs: &[super::format::BranchDef], path: &Path) -> Result<()> {
    count(
        defs.len(),
        MAX_DECISIONS,
        path,
        "branches of this decision",
        "group branches that lead to the same place and set the same variables",
    )?;
    for (i, b) in defs.iter().enumerate() {
        let bp = at(path, &[Segment::Index(i)]);
        rule(b.condition.as_ref(), at(&bp, &[key("if")]))?;
        text(b.source.as_ref(), at(&bp, &[key("source")]))?;
        count(
            b.set.as_ref().map_or(0, |s| s.len()),
            MAX_VARIABLES,
            &at(&bp, &[key("set")]),
            "assignments in this branch",
            "a branch can set each variable once",
        )?;
    }
    Ok(())
}

/// Refuses a composed scenario that exceeds any bound of [`crate::model::limits`].
pub fn check(file: &ScenarioFile) -> Result<()> {
    text(
        file.scenario.description.as_ref(),
        toml_path!["scenario", "description"],
    )?;
    let landmarks = file.simulation.landmarks.as_deref().unwrap_or_default();
    count(
        landmarks.len(),
        MAX_LANDMARKS,
        &toml_path!["simulation", "landmarks"],
        "landmarks",
        "curves.csv has every grid time; landmarks are the few times the summary reports",
    )?;
    count(
        file.states.len(),
        MAX_STATES,
        &toml_path!["states"],
        "states",
        "merge states that share their transitions, or carry detail in patient variables",
    )?;
    for (i, s) in file.states.iter().enumerate() {
        label(s.label.as_ref(), toml_path!["states", i, "label"])?;
    }
    count(
        file.variables.len() + file.cohort.attributes.len(),
        MAX_VARIABLES,
        &toml_path!["variables"],
        "patient attributes and policy variables together",
        "carry detail that no rule reads in the export's own columns instead",
    )?;
    for (i, v) in file.variables.iter().enumerate() {
        let vp = toml_path!["variables", i];
        count(
            v.levels.as_ref().map_or(0, Vec::len),
            MAX_VARIABLES,
            &at(&vp, &[key("levels")]),
            "levels of this variable",
            "group rare levels together",
        )?;
        text(v.source.as_ref(), at(&vp, &[key("source")]))?;
    }
    text(file.cohort.source.as_ref(), toml_path!["cohort", "source"])?;
    for (i, a) in file.cohort.attributes.iter().enumerate() {
        let ap = toml_path!["cohort", "attributes", i];
        count(
            a.levels.as_ref().map_or(0, |l| l.len()),
            MAX_VARIABLES,
            &at(&ap, &[key("levels")]),
            "levels of this attribute",
            "group rare levels together",
        )?;
        for (field, len) in [
            ("values", a.values.as_ref().map_or(0, Vec::len)),
            (
                "probabilities",
                a.probabilities.as_ref().map_or(0, Vec::len),
            ),
        ] {
            count(
                len,
                MAX_PIECES,
                &at(&ap, &[key(field)]),
                "values of this distribution",
                "use a continuous distribution, or group values",
            )?;
        }
        text(a.source.as_ref(), at(&ap, &[key("source")]))?;
    }
    transitions(&file.transitions, &toml_path!["transitions"])?;
    count(
        file.decisions.len(),
        MAX_DECISIONS,
        &toml_path!["decisions"],
        "decisions",
        "merge decisions taken at the same moment into one with more branches",
    )?;
    for (i, d) in file.decisions.iter().enumerate() {
        branches(&d.branches, &toml_path!["decisions", i, "branches"])?;
        text(d.source.as_ref(), toml_path!["decisions", i, "source"])?;
    }
    count(
        file.strategies.len(),
        MAX_STRATEGIES,
        &toml_path!["strategies"],
        "strategies",
        "split the comparison into several scenario files (they can share a base through `extends`)",
    )?;
    for (i, s) in file.strategies.iter().enumerate() {
        let sp = toml_path!["strategies", i];
        label(s.label.as_ref(), at(&sp, &[key("label")]))?;
        text(s.description.as_ref(), at(&sp, &[key("description")]))?;
        count(
            s.set.as_ref().map_or(0, |s| s.len()),
            MAX_VARIABLES,
            &at(&sp, &[key("set")]),
            "assignments in this strategy",
            "a strategy can set each variable once",
        )?;
        count(
            s.decisions.as_ref().map_or(0, |d| d.len()),
            MAX_DECISIONS,
            &at(&sp, &[key("decisions")]),
            "decisions replaced by this strategy",
            "a strategy can replace each decision once",
        )?;
        for (name, defs) in s.decisions.iter().flatten() {
            branches(defs, &at(&sp, &[key("decisions"), key(name)]))?;
        }
        transitions(&s.transitions, &at(&sp, &[key("transitions")]))?;
    }
    if let Some(bg) = &file.background_mortality {
        let bp = toml_path!["background_mortality"];
        for (field, len) in [
            ("ages", bg.ages.len()),
            (
                "annual_probability",
                bg.annual_probability.as_ref().map_or(0, Vec::len),
            ),
            ("annual_rate", bg.annual_rate.as_ref().map_or(0, Vec::len)),
        ] {
            count(
                len,
                MAX_PIECES,
                &at(&bp, &[key(field)]),
                "ages in this life table",
                "use one row per year of age",
            )?;
        }
        text(bg.source.as_ref(), at(&bp, &[key("source")]))?;
    }
    if let Some(e) = &file.economics {
        label(e.currency.as_ref(), toml_path!["economics", "currency"])?;
        text(e.note.as_ref(), toml_path!["economics", "note"])?;
        for (field, len) in [("states", e.states.len()), ("events", e.events.len())] {
            count(
                len,
                MAX_ENTRIES,
                &toml_path!["economics", field],
                "entries in this list",
                "combine entries with the same state (or event) and condition",
            )?;
        }
        for (i, s) in e.states.iter().enumerate() {
            rule(
                s.condition.as_ref(),
                toml_path!["economics", "states", i, "if"],
            )?;
            text(
                s.source.as_ref(),
                toml_path!["economics", "states", i, "source"],
            )?;
        }
        for (i, s) in e.events.iter().enumerate() {
            rule(
                s.condition.as_ref(),
                toml_path!["economics", "events", i, "if"],
            )?;
            text(
                s.source.as_ref(),
                toml_path!["economics", "events", i, "source"],
            )?;
        }
        count(
            e.wtp.as_ref().map_or(0, Vec::len),
            MAX_LANDMARKS,
            &toml_path!["economics", "wtp"],
            "willingness-to-pay thresholds",
            "the acceptability curve covers every threshold; list the few the tables report",
        )?;
    }
    if let Some(figures) = &file.figures {
        for (table, per) in [("titles", &figures.titles), ("y_labels", &figures.y_labels)] {
            if let Some(p) = per {
                for (k, v) in [
                    ("os", &p.os),
                    ("lfs", &p.lfs),
                    ("cir", &p.cir),
                    ("nrm", &p.nrm),
                    ("occupancy", &p.occupancy),
                    ("calibration", &p.calibration),
                ] {
                    label(v.as_ref(), toml_path!["figures", table, k])?;
                }
            }
        }
        if let Some(x) = &figures.x_labels {
            label(x.entry.as_ref(), toml_path!["figures", "x_labels", "entry"])?;
            label(x.hsct2.as_ref(), toml_path!["figures", "x_labels", "hsct2"])?;
        }
        for (table, map) in [
            ("strategies", &figures.strategies),
            ("states", &figures.states),
        ] {
            count(
                map.as_ref().map_or(0, |m| m.len()),
                MAX_STRATEGIES,
                &toml_path!["figures", table],
                "labels in this table",
                "give each strategy or state one label",
            )?;
            for (name, v) in map.iter().flatten() {
                label(Some(v), toml_path!["figures", table, name.as_str()])?;
            }
        }
    }
    if let Some(psa) = &file.psa {
        count(
            psa.parameters.len(),
            MAX_ENTRIES,
            &toml_path!["psa", "parameters"],
            "PSA parameters",
            "group parameters that move together under one `paths` list",
        )?;
        count(
            psa.wtp.as_ref().map_or(0, Vec::len),
            MAX_WTP_POINTS,
            &toml_path!["psa", "wtp"],
            "willingness-to-pay thresholds",
            "the acceptability curve covers every threshold; list the few the tables report",
        )?;
        for (i, p) in psa.parameters.iter().enumerate() {
            let pp = toml_path!["psa", "parameters", i];
            label(p.name.as_ref(), at(&pp, &[key("name")]))?;
            text(p.source.as_ref(), at(&pp, &[key("source")]))?;
            for (field, len) in [
                ("paths", p.paths.as_ref().map_or(0, Vec::len)),
                ("counts", p.counts.as_ref().map_or(0, Vec::len)),
            ] {
                count(
                    len,
                    MAX_ENTRIES,
                    &at(&pp, &[key(field)]),
                    "entries in this list",
                    "split the group",
                )?;
            }
        }
    }
    Ok(())
}
