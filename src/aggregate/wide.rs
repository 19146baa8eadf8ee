//! [`WideSum`]: an exact, order-independent sum of reals wide enough for any currency.
//!
//! Why 256 bits with 96 fractional bits: economic sums hold costs, their squares, and
//! cost × QALY products over up to [`MAX_PATIENTS`](crate::scenario::build::MAX_PATIENTS)
//! (10^12 < 2^40) lives. A summand is at most 2^118 (the square of a paired cost difference
//! of 2^59, from lives of at most [`MAX_SUMMAND_ROOT`] = 2^58 ≈ 2.9·10^17 currency units),
//! so in units of 2^-96 it is below 2^214 and 2^40 of them stay below 2^254: no realistic
//! sum can overflow, and an `i128` fixed point cannot do the same (costs of 1e15, squared,
//! at 1e9 lives already need 2^130 before any fractional bit).
//!
//! The 96 fractional bits make the conversion of an `f64` exact for every |x| ≥ 2^-44
//! (≈ 5.7·10^-14): its 53-bit mantissa then lands on whole units. So for every value an
//! economic model produces in practice, the sum is *the exact sum of the f64 values*, and
//! [`WideSum::value`] returns it correctly rounded — the same bits for any order, thread
//! count or shard split, and closer to the true sum than any float accumulation. Smaller
//! values are rounded to the nearest unit (ties to even), an error below 2^-97 per value.
//!
//! The curves' time sums stay [`ExactSum`](super::ExactSum) on `i128`: they are bounded by
//! the horizon and sit in the engine's hottest loop.
//!
//! Serialized (in part files) as `{"units": "<decimal integer>"}`, like `ExactSum`.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

/// Fractional bits of a [`WideSum`]: a unit is 2^-96.
pub const FRACTION_BITS: i32 = 96;

/// Largest |x| of a per-life value whose square, and whose paired difference's square, a
/// sum of up to 2^40 lives holds exactly: 2^58 ≈ 2.9·10^17.
pub const MAX_SUMMAND_ROOT: f64 = (1u64 << 58) as f64;

/// A signed 256-bit sum in units of 2^-[`FRACTION_BITS`]: `high · 2^128 + low`, two's
/// complement across both halves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct WideSum {
    low: u128,
    high: i128,
}

/// A 256-bit sum would leave its range: only forged or corrupted inputs get here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sum leaves the range of an exact 256-bit sum")]
pub struct WideOverflow;

impl WideSum {
    /// The sum of nothing.
    pub const ZERO: WideSum = WideSum { low: 0, high: 0 };

    /// Adds a finite value with |x| < 2^140, rounded to the nearest unit (exact for
    /// |x| ≥ 2^-44). Callers bound their summands (see the module documentation), so the
    /// sum itself cannot leave its range; a non-finite or larger value is a caller's bug.
    #[inline(always)]
    pub fn add(&mut self, x: f64) {
        debug_assert!(x.is_finite() && x.abs() < 2f64.powi(140), "{x}");
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let mantissa = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
        // x = ±mantissa · 2^(biased − 1075): in units, mantissa · 2^shift.
        let shift = biased - 1075 + FRACTION_BITS;
        if shift < 0 {
            // Below 2^53 units: zero, or a value to round (rare; subnormals included).
            if biased != 0 || bits << 1 != 0 {
                self.add_rounded(x);
            }
            return;
        }
        // The mantissa shifted within a 64-bit limb, then placed at limb `shift / 64`
        // (0, 1 or 2 below 2^140): no shifts of 128-bit values by unknown amounts.
        let within = u128::from(mantissa) << (shift & 63);
        let (low, high) = match shift >> 6 {
            0 => (within, 0),
            1 => (within << 64, within >> 64),
            _ => (0, within),
        };
        // Subtracting is adding the two's complement: every bit flipped, plus one.
        let flip = ((bits as i64) >> 63) as u128;
        let (sum, carry) = self.low.overflowing_add(low ^ flip);
        let (sum, carry_one) = sum.overflowing_add(flip & 1);
        self.low = sum;
        self.high = self
            .high
            .wrapping_add((high ^ flip) as i128)
            .wrapping_add(i128::from(carry) + i128::from(carry_one));
    }

