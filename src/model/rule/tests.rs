//! Tests of the rule language through its public API: evaluation, units, error messages and
//! bounds, on one small fixture model. One file for all stages, because each case goes
//! through all of them (text in, value or message out).

use super::parser::MAX_NESTING;
use super::*;
use crate::model::variable::{TimeUnit, Unit, VarKind, VarSource, Variable};
use proptest::prelude::*;

const AGE: usize = 0;
const HCT_CI: usize = 1;
const STATUS: usize = 3;
const DISEASE: usize = 4;
const PRIOR_DISEASE: usize = 5;
const CGVHD: usize = 7;
const DSA: usize = 8;

/// A small model: variables, states, and one patient's values and history.
struct Fixture {
    variables: Vec<Variable>,
    states: Vec<String>,
    values: Vec<f64>,
    time: f64,
    visits: Vec<u32>,
    last_entry: Vec<f64>,
}

fn var(name: &str, kind: VarKind) -> Variable {
    Variable::new(name, kind, VarSource::Attribute)
}

fn time_var(name: &str, unit: TimeUnit) -> Variable {
    var(name, VarKind::Number).with_unit(Unit::Time(unit))
}

fn cat(levels: &[&str]) -> VarKind {
    VarKind::Category(levels.iter().map(|s| s.to_string()).collect())
}

impl Fixture {
    fn new() -> Self {
        let mut dsa = var("dsa", VarKind::Bool);
        dsa.source = VarSource::Policy;
        Fixture {
            variables: vec![
                time_var("age", TimeUnit::Years),                    // 0
                var("hct_ci", VarKind::Number),                      // 1
                time_var("remission", TimeUnit::Months),             // 2
                var("status", cat(&["active", "remission", "cr2"])), // 3
                var("disease", cat(&["AML", "ALL", "MM"])),          // 4
                var("prior_disease", cat(&["AML", "ALL", "MM"])),    // 5
                var("donor", cat(&["MUD", "haplo"])),                // 6
                var("cgvhd", VarKind::Bool),                         // 7
                dsa,                                                 // 8
            ],
            states: ["hsct1", "relapse1", "salvage", "hsct2", "relapse2", "death"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            // age 62, hct_ci 3, remission 8 months, status 'remission', disease 'AML',
            // prior 'AML', donor 'haplo', cGVHD yes, DSA no.
            values: vec![62.0, 3.0, 8.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0],
            time: 40.0,
            visits: vec![1, 1, 0, 1, 2, 0],
            last_entry: vec![0.0, 10.0, f64::NAN, 12.0, 35.0, f64::NAN],
        }
    }

    fn scope(&self) -> RuleScope<'_> {
        RuleScope {
            variables: &self.variables,
            states: &self.states,
        }
    }

    fn ctx(&self) -> RuleContext<'_> {
        RuleContext {
            values: &self.values,
            time: self.time,
            visits: &self.visits,
            last_entry: &self.last_entry,
        }
    }

    fn condition(&self, src: &str) -> Rule {
        Rule::parse_condition(src, &self.scope())
            .unwrap_or_else(|e| panic!("`{src}` should compile: {}", e.render(src)))
    }

    fn number(&self, src: &str) -> Rule {
        Rule::parse_number(src, &self.scope())
            .unwrap_or_else(|e| panic!("`{src}` should compile: {}", e.render(src)))
    }

    fn holds(&self, src: &str) -> bool {
        self.condition(src).eval_bool(&self.ctx())
    }

    /// The value of a numeric rule, in months if it is a time.
    fn value(&self, src: &str) -> f64 {
        self.number(src)
            .converted_to(TimeUnit::Months)
            .eval_number(&self.ctx())
    }
}

