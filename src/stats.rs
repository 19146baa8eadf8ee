//! Small statistical helpers: confidence intervals for Monte Carlo estimates.

/// The 97.5 % standard normal quantile, for 95 % intervals.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score 95 % interval for a proportion `k / n`.
///
/// Why Wilson rather than the Wald `p ± z·SE`: curves start at exactly 1 and cumulative
/// incidences at exactly 0, where Wald intervals collapse to a point or leave [0, 1]. Wilson
/// stays inside [0, 1] and keeps its coverage near the edges.
pub fn wilson(k: f64, n: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let p = k / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At k = 0 and k = n the limits are exactly 0 and 1; rounding would leave 1e-18.
    let lower = if k <= 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let upper = if k >= n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lower, upper)
}

/// Mean, its standard error and a 95 % interval from a count, a sum and a sum of squares.
pub fn mean_interval(n: f64, sum: f64, sum_sq: f64) -> (f64, f64, f64, f64) {
    if n <= 0.0 {
        return (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = sum / n;
    let variance = if n > 1.0 {
        ((sum_sq - n * mean * mean) / (n - 1.0)).max(0.0)
    } else {
        0.0
    };
    let se = (variance / n).sqrt();
    (mean, se, mean - Z95 * se, mean + Z95 * se)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_a_textbook_value() {
        // 81 of 263 (Agresti & Coull 1998 style check): Wilson (0.2553, 0.3662).
        let (lo, hi) = wilson(81.0, 263.0);
        assert!(
            (lo - 0.2553).abs() < 5e-4 && (hi - 0.3662).abs() < 5e-4,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0.0, 100.0);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0 && hi < 0.05);
        let (lo, hi) = wilson(100.0, 100.0);
        assert!(lo > 0.95 && (hi - 1.0).abs() < 1e-12);
    }

    #[test]
    fn mean_interval_of_constant_has_zero_width() {
        let (m, se, lo, hi) = mean_interval(4.0, 8.0, 16.0);
        assert_eq!((m, se, lo, hi), (2.0, 0.0, 2.0, 2.0));
    }
}
