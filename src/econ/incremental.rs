//! Full incremental analysis: dominance, extended dominance and ICERs along the efficient
//! frontier, for any number of strategies (Drummond et al., Methods for the Economic
//! Evaluation of Health Care Programmes, ch. 4).
//!
//! 1. Order strategies by cost (ties: more effective first).
//! 2. Remove strongly dominated strategies: another costs no more and is at least as
//!    effective (one of the two strictly; exact duplicates keep the first).
//! 3. Walk the rest in cost order computing ICERs against the previous strategy kept; when an
//!    ICER is not larger than the one before it, the previous strategy is extendedly
//!    dominated (a mix of its neighbours does better): remove it and recompute.

/// Where a strategy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// On the efficient frontier (the first of them is the cheapest).
    Frontier,
    /// Costs more and gains no more than another strategy.
    Dominated {
        /// The strategy that dominates it.
        by: usize,
    },
    /// Off the frontier: a mix of its frontier neighbours dominates it.
    ExtendedlyDominated,
}

impl Status {
    /// Short name for tables.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Frontier => "frontier",
            Status::Dominated { .. } => "dominated",
            Status::ExtendedlyDominated => "extendedly_dominated",
        }
    }
}

/// One strategy's line in the incremental table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Increment {
    /// Strategy index.
    pub strategy: usize,
    /// Mean cost.
    pub cost: f64,
    /// Mean effect (QALYs).
    pub effect: f64,
    /// Frontier, dominated or extendedly dominated.
    pub status: Status,
    /// For frontier strategies after the first: the previous frontier strategy.
    pub comparator: Option<usize>,
    /// Cost minus the comparator's.
    pub delta_cost: f64,
    /// Effect minus the comparator's.
    pub delta_effect: f64,
    /// Incremental cost-effectiveness ratio against the comparator.
    pub icer: f64,
}

/// The incremental analysis of strategies with these mean costs and effects, in cost order.
pub fn analyse(cost: &[f64], effect: &[f64]) -> Vec<Increment> {
    let n = cost.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        cost[a]
            .total_cmp(&cost[b])
            .then(effect[b].total_cmp(&effect[a]))
            .then(a.cmp(&b))
    });
    let mut status = vec![Status::Frontier; n];
    // Strong dominance: compare with every cheaper-or-equal strategy not itself dominated.
    for (k, &j) in order.iter().enumerate() {
        for &i in &order[..k] {
            if matches!(status[i], Status::Dominated { .. }) {
                continue;
            }
            if cost[i] <= cost[j] && effect[i] >= effect[j] {
                status[j] = Status::Dominated { by: i };
                break;
            }
        }
    }
    // Extended dominance along the remaining strategies.
    let mut frontier: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&s| status[s] == Status::Frontier)
        .collect();
    let icer = |a: usize, b: usize| (cost[b] - cost[a]) / (effect[b] - effect[a]);
    loop {
        let removed = (1..frontier.len().saturating_sub(1))
            .find(|&k| icer(frontier[k - 1], frontier[k]) >= icer(frontier[k], frontier[k + 1]));
        match removed {
            Some(k) => {
                status[frontier[k]] = Status::ExtendedlyDominated;
                frontier.remove(k);
            }
            None => break,
        }
    }
    order
        .iter()
        .map(|&s| {
            let comparator = match status[s] {
                Status::Frontier => frontier
                    .iter()
                    .position(|&f| f == s)
                    .and_then(|k| k.checked_sub(1))
                    .map(|k| frontier[k]),
                Status::Dominated { by } => Some(by),
                Status::ExtendedlyDominated => frontier
                    .iter()
                    .rev()
                    .find(|&&f| cost[f] <= cost[s])
                    .copied(),
            };
            let (delta_cost, delta_effect, ratio) = match comparator {
                Some(c) => {
                    let (dc, de) = (cost[s] - cost[c], effect[s] - effect[c]);
                    (dc, de, dc / de)
                }
                None => (f64::NAN, f64::NAN, f64::NAN),
            };
            Increment {
                strategy: s,
                cost: cost[s],
                effect: effect[s],
                status: status[s],
                comparator,
                delta_cost,
                delta_effect,
                icer: if status[s] == Status::Frontier {
                    ratio
                } else {
                    f64::NAN
                },
            }
        })
        .collect()
}

/// Net monetary benefit `λ·E − C` of each strategy at willingness to pay `λ`.
pub fn net_benefit(cost: &[f64], effect: &[f64], wtp: f64) -> Vec<f64> {
    cost.iter().zip(effect).map(|(c, e)| wtp * e - c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five strategies: A cheapest, D strongly dominated by B, C extendedly dominated
    /// between B and E. The frontier is A → B → E with ICERs 10 000 and 30 000.
    #[test]
    fn textbook_frontier_with_both_kinds_of_dominance() {
        let names = ["A", "B", "C", "D", "E"];
        let cost = [0.0, 10_000.0, 25_000.0, 20_000.0, 40_000.0];
        let effect = [0.0, 1.0, 1.2, 0.9, 2.0];
        let table = analyse(&cost, &effect);
        let by_name = |n: &str| {
            table
                .iter()
                .find(|r| names[r.strategy] == n)
                .copied()
                .unwrap()
        };
        assert_eq!(by_name("A").status, Status::Frontier);
        assert_eq!(by_name("A").comparator, None);
        assert_eq!(by_name("B").status, Status::Frontier);
        assert_eq!(by_name("B").icer, 10_000.0);
        assert_eq!(by_name("D").status, Status::Dominated { by: 1 });
        assert_eq!(by_name("C").status, Status::ExtendedlyDominated);
        assert_eq!(by_name("E").status, Status::Frontier);
        assert_eq!(by_name("E").comparator, Some(1));
        assert!((by_name("E").icer - 30_000.0).abs() < 1e-9);
        // Rows come in cost order.
        let order: Vec<&str> = table.iter().map(|r| names[r.strategy]).collect();
        assert_eq!(order, ["A", "B", "D", "C", "E"]);
    }

    #[test]
    fn cascading_extended_dominance_and_ties() {
        // B and C are both extendedly dominated once D is considered; F duplicates A.
        let cost = [0.0, 100.0, 210.0, 300.0, 1000.0, 0.0];
        let effect = [0.0, 0.5, 0.9, 1.5, 2.0, 0.0];
        let table = analyse(&cost, &effect);
        let status = |s: usize| table.iter().find(|r| r.strategy == s).unwrap().status;
        assert_eq!(status(0), Status::Frontier);
        assert_eq!(status(5), Status::Dominated { by: 0 });
        assert_eq!(status(1), Status::ExtendedlyDominated);
        assert_eq!(status(2), Status::ExtendedlyDominated);
        assert_eq!(status(3), Status::Frontier);
        assert_eq!(status(4), Status::Frontier);
        // Frontier ICERs increase.
        let icers: Vec<f64> = table
            .iter()
            .filter(|r| r.status == Status::Frontier && r.comparator.is_some())
            .map(|r| r.icer)
            .collect();
        assert!(icers.windows(2).all(|w| w[0] < w[1]), "{icers:?}");
    }

    #[test]
    fn single_strategy_and_net_benefit() {
        let table = analyse(&[5.0], &[1.0]);
        assert_eq!(table.len(), 1);
        assert_eq!(table[0].status, Status::Frontier);
        assert_eq!(
            net_benefit(&[100.0, 300.0], &[1.0, 1.5], 1000.0),
            vec![900.0, 1200.0]
        );
    }
}