#[test]
fn conditions_evaluate_as_written() {
    let f = Fixture::new();
    let cases: &[(&str, bool)] = &[
        // Literals and Bool variables.
        ("true", true),
        ("false", false),
        ("cgvhd", true),
        ("dsa", false),
        ("not dsa", true),
        ("not cgvhd", false),
        ("not not cgvhd", true),
        // Precedence: `and` binds tighter than `or`; `not` tighter than `and`;
        // comparisons tighter than `not`.
        ("true or false and false", true),
        ("false and true or true", true),
        ("(true or false) and false", false),
        ("not false and false", false),
        ("not (false and false)", true),
        ("not age > 70", true),
        ("cgvhd and not dsa or false", true),
        ("(cgvhd or dsa) and not (hct_ci > 5)", true),
        // Each comparison.
        ("age == 62", true),
        ("age != 62", false),
        ("age != 61", true),
        ("age < 62", false),
        ("age <= 62", true),
        ("age > 61.5", true),
        ("age >= 63", false),
        ("62 == age", true),
        // Arithmetic precedence and associativity.
        ("age - 50 > 11 and age - 50 < 13", true),
        ("-age < 0", true),
        ("2 + 3 * 4 == 14", true),
        ("(2 + 3) * 4 == 20", true),
        ("10 - 4 - 3 == 3", true),
        ("24 / 4 / 2 == 3", true),
        ("-2 * 3 == -6", true),
        ("- -2 == 2", true),
        ("hct_ci * 2 + 1 == 7", true),
        // IEEE arithmetic: no panic, NaN compares false (`!=` included).
        ("1 / 0 > 1000", true),
        ("0 / 0 == 0", false),
        ("0 / 0 != 0", false),
        ("not (0 / 0 == 0)", true),
        // Categorical variables.
        (
            "status != 'active' and remission >= 6m and hct_ci < 2",
            false,
        ),
        (
            "status != 'active' and remission >= 6m and hct_ci < 4",
            true,
        ),
        ("status == 'remission'", true),
        ("disease == 'AML'", true),
        ("disease == \"AML\"", true),
        ("'AML' == disease", true),
        ("disease != 'AML'", false),
        ("donor == 'haplo'", true),
        ("disease == prior_disease", true),
        ("disease != prior_disease", false),
        ("disease in ['AML', 'ALL']", true),
        ("disease not in ['AML', 'ALL']", false),
        ("disease in [\"MM\"]", false),
        ("disease in ['MM', 'ALL',]", false),
        ("not disease in ['MM']", true),
        // Numbers in lists, with units and constant expressions.
        ("hct_ci in [1, 2, 3]", true),
        ("hct_ci not in [1, 2]", true),
        ("hct_ci in [-3, 0]", false),
        ("age in [6m, 62]", true),
        ("age in [744m]", true),
        ("remission in [8m]", true),
        ("remission in [6, 8]", true),
        // Bool comparisons.
        ("cgvhd == true", true),
        ("dsa == false", true),
        ("cgvhd != dsa", true),
        ("cgvhd == (age > 60)", true),
        // History.
        ("visited('hsct2') and time_since('hsct2') > 2y", true),
        ("visited('salvage')", false),
        ("not visited('death')", true),
        ("time_since('salvage') > 6", true),
        ("time_since('salvage') < 1000000", false),
        ("visits('relapse2') >= 2 or time > 36", true),
        ("visits('relapse2') >= 3 or time > 41", false),
        ("visits('salvage') == 0", true),
        ("time_since('relapse2') == 5", true),
        ("time == 40", true),
        ("time > 3y", true),
        // Whitespace insensitive.
        ("  age>=62 and(cgvhd)  ", true),
        ("\tdisease\nin['AML']", true),
    ];
    for &(src, expected) in cases {
        assert_eq!(f.holds(src), expected, "`{src}`");
    }
}