    /// [`WideSum::add`] for |x| below 2^53 units: rounded to the nearest unit.
    #[cold]
    #[inline(never)]
    fn add_rounded(&mut self, x: f64) {
        let part = WideSum {
            low: round_units(x.abs()),
            high: 0,
        };
        let part = if x < 0.0 {
            WideSum::ZERO.checked_sub(&part).unwrap_or_default()
        } else {
            part
        };
        let (sum, carry) = self.low.overflowing_add(part.low);
        self.low = sum;
        self.high = self
            .high
            .wrapping_add(part.high)
            .wrapping_add(i128::from(carry));
    }

    /// Adds another sum, or fails if the result would leave the 256-bit range (so merged
    /// parts never wrap around silently).
    pub fn checked_merge(&mut self, other: &WideSum) -> Result<(), WideOverflow> {
        let (low, carry) = self.low.overflowing_add(other.low);
        let high = self
            .high
            .checked_add(other.high)
            .and_then(|h| h.checked_add(i128::from(carry)))
            .ok_or(WideOverflow)?;
        *self = WideSum { low, high };
        Ok(())
    }

    /// `self − other`, or `None` outside the range.
    pub fn checked_sub(&self, other: &WideSum) -> Option<WideSum> {
        let (low, borrow) = self.low.overflowing_sub(other.low);
        let high = self
            .high
            .checked_sub(other.high)?
            .checked_sub(i128::from(borrow))?;
        Some(WideSum { low, high })
    }

    /// The sum, correctly rounded to the nearest `f64` (ties to even).
    pub fn value(&self) -> f64 {
        let (negative, hi, lo) = self.magnitude();
        let float = if hi == 0 {
            // Rust's integer-to-float conversion rounds to nearest, ties to even.
            lo as f64
        } else {
            // Normalise so the top bit is bit 127 of `top`; the bits shifted out only matter
            // as a sticky bit below the rounding position (bit 74 of `top`).
            let zeros = hi.leading_zeros();
            let top = if zeros == 0 {
                hi
            } else {
                (hi << zeros) | (lo >> (128 - zeros))
            };
            let rest = if zeros == 0 { lo } else { lo << zeros };
            let top = top | u128::from(rest != 0);
            top as f64 * power_of_two(128 - zeros as i32)
        };
        let float = float * power_of_two(-FRACTION_BITS);
        if negative { -float } else { float }
    }

    /// Whether the sum is below zero.
    pub fn is_negative(&self) -> bool {
        self.high < 0
    }

    /// Sign and magnitude (`hi · 2^128 + lo`); the magnitude of the most negative sum,
    /// 2^255, fits.
    fn magnitude(&self) -> (bool, u128, u128) {
        if self.high >= 0 {
            (false, self.high as u128, self.low)
        } else {
            let (lo, carry) = (!self.low).overflowing_add(1);
            let hi = (!(self.high as u128)).wrapping_add(u128::from(carry));
            (true, hi, lo)
        }
    }

    /// The sum as a decimal integer of units.
    fn to_decimal(self) -> String {
        let (negative, hi, lo) = self.magnitude();
        // Little-endian 64-bit limbs, divided by 10^19 until nothing is left.
        let mut limbs = [lo as u64, (lo >> 64) as u64, hi as u64, (hi >> 64) as u64];
        const CHUNK: u64 = 10_000_000_000_000_000_000;
        let mut chunks = Vec::new();
        while limbs.iter().any(|&l| l != 0) {
            let mut remainder: u128 = 0;
            for limb in limbs.iter_mut().rev() {
                let current = (remainder << 64) | u128::from(*limb);
                *limb = (current / u128::from(CHUNK)) as u64;
                remainder = current % u128::from(CHUNK);
            }
            chunks.push(remainder as u64);
        }
        let mut text = String::from(if negative { "-" } else { "" });
        match chunks.split_last() {
            None => text.push('0'),
            Some((first, rest)) => {
                text.push_str(&first.to_string());
                for chunk in rest.iter().rev() {
                    text.push_str(&format!("{chunk:019}"));
                }
            }
        }
        text
    }

    /// Parses a decimal integer of units (an optional `-`, then digits), refusing anything
    /// outside the 256-bit range.
    fn from_decimal(text: &str) -> Option<WideSum> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Magnitude in little-endian 64-bit limbs, at most 2^255.
        let mut limbs = [0u64; 4];
        for digit in digits.bytes() {
            let mut carry = u128::from(digit - b'0');
            for limb in &mut limbs {
                let current = u128::from(*limb) * 10 + carry;
                *limb = current as u64;
                carry = current >> 64;
            }
            if carry != 0 {
                return None;
            }
        }
        let hi = u128::from(limbs[2]) | (u128::from(limbs[3]) << 64);
        let lo = u128::from(limbs[0]) | (u128::from(limbs[1]) << 64);
        let limit = 1u128 << 127;
        if negative {
            if hi > limit || (hi == limit && lo != 0) {
                return None;
            }
            let (low, borrow) = 0u128.overflowing_sub(lo);
            let high = 0u128.wrapping_sub(hi).wrapping_sub(u128::from(borrow)) as i128;
            Some(WideSum { low, high })
        } else {
            if hi >= limit {
                return None;
            }
            Some(WideSum {
                low: lo,
                high: hi as i128,
            })
        }
    }
}

