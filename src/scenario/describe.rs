//! A model's parameters with their sources, as text for a reader (`hsctsim models --show`).
//!
//! Every number of a model file is listed once, next to the `source` that justifies it (its
//! own, or that of the element carrying it), so a reviewer can audit the provenance of a
//! model without reading TOML.

use std::fmt::Write;

use super::format::*;

fn value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn q(x: Quantity) -> String {
    format!("{}", (x.0 * 1e6).round() / 1e6)
}

fn hazard(h: &HazardDef) -> String {
    let mut parts = vec![h.family.clone()];
    let mut add = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            parts.push(format!("{k} {v}"));
        }
    };
    add("rate", h.rate.map(|x| x.to_string()));
    add("median", h.median.map(q));
    add("mean", h.mean.map(q));
    add("shape", h.shape.map(|x| x.to_string()));
    add("scale", h.scale.map(q));
    add("meanlog", h.meanlog.map(|x| x.to_string()));
    add("sdlog", h.sdlog.map(|x| x.to_string()));
    add("min", h.min.map(q));
    add("max", h.max.map(q));
    add(
        "starts",
        h.starts
            .as_ref()
            .map(|s| format!("{:?}", s.iter().map(|x| x.0).collect::<Vec<_>>())),
    );
    add("rates", h.rates.as_ref().map(|r| format!("{r:?}")));
    parts.join(", ")
}

fn timing(t: &TransitionDef) -> String {
    let mut s = if let Some(r) = t.rate {
        format!("rate {r}/month")
    } else if let Some(h) = &t.hazard {
        hazard(h)
    } else if let Some(a) = t.after {
        format!("after {} months", q(a))
    } else if let Some(a) = t.at {
        format!("at {} months", q(a))
    } else {
        "no timing".into()
    };
    if let Some(c) = t.cure {
        s.push_str(&format!(", cure {c}"));
    }
    if let Some(hr) = t.hr {
        s.push_str(&format!(", hr {hr}"));
    }
    if let Some(clock) = &t.clock {
        s.push_str(&format!(", clock {clock}"));
    }
    s
}

fn source_line(out: &mut String, indent: &str, source: &Option<String>) {
    let text = source.as_deref().unwrap_or("(no source given)");
    let _ = writeln!(out, "{indent}source: {text}");
}

fn attribute(a: &AttributeDef) -> String {
    if let Some(levels) = &a.levels {
        return levels
            .iter()
            .map(|(k, v)| format!("{k} {}", value(v)))
            .collect::<Vec<_>>()
            .join(", ");
    }
    if let Some(p) = a.probability {
        return format!("yes with probability {p}");
    }
    let mut parts = vec![a.distribution.clone().unwrap_or_default()];
    let mut add = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            parts.push(format!("{k} {v}"));
        }
    };
    // Numbers in the attribute's unit, as the model uses them.
    let unit = a.unit().unwrap_or_default();
    let number = |k: &str| a.number(k).map(|x| q(Quantity(x)));
    add("value", number("value"));
    add("mean", number("mean"));
    add("sd", number("sd"));
    add("median", number("median"));
    add("meanlog", a.meanlog.map(|x| x.to_string()));
    add("sdlog", a.sdlog.map(|x| x.to_string()));
    add(
        "values",
        a.values.as_ref().map(|v| {
            format!(
                "{:?}",
                v.iter().filter_map(|x| x.in_unit(unit)).collect::<Vec<_>>()
            )
        }),
    );
    add(
        "probabilities",
        a.probabilities.as_ref().map(|p| format!("{p:?}")),
    );
    add("min", number("min"));
    add("max", number("max"));
    if let crate::model::variable::Unit::Time(t) = unit {
        parts.push(format!("in {}", t.name()));
    }
    parts.join(", ")
}

