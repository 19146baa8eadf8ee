//! Any text as a rule (condition or number) over a fixed set of variables and states:
//! compiling never panics, errors point inside the text, and compiled rules evaluate
//! without panicking on ordinary, odd (NaN, infinite) and too-short inputs.
#![no_main]

use hsctsim::model::rule::{Rule, RuleContext, RuleScope};
use hsctsim::model::variable::{VarKind, VarSource, Variable};
use libfuzzer_sys::fuzz_target;

fn variable(name: &str, kind: VarKind) -> Variable {
    Variable {
        name: name.into(),
        kind,
        source: VarSource::Attribute,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let variables = [
        variable("age", VarKind::Number),
        variable("cgvhd", VarKind::Bool),
        variable("disease", VarKind::Category(vec!["AML".into(), "ALL".into()])),
        variable("remission", VarKind::Number),
    ];
    let states = ["relapse".to_string(), "hsct2".into(), "death".into()];
    let scope = RuleScope {
        variables: &variables,
        states: &states,
    };
    let values_sets: [&[f64]; 4] = [
        &[45.0, 1.0, 0.0, 8.0],
        &[f64::NAN, 0.0, 1.0, f64::INFINITY],
        &[-1e308, 1.0, 7.0, -0.0],
        &[],
    ];
    for parse in [Rule::parse_condition, Rule::parse_number] {
        match parse(text, &scope) {
            Ok(rule) => {
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
                        let _ = rule.eval_number(&context);
                    }
                }
            }
            Err(error) => {
                assert!(error.offset <= text.len(), "{error:?} in {text:?}");
                let _ = error.render(text);
            }
        }
    }
});
