//! Shards of a probabilistic sensitivity analysis: `hsctsim psa --shard K/N` runs a
//! contiguous range of draws and writes `psa-part-K-of-N.json`; `hsctsim merge` puts the
//! draws back in order. A draw depends only on (seed, draw), so the merged tables are
//! byte for byte those of the unsharded analysis.
//!
//! A PSA part holds each draw's parameter values and per-strategy means (a few hundred
//! bytes a draw), not the draws' accumulators: the PSA's outputs need nothing else.
//!
//! A part is checked when read (its header, and every draw: finite values, as many means
//! and values as the other draws, life-years that a life can have) and again against the
//! compiled scenario before the analysis ([`MergedPsa::analysis`]), so a forged or damaged
//! part is refused, naming the file, the draw and the rule, rather than analysed.
//!
//! Versions: 1 embedded only the top scenario file; 2 the whole composition, as run parts
//! do; 3 no longer carries `overflows` (lives left out of the means) — every life is in
//! every mean, and a life the exact sums cannot hold stops the draw. Older parts are
//! refused with the fix (run the shards again).

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Shard;
use super::part::{PROGRAM_VERSION, ScenarioRecord, ScenarioSource};
use crate::atomic::{Signature, StagedFile};
use crate::psa::{DrawOutcome, Means, Psa};

/// The `format` field of a PSA part.
pub const FORMAT: &str = "hsctsim psa part";
/// Format version written and read (3: no `overflows`; see the module documentation).
pub const FORMAT_VERSION: u32 = 3;
/// How a previous PSA part is recognised (and so may be replaced when asked): by its first
/// bytes, which [`PsaPart::stage`] always writes the same way (compact JSON, `format` first).
pub const SIGNATURE: Signature = Signature::FileStartingWith("{\"format\":\"hsctsim psa part\"");

/// One draw as stored: means in the order cost, QALYs, LYs, then undiscounted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredDraw {
    /// Draw number.
    pub draw: u64,
    /// Parameter values.
    pub values: Vec<f64>,
    /// Per strategy: cost, qalys, life_years, cost_undiscounted, qalys_undiscounted,
    /// life_years_undiscounted.
    pub means: Vec<[f64; 6]>,
}

impl StoredDraw {
    fn of(o: &DrawOutcome) -> StoredDraw {
        StoredDraw {
            draw: o.draw,
            values: o.values.clone(),
            means: o
                .means
                .iter()
                .map(|m| {
                    [
                        m.cost,
                        m.qalys,
                        m.life_years,
                        m.cost_undiscounted,
                        m.qalys_undiscounted,
                        m.life_years_undiscounted,
                    ]
                })
                .collect(),
        }
    }

    fn outcome(&self) -> DrawOutcome {
        DrawOutcome {
            draw: self.draw,
            values: self.values.clone(),
            means: self
                .means
                .iter()
                .map(|m| Means {
                    cost: m[0],
                    qalys: m[1],
                    life_years: m[2],
                    cost_undiscounted: m[3],
                    qalys_undiscounted: m[4],
                    life_years_undiscounted: m[5],
                })
                .collect(),
        }
    }
}

/// A PSA part file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsaPart {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Version of the program that wrote it (merging requires the same).
    pub program_version: String,
    /// Shard index.
    pub shard: u64,
    /// Number of shards.
    pub shards: u64,
    /// Master seed.
    pub seed: u64,
    /// Draws of the whole analysis.
    pub draws: u64,
    /// Patients per draw.
    pub patients_per_draw: u64,
    /// The scenario, embedded with every file it was composed of (see
    /// [`super::part`]).
    pub scenario: ScenarioRecord,
    /// This shard's draws, in order.
    pub outcomes: Vec<StoredDraw>,
}

/// `psa-part-K-of-N.json`, K zero-padded so names sort.
pub fn file_name(shard: Shard) -> String {
    let width = shard.count.to_string().len();
    format!(
        "psa-part-{:0width$}-of-{}.json",
        shard.index,
        shard.count,
        width = width
    )
}

