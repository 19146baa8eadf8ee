//! The exact answer for all-exponential models: state probabilities `p(t) = p(0)·exp(Qt)`.
//!
//! When every hazard is constant the model is a continuous-time Markov chain, so curves can
//! be computed exactly and the simulation checked against them. The matrix exponential is
//! applied by uniformisation: with `Λ ≥ max |q_ii|` and `P = I + Q/Λ`,
//! `p(0)·exp(Qt) = Σ_k Poisson(k; Λt) · p(0)·P^k`, a sum of non-negative terms (no
//! cancellation). Time is advanced in slices with `Λ·Δ ≤ 8` so the Poisson weights never
//! underflow, and each slice's series is cut when the remaining Poisson mass is < 1e-17.
//!
//! Relapse and NRM incidences follow from a second chain in which relapse events and
//! deaths are made absorbing (the first event is then where the patient stops).

use crate::model::{Choice, DeathCause, Model, Node};

/// A generator matrix `Q` (row-major; each row sums to 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Generator {
    n: usize,
    q: Vec<f64>,
}

impl Generator {
    /// An `n`-state chain with no transitions.
    pub fn new(n: usize) -> Generator {
        Generator {
            n,
            q: vec![0.0; n * n],
        }
    }

    /// Adds a constant rate from one state to another.
    pub fn add_rate(&mut self, from: usize, to: usize, rate: f64) {
        if from == to || rate == 0.0 {
            return;
        }
        self.q[from * self.n + to] += rate;
        self.q[from * self.n + from] -= rate;
    }

    /// The same chain with the given states made absorbing.
    pub fn with_absorbing(&self, states: &[usize]) -> Generator {
        let mut g = self.clone();
        for &s in states {
            g.q[s * self.n..(s + 1) * self.n].fill(0.0);
        }
        g
    }

    /// `p·exp(Q·t)`.
    pub fn propagate(&self, p: &[f64], t: f64) -> Vec<f64> {
        let n = self.n;
        let lambda = (0..n).map(|i| -self.q[i * n + i]).fold(0.0, f64::max);
        if lambda == 0.0 || t == 0.0 {
            return p.to_vec();
        }
        let slices = (lambda * t / 8.0).ceil().max(1.0) as usize;
        let dt = t / slices as f64;
        let lt = lambda * dt;
        let mut current = p.to_vec();
        for _ in 0..slices {
            let mut term = current.clone(); // p·P^k
            let mut weight = (-lt).exp(); // Poisson(k; Λ·Δ)
            let mut result: Vec<f64> = term.iter().map(|x| x * weight).collect();
            let mut remaining = 1.0 - weight;
            let mut k = 0usize;
            while remaining > 1e-17 && k < 10_000 {
                k += 1;
                // next = term · P with P = I + Q/Λ.
                let mut next = term.clone();
                for (i, &mass) in term.iter().enumerate() {
                    if mass == 0.0 {
                        continue;
                    }
                    let row = &self.q[i * n..(i + 1) * n];
                    for (slot, q) in next.iter_mut().zip(row) {
                        *slot += mass * q / lambda;
                    }
                }
                term = next;
                weight *= lt / k as f64;
                remaining -= weight;
                for (r, x) in result.iter_mut().zip(&term) {
                    *r += weight * x;
                }
            }
            current = result;
        }
        current
    }
}

/// Exact curves of an all-exponential strategy on a set of times.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactCurves {
    /// State probabilities, `[time][state]`.
    pub occupancy: Vec<Vec<f64>>,
    /// Overall survival.
    pub os: Vec<f64>,
    /// Leukaemia-free survival.
    pub lfs: Vec<f64>,
    /// Cumulative incidence of relapse.
    pub cir: Vec<f64>,
    /// Cumulative incidence of non-relapse mortality.
    pub nrm: Vec<f64>,
}

/// Rates into states from a target, following chance decisions (None for rule decisions).
fn spread(
    model: &Model,
    strategy: usize,
    target: Node,
    weight: f64,
    out: &mut Vec<(usize, f64)>,
) -> Option<()> {
    match target {
        Node::State(s) => out.push((s, weight)),
        Node::Decision(k) => match &model.strategies[strategy].decisions[k].choice {
            Choice::Chance(branches) => {
                let mut previous = 0.0;
                for (c, b) in branches {
                    if !b.set.is_empty() {
                        return None;
                    }
                    spread(model, strategy, b.to, weight * (c - previous), out)?;
                    previous = *c;
                }
            }
            Choice::Rules(_) => return None,
        },
    }
    Some(())
}