#[test]
fn numbers_and_units() {
    let f = Fixture::new();
    let days = 365.25 / 12.0;
    // Times in months (`age - 50` is 12 years).
    let cases: &[(&str, f64)] = &[
        ("age - 50", 144.0),
        ("hct_ci * 2 + 1", 7.0),
        ("-(1 + 2) * 3", -9.0),
        ("6", 6.0),
        ("0.5", 0.5),
        (".5", 0.5),
        ("1e-3", 0.001),
        ("2.5E1", 25.0),
        ("1e+2", 100.0),
        ("6m", 6.0),
        ("2y", 24.0),
        ("1.5y", 18.0),
        ("3months", 3.0),
        ("2yr", 24.0),
        ("6w", 42.0 / days),
        ("30d", 30.0 / days),
        ("time", 40.0),
        ("visits('relapse2')", 2.0),
        ("visits('salvage')", 0.0),
        ("time_since('hsct2')", 28.0),
        ("time_since('hsct2') - 2y", 4.0),
    ];
    for &(src, expected) in cases {
        let got = f.value(src);
        assert!(
            (got - expected).abs() < 1e-12,
            "`{src}`: {got} != {expected}"
        );
    }
    assert!((f.value("30d") - 0.9856).abs() < 1e-4);
    assert!(f.holds("12m == 1y") && f.holds("1y == 12m") && f.holds("2y + 3m == 27m"));
    assert_eq!(f.value("time_since('death')"), f64::INFINITY);
    assert_eq!(f.value("1 / 0"), f64::INFINITY);
    assert!(f.value("0 / 0").is_nan());
}

#[test]
fn missing_values_and_short_contexts_never_panic() {
    let mut f = Fixture::new();
    f.values[AGE] = f64::NAN;
    f.values[CGVHD] = f64::NAN;
    for (src, expected) in [
        ("age > 1", false),
        ("age < 1", false),
        ("age == 1", false),
        ("age != 1", false),
        ("not (age == 1)", true),
        ("age in [1]", false),
        ("age not in [1]", false),
        ("cgvhd", false),
    ] {
        assert_eq!(f.holds(src), expected, "`{src}` with NaN");
    }
    // A context with no values and no history at all.
    let rule = f.condition("age > 1 or cgvhd or disease == 'AML' or visited('hsct2')");
    let empty = RuleContext {
        values: &[],
        time: 0.0,
        visits: &[],
        last_entry: &[],
    };
    assert!(!rule.eval_bool(&empty));
    assert!(f.condition("time_since('hsct2') > 1").eval_bool(&empty));
    assert_eq!(f.number("visits('hsct2')").eval_number(&empty), 0.0);
    assert!(f.number("age + 1").eval_number(&empty).is_nan());
}

#[test]
fn cross_evaluation_converts() {
    let f = Fixture::new();
    assert_eq!(f.condition("cgvhd").eval_number(&f.ctx()), 1.0);
    assert_eq!(f.condition("dsa").eval_number(&f.ctx()), 0.0);
    assert!(f.number("age").eval_bool(&f.ctx()));
    assert!(!f.number("age - 62").eval_bool(&f.ctx()));
    assert!(!f.number("0 / 0").eval_bool(&f.ctx()));
}

#[test]
fn categorical_levels_compile_to_their_index() {
    let mut f = Fixture::new();
    let rule = f.condition("disease in ['ALL', 'MM'] and status == 'cr2'");
    assert!(!rule.eval_bool(&f.ctx()));
    f.values[DISEASE] = 2.0;
    f.values[STATUS] = 2.0;
    assert!(rule.eval_bool(&f.ctx()));
    f.values[PRIOR_DISEASE] = 1.0;
    assert!(f.holds("disease != prior_disease"));
}

#[test]
fn history_and_variables_are_reported() {
    let f = Fixture::new();
    for (src, history) in [
        ("age > 1", false),
        ("cgvhd", false),
        ("disease == 'AML'", false),
        ("time > 1", true),
        ("visited('hsct2')", true),
        ("visits('hsct2') > 0", true),
        ("time_since('hsct2') > 1", true),
        ("age > 1 and (dsa or time < 2)", true),
    ] {
        assert_eq!(f.condition(src).uses_history(), history, "`{src}`");
    }
    assert!(!f.number("age - 50").uses_history());
    assert!(f.number("time - 6").uses_history());

    for (src, vars) in [
        ("hct_ci > 1 and age > 2 or age < 1", vec![AGE, HCT_CI]),
        ("dsa or cgvhd or dsa", vec![CGVHD, DSA]),
        ("disease == prior_disease", vec![DISEASE, PRIOR_DISEASE]),
        ("disease in ['AML']", vec![DISEASE]),
        ("time > 1 and visited('hsct1')", vec![]),
        ("true", vec![]),
    ] {
        assert_eq!(f.condition(src).variables(), vars, "`{src}`");
    }
    assert_eq!(
        f.number("hct_ci * 2 + age / 1y").variables(),
        vec![AGE, HCT_CI]
    );
}