/// Whether a file name looks like a PSA part.
pub fn is_part_name(name: &str) -> bool {
    name.starts_with("psa-part-") && name.ends_with(".json")
}

/// The draws (numbered from 1) shard `shard` runs of `draws`.
pub fn draws_of(shard: Shard, draws: u64) -> std::ops::Range<u64> {
    let r = shard.range(draws);
    r.start + 1..r.end + 1
}

impl PsaPart {
    /// The part of `shard` holding `outcomes`.
    pub fn new(
        psa: &Psa,
        source: &ScenarioSource,
        shard: Shard,
        draws: u64,
        outcomes: &[DrawOutcome],
    ) -> PsaPart {
        PsaPart {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            program_version: PROGRAM_VERSION.into(),
            shard: shard.index,
            shards: shard.count,
            seed: psa.base.settings.seed,
            draws,
            patients_per_draw: psa.patients,
            scenario: ScenarioRecord::new(&psa.name, source),
            outcomes: outcomes.iter().map(StoredDraw::of).collect(),
        }
    }

    /// Fails early, before the draws are simulated, if `dir` holds this shard's part from
    /// another analysis (scenario, seed, draws, patients or version) and `force` is not set,
    /// as run parts do ([`super::part::check_destination`]). A part of the same analysis may
    /// stay: the shard rewrites it with the same bytes.
    pub fn check_destination(&self, dir: &Path, force: bool) -> Result<(), super::part::PartError> {
        let path = dir.join(file_name(Shard {
            index: self.shard,
            count: self.shards,
        }));
        if fs::symlink_metadata(&path).is_err() {
            return Ok(());
        }
        let existing = match PsaPart::read(&path) {
            Ok(_) if force => return Ok(()),
            Ok(p)
                if (&p.program_version, &p.scenario) == (&self.program_version, &self.scenario)
                    && (p.seed, p.draws, p.patients_per_draw)
                        == (self.seed, self.draws, self.patients_per_draw) =>
            {
                return Ok(());
            }
            Ok(p) => p.describe(),
            Err(e) => {
                return Err(super::part::PartError::Invalid {
                    path,
                    problem: format!("is in the way and is not a PSA part file ({e})"),
                    fix: "it is never replaced: remove it yourself, or write the parts to another folder".into(),
                });
            }
        };
        Err(super::part::PartError::Exists { path, existing })
    }

    /// What a part holds, in a few words (for messages).
    fn describe(&self) -> String {
        format!(
            "shard {}/{} of {} draws × {} patients, seed {}, program {}",
            self.shard,
            self.shards,
            self.draws,
            self.patients_per_draw,
            self.seed,
            self.program_version
        )
    }

    /// Stages the part for `dir`, by the rules of run parts ([`super::part::stage_bytes`]);
    /// `None` when the same bytes are there.
    pub fn stage(&self, dir: &Path, force: bool) -> Result<Option<StagedFile>, String> {
        let shard = Shard {
            index: self.shard,
            count: self.shards,
        };
        let mut bytes = serde_json::to_vec(self).unwrap_or_default();
        bytes.push(b'\n');
        super::part::stage_bytes(
            dir,
            &file_name(shard),
            &bytes,
            force,
            SIGNATURE,
            |existing, path| {
                PsaPart::from_bytes(existing, path)
                    .map(|p| p.describe())
                    .map_err(|problem| super::part::PartError::Invalid {
                        path: path.to_path_buf(),
                        problem,
                        fix: String::new(),
                    })
            },
        )
        .map_err(|e| e.to_string())
    }

    /// Reads a part.
    pub fn read(path: &Path) -> Result<PsaPart, String> {
        let bytes = crate::input::read_bounded(path, super::part::MAX_PART_BYTES).map_err(|e| {
            format!("{e}; merge only the psa-part-K-of-N.json files that a sharded PSA writes")
        })?;
        PsaPart::from_bytes(&bytes, path)
    }