/// The generator and entry distribution of a strategy, if every exit is a constant hazard
/// that does not depend on the patient and decisions are chance nodes.
pub fn chain(model: &Model, strategy: usize) -> Option<(Generator, Vec<f64>)> {
    let n = model.states.len();
    let mut g = Generator::new(n);
    for (from, exits) in model.strategies[strategy].exits.iter().enumerate() {
        for t in &exits.transitions {
            let rate = t.constant_rate()?;
            if matches!(t.clock, crate::model::Clock::Age { .. }) {
                return None;
            }
            let mut targets = Vec::new();
            spread(model, strategy, t.to, rate, &mut targets)?;
            for (to, r) in targets {
                g.add_rate(from, to, r);
            }
        }
    }
    let mut p0 = vec![0.0; n];
    let mut previous = 0.0;
    for (c, target) in &model.entry.cumulative {
        let mut targets = Vec::new();
        spread(model, strategy, *target, c - previous, &mut targets)?;
        for (s, w) in targets {
            p0[s] += w;
        }
        previous = *c;
    }
    Some((g, p0))
}

/// Exact curves from cohort entry at the given times, or `None` if the strategy is not an
/// all-exponential Markov chain.
pub fn exact_curves(model: &Model, strategy: usize, times: &[f64]) -> Option<ExactCurves> {
    let (g, p0) = chain(model, strategy)?;
    let deaths: Vec<usize> = (0..model.states.len())
        .filter(|s| model.states[*s].death.is_some())
        .collect();
    let relapse_events: Vec<usize> = (0..model.states.len())
        .filter(|s| model.states[*s].relapse || model.states[*s].death == Some(DeathCause::Relapse))
        .collect();
    let nrm_deaths: Vec<usize> = (0..model.states.len())
        .filter(|s| model.states[*s].death == Some(DeathCause::NonRelapse))
        .collect();
    let mut stop_at_first: Vec<usize> = relapse_events.clone();
    stop_at_first.extend(&nrm_deaths);
    let first_event = g.with_absorbing(&stop_at_first);
    // The entry state itself never counts as an event: start the first-event chain from the
    // entry distribution but only count mass that moves into event states later.
    let entry_in_event: f64 = relapse_events.iter().map(|s| p0[*s]).sum();
    let mut curves = ExactCurves {
        occupancy: Vec::new(),
        os: Vec::new(),
        lfs: Vec::new(),
        cir: Vec::new(),
        nrm: Vec::new(),
    };
    if entry_in_event > 0.0 {
        return None; // entry in a relapse state: "first relapse" needs path information
    }
    for &t in times {
        let p = g.propagate(&p0, t);
        curves
            .os
            .push(1.0 - deaths.iter().map(|s| p[*s]).sum::<f64>());
        curves.occupancy.push(p);
        let f = first_event.propagate(&p0, t);
        let cir: f64 = relapse_events.iter().map(|s| f[*s]).sum();
        let nrm: f64 = nrm_deaths.iter().map(|s| f[*s]).sum();
        curves.cir.push(cir);
        curves.nrm.push(nrm);
        curves.lfs.push(1.0 - cir - nrm);
    }
    Some(curves)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_state_chain_matches_closed_form() {
        let mut g = Generator::new(2);
        g.add_rate(0, 1, 0.3);
        for &t in &[0.0, 0.5, 3.0, 40.0, 400.0] {
            let p = g.propagate(&[1.0, 0.0], t);
            assert!((p[0] - (-0.3 * t).exp()).abs() < 1e-13, "t={t}: {p:?}");
            assert!((p[0] + p[1] - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn three_state_chain_matches_closed_form() {
        // 0 → 1 at a, 1 → 2 at b: p1(t) = a/(b−a)·(e^{−at} − e^{−bt}).
        let (a, b) = (0.8, 0.1);
        let mut g = Generator::new(3);
        g.add_rate(0, 1, a);
        g.add_rate(1, 2, b);
        for &t in &[0.3, 2.0, 12.0, 60.0] {
            let p = g.propagate(&[1.0, 0.0, 0.0], t);
            let p1 = a / (b - a) * ((-a * t).exp() - (-b * t).exp());
            assert!((p[1] - p1).abs() < 1e-13, "t={t}: {} vs {p1}", p[1]);
        }
    }

    #[test]
    fn absorbing_states_stop_mass() {
        let mut g = Generator::new(3);
        g.add_rate(0, 1, 1.0);
        g.add_rate(1, 2, 1.0);
        let h = g.with_absorbing(&[1]);
        let p = h.propagate(&[1.0, 0.0, 0.0], 50.0);
        assert!((p[1] - 1.0).abs() < 1e-12 && p[2] == 0.0);
    }
}
