//! Nelder–Mead simplex minimisation, with the dimension-adaptive coefficients of Gao and Han
//! (2012, Comput. Optim. Appl. 51:259–277) and the ordering and shrink rules of Lagarias et
//! al. (1998, SIAM J. Optim. 9:112–147).
//!
//! Why Nelder–Mead: the calibration objective is a Monte Carlo estimate. With common random
//! numbers it is a deterministic function of the parameters, continuous in most places (event
//! times move smoothly with hazards, because they are drawn by inversion) but with small
//! steps wherever a simulated event crosses a horizon, so it has no usable derivatives. A
//! derivative-free direct search is the standard tool, takes tens of lines, and needs no
//! dependency; bounds are handled by the caller through transformations (log, logit).
//! With 10–20 parameters the adaptive coefficients matter: the classic ones
//! (1, 2, 0.5, 0.5) stall in higher dimensions.

/// Stopping rules and the starting simplex.
#[derive(Debug, Clone)]
pub struct Options {
    /// Largest number of objective evaluations.
    pub max_evaluations: usize,
    /// Stop when the objective values of the simplex span less than this…
    pub f_tolerance: f64,
    /// …and every vertex is within this distance (per coordinate) of the best one.
    pub x_tolerance: f64,
    /// Size of the starting simplex along each coordinate.
    pub steps: Vec<f64>,
}

/// The result.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// Best point found.
    pub x: Vec<f64>,
    /// Objective there.
    pub f: f64,
    /// Objective evaluations used.
    pub evaluations: usize,
    /// True if the tolerances were met (false: the evaluation budget ran out).
    pub converged: bool,
}

/// Minimises `f` from `x0`. Non-finite objective values count as +∞ (a point the model
/// rejects is simply worse than any other).
pub fn minimize(mut f: impl FnMut(&[f64]) -> f64, x0: &[f64], options: &Options) -> Minimum {
    let n = x0.len();
    let mut evaluations = 0;
    let mut eval = |x: &[f64], evaluations: &mut usize| {
        *evaluations += 1;
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    if n == 0 {
        let v = eval(x0, &mut evaluations);
        return Minimum {
            x: Vec::new(),
            f: v,
            evaluations,
            converged: true,
        };
    }
    let nf = n as f64;
    let (alpha, beta, gamma, delta) = if n >= 2 {
        (1.0, 1.0 + 2.0 / nf, 0.75 - 1.0 / (2.0 * nf), 1.0 - 1.0 / nf)
    } else {
        (1.0, 2.0, 0.5, 0.5)
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    let v0 = eval(x0, &mut evaluations);
    simplex.push((x0.to_vec(), v0));
    for i in 0..n {
        let mut x = x0.to_vec();
        x[i] += options.steps.get(i).copied().unwrap_or(0.1);
        let v = eval(&x, &mut evaluations);
        simplex.push((x, v));
    }
    let point = |c: &[f64], toward: &[f64], t: f64| -> Vec<f64> {
        c.iter().zip(toward).map(|(a, b)| a + t * (b - a)).collect()
    };
    let mut converged = false;
    while evaluations < options.max_evaluations {
        // Order; ties keep the older vertex first (Lagarias), so runs are reproducible.
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[n].1);
        let spread = simplex
            .iter()
            .skip(1)
            .flat_map(|(x, _)| x.iter().zip(&simplex[0].0).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        if (worst - best).abs() <= options.f_tolerance && spread <= options.x_tolerance {
            converged = true;
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|(x, _)| x[j]).sum::<f64>() / nf)
            .collect();
        let worst_x = simplex[n].0.clone();
        let reflected = point(&centroid, &worst_x, -alpha);
        let fr = eval(&reflected, &mut evaluations);
        if fr < best {
            let expanded = point(&centroid, &worst_x, -alpha * beta);
            let fe = eval(&expanded, &mut evaluations);
            simplex[n] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
            continue;
        }
        if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
            continue;
        }
        // Contract, outside if the reflection helped at all, else inside.
        let (contracted, fc) = if fr < worst {
            let c = point(&centroid, &worst_x, -alpha * gamma);
            let fc = eval(&c, &mut evaluations);
            (c, fc)
        } else {
            let c = point(&centroid, &worst_x, gamma);
            let fc = eval(&c, &mut evaluations);
            (c, fc)
        };
        if fc < worst.min(fr) {
            simplex[n] = (contracted, fc);
            continue;
        }
        // Shrink toward the best vertex.
        let best_x = simplex[0].0.clone();
        for vertex in simplex.iter_mut().skip(1) {
            let x = point(&best_x, &vertex.0, delta);
            let v = eval(&x, &mut evaluations);
            *vertex = (x, v);
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, f) = simplex.swap_remove(0);
    Minimum {
        x,
        f,
        evaluations,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(n: usize, max: usize) -> Options {
        Options {
            max_evaluations: max,
            f_tolerance: 1e-12,
            x_tolerance: 1e-8,
            steps: vec![0.5; n],
        }
    }

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let rosenbrock = |x: &[f64]| 100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2);
        let m = minimize(rosenbrock, &[-1.2, 1.0], &options(2, 5000));
        assert!(m.converged, "{m:?}");
        assert!(
            (m.x[0] - 1.0).abs() < 1e-4 && (m.x[1] - 1.0).abs() < 1e-4,
            "{m:?}"
        );
    }

    #[test]
    fn handles_a_dozen_dimensions() {
        // An ill-scaled quadratic in 12 dimensions: the classic coefficients stall here.
        let target: Vec<f64> = (0..12).map(|i| i as f64 / 4.0 - 1.0).collect();
        let f = |x: &[f64]| {
            x.iter()
                .zip(&target)
                .enumerate()
                .map(|(i, (a, b))| (1.0 + i as f64) * (a - b).powi(2))
                .sum::<f64>()
        };
        let m = minimize(f, &[0.0; 12], &options(12, 40_000));
        assert!(m.f < 1e-8, "{m:?}");
    }

    #[test]
    fn is_deterministic_and_respects_the_budget() {
        let f = |x: &[f64]| (x[0] - 3.0).powi(2) + (x[1] + 1.0).abs();
        let a = minimize(f, &[0.0, 0.0], &options(2, 60));
        let b = minimize(f, &[0.0, 0.0], &options(2, 60));
        assert_eq!(a, b);
        assert!(a.evaluations <= 60 + 3, "{}", a.evaluations);
    }

    #[test]
    fn infinite_values_are_avoided() {
        let f = |x: &[f64]| {
            if x[0] < 0.0 {
                f64::NAN
            } else {
                (x[0] - 0.5).powi(2)
            }
        };
        let m = minimize(f, &[2.0], &options(1, 500));
        assert!((m.x[0] - 0.5).abs() < 1e-4, "{m:?}");
    }
}