    /// A part from the bytes of the file at `path` (named in messages), format checked, and
    /// every draw checked against the rules any analysis satisfies ([`PsaPart::check`]).
    fn from_bytes(bytes: &[u8], path: &Path) -> Result<PsaPart, String> {
        let rerun = "run that shard again (same scenario, seed, draws and shard) to rewrite it";
        // First only what identifies the file, so another version gets a message about the
        // version rather than about a field it does not know.
        #[derive(Deserialize)]
        struct Identity {
            format: Option<String>,
            format_version: Option<serde_json::Value>,
            program_version: Option<String>,
        }
        let identity: Identity = serde_json::from_slice(bytes)
            .map_err(|e| format!("{}: not a readable PSA part ({e}); {rerun}", path.display()))?;
        if identity.format.as_deref() != Some(FORMAT) {
            return Err(format!(
                "{}: not a PSA part (no \"format\": \"{FORMAT}\"); merge only the psa-part-K-of-N.json files that a sharded PSA writes",
                path.display()
            ));
        }
        if identity.format_version.as_ref().and_then(|v| v.as_u64())
            != Some(u64::from(FORMAT_VERSION))
        {
            let shown = identity
                .format_version
                .map_or("none".to_string(), |v| v.to_string());
            let writer = identity.program_version.unwrap_or_else(|| "?".into());
            return Err(format!(
                "{}: PSA part format version {shown} (written by hsctsim {writer}); this hsctsim {PROGRAM_VERSION} reads version {FORMAT_VERSION}, whose means leave no life out; run the shards again with this {}",
                path.display(),
                if writer == PROGRAM_VERSION {
                    "build"
                } else {
                    "version"
                }
            ));
        }
        let part: PsaPart = serde_json::from_slice(bytes)
            .map_err(|e| format!("{}: a damaged PSA part ({e}); {rerun}", path.display()))?;
        part.check().map_err(|problem| {
            format!("{}: a damaged PSA part: {problem}; {rerun}", path.display())
        })?;
        if let Err(problem) = part.scenario.check() {
            return Err(format!(
                "{}: is damaged: in its embedded scenario, {problem}; {rerun}",
                path.display()
            ));
        }
        Ok(part)
    }

    /// The rules every PSA part satisfies whatever its scenario: a valid split and sizes,
    /// its own draws in order, and for every draw finite values, the same number of values
    /// and of strategies as the others, and life-years with 0 ≤ discounted ≤ undiscounted.
    fn check(&self) -> Result<(), String> {
        if Shard::new(self.shard, self.shards).is_err() {
            return Err(format!(
                "it claims to be shard {} of {}",
                self.shard, self.shards
            ));
        }
        if !(1..=crate::psa::MAX_DRAWS).contains(&self.draws) {
            return Err(format!("it claims {} draws", self.draws));
        }
        if !(1..=crate::scenario::build::MAX_PATIENTS).contains(&self.patients_per_draw) {
            return Err(format!(
                "it claims {} patients per draw",
                self.patients_per_draw
            ));
        }
        let expected = draws_of(self.shard(), self.draws);
        let numbers: Vec<u64> = self.outcomes.iter().map(|o| o.draw).collect();
        if !numbers.iter().copied().eq(expected.clone()) {
            return Err(format!(
                "it should hold draws {}–{} of shard {}/{}, but holds {} draws{}",
                expected.start,
                expected.end.saturating_sub(1),
                self.shard,
                self.shards,
                numbers.len(),
                match (numbers.first(), numbers.last()) {
                    (Some(a), Some(b)) => format!(" ({a}–{b})"),
                    _ => String::new(),
                }
            ));
        }
        let Some(first) = self.outcomes.first() else {
            return Ok(());
        };
        let (width, strategies) = (first.values.len(), first.means.len());
        for o in &self.outcomes {
            let draw = o.draw;
            if o.values.len() != width || o.means.len() != strategies || strategies == 0 {
                return Err(format!(
                    "draw {draw} has {} parameter values and means of {} strategies, where draw {} has {width} and {strategies}",
                    o.values.len(),
                    o.means.len(),
                    first.draw
                ));
            }
            if let Some(v) = o.values.iter().find(|v| !v.is_finite()) {
                return Err(format!("draw {draw} has a parameter value {v}"));
            }
            for (s, m) in o.means.iter().enumerate() {
                if let Some(v) = m.iter().find(|v| !v.is_finite()) {
                    return Err(format!("draw {draw}, strategy {s}: a mean of {v}"));
                }
                let (discounted, undiscounted) = (m[2], m[5]);
                // Slack for the rounding of many sojourns (see aggregate::invariants).
                if !(0.0 <= discounted && discounted <= undiscounted * (1.0 + 1e-6)) {
                    return Err(format!(
                        "draw {draw}, strategy {s}: {discounted} discounted and {undiscounted} undiscounted life-years per patient (a life has 0 ≤ discounted ≤ undiscounted)"
                    ));
                }
            }
        }
        Ok(())
    }

