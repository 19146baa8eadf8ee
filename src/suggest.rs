//! "Did you mean …?" for names a user typed: states, keys, attributes, levels.

/// Edit distance between two short names: insertions, deletions, substitutions and swaps
/// of neighbouring letters (`rtae` → `rate`) each count one (optimal string alignment).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Rows i − 2, i − 1 and i of the table.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let substitution = previous[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = substitution.min(previous[j] + 1).min(current[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
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
        assert_eq!(edit_distance("rtae", "rate"), 1);
        assert_eq!(edit_distance("nmae", "name"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
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