#[test]
fn always_is_true_and_pure() {
    let f = Fixture::new();
    let rule = Rule::always();
    assert!(rule.eval_bool(&f.ctx()));
    assert_eq!(rule.source(), "true");
    assert!(!rule.uses_history());
    assert!(rule.variables().is_empty());
}

#[test]
fn times_in_different_units_are_converted() {
    // age 62 (years), remission 8 (months), time 40 (months), hsct2 entered at 12.
    let f = Fixture::new();
    let cases: &[(&str, bool)] = &[
        // The reproduction of issue 13: 65y is 65 years against an age in years.
        ("age < 65y", true),
        ("age < 62y", false),
        ("age <= 62y", true),
        ("age >= 744m", true),
        ("age > 745m", false),
        ("age > 22645d", true),
        ("age < 22646d", true),
        ("65y > age", true),
        ("remission > 1y", false),
        ("remission < 0.7y", true),
        ("remission == 8m", true),
        ("remission >= 34w", true),
        ("remission >= 35w", false),
        // A bare number is in the unit of what it meets.
        ("age < 70", true),
        ("remission >= 6", true),
        ("time > 36", true),
        ("2 * remission == 16", true),
        ("remission * 2 > 1y", true),
        ("-remission < 0", true),
        // Sums of times in different units, compared with a time written with a unit.
        ("age + time > 65y", true),
        ("age + time < 66y", true),
        ("time + age > 783m", true),
        ("time + age < 785m", true),
        ("age - time_since('hsct2') > 59y", true),
        ("age - time_since('hsct2') > 60y", false),
        ("age - time_since('hsct2') < 59y + 9m", true),
        ("2y + 3m == 27m", true),
        // A ratio of two times has no unit.
        ("time / 12m > 3.3 and time / 12m < 3.4", true),
        ("time_since('hsct2') / remission == 3.5", true),
        ("remission / age < 0.011", true),
        // Lists: items in the unit of the value.
        ("age in [62y, 70y]", true),
        ("remission in [6m, 1y]", false),
        ("remission not in [6m, 1y]", true),
    ];
    for &(src, expected) in cases {
        assert_eq!(f.holds(src), expected, "`{src}`");
    }
    // A variable compared with a duration: the constant is converted, the patient's
    // value is compared as it is (no rounding of 62 years through months).
    let mut g = Fixture::new();
    g.values[AGE] = 65.0;
    assert!(!g.holds("age < 65y") && g.holds("age <= 65y") && g.holds("age == 65y"));
}

#[test]
fn numeric_rules_know_their_unit() {
    let f = Fixture::new();
    for (src, unit) in [
        ("age", Unit::Time(TimeUnit::Years)),
        ("age - 50", Unit::Time(TimeUnit::Years)),
        ("remission", Unit::Time(TimeUnit::Months)),
        ("time_since('hsct2')", Unit::Time(TimeUnit::Months)),
        ("time", Unit::Time(TimeUnit::Months)),
        ("2y", Unit::Time(TimeUnit::Years)),
        ("hct_ci", Unit::None),
        ("hct_ci * 2 + 1", Unit::None),
        ("visits('relapse2')", Unit::None),
        ("time / 1y", Unit::None),
        ("3", Unit::None),
    ] {
        assert_eq!(f.number(src).unit(), unit, "`{src}`");
    }
    assert_eq!(f.condition("age > 1").unit(), Unit::None);
    let ctx = f.ctx();
    assert_eq!(f.number("age").eval_number(&ctx), 62.0);
    let in_months = f.number("age").converted_to(TimeUnit::Months);
    assert_eq!(in_months.unit(), Unit::Time(TimeUnit::Months));
    assert_eq!(in_months.eval_number(&ctx), 744.0);
    let in_years = f
        .number("time_since('hsct2')")
        .converted_to(TimeUnit::Years);
    assert!((in_years.eval_number(&ctx) - 28.0 / 12.0).abs() < 1e-12);
    assert_eq!(
        f.number("2y")
            .converted_to(TimeUnit::Months)
            .eval_number(&ctx),
        24.0
    );
    // A number without a unit is not a time: converting it changes nothing.
    assert_eq!(
        f.number("hct_ci")
            .converted_to(TimeUnit::Years)
            .eval_number(&ctx),
        3.0
    );
}

