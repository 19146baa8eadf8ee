//! What entering a state counts as: the one definition that the life, the recorders and
//! the constant-hazard kernel all read.
//!
//! Why one owner: the windows "since entry" and "since HSCT2" count relapses, deaths and
//! the HSCT2 origin, and the life extends follow-up after HSCT2; if each of them decided
//! on its own what a state's entry means, the two kernels could silently disagree.

use crate::model::{DeathCause, State};

/// Which events entering a state is. The events are masks, 0 where entering the state is
/// the event and +∞ where it is not, so that a window keeps the first such time by
/// `min(first, at + mask)`: two instructions per transition and no branch (sojourn ends are
/// random, so branches mispredict).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entering {
    /// A relapse event: a relapse state, or death from relapse.
    pub relapse: f64,
    /// A non-relapse death (that is not also a relapse event).
    pub nrm: f64,
    /// A death, of either cause.
    pub death: f64,
    /// An HSCT2 state: its first entry within the horizon opens the "since HSCT2" window
    /// (see [`opens_hsct2`]).
    pub hsct2: bool,
}

impl Entering {
    /// What entering `state` counts as.
    pub fn of(state: &State) -> Entering {
        let mask = |yes: bool| if yes { 0.0 } else { f64::INFINITY };
        let relapse = state.relapse || state.death == Some(DeathCause::Relapse);
        Entering {
            relapse: mask(relapse),
            nrm: mask(!relapse && state.death == Some(DeathCause::NonRelapse)),
            death: mask(state.death.is_some()),
            hsct2: state.hsct2,
        }
    }

    /// Entering the state is a death.
    #[inline]
    pub fn is_death(&self) -> bool {
        self.death == 0.0
    }
}

/// The HSCT2 rule: a patient who has not yet had the "since HSCT2" window opened gets it
/// on entering an HSCT2 state at `time` (months since entry) within the `horizon`; later
/// HSCT2 entries change nothing. Callers keep "not yet" themselves (a flag, an `Option`,
/// or a second loop).
#[inline(always)]
pub fn opens_hsct2(hsct2: bool, time: f64, horizon: f64) -> bool {
    hsct2 && time <= horizon
}

/// Follow-up after the HSCT2 window opened at `time`: it ends a full horizon later (or at
/// the `horizon` if that is later), so that the curves "since HSCT2" have full follow-up.
#[inline(always)]
pub fn follow_up_after_hsct2(time: f64, horizon: f64) -> f64 {
    let end = time + horizon;
    if horizon > end { horizon } else { end }
}
