//! How precisely a number is known from the way it is written.
//!
//! A number in a file stands for anything that rounds to it: `0.75` for [0.745, 0.755],
//! a published interval end `1.1` for [1.05, 1.15]. When the same quantity is described
//! in two places (a parameter's value in the model and the centre of the distribution
//! that describes its uncertainty; a calibrated value and the values tied to it), the two
//! agree if they differ by no more than this rounding explains, and only then.
//!
//! The text is gone once TOML is parsed, so the digits are those of the shortest decimal
//! that reads back as the same `f64` (`6.0` and `6` both show one digit). At least two
//! significant digits are assumed, the precision to which published estimates and 95 %
//! intervals are rounded: `6.0` stands for [5.95, 6.05] and `90000` for [89 500, 90 500].

/// Fewest significant digits a written number is taken to have.
pub const MIN_SIGNIFICANT_DIGITS: i32 = 2;

/// Half a unit in the last significant digit of `x` as written (at least
/// [`MIN_SIGNIFICANT_DIGITS`] digits): `x` stands for `[x − h, x + h]`. Zero (and a
/// non-finite number) is taken as exact.
pub fn half_unit(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    // `{:e}` prints the shortest round-trip mantissa: "7.5e-1", "9e4", "1.986e0".
    let text = format!("{:e}", x.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits = mantissa.chars().filter(char::is_ascii_digit).count() as i32;
    let digits = digits.max(MIN_SIGNIFICANT_DIGITS);
    0.5 * 10f64.powi(exponent - digits + 1)
}

/// `[x − h, x + h]` for the [`half_unit`] `h` of `x`.
pub fn as_written(x: f64) -> (f64, f64) {
    let h = half_unit(x);
    (x - h, x + h)
}

/// True if `value` lies in `[low, high]`, allowing for the last bits of the arithmetic that
/// computed the bounds (a relative 1e-9).
pub fn within(value: f64, (low, high): (f64, f64)) -> bool {
    let slack = 1e-9 * value.abs().max(low.abs()).max(high.abs());
    value >= low - slack && value <= high + slack
}

/// `x` to four significant digits, for messages that quote computed numbers (an
/// interval's geometric centre) beside written ones.
pub fn approx(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let decimals = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_stands_for_what_rounds_to_it() {
        assert_eq!(half_unit(0.75), 0.005);
        assert!((half_unit(1.1) - 0.05).abs() < 1e-15);
        // One written digit counts as two: published numbers have at least two.
        assert!((half_unit(6.0) - 0.05).abs() < 1e-15);
        assert_eq!(half_unit(90_000.0), 500.0);
        assert!((half_unit(1.986) - 0.0005).abs() < 1e-15);
        assert!((half_unit(-0.2) - 0.005).abs() < 1e-15);
        assert_eq!(half_unit(0.0), 0.0);
        assert!(within(0.754, as_written(0.75)));
        assert!(!within(0.756, as_written(0.75)));
        assert!(within(0.755, as_written(0.75)), "the ends are included");
        assert_eq!(approx(1.875_832), "1.876");
        assert_eq!(approx(121_691.3), "121691");
        assert_eq!(approx(0.25), "0.25");
    }
}