#[test]
fn unit_mismatches_are_refused_with_the_fix() {
    let mut f = Fixture::new();
    // An age whose unit nobody declared: the issue's `age < 65y` would compare 62 with
    // 780 months.
    f.variables[AGE] = var("age", VarKind::Number);
    f.variables
        .push(time_var("years_since_hsct1", TimeUnit::Years));
    #[rustfmt::skip]
    let cases: &[(&str, usize, usize, &[&str])] = &[
        ("age < 65y", 6, 3, &["`age` is a number without a unit but `65y` is a duration (780 months)", "declare it: unit = \"years\" on the attribute `age`", "write `age < 65`"]),
        ("hct_ci >= 6m", 10, 2, &["`hct_ci` is a number without a unit but `6m` is a duration", "unit = \"months\"", "write `hct_ci >= 6`"]),
        ("visits('relapse2') > 2y", 21, 2, &["`visits('relapse2')` is a number without a unit", "write `visits('relapse2') > 2`"]),
        ("hct_ci > time", 0, 13, &["`hct_ci` is a number without a unit but `time` is a time in months (since cohort entry)", "declare it: unit = \"months\""]),
        ("visits('salvage') > time_since('hsct2')", 0, 39, &["cannot be compared", "compare times with times"]),
        ("hct_ci + time > 1", 0, 13, &["cannot be added", "`hct_ci`"]),
        ("time - hct_ci > 1", 0, 13, &["cannot be subtracted"]),
        ("age in [1, 65y]", 11, 3, &["`age` is a number without a unit but `65y` is a duration", "write `age in [1, 65]`"]),
        ("remission in [6m, hct_ci]", 18, 6, &["fixed numbers"]),
        ("remission in [6m, 6m / 1m]", 18, 7, &["`6m / 1m` is a number without a unit", "cannot be compared"]),
        // A bare number next to numbers written with units, or a sum of mixed units.
        ("5y + 2 > time", 5, 1, &["`2` has no unit", "`5y` is a duration written with a unit", "`2m` or `2y`"]),
        ("6m == 6", 6, 1, &["`6` has no unit", "`6m` or `6y`"]),
        ("remission + years_since_hsct1 > 70", 32, 2, &["`70` has no unit", "`remission + years_since_hsct1` adds times in different units", "`70m` or `70y`"]),
        ("(time + years_since_hsct1) in [2]", 31, 1, &["`2` has no unit", "adds times in different units"]),
        // Products and quotients that no rule can compare.
        ("time * time_since('hsct2') > 1", 0, 26, &["multiplies two times", "`2 * time_since('hsct2')`"]),
        ("2 / time > 0", 0, 8, &["divides", "by `time`, a time", "time / 12m"]),
    ];
    for &(src, offset, len, fragments) in cases {
        let e = match Rule::parse_condition(src, &f.scope()) {
            Ok(_) => panic!("`{src}` should be refused"),
            Err(e) => e,
        };
        for fragment in fragments {
            assert!(
                e.message.contains(fragment),
                "`{src}`: message {:?} lacks {fragment:?}",
                e.message
            );
        }
        assert_eq!(
            (e.offset, e.len),
            (offset, len),
            "`{src}`: wrong span for {:?}\n{}",
            e.message,
            e.render(src)
        );
    }
    // Declared in years, the same rule is what it says.
    let g = Fixture::new();
    assert!(g.holds("age < 65y"));
}

#[test]
fn rules_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Rule>();
    assert_send_sync::<RuleError>();
}

#[test]
fn source_is_kept_verbatim() {
    let f = Fixture::new();
    let src = "  cgvhd and age>60 ";
    assert_eq!(f.condition(src).source(), src);
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Cond,
    Num,
}
use Mode::{Cond as C, Num as N};

