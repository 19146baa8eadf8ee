//! Parameters addressed by path in a scenario document, for sensitivity analysis and
//! calibration: change a number, rebuild the model.
//!
//! A path walks the TOML document with keys, indices and selectors that pick an element of
//! an array of tables by its fields, so it survives reordering of the file:
//!
//! ```text
//! transitions[from=hsct2,to=relapse2].hazard.scale
//! transitions[from=salvage,to=death_nrm].rate
//! cohort.attributes[name=cgvhd].probability
//! decisions[name=donor].branches[to=hsct2_cord].p
//! economics.states[state=hsct2].cost
//! strategies[name=haplo].transitions[from=hsct2,to=relapse2].hr
//! decisions[name=donor].branches[*].p        (every element: for Dirichlet draws)
//! ```
//!
//! Setting a value replaces a number (or a duration text such as `"14m"`, which becomes the
//! number of months) in a copy of the document; the model is then rebuilt and validated as
//! usual, so a drawn value that makes the model invalid is reported, never simulated.

use std::fmt;

use super::error::{Path, Segment};

/// One step of a parameter path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// A table key.
    Key(String),
    /// An array element by position.
    Index(usize),
    /// The array element(s) whose fields have these (string) values.
    Select(Vec<(String, String)>),
    /// Every element of an array, in order.
    All,
}

/// A parsed parameter path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterPath {
    text: String,
    steps: Vec<Step>,
}