/// `x · 2^96` for finite `0 ≤ x < 2^-43` (below 2^53 units), rounded to the nearest integer
/// (ties to even), exactly from the f64's mantissa and exponent.
fn round_units(x: f64) -> u128 {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    // x = mantissa · 2^exponent.
    let (mantissa, exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    let drop = -(exponent + FRACTION_BITS);
    debug_assert!(drop > 0, "{x}");
    if drop > 54 {
        // Below a quarter of a unit.
        return 0;
    }
    let m = u128::from(mantissa);
    let drop = drop as u32;
    let kept = m >> drop;
    let remainder = m & ((1u128 << drop) - 1);
    let half = 1u128 << (drop - 1);
    let up = remainder > half || (remainder == half && kept & 1 == 1);
    kept + u128::from(up)
}

/// 2^k as an `f64`, for −1022 ≤ k ≤ 1023.
#[inline]
fn power_of_two(k: i32) -> f64 {
    f64::from_bits(((1023 + k) as u64) << 52)
}

/// The serialized form: `{"units": "<decimal>"}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Units<'a> {
    #[serde(borrow)]
    units: std::borrow::Cow<'a, str>,
}

impl Serialize for WideSum {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Units {
            units: self.to_decimal().into(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for WideSum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<WideSum, D::Error> {
        let units = Units::deserialize(deserializer)?.units;
        WideSum::from_decimal(&units).ok_or_else(|| {
            D::Error::custom(format!(
                "expected a 256-bit integer in a string, got {units:?}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn sum_of(values: &[f64]) -> WideSum {
        let mut s = WideSum::ZERO;
        values.iter().for_each(|&x| s.add(x));
        s
    }

    /// From a decimal of units, through `f64`'s correctly rounded parser: the reference for
    /// `value`'s rounding.
    fn reference_value(sum: &WideSum) -> f64 {
        sum.to_decimal().parse::<f64>().unwrap() * power_of_two(-FRACTION_BITS)
    }

    #[test]
    fn values_convert_exactly_and_round_correctly() {
        // Exact: whole and binary fractions, the bounds of exact conversion, the largest
        // summands.
        for x in [
            0.0,
            1.0,
            -1.0,
            0.5,
            1e15,
            -1e15,
            1e30,
            2f64.powi(-44),
            MAX_SUMMAND_ROOT,
            MAX_SUMMAND_ROOT * MAX_SUMMAND_ROOT * 4.0,
            f64::MIN_POSITIVE,
            5e-324,
        ] {
            let s = sum_of(&[x]);
            if x.abs() >= 2f64.powi(-44) || x == 0.0 {
                assert_eq!(s.value(), x, "{x}");
            }
            assert_eq!(s.value(), reference_value(&s));
        }
        // Below a unit: to nearest, ties to even.
        let unit = 2f64.powi(-FRACTION_BITS);
        for (x, units) in [
            (unit * 0.5, 0),
            (unit * 1.5, 2),
            (unit * 2.5, 2),
            (unit * 0.75, 1),
            (unit * 0.25, 0),
            (-unit * 1.5, -2),
        ] {
            assert_eq!(sum_of(&[x]).value(), units as f64 * unit, "{x}");
        }
    }

    /// One value at a time, over the whole exponent range: exact where a unit divides the
    /// value's last bit, else the nearest unit (the reference scales by 2^96, which is exact
    /// in floating point, and rounds).
    #[test]
    fn every_exponent_converts_to_the_nearest_unit() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(17);
        let scale = power_of_two(FRACTION_BITS);
        for _ in 0..100_000 {
            // Every biased exponent from subnormals to 2^139, a random fraction and sign.
            let biased = rng.random_range(0..1023 + 140u64);
            let x = f64::from_bits(biased << 52 | rng.random::<u64>() >> 12);
            let x = if rng.random::<bool>() { x } else { -x };
            let expected = (x * scale).round_ties_even() / scale;
            assert_eq!(sum_of(&[x]).value(), expected, "{x:e}");
            if x.abs() >= 2f64.powi(-44) {
                assert_eq!(sum_of(&[x]).value(), x, "{x:e}");
            }
        }
    }

    #[test]
    fn sums_are_exact_and_order_independent() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(13);
        let values: Vec<f64> = (0..20_000)
            .map(|_| {
                let magnitude = 10f64.powf(rng.random_range(-10.0..30.0));
                if rng.random::<bool>() {
                    magnitude
                } else {
                    -magnitude
                }
            })
            .collect();
        let forward = sum_of(&values);
        let mut reversed: Vec<f64> = values.clone();
        reversed.reverse();
        assert_eq!(forward, sum_of(&reversed));
        // Any split, merged in any order.
        let mut parts = [WideSum::ZERO; 3];
        for (i, &x) in values.iter().enumerate() {
            parts[(i * 7919) % 3].add(x);
        }
        let mut merged = parts[2];
        merged.checked_merge(&parts[0]).unwrap();
        merged.checked_merge(&parts[1]).unwrap();
        assert_eq!(merged, forward);
        // x + (−x) for all: exactly zero, where a float sum of such magnitudes is not.
        let mut cancel = forward;
        values.iter().for_each(|&x| cancel.add(-x));
        assert_eq!(cancel, WideSum::ZERO);
        // Integers: the exact sum is known.
        let integers: Vec<f64> = (0..10_000)
            .map(|i| (i * 1_000_000_007_i64) as f64)
            .collect();
        let exact: i64 = (0..10_000).map(|i| i * 1_000_000_007_i64).sum();
        assert_eq!(sum_of(&integers).value(), exact as f64);
    }

    #[test]
    fn rounding_back_to_f64_is_correct_across_the_range() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for _ in 0..20_000 {
            let sum = WideSum {
                low: rng.random(),
                high: rng.random::<i128>() >> rng.random_range(0..128),
            };
            assert_eq!(sum.value(), reference_value(&sum), "{sum:?}");
            assert_eq!(WideSum::from_decimal(&sum.to_decimal()), Some(sum));
        }
        // Ties: 2^53 + 1 (times 2^100 units) rounds to even, 2^53 + 3 up, and a unit far
        // below the tie (the sticky bit) breaks it upwards.
        for (units, sticky, expected) in [
            (9007199254740993u128, 0, 9007199254740992.0),
            (9007199254740995, 0, 9007199254740996.0),
            (9007199254740993, 1, 9007199254740994.0),
        ] {
            let sum = WideSum {
                low: (units << 100) | sticky,
                high: (units >> 28) as i128,
            };
            let value = sum.value() / power_of_two(100 - FRACTION_BITS);
            assert_eq!(value, expected);
        }
    }

    #[test]
    fn merges_refuse_to_wrap_and_the_text_form_is_checked() {
        let max = WideSum {
            low: u128::MAX,
            high: i128::MAX,
        };
        let min = WideSum {
            low: 0,
            high: i128::MIN,
        };
        let one = sum_of(&[power_of_two(-FRACTION_BITS)]);
        assert_eq!(max.clone().checked_merge(&one), Err(WideOverflow));
        let minus_one = sum_of(&[-power_of_two(-FRACTION_BITS)]);
        assert_eq!(min.clone().checked_merge(&minus_one), Err(WideOverflow));
        let mut back = max;
        back.checked_merge(&minus_one).unwrap();
        back.checked_merge(&one).unwrap();
        assert_eq!(back, max);
        for sum in [max, min, WideSum::ZERO, one, minus_one] {
            let text = serde_json::to_string(&sum).unwrap();
            assert_eq!(serde_json::from_str::<WideSum>(&text).unwrap(), sum);
        }
        assert_eq!(serde_json::to_string(&one).unwrap(), "{\"units\":\"1\"}");
        let two_to_255 =
            "57896044618658097711785492504343953926634992332820282019728792003956564819968";
        assert_eq!(min.to_decimal(), format!("-{two_to_255}"));
        for bad in [
            "",
            "-",
            "+1",
            "1.5",
            "1e3",
            " 1",
            two_to_255,
            "-57896044618658097711785492504343953926634992332820282019728792003956564819969",
            "999999999999999999999999999999999999999999999999999999999999999999999999999999999",
        ] {
            assert_eq!(WideSum::from_decimal(bad), None, "{bad:?}");
        }
        assert!(serde_json::from_str::<WideSum>("{\"units\":\"1\",\"x\":2}").is_err());
        assert!(serde_json::from_str::<WideSum>("{\"units\":1}").is_err());
    }
}