#[test]
fn errors_point_at_the_problem_and_say_how_to_fix_it() {
    let f = Fixture::new();
    // (mode, source, offset, len, fragments the message must contain)
    #[rustfmt::skip]
    let cases: &[(Mode, &str, usize, usize, &[&str])] = &[
        // Unknown names, with suggestions or the list of what exists.
        (C, "agee > 60", 0, 4, &["unknown variable `agee`", "Did you mean `age`?"]),
        (C, "weight > 60", 0, 6, &["unknown variable `weight`", "`age`, `hct_ci`", "`time`"]),
        (C, "disease == 'AMl'", 11, 5, &["`AMl` is not a level of `disease`", "`AML`, `ALL`, `MM`", "Did you mean `AML`?"]),
        (C, "disease in ['AML', 'XYZ']", 19, 5, &["`XYZ` is not a level of `disease`", "`AML`, `ALL`, `MM`"]),
        (C, "visited('salvge')", 8, 8, &["unknown state `salvge`", "Did you mean `salvage`?"]),
        (C, "visited('nowhere')", 8, 9, &["unknown state `nowhere`", "`hsct1`, `relapse1`, `salvage`"]),
        (C, "visted('hsct2')", 0, 6, &["unknown function `visted`", "Did you mean `visited`?", "`visited`, `visits`, `time_since`"]),
        (C, "foo('hsct2') > 1", 0, 3, &["unknown function `foo`", "`visited`, `visits`, `time_since`"]),
        (C, "age(2) > 1", 0, 3, &["unknown function `age`", "`age` is a variable; use it without parentheses"]),
        (C, "hsct2 > 1", 0, 5, &["`hsct2` is a state, not a variable", "visits('hsct2')"]),
        (C, "visited > 1", 0, 7, &["`visited` is a function", "`visited('hsct1')`"]),
        (C, "TRUE", 0, 4, &["lower case", "`true`"]),
        // Other spellings of operators.
        (C, "age > 60 && cgvhd", 9, 2, &["`&&`", "write `and`"]),
        (C, "age > 60 || cgvhd", 9, 2, &["`||`", "write `or`"]),
        (C, "!cgvhd", 0, 1, &["`!`", "write `not`"]),
        (C, "age = 60", 4, 1, &["single `=`", "write `==`"]),
        (C, "age <> 1", 4, 2, &["write `!=`"]),
        (C, "age ≥ 60", 4, 3, &["write `>=`"]),
        (C, "age > 60 AND cgvhd", 9, 9, &["unexpected `AND`", "lower case: write `and`"]),
        // Structure.
        (C, "1 < age < 80", 8, 1, &["cannot be chained", "`1 < age`", "joined by `and`"]),
        (C, "time in [1] == true", 12, 2, &["cannot be chained"]),
        (C, "(age > 60 and cgvhd", 0, 1, &["`(` is never closed", "`)`"]),
        (C, "visited('hsct2'", 7, 1, &["`(` is never closed"]),
        (C, "age > 60) and cgvhd", 8, 1, &["`)` has no matching `(`"]),
        (C, "age > 60 ]", 9, 1, &["`]` has no matching `[`"]),
        (C, "disease in ['AML'", 11, 1, &["`[` is never closed"]),
        (C, "disease in ['AML' 'ALL']", 18, 5, &["expected `,` or `]`", "`'ALL'`"]),
        (C, "", 0, 0, &["the rule is empty", "age > 60"]),
        (C, "   ", 0, 3, &["the rule is empty"]),
        (N, "", 0, 0, &["the rule is empty", "age - 50"]),
        (C, "age > 60 cgvhd", 9, 5, &["unexpected `cgvhd` after the complete expression `age > 60`", "`and` or `or`"]),
        (C, "remission > 6 m", 14, 1, &["without a space", "`6m`"]),
        (C, "age >", 5, 0, &["ends too early after `>`", "expected a value"]),
        (C, "age >= 60 and ", 13, 0, &["ends too early after `and`"]),
        (C, "age > 60 and cgvhd and or dsa", 23, 2, &["expected a value", "found `or`"]),
        (C, "cgvhd == not dsa", 9, 3, &["found `not`", "parentheses"]),
        (C, "()", 1, 1, &["expected a value", "found `)`"]),
        (C, "age in 5", 7, 1, &["square brackets", "in ['AML', 'ALL']"]),
        (C, "disease in []", 11, 2, &["list after `disease in` is empty", "at least one value"]),
        (C, "status == 'active", 10, 7, &["string is never closed"]),
        (C, "disease == \"AML", 11, 4, &["string is never closed"]),
        (C, "age # 3", 4, 1, &["unexpected character `#`"]),
        // Literals.
        (C, "6x > 1", 0, 2, &["unknown unit `x` in `6x`", "d, w, m, y", "30d"]),
        (C, "age >= 60 and time_since('hsct2') > 2yrs", 36, 4, &["unknown unit `yrs`"]),
        (C, "age > 1e400", 6, 5, &["too large"]),
        (C, "age>=62and cgvhd", 5, 5, &["put a space between `62` and `and`"]),
        // Types.
        (C, "age - 50", 0, 8, &["`age - 50` is a number, not a condition", "must be a condition", "`age - 50 > 0`"]),
        (N, "age > 50", 0, 8, &["`age > 50` is a condition (true/false), not a number", "must be a number"]),
        (N, "disease", 0, 7, &["`disease` is categorical", "not a number"]),
        (C, "disease", 0, 7, &["`disease` is categorical (one of `AML`, `ALL`, `MM`), not a condition", "disease == 'AML'"]),
        (C, "'AML'", 0, 5, &["quoted string, not a condition", "categorical"]),
        (C, "disease < 'AML'", 8, 1, &["`disease` is categorical", "no order", "`<`", "`==` or `!=`"]),
        (C, "disease >= prior_disease", 8, 2, &["no order"]),
        (C, "disease == 1", 11, 1, &["`disease` is categorical (one of `AML`, `ALL`, `MM`)", "`1`", "disease == 'AML'"]),
        (C, "age == disease", 0, 3, &["`disease` is categorical", "`age`, which is a number"]),
        (C, "disease == donor", 0, 16, &["`donor` is categorical (one of `MUD`, `haplo`)", "different levels"]),
        (C, "age + cgvhd > 1", 6, 5, &["`cgvhd` is a condition (true/false), not a number", "`+` needs a number on each side"]),
        (C, "-cgvhd", 1, 5, &["`-` (negation) needs a number"]),
        (C, "age and cgvhd", 0, 3, &["`age` is a number, not a condition", "`and` needs a condition on each side", "`age > 0`"]),
        (C, "cgvhd or disease", 9, 7, &["`disease` is categorical", "`or` needs a condition"]),
        (C, "not age", 4, 3, &["`not` needs a condition"]),
        (C, "cgvhd > 0", 0, 9, &["`cgvhd` is a condition (true/false) but `0` is a number", "`true` or"]),
        (C, "cgvhd < dsa", 6, 1, &["cannot order conditions", "`==` or `!=`"]),
        (C, "age == 'AML'", 7, 5, &["`'AML'` is a quoted string but `age` is a number", "without quotes"]),
        (C, "'AML' == 'ALL'", 0, 14, &["both sides are quoted strings"]),
        (C, "age in ['AML']", 8, 5, &["`'AML'` is a quoted string", "must hold numbers"]),
        (C, "age in [hct_ci]", 8, 6, &["fixed numbers", "`hct_ci` depends on the patient"]),
        (C, "disease in [1]", 12, 1, &["`disease` is categorical", "levels in quotes", "disease in ['AML', 'ALL']"]),
        (C, "cgvhd in [true]", 6, 2, &["`cgvhd` is a condition", "`cgvhd == true`"]),
        (C, "visited(hsct2)", 8, 5, &["state name in quotes", "`visited('hsct2')`"]),
        (C, "visited(1)", 8, 1, &["needs a state name in quotes"]),
        (C, "visited('hsct2', 'hsct1')", 0, 25, &["exactly one state name", "2 arguments"]),
        (C, "visited()", 0, 9, &["exactly one state name", "0 arguments"]),
    ];
    assert!(cases.len() >= 20);
    for &(mode, src, offset, len, fragments) in cases {
        let result = match mode {
            Mode::Cond => Rule::parse_condition(src, &f.scope()),
            Mode::Num => Rule::parse_number(src, &f.scope()),
        };
        let e = match result {
            Ok(_) => panic!("`{src}` should be rejected"),
            Err(e) => e,
        };
        for fragment in fragments {
            assert!(
                e.message.contains(fragment),
                "`{src}`: message {:?} lacks {fragment:?}",
                e.message
            );
        }
        assert_eq!(
            (e.offset, e.len),
            (offset, len),
            "`{src}`: wrong span for {:?}\n{}",
            e.message,
            e.render(src)
        );
        assert_eq!(e.to_string(), e.message);
    }
}