    /// (parameter values, strategies) of each draw, if the part has draws.
    fn shape(&self) -> Option<(usize, usize)> {
        self.outcomes
            .first()
            .map(|o| (o.values.len(), o.means.len()))
    }

    /// Which shard this is (valid once [`PsaPart::check`] passed).
    fn shard(&self) -> Shard {
        Shard {
            index: self.shard,
            count: self.shards,
        }
    }
}

/// PSA part files among `inputs` (files, or folders whose `psa-part-*.json` files count), in
/// name order; empty if there are none.
pub fn find_parts(inputs: &[PathBuf]) -> Vec<PathBuf> {
    super::find_named(inputs, is_part_name)
}

/// Parts merged: the scenario and every draw, in order.
#[derive(Debug, Clone)]
pub struct MergedPsa {
    /// The scenario's name.
    pub name: String,
    /// The files the scenario was composed of.
    pub scenario: ScenarioSource,
    /// Seed.
    pub seed: u64,
    /// Patients per draw.
    pub patients_per_draw: u64,
    /// Shards merged.
    pub shards: u64,
    /// Every draw, 1 to draws.
    pub outcomes: Vec<DrawOutcome>,
    /// Each part file and the draws it held, for messages.
    pub files: Vec<(PathBuf, std::ops::Range<u64>)>,
}

impl MergedPsa {
    /// Checks the draws against the compiled scenario before they are analysed: each has
    /// one value per uncertain parameter component, means for every strategy, and
    /// life-years per patient within the horizon. A part that does not fit is refused,
    /// naming its file.
    pub fn check_fits(&self, psa: &Psa) -> Result<(), String> {
        let strategies = psa.base.strategies.len();
        let (width, years) = (psa.width(), psa.base.settings.horizon / 12.0);
        for o in &self.outcomes {
            let problem = if o.values.len() != width || o.means.len() != strategies {
                format!(
                    "draw {} has {} parameter values and means of {} strategies, but the scenario has {width} and {strategies}",
                    o.draw,
                    o.values.len(),
                    o.means.len()
                )
            } else if let Some((s, m)) = o
                .means
                .iter()
                .enumerate()
                .find(|(_, m)| m.life_years_undiscounted > years * (1.0 + 1e-6))
            {
                format!(
                    "draw {}, strategy {s}: {} life-years per patient, beyond the horizon of {years} years",
                    o.draw, m.life_years_undiscounted
                )
            } else {
                continue;
            };
            let file = self
                .files
                .iter()
                .find(|(_, draws)| draws.contains(&o.draw))
                .map_or_else(|| "a PSA part".into(), |(f, _)| f.display().to_string());
            return Err(format!(
                "{file}: its draws do not fit its scenario: {problem}; run that shard again (same scenario, seed, draws and shard) to rewrite it"
            ));
        }
        Ok(())
    }

    /// The analysis the shards ran, rebuilt from the files embedded in the parts only,
    /// with the seed and patients per draw they ran with, and the draws checked against it
    /// ([`MergedPsa::check_fits`]).
    pub fn analysis(&self) -> Result<Psa, String> {
        let composed = self
            .scenario
            .compose()
            .map_err(|e| format!("the scenario embedded in the parts does not load: {e}"))?;
        let mut psa = Psa::compile(composed, &self.scenario.default_name())
            .map_err(|e| format!("the scenario embedded in the parts does not load: {e}"))?;
        if psa.name != self.name {
            return Err(format!(
                "the parts name their scenario `{}`, but its embedded files build `{}`; run the shards again",
                self.name, psa.name
            ));
        }
        psa.base.settings.seed = self.seed;
        psa.patients = self.patients_per_draw;
        self.check_fits(&psa)?;
        Ok(psa)
    }
}