/// Every parameter of a model file with its source.
pub fn parameters(file: &ScenarioFile) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "States:");
    for s in &file.states {
        let mut flags = Vec::new();
        if let Some(d) = &s.death {
            flags.push(format!("death: {d}"));
        }
        if s.relapse {
            flags.push("relapse event".into());
        }
        if s.hsct2 {
            flags.push("starts the HSCT2 origin".into());
        }
        let _ = writeln!(
            out,
            "  {:<22} {}{}",
            s.name,
            s.label.as_deref().unwrap_or(""),
            if flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", flags.join(", "))
            }
        );
    }
    if !file.variables.is_empty() {
        let _ = writeln!(out, "\nPolicy variables (set by strategies):");
        for v in &file.variables {
            let kind = match (&v.levels, v.kind.as_deref()) {
                (Some(l), _) => l.join(" | "),
                (None, Some(k)) => k.to_string(),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {} = {}   [{kind}]",
                v.name,
                v.default.as_ref().map_or("(none)".into(), value)
            );
            source_line(&mut out, "      ", &v.source);
        }
    }
    let _ = writeln!(out, "\nCohort:");
    let _ = writeln!(
        out,
        "  entry: {}",
        file.cohort.entry.as_ref().map_or("(none)".into(), value)
    );
    source_line(&mut out, "      ", &file.cohort.source);
    for a in &file.cohort.attributes {
        let _ = writeln!(out, "  {}: {}", a.name, attribute(a));
        source_line(&mut out, "      ", &a.source);
    }
    if !file.decisions.is_empty() {
        let _ = writeln!(out, "\nDecisions:");
        for d in &file.decisions {
            let _ = writeln!(out, "  {}:", d.name);
            for b in &d.branches {
                let mut line = format!("    → {}", b.to);
                if let Some(p) = b.p {
                    line.push_str(&format!(" with probability {p}"));
                }
                if let Some(c) = &b.condition {
                    line.push_str(&format!(" if {c}"));
                }
                if let Some(set) = &b.set {
                    let s: Vec<String> = set
                        .iter()
                        .map(|(k, v)| format!("{k} = {}", value(v)))
                        .collect();
                    line.push_str(&format!(" (sets {})", s.join(", ")));
                }
                let _ = writeln!(out, "{line}");
                if b.source.is_some() {
                    source_line(&mut out, "        ", &b.source);
                }
            }
            source_line(&mut out, "      ", &d.source);
        }
    }
    let _ = writeln!(out, "\nTransitions (time in months):");
    for t in &file.transitions {
        let _ = writeln!(
            out,
            "  {} → {}: {}{}",
            t.from,
            t.to,
            timing(t),
            t.condition
                .as_ref()
                .map_or(String::new(), |c| format!(" (only if {c})"))
        );
        source_line(&mut out, "      ", &t.source);
        for e in t.effects.iter().flatten() {
            let what = match (&e.condition, &e.per) {
                (Some(c), _) => format!("× {} if {c}", e.hr),
                (None, Some(p)) => format!(
                    "× {} per unit of {p}{}",
                    e.hr,
                    e.reference.map_or(String::new(), |r| format!(" above {r}"))
                ),
                _ => format!("× {}", e.hr),
            };
            let _ = writeln!(out, "      {what}");
            source_line(&mut out, "          ", &e.source);
        }
    }
    if let Some(bg) = &file.background_mortality {
        let _ = writeln!(out, "\nBackground mortality → {} by {}:", bg.to, bg.age);
        source_line(&mut out, "      ", &bg.source);
    }
    if !file.strategies.is_empty() {
        let _ = writeln!(out, "\nStrategies:");
        for s in &file.strategies {
            let _ = writeln!(
                out,
                "  {}: {}",
                s.name,
                s.description
                    .as_deref()
                    .or(s.label.as_deref())
                    .unwrap_or("")
            );
        }
    }
    out
}

/// Numbers of a model file that carry no source (nor does the element they belong to):
/// a shipped model must have none.
pub fn missing_sources(file: &ScenarioFile) -> Vec<String> {
    let mut out = Vec::new();
    for v in &file.variables {
        if v.default.is_some() && v.source.is_none() {
            out.push(format!("variables.{}", v.name));
        }
    }
    for a in &file.cohort.attributes {
        if a.source.is_none() {
            out.push(format!("cohort.attributes.{}", a.name));
        }
    }
    if file.cohort.source.is_none() && matches!(file.cohort.entry, Some(toml::Value::Table(_))) {
        out.push("cohort.entry".into());
    }
    for d in &file.decisions {
        let numbers = d.branches.iter().any(|b| b.p.is_some());
        if numbers && d.source.is_none() && d.branches.iter().any(|b| b.source.is_none()) {
            out.push(format!("decisions.{}", d.name));
        }
    }
    for t in &file.transitions {
        if t.source.is_none() {
            out.push(format!("transitions.{}->{}", t.from, t.to));
        }
        for e in t.effects.iter().flatten() {
            if e.source.is_none() {
                out.push(format!(
                    "transitions.{}->{}.effects[{}]",
                    t.from,
                    t.to,
                    e.condition.clone().or(e.per.clone()).unwrap_or_default()
                ));
            }
        }
    }
    if let Some(bg) = &file.background_mortality
        && bg.source.is_none()
    {
        out.push("background_mortality".into());
    }
    out
}