#[test]
fn nesting_and_length_are_bounded() {
    let f = Fixture::new();
    let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    let e = Rule::parse_number(&deep, &f.scope()).unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{}", e.message);
    assert_eq!(e.offset, MAX_NESTING);
    let e = Rule::parse_condition(&"not ".repeat(500), &f.scope()).unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{}", e.message);
    let long = format!("1{}", " + 1".repeat(400));
    let e = Rule::parse_number(&long, &f.scope()).unwrap_err();
    assert!(e.message.contains("too long"), "{}", e.message);
    // Reasonable sizes are fine.
    let ok = format!("{}1{}", "(".repeat(30), ")".repeat(30));
    assert_eq!(f.value(&ok), 1.0);
    assert_eq!(f.value(&format!("1{}", " + 1".repeat(200))), 201.0);
}

#[test]
fn render_points_under_the_error() {
    let f = Fixture::new();
    let src = "age > 60 && cgvhd";
    let e = Rule::parse_condition(src, &f.scope()).unwrap_err();
    let text = e.render(src);
    assert!(text.ends_with(&format!("  {src}\n           ^^")), "{text}");
}

/// Words and symbols from which random, mostly well-formed rules are built.
const VOCABULARY: &[&str] = &[
    "age",
    "hct_ci",
    "disease",
    "donor",
    "cgvhd",
    "dsa",
    "status",
    "time",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "(",
    ")",
    "[",
    "]",
    ",",
    "'AML'",
    "'MM'",
    "'x'",
    "0",
    "1",
    "6m",
    "2y",
    "0.5",
    "1e9",
    "visited('hsct2')",
    "visits('relapse2')",
    "time_since('salvage')",
    "time_since(",
    "'hsct2'",
    "&&",
    "=",
    "!",
];

