//! Shards of a probabilistic sensitivity analysis: `hsctsim psa --shard K/N` runs a
//! contiguous range of draws and writes `psa-part-K-of-N.json`; `hsctsim merge` puts the
//! draws back in order. A draw depends only on (seed, draw), so the merged tables are
//! byte for byte those of the unsharded analysis.
//!
//! A PSA part holds each draw's parameter values and per-strategy means (a few hundred
//! bytes a draw), not the draws' accumulators: the PSA's outputs need nothing else.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Shard;
use super::part::{PROGRAM_VERSION, ScenarioRecord, ScenarioSource};
use crate::atomic::{Signature, StagedFile};
use crate::psa::{DrawOutcome, Means, Psa};

/// The `format` field of a PSA part.
pub const FORMAT: &str = "hsctsim psa part";
/// Format version written and read (2: the whole composed scenario, as in run parts).
pub const FORMAT_VERSION: u32 = 2;
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
    /// Lives left out of the means.
    pub overflows: u64,
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
            overflows: o.overflows,
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
            overflows: self.overflows,
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
    pub fn check_destination(&self, dir: &Path, force: bool) -> Result<(), String> {
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
                return Err(format!(
                    "{} is in the way and is not a PSA part file ({e}); it is never replaced: remove it yourself, or write the parts to another folder",
                    path.display()
                ));
            }
        };
        Err(super::part::PartError::Exists { path, existing }.to_string())
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
            format!(
                "{e}; merge only the psa-part-K-of-N.json files that `hsctsim psa --shard` writes"
            )
        })?;
        PsaPart::from_bytes(&bytes, path)
    }

    /// A part from the bytes of the file at `path` (named in messages), format checked.
    fn from_bytes(bytes: &[u8], path: &Path) -> Result<PsaPart, String> {
        let part: PsaPart = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "{}: not a readable PSA part ({e}); run that shard again to rewrite it",
                path.display()
            )
        })?;
        if part.format != FORMAT || part.format_version != FORMAT_VERSION {
            return Err(format!(
                "{}: format `{}` version {}, expected `{FORMAT}` version {FORMAT_VERSION}",
                path.display(),
                part.format,
                part.format_version
            ));
        }
        if let Err(problem) = part.scenario.check() {
            return Err(format!(
                "{}: is damaged: in its embedded scenario, {problem}; run that shard again to rewrite it",
                path.display()
            ));
        }
        Ok(part)
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
}

impl MergedPsa {
    /// The analysis the shards ran, rebuilt from the files embedded in the parts only,
    /// with the seed and patients per draw they ran with.
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
        } else {
            None
        };
        if let Some(d) = differs {
            return Err(format!(
                "{} and {} are not parts of the same analysis ({d}); merge only the parts of one `hsctsim psa --shard` run",
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
            "missing shard(s) {} of {count}: run `hsctsim psa … --shard K/{count}` for each and merge again",
            missing.join(", ")
        ));
    }
    parts.sort_by_key(|(_, p)| p.shard);
    let mut outcomes = Vec::with_capacity(draws as usize);
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
    }
    let first = &parts[0].1;
    Ok(MergedPsa {
        name: first.scenario.name.clone(),
        scenario: first.scenario.layers.clone(),
        seed: first.seed,
        patients_per_draw: first.patients_per_draw,
        shards: count,
        outcomes,
    })
}
