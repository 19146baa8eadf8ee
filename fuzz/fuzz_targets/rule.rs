//! Any text as a rule (condition or number) over a fixed set of variables and states:
//! compiling never panics, errors point inside the text, and compiled rules evaluate
//! without panicking on ordinary, odd (NaN, infinite) and too-short inputs. The variables
//! carry units (an age in years, a remission in months, a score without a unit), so the
//! unit checks and conversions of comparisons, arithmetic and lists are reached too, and
//! a numeric rule converted into another unit keeps its value (up to rounding).
#![no_main]

use hsctsim::model::rule::{Rule, RuleContext, RuleScope};
use hsctsim::model::variable::{TimeUnit, Unit, VarKind, VarSource, Variable};
use libfuzzer_sys::fuzz_target;

fn variable(name: &str, kind: VarKind, unit: Unit) -> Variable {
    Variable::new(name, kind, VarSource::Attribute).with_unit(unit)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let variables = [
        variable("age", VarKind::Number, Unit::Time(TimeUnit::Years)),
        variable("cgvhd", VarKind::Bool, Unit::None),
        variable(
            "disease",
            VarKind::Category(vec!["AML".into(), "ALL".into()]),
            Unit::None,
        ),
        variable("remission", VarKind::Number, Unit::Time(TimeUnit::Months)),
        variable("hct_ci", VarKind::Number, Unit::None),
        variable("engraftment", VarKind::Number, Unit::Time(TimeUnit::Days)),
    ];
    let states = ["relapse".to_string(), "hsct2".into(), "death".into()];
    let scope = RuleScope {
        variables: &variables,
        states: &states,
    };
    let values_sets: [&[f64]; 4] = [
        &[45.0, 1.0, 0.0, 8.0, 2.0, 21.0],
        &[f64::NAN, 0.0, 1.0, f64::INFINITY, f64::NAN, -0.0],
        &[-1e308, 1.0, 7.0, -0.0, 1e308, 5e-324],
        &[],
    ];
    for parse in [Rule::parse_condition, Rule::parse_number] {
        match parse(text, &scope) {
            Ok(rule) => {
                let unit = rule.unit();
                for values in values_sets {
                    for (visits, last_entry) in [
                        (&[0u32, 2, 0][..], &[0.0, 3.5, f64::NAN][..]),
                        (&[][..], &[][..]),
                    ] {
                        let context = RuleContext {
                            values,
                            time: 12.0,
                            visits,
                            last_entry,
                        };
                        let _ = rule.eval_bool(&context);
                        let value = rule.eval_number(&context);
                        if let Unit::Time(from) = unit {
                            for to in TimeUnit::ALL {
                                let converted = rule.clone().converted_to(to);
                                assert_eq!(converted.unit(), Unit::Time(to));
                                let got = converted.eval_number(&context);
                                let expected = from.convert(value, to);
                                let close = (got - expected).abs()
                                    <= 1e-9 * expected.abs().max(1.0)
                                    || (got.is_nan() && expected.is_nan())
                                    || got == expected
                                    || !expected.is_finite()
                                    || !got.is_finite();
                                assert!(close, "{text:?} in {to:?}: {got} vs {expected}");
                            }
                        }
                    }
                }
            }
            Err(error) => {
                assert!(error.offset <= text.len(), "{error:?} in {text:?}");
                assert!(
                    error.offset + error.len <= text.len(),
                    "{error:?} in {text:?}"
                );
                let _ = error.render(text);
            }
        }
    }
});
