//! How a strategy's transition override, or an extending file's transition, merges into the
//! transition it names: given fields replace the base's, a new timing replaces the whole old
//! one; and which fields an override sets itself (so errors point at it).
//!
//! One module for the rule, because the builder (strategies' overrides) and composition
//! (`[[transitions]]` of an extending file) must merge the same way.

use crate::scenario::format::TransitionDef;

/// True if the override sets this field itself (so errors point at the override).
pub(crate) fn field_is_set(o: &TransitionDef, field: &str) -> bool {
    match field {
        "to" | "from" => true,
        "rate" => o.rate.is_some(),
        "hazard" => o.hazard.is_some(),
        "cure" => o.cure.is_some(),
        "clock" => o.clock.is_some(),
        "after" => o.after.is_some(),
        "at" => o.at.is_some(),
        "if" => o.condition.is_some(),
        "effects" => o.effects.is_some(),
        "hr" => o.hr.is_some(),
        "source" => o.source.is_some(),
        _ => false,
    }
}

/// Applies a strategy's override to a base transition: given fields replace; a new timing
/// (rate, hazard, after or at) replaces the whole old timing.
pub(crate) fn merge_override(base: &mut TransitionDef, o: &TransitionDef) {
    if o.rate.is_some() || o.hazard.is_some() || o.after.is_some() || o.at.is_some() {
        base.rate = o.rate;
        base.hazard = o.hazard.clone();
        base.after = o.after;
        base.at = o.at;
    }
    if o.cure.is_some() {
        base.cure = o.cure;
    }
    if o.clock.is_some() {
        base.clock = o.clock.clone();
    }
    if o.condition.is_some() {
        base.condition = o.condition.clone();
    }
    if o.effects.is_some() {
        base.effects = o.effects.clone();
    }
    if o.hr.is_some() {
        base.hr = o.hr;
    }
    if o.source.is_some() {
        base.source = o.source.clone();
    }
}
