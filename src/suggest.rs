//! "Did you mean …?" for names a user typed: states, keys, attributes, levels.

/// Edit distance (Levenshtein) between two short names.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Longest name worth a suggestion.
const MAX_NAME: usize = 100;

/// The closest candidate to `name`, if it is close enough to be a plausible typo
/// (distance at most a third of the longer name, and at least one edit allowed).
pub fn closest<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    // Names are short; a long one (a pasted paragraph, a fuzzer's string) is no typo, and
    // comparing it would cost time quadratic in its length.
    if name.len() > MAX_NAME {
        return None;
    }
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| c.len() <= MAX_NAME)
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `" Did you mean `x`?"` or an empty string; appended to error messages.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match closest(name, candidates) {
        Some(c) => format!(" Did you mean `{c}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_but_not_strangers() {
        assert_eq!(edit_distance("patiens", "patients"), 1);
        assert_eq!(
            closest("patiens", ["seed", "patients", "horizon"]),
            Some("patients")
        );
        assert_eq!(closest("Salvage", ["salvage", "hsct2"]), Some("salvage"));
        assert_eq!(closest("zzz", ["salvage", "hsct2"]), None);
        assert_eq!(
            did_you_mean("hsct", ["hsct2", "hsct3"]),
            " Did you mean `hsct2`?"
        );
    }
}