/// Checks that `files` are the complete parts of one analysis and merges them.
pub fn merge(files: &[PathBuf]) -> Result<MergedPsa, String> {
    let mut parts = Vec::with_capacity(files.len());
    for f in files {
        parts.push((f.clone(), PsaPart::read(f)?));
    }
    let Some((first_path, first)) = parts.first() else {
        return Err("no PSA part files (psa-part-K-of-N.json) were given".into());
    };
    for (path, p) in &parts[1..] {
        let differs = if p.program_version != first.program_version {
            Some(format!(
                "program version {} vs {}",
                p.program_version, first.program_version
            ))
        } else if let Some(layer) = p.scenario.layers.difference(&first.scenario.layers) {
            Some(format!(
                "different scenarios: {layer}; were the scenario's files edited between the shards?"
            ))
        } else if (p.seed, p.draws, p.patients_per_draw)
            != (first.seed, first.draws, first.patients_per_draw)
        {
            Some(format!(
                "seed {}, {} draws × {} patients vs seed {}, {} draws × {} patients",
                p.seed,
                p.draws,
                p.patients_per_draw,
                first.seed,
                first.draws,
                first.patients_per_draw
            ))
        } else if p.shards != first.shards {
            Some(format!(
                "split into {} shards vs {}",
                p.shards, first.shards
            ))
        } else if let (Some((w, s)), Some((fw, fs))) = (p.shape(), first.shape())
            && (w, s) != (fw, fs)
        {
            Some(format!(
                "{w} parameter values and {s} strategies per draw vs {fw} and {fs}"
            ))
        } else {
            None
        };
        if let Some(d) = differs {
            return Err(format!(
                "{} and {} are not parts of the same analysis ({d}); merge only the parts of one sharded PSA",
                path.display(),
                first_path.display()
            ));
        }
    }
    let (count, draws) = (first.shards, first.draws);
    let mut seen: Vec<Option<&PathBuf>> = vec![None; count as usize];
    for (path, p) in &parts {
        match seen.get_mut(p.shard as usize) {
            Some(Some(other)) => {
                return Err(format!(
                    "shard {}/{count} is given twice: {} and {}",
                    p.shard,
                    other.display(),
                    path.display()
                ));
            }
            Some(slot) => *slot = Some(path),
            None => {
                return Err(format!(
                    "{}: shard {} of {count} is out of range",
                    path.display(),
                    p.shard
                ));
            }
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|&k| seen[k as usize].is_none())
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing shard(s) {} of {count}: run each missing shard K of {count} of the same analysis and merge again",
            missing.join(", ")
        ));
    }
    parts.sort_by_key(|(_, p)| p.shard);
    let mut outcomes = Vec::with_capacity(draws as usize);
    let mut held = Vec::with_capacity(parts.len());
    for (path, p) in &parts {
        let expected = draws_of(
            Shard {
                index: p.shard,
                count,
            },
            draws,
        );
        let got: Vec<u64> = p.outcomes.iter().map(|o| o.draw).collect();
        if !got.iter().copied().eq(expected.clone()) {
            return Err(format!(
                "{}: holds draws other than {}–{} of shard {}/{count}; run that shard again to rewrite it",
                path.display(),
                expected.start,
                expected.end.saturating_sub(1),
                p.shard
            ));
        }
        outcomes.extend(p.outcomes.iter().map(StoredDraw::outcome));
        held.push((path.clone(), expected));
    }
    let first = &parts[0].1;
    Ok(MergedPsa {
        name: first.scenario.name.clone(),
        scenario: first.scenario.layers.clone(),
        seed: first.seed,
        patients_per_draw: first.patients_per_draw,
        shards: count,
        outcomes,
        files: held,
    })
}
