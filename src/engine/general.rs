//! The general kernel: any model, any follower, each life by [`life::live`] into the
//! aggregator's [`Recorder`](crate::aggregate::Recorder).

use crate::aggregate::{Layout, Tally};
use crate::life::{self, TooManyEvents};
use crate::model::{Model, Node};
use crate::rng::Stream;

use super::LifeFollower;
use super::patients::{Kernel, Lived};

/// Lives each life with the general life, recording it (and showing it to `follower`).
pub(crate) struct General<'a, F> {
    model: &'a Model,
    layout: &'a Layout,
    follower: &'a mut F,
}

impl<'a, F: LifeFollower> General<'a, F> {
    /// The general kernel for a batch.
    pub(crate) fn new(model: &'a Model, layout: &'a Layout, follower: &'a mut F) -> Self {
        General {
            model,
            layout,
            follower,
        }
    }
}

impl<F: LifeFollower> Kernel for General<'_, F> {
    #[inline(always)]
    fn live(
        &mut self,
        patient: u64,
        strategy: usize,
        entry: Node,
        rng: &mut Stream,
        tally: &mut Tally,
        scratch: &mut life::Scratch,
    ) -> Result<Lived, TooManyEvents> {
        let model = self.model;
        let rules = &model.strategies[strategy];
        let mut recorder = tally.recorder(self.layout, strategy, model.economics.as_ref());
        let transitions = if F::FOLLOWS {
            self.follower.begin(patient, strategy, &scratch.attributes);
            let mut both = (&mut recorder, &mut *self.follower);
            life::live(model, rules, entry, rng, scratch, &mut both)?
        } else {
            life::live(model, rules, entry, rng, scratch, &mut recorder)?
        };
        let outcome = recorder.finish();
        Ok(Lived {
            death: outcome.death,
            values: outcome.values,
            transitions,
        })
    }

    #[inline(always)]
    fn finish(self, _tally: &mut Tally) {}
}