proptest! {
    #[test]
    fn random_text_never_panics(src in "\\PC{0,60}") {
        let f = Fixture::new();
        for result in [
            Rule::parse_condition(&src, &f.scope()),
            Rule::parse_number(&src, &f.scope()),
        ] {
            match result {
                Ok(rule) => {
                    rule.eval_bool(&f.ctx());
                    rule.eval_number(&f.ctx());
                }
                Err(e) => {
                    prop_assert!(e.offset + e.len <= src.len());
                    prop_assert!(src.is_char_boundary(e.offset));
                    prop_assert!(src.is_char_boundary(e.offset + e.len));
                    prop_assert!(!e.message.is_empty());
                    e.render(&src);
                }
            }
        }
    }

    #[test]
    fn random_token_soup_never_panics(
        words in proptest::collection::vec(proptest::sample::select(VOCABULARY), 0..20),
        age in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), -100.0..100.0f64],
        glue in prop_oneof![Just(" "), Just("")],
    ) {
        let mut f = Fixture::new();
        f.values[AGE] = age;
        let src = words.join(glue);
        for result in [
            Rule::parse_condition(&src, &f.scope()),
            Rule::parse_number(&src, &f.scope()),
        ] {
            match result {
                Ok(rule) => {
                    rule.eval_bool(&f.ctx());
                    rule.eval_number(&f.ctx());
                    let vars = rule.variables();
                    prop_assert!(vars.windows(2).all(|w| w[0] < w[1]));
                }
                Err(e) => {
                    prop_assert!(e.offset + e.len <= src.len());
                    prop_assert!(!e.message.is_empty());
                }
            }
        }
    }
}