impl fmt::Display for ParameterPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a path cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError(pub String);

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PathError {}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl ParameterPath {
    /// Parses `a.b[k=v,k2=v2].c[0].d[*]`.
    pub fn parse(text: &str) -> Result<ParameterPath, PathError> {
        let err = |why: &str| PathError(format!("parameter path `{text}`: {why}"));
        let mut steps = Vec::new();
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(err("it is empty"));
        }
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let close = after.find(']').ok_or_else(|| err("a `[` is not closed"))?;
                let inside = after[..close].trim();
                steps.push(if inside == "*" {
                    Step::All
                } else if let Ok(i) = inside.parse::<usize>() {
                    Step::Index(i)
                } else {
                    let mut pairs = Vec::new();
                    for pair in inside.split(',') {
                        let (k, v) = pair.split_once('=').ok_or_else(|| {
                            err("inside [ ] write an index, `*`, or field=value pairs such as [from=hsct2,to=relapse2]")
                        })?;
                        let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
                        pairs.push((k.trim().to_string(), v.to_string()));
                    }
                    Step::Select(pairs)
                });
                rest = &after[close + 1..];
                rest = rest.strip_prefix('.').unwrap_or(rest);
            } else {
                let end = rest.find(|c: char| !is_key_char(c)).unwrap_or(rest.len());
                if end == 0 {
                    return Err(err(&format!("unexpected `{}`", &rest[..1])));
                }
                steps.push(Step::Key(rest[..end].to_string()));
                rest = &rest[end..];
                if let Some(after) = rest.strip_prefix('.') {
                    rest = after;
                    if rest.is_empty() {
                        return Err(err("it ends with `.`"));
                    }
                } else if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(err(&format!("unexpected `{}`", &rest[..1])));
                }
            }
        }
        Ok(ParameterPath {
            text: text.trim().to_string(),
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The concrete locations this path names in `document` (one, or several with `[*]`),
    /// each holding a number or a duration text.
    pub fn resolve(&self, document: &toml::Value) -> Result<Vec<Path>, PathError> {
        let mut found = vec![(Vec::new(), document)];
        for step in &self.steps {
            let mut next = Vec::new();
            for (path, value) in found {
                match (step, value) {
                    (Step::Key(k), toml::Value::Table(t)) => match t.get(k) {
                        Some(v) => next.push((extend(&path, Segment::Key(k.clone())), v)),
                        None => {
                            let known: Vec<&str> = t.keys().map(String::as_str).collect();
                            return Err(self.error(&path, &format!("has no key `{k}`.{}", crate::suggest::did_you_mean(k, known))));
                        }
                    },
                    (Step::Index(i), toml::Value::Array(a)) => match a.get(*i) {
                        Some(v) => next.push((extend(&path, Segment::Index(*i)), v)),
                        None => return Err(self.error(&path, &format!("has {} elements, no element {i}", a.len()))),
                    },
                    (Step::All, toml::Value::Array(a)) => {
                        next.extend(a.iter().enumerate().map(|(i, v)| (extend(&path, Segment::Index(i)), v)));
                    }
                    (Step::Select(pairs), toml::Value::Array(a)) => {
                        let matches: Vec<usize> = (0..a.len())
                            .filter(|&i| {
                                pairs.iter().all(|(k, v)| {
                                    a[i].get(k).and_then(|x| x.as_str()).is_some_and(|x| x.trim() == v)
                                })
                            })
                            .collect();
                        match matches.as_slice() {
                            [i] => next.push((extend(&path, Segment::Index(*i)), &a[*i])),
                            [] => return Err(self.error(&path, "has no element with those fields")),
                            _ => return Err(self.error(&path, "has several elements with those fields; add fields to the selector")),
                        }
                    }
                    (_, other) => {
                        let kind = other.type_str();
                        return Err(self.error(&path, &format!("is a {kind}, which this step cannot enter")));
                    }
                }
            }
            found = next;
        }
        if found.is_empty() {
            return Err(PathError(format!("parameter path `{}` names nothing", self.text)));
        }
        for (path, value) in &found {
            let is_number = matches!(value, toml::Value::Integer(_) | toml::Value::Float(_))
                || value.as_str().is_some_and(|s| crate::duration::parse_months(s).is_ok());
            if !is_number {
                return Err(self.error(path, "is not a number (or a duration); a parameter must be one"));
            }
        }
        Ok(found.into_iter().map(|(path, _)| path).collect())
    }

    fn error(&self, at: &[Segment], what: &str) -> PathError {
        let shown = if at.is_empty() { "the document".to_string() } else { format!("`{}`", super::error::path_to_string(at)) };
        PathError(format!("parameter path `{}`: {shown} {what}", self.text))
    }
}

fn extend(path: &[Segment], segment: Segment) -> Path {
    let mut p = path.to_vec();
    p.push(segment);
    p
}

/// The number at a resolved location (durations in months).
pub fn get(document: &toml::Value, path: &[Segment]) -> Option<f64> {
    let mut value = document;
    for segment in path {
        value = match (segment, value) {
            (Segment::Key(k), toml::Value::Table(t)) => t.get(k)?,
            (Segment::Index(i), toml::Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    match value {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        toml::Value::String(s) => crate::duration::parse_months(s).ok(),
        _ => None,
    }
}

/// Sets the number at a resolved location.
pub fn set(document: &mut toml::Value, path: &[Segment], number: f64) -> Result<(), PathError> {
    let mut value = document;
    for segment in path {
        value = match (segment, value) {
            (Segment::Key(k), toml::Value::Table(t)) => t.get_mut(k),
            (Segment::Index(i), toml::Value::Array(a)) => a.get_mut(*i),
            _ => None,
        }
        .ok_or_else(|| PathError(format!("`{}` is not in the document", super::error::path_to_string(path))))?;
    }
    *value = toml::Value::Float(number);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"
        [[transitions]]
        from = "a"
        to = "b"
        rate = 0.2
        [[transitions]]
        from = "b"
        to = "c"
        hazard = { family = "weibull", shape = 1.2, scale = "14m" }
        [[decisions]]
        name = "d"
        branches = [ { to = "a", p = 0.3 }, { to = "c", p = 0.7 } ]
    "#;

    fn doc() -> toml::Value {
        toml::from_str(DOC).unwrap()
    }

    #[test]
    fn selectors_find_elements_by_their_fields() {
        let d = doc();
        let path = ParameterPath::parse("transitions[from=b,to=c].hazard.scale").unwrap();
        let found = path.resolve(&d).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(get(&d, &found[0]), Some(14.0));
        let rate = ParameterPath::parse("transitions[0].rate").unwrap().resolve(&d).unwrap();
        assert_eq!(get(&d, &rate[0]), Some(0.2));
        let all = ParameterPath::parse("decisions[name=d].branches[*].p").unwrap().resolve(&d).unwrap();
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn setting_replaces_the_number() {
        let mut d = doc();
        let found = ParameterPath::parse("transitions[from=b,to=c].hazard.scale").unwrap().resolve(&d).unwrap();
        set(&mut d, &found[0], 20.0).unwrap();
        assert_eq!(get(&d, &found[0]), Some(20.0));
    }

    #[test]
    fn mistakes_are_explained() {
        let d = doc();
        let e = ParameterPath::parse("transitions[from=b,to=x].rate").unwrap().resolve(&d).unwrap_err();
        assert!(e.0.contains("no element"), "{e}");
        let e = ParameterPath::parse("transitions[from=b,to=c].hazard.scal").unwrap().resolve(&d).unwrap_err();
        assert!(e.0.contains("did you mean `scale`") || e.0.contains("Did you mean `scale`"), "{e}");
        let e = ParameterPath::parse("transitions[from=b,to=c].hazard.family").unwrap().resolve(&d).unwrap_err();
        assert!(e.0.contains("not a number"), "{e}");
        assert!(ParameterPath::parse("a..b").is_err());
        assert!(ParameterPath::parse("a[1").is_err());
        assert!(ParameterPath::parse("").is_err());
    }
}
