//! Demo data (演示数据) for `guanai demo`: a fresh archive filled with a synthetic but realistic
//! Linyi, told as one story.
//!
//! 1. The census: families from the seeded generator (`guanai gen --format census-csv`), read
//!    back by the census reader and imported by `guanai_store::import` — the path of `guanai
//!    import`. Families beyond the requested number replace redundant ones until every county
//!    with villages, every category (失独, 伤残 of grades 1–3, 孤儿) and both hukou are present.
//! 2. A life after the census, recorded through `Archive::record`/`correct` by named staff with
//!    a reason: deaths (two reported late, so the next run recovers what was paid), a later child,
//!    a disability re-assessment (arrears), new phones and bank accounts, 低保 changes, notes, a
//!    corrected birth date; funeral (and, where the pack sets a county's ratio, medical) claims;
//!    a death reported by the civil-affairs cross-check that the archive does not reflect yet.
//! 3. Payment runs for the last `months` months up to `today`'s: built, checked (blocked
//!    transfers held with the reason, as `pay check --hold`), approved by finance (four eyes),
//!    exported, a bank return in which a handful of transfers fail (closed accounts), closed.
//!    The newest run is left checked, awaiting a finance officer's approval.
//! 4. Visits (走访, 二(一)): this year's plan, visits in most periods due so far (diligence
//!    differs by county), needs with follow-ups, dedicated visitors for most families needing one.
//! 5. Casework: seven applications at every stage (one approved after the last run, its arrears
//!    due in the next), next year's re-confirmation opened, complaints (two late), service statuses.
//! 6. Reports (三(三)): the statistical register refreshed, and an unannounced spot check of the
//!    county with the most special-difficulty families drawn by the inspector with the demo's
//!    seed, its first families checked (one item failed, with what was wrong).
//!
//! Every random choice comes from the seed, and every date from `today`: the same options give
//! the same families, facts and amounts (archive ids and record times differ).

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use guanai_batch::generate::{GenFormat, GenOptions, generate};
use guanai_census::{CensusFamily, CensusReader, RowError};
use guanai_rules::claims::HospitalLevel;
use guanai_rules::{
    Category, Child, CountyCode, Disability, DisabilityGrade, Family, Fen, Month, Parent, Policy,
    ResidentId, Sex, VillageCode, evaluate,
};
use guanai_store::import::{ImportOptions, import};
use guanai_store::pay::{
    BuildOptions, BuildOutcome, ExportedFiles, FuneralClaimInput, MedicalClaimInput, ProblemView,
    RunId, RunStatus,
};
use guanai_store::visits::NewVisit;
use guanai_store::{
    Actor, Archive, FactId, FactValue, FamilyFile, FamilyId, NewFact, PersonId, Relation,
};
use jiff::Span;
use jiff::civil::Date;

/// What to fill the archive with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DemoOptions {
    /// Census families to import.
    pub families: usize,
    /// Seed of every random choice, the generator's included.
    pub seed: u64,
    /// Months paid, ending with `today`'s month; 0 pays nothing.
    pub months: u32,
    /// The demo's today: the census is read on it; events are dated and months paid up to it.
    /// The generator's census dates reach 2026-11-30: an earlier day rejects some families.
    pub today: Date,
    /// Where to keep the files: the generated census `普查-演示.csv` (input of `guanai import`;
    /// a few of its families may have been swapped for later ones of the seed, see
    /// [`populate`]) and per run `代发/RUN/` with the bank files and the bank's return. `None`:
    /// a temporary folder, removed afterwards.
    pub files_dir: Option<PathBuf>,
}

impl DemoOptions {
    /// 3000 families, seed 42, three months paid.
    pub(crate) fn new(today: Date) -> DemoOptions {
        DemoOptions {
            families: 3000,
            seed: 42,
            months: 3,
            today,
            files_dir: None,
        }
    }
}

/// The staff of the story, recorded with every change they make. Demo users of the web
/// application can carry these names, so that audit trail and run stamps read as one story.
pub(crate) struct Staff {
    /// Imported the census.
    pub census: &'static str,
    /// Records what happens to families, files claims (县区经办).
    pub caseworker: &'static str,
    /// Builds and checks payment runs.
    pub clerk: &'static str,
    /// County finance: sets paying accounts, approves (four eyes), exports, imports bank
    /// returns, closes.
    pub finance: &'static str,
    /// Runs the cross-check with civil affairs' death lists (数据比对).
    pub data_check: &'static str,
}

pub(crate) const STAFF: Staff = Staff {
    census: "普查员 赵敏",
    caseworker: "经办人 刘洋",
    clerk: "发放专员 张伟",
    finance: "财政科 李娜",
    data_check: "数据比对 陈静",
};

/// What the demo holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DemoReport {
    pub families: usize,
    pub persons: usize,
    /// Census families the reader refused (only when `today` is before the generator's dates).
    pub census_rejected: usize,
    /// Families per county, by code.
    pub counties: Vec<(CountyCode, usize)>,
    /// Families per category in `today`'s month, with the census facts.
    pub categories: Vec<(Category, usize)>,
    /// Facts recorded after the census, and corrections.
    pub facts_recorded: usize,
    pub corrections: usize,
    /// Claims filed: (kind, `approved`/`refused`, amount granted).
    pub claims: Vec<(String, String, Fen)>,
    /// Persons newly flagged by the death cross-check.
    pub death_flags: u64,
    /// The payment runs, oldest first.
    pub runs: Vec<DemoRun>,
    /// The year of the demo's today.
    pub today_year: i16,
    /// This year's visit plan: periods, visits recorded, dedicated visitors named (二(一)).
    pub visit_periods: i64,
    pub visits: usize,
    pub dedicated_visitors: usize,
    /// Applications by status (zh), complaints filed, parents re-confirmed / on next year's list.
    pub applications: Vec<(String, usize)>,
    pub complaints: usize,
    pub reconfirmed: (i64, i64),
    /// The spot check drawn: (county, families drawn, findings recorded, of them failed).
    pub spot_check: Option<(CountyCode, usize, usize, usize)>,
    /// Where the census file and the bank files are, when kept.
    pub files_dir: Option<PathBuf>,
}

/// A payment run as the demo left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DemoRun {
    pub run_id: String,
    pub month: Month,
    pub status: RunStatus,
    pub lines: i64,
    pub total: Fen,
    /// Lines by nature (`regular`, `arrears`, `recovery`, `grant`, `claim`): (nature, count, amount).
    pub by_nature: Vec<(String, i64, Fen)>,
    /// Transfers by status (`paid`, `failed`, `held`, `pending` …): (status, count, amount).
    pub transfers: Vec<(String, i64, Fen)>,
    pub blocking: i64,
}

/// Fills an empty archive (see the module comment). `policy_text` is the pack's text, stored
/// with every run; `progress` is told each step.
pub(crate) async fn populate(
    archive: &Archive,
    policy: &Policy,
    policy_text: &str,
    options: &DemoOptions,
    mut progress: impl FnMut(&str),
) -> Result<DemoReport> {
    if !archive.list_families("3713").await?.is_empty() {
        bail!("the demo fills an empty archive; this one already holds families");
    }
    let scratch = Scratch::new(options.files_dir.as_deref())?;
    let now = Month::of(options.today);
    let months = options.months;
    let mut first = now;
    for _ in 1..months {
        first = first.prev();
    }

    progress(&format!(
        "生成并导入普查数据 {} 户 / census of {} families",
        options.families, options.families
    ));
    let (census, census_rejected) = census_families(options, policy, scratch.path())?;
    let rows = census.iter().map(|f| f.members.len()).sum::<usize>();
    let imported = import(
        archive,
        census.into_iter().map(Ok::<CensusFamily, Vec<RowError>>),
        || rows,
        &ImportOptions {
            partial: false,
            actor: Actor::new(STAFF.census),
            applications: None,
        },
        |_| {},
    )
    .await?;
    if let Some(e) = imported.errors.first() {
        bail!(
            "the census import refused {} row(s), e.g. {e}",
            imported.errors.len()
        );
    }

    let mut demo = Demo::load(archive, policy, policy_text, options, first).await?;
    let mut report = demo.census_report(census_rejected);
    demo.set_payers().await?;
    let slots = months.max(1);
    for k in 1..=slots {
        let month = add_months(first, k - 1);
        let prev = month.prev();
        let last = k == slots;
        progress(&format!("{prev} 的变化 / what happened in {prev}"));
        if k == 1 {
            demo.after_census(prev).await?;
        }
        if k >= 2 || slots == 1 {
            demo.deaths(prev).await?;
        }
        if k == 2 {
            demo.late_deaths(first.prev()).await?;
        }
        if k == 2.min(slots) {
            demo.reassessment(prev.prev()).await?;
            demo.later_child(prev).await?;
            demo.missing_accounts().await?;
        }
        if k >= 2 {
            demo.fix_failed_accounts(last).await?;
        }
        if last {
            demo.death_report(prev).await?;
            demo.medical_claim(prev).await?;
        }
        if months > 0 {
            progress(&format!("发放批次 {month} / payment run {month}"));
            demo.pay(month, k == 1, last, scratch.path()).await?;
        }
    }

    progress("走访计划与走访记录 / visits");
    let (periods, visits, dedicated) = demo.visits().await?;
    report.visit_periods = periods;
    report.visits = visits;
    report.dedicated_visitors = dedicated;
    progress("申请审批、年度确认、投诉 / casework");
    let casework = demo.casework(scratch.path()).await?;
    report.applications = casework.0;
    report.complaints = casework.1;
    report.reconfirmed = casework.2;
    progress("统计台账与抽查 / register and a spot check");
    report.spot_check = demo.spot_check().await?;
    report.facts_recorded = demo.facts_recorded;
    report.corrections = demo.corrections;
    report.claims = demo.claims;
    report.death_flags = demo.death_flags;
    for run in &demo.runs {
        let s = archive.run_summary(run).await?;
        report.runs.push(DemoRun {
            run_id: s.run_id.to_string(),
            month: Month::parse(&s.month)?,
            status: s.status,
            lines: s.lines,
            total: s.total,
            by_nature: s.by_nature,
            transfers: s.transfers,
            blocking: s.blocking,
        });
    }
    report.files_dir = options.files_dir.clone();
    Ok(report)
}

fn add_months(month: Month, n: u32) -> Month {
    (0..n).fold(month, |m, _| m.next())
}

/// SplitMix64: small, fast and good enough for picking demo families; the generator keeps its
/// own ChaCha8 stream, so the binary needs no random-number crate.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Another stream than the generator's for the same seed ("guanai" in ASCII).
        Rng(seed ^ 0x6775_616e_6169)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 for an empty range).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// `n` digits.
    fn digits(&mut self, n: u32) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }
}

/// The census families of the demo and how many the reader refused: the generator's first
/// `families`, read back by the census reader. Should a county, category, grade or hukou be
/// missing (likely only for a few hundred families), later families of the same seed replace
/// redundant ones until each is present.
fn census_families(
    options: &DemoOptions,
    policy: &Policy,
    dir: &Path,
) -> Result<(Vec<CensusFamily>, usize)> {
    let month = Month::of(options.today);
    let path = dir.join("普查-演示.csv");
    write_census(&path, options.families, options.seed)?;
    let mut chosen: Vec<(CensusFamily, Vec<String>)> = Vec::with_capacity(options.families);
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut rejected = 0;
    for item in CensusReader::open(&path, options.today)? {
        match item {
            Ok(family) => {
                let keys = coverage_keys(&family, month, policy);
                for k in &keys {
                    *counts.entry(k.clone()).or_default() += 1;
                }
                chosen.push((family, keys));
            }
            Err(_) => rejected += 1,
        }
    }
    let needed = needed_keys();
    let complete = |counts: &HashMap<String, usize>| {
        needed.iter().all(|k| counts.get(k).is_some_and(|c| *c > 0))
    };
    if complete(&counts) {
        return Ok((chosen.into_iter().map(|(f, _)| f).collect(), rejected));
    }
    // The same seed with more families writes the same first ones, then the spares.
    let spare_path = dir.join("普查-演示-备选.csv");
    write_census(
        &spare_path,
        options.families + options.families.max(1000),
        options.seed,
    )?;
    let mut replaced = vec![false; chosen.len()];
    for item in CensusReader::open(&spare_path, options.today)?.skip(options.families) {
        if complete(&counts) {
            break;
        }
        let Ok(family) = item else { continue };
        let keys = coverage_keys(&family, month, policy);
        if !keys.iter().any(|k| counts.get(k).is_none_or(|c| *c == 0)) {
            continue;
        }
        // The last family that nothing missing would lose by its going.
        let Some(i) = (0..chosen.len()).rev().find(|&i| {
            !replaced[i]
                && chosen[i]
                    .1
                    .iter()
                    .all(|k| counts.get(k).is_some_and(|c| *c > 1))
        }) else {
            break;
        };
        for k in &chosen[i].1 {
            if let Some(c) = counts.get_mut(k) {
                *c -= 1;
            }
        }
        for k in &keys {
            *counts.entry(k.clone()).or_default() += 1;
        }
        chosen[i] = (family, keys);
        replaced[i] = true;
    }
    // Only the census file stays with the demo's files; the spares were scratch.
    let _ = std::fs::remove_file(&spare_path);
    Ok((chosen.into_iter().map(|(f, _)| f).collect(), rejected))
}

/// Writes `count` generated census families (`guanai gen --format census-csv`) to `path`.
fn write_census(path: &Path, count: usize, seed: u64) -> Result<()> {
    let mut out = BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    generate(
        &GenOptions {
            count: count as u64,
            seed,
            invalid_share: 0.0,
            format: GenFormat::CensusCsv,
        },
        &mut out,
    )?;
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// What a demo must show: every county where families can live (the retired zones 371372/371373
/// have no villages in the 2021 codes), every category, disability grades 1–3, both hukou.
fn needed_keys() -> Vec<String> {
    let mut keys: Vec<String> = CountyCode::all()
        .into_iter()
        .filter(|c| !VillageCode::in_county(*c).is_empty())
        .map(|c| format!("county:{c}"))
        .collect();
    for category in [Category::Bereaved, Category::Disabled, Category::Orphan] {
        keys.push(format!("category:{}", category.as_str()));
    }
    for grade in 1..=3 {
        keys.push(format!("grade:{grade}"));
    }
    keys.push("hukou:urban".to_owned());
    keys.push("hukou:rural".to_owned());
    keys
}

/// The coverage keys of a census family: county, category (as the engine will see it after
/// import, for `month`), the grade of a disabled child, hukou.
fn coverage_keys(family: &CensusFamily, month: Month, policy: &Policy) -> Vec<String> {
    let mut keys = vec![
        format!("county:{}", family.county()),
        format!("hukou:{}", family.hukou.as_str()),
    ];
    let parents = family
        .parents()
        .map(|p| Parent {
            sex: p.sex,
            birth_date: p.birth_date,
            death_date: p.death_date,
            later_child_date: p.later_child_date,
            dibao: p.dibao,
            wubao: p.wubao,
            chronically_ill: p.chronically_ill,
        })
        .collect();
    let child = family.child();
    let child = Child {
        birth_date: child.birth_date,
        death_date: child.death_date,
        disabilities: child.disability.into_iter().collect(),
    };
    if let Ok(f) = Family::new(family.county(), family.hukou, parents, child) {
        let category = evaluate(&f, month, policy).category;
        if category != Category::None {
            keys.push(format!("category:{}", category.as_str()));
        }
        if category == Category::Disabled
            && let Some(d) = f.child().disability_in_force(month)
        {
            keys.push(format!("grade:{}", d.grade.get()));
        }
    }
    keys
}

/// The folder for the census file and the bank files: the caller's, or a temporary one that is
/// removed when the demo is done.
struct Scratch {
    path: PathBuf,
    remove: bool,
}

impl Scratch {
    fn new(keep: Option<&Path>) -> Result<Scratch> {
        if let Some(path) = keep {
            std::fs::create_dir_all(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            return Ok(Scratch {
                path: path.to_owned(),
                remove: false,
            });
        }
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("guanai-demo-{}-{nanos}-{n}", std::process::id()));
        std::fs::create_dir(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Scratch { path, remove: true })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.remove {
            // A leftover temporary folder is harmless; nothing to report.
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A family as the demo knows it, to pick whom things happen to.
struct Household {
    family_id: FamilyId,
    family_no: String,
    county: CountyCode,
    /// The version to pass with the next write.
    version: i64,
    /// Category in the first paid month, and in today's month.
    category: Category,
    category_now: Category,
    members: Vec<Member>,
    /// Something already happened to this family in the story.
    used: bool,
}

struct Member {
    person_id: PersonId,
    relation: Relation,
    name: String,
    sex: Sex,
    birth: Date,
    identity_fact: Option<FactId>,
    died: Option<Date>,
    account: bool,
    dibao: bool,
    /// Monthly special assistance in the first paid month (parents).
    monthly: Fen,
    /// The child's latest grade, and the dates of the first and the latest assessment.
    grade: Option<DisabilityGrade>,
    first_assessed: Option<Date>,
    last_assessed: Option<Date>,
    /// A grade-4 child re-assessed at grade 3 would bring monthly assistance.
    regrade_pays: bool,
}

impl Household {
    fn from_file(file: &FamilyFile, first: Month, now: Month, policy: &Policy) -> Household {
        let evaluation = file
            .engine_family(first, None)
            .ok()
            .map(|f| (evaluate(&f, first, policy), f));
        let category_now = file
            .engine_family(now, None)
            .map_or(Category::None, |f| evaluate(&f, now, policy).category);
        let mut parent_index = 0;
        let members = file
            .people(None)
            .iter()
            .map(|p| {
                let mut m = Member {
                    person_id: p.person_id.clone(),
                    relation: p.relation,
                    name: String::new(),
                    sex: Sex::Female,
                    birth: Date::MIN,
                    identity_fact: None,
                    died: None,
                    account: false,
                    dibao: false,
                    monthly: Fen::ZERO,
                    grade: None,
                    first_assessed: None,
                    last_assessed: None,
                    regrade_pays: false,
                };
                for f in &p.facts {
                    match &f.value {
                        Some(FactValue::Identity {
                            name,
                            sex,
                            birth_date,
                        }) => {
                            m.name.clone_from(name);
                            m.sex = *sex;
                            m.birth = *birth_date;
                            m.identity_fact = Some(f.fact_id.clone());
                        }
                        Some(FactValue::Death { .. }) => m.died = f.valid_from,
                        Some(FactValue::BankAccount { .. }) => m.account = true,
                        Some(FactValue::Welfare { dibao, .. }) => m.dibao = *dibao,
                        Some(FactValue::Disability { grade, .. }) => {
                            m.first_assessed = match (m.first_assessed, f.valid_from) {
                                (Some(a), Some(b)) => Some(a.min(b)),
                                (a, b) => a.or(b),
                            };
                            if f.valid_from >= m.last_assessed {
                                m.last_assessed = f.valid_from;
                                m.grade = Some(*grade);
                            }
                        }
                        _ => {}
                    }
                }
                if p.relation.is_parent() {
                    if let Some((e, _)) = &evaluation {
                        m.monthly = e
                            .monthly()
                            .find(|(i, _)| *i == parent_index)
                            .map_or(Fen::ZERO, |(_, a)| a.amount);
                    }
                    parent_index += 1;
                }
                if p.relation == Relation::Child
                    && m.died.is_none()
                    && m.grade.is_some_and(|g| !g.qualifies())
                    && let Some((_, family)) = &evaluation
                {
                    m.regrade_pays = regrade_pays(family, first, policy);
                }
                m
            })
            .collect();
        Household {
            family_id: file.family_id.clone(),
            family_no: file.family_no.clone(),
            county: file.county_code,
            version: file.version,
            category: evaluation
                .as_ref()
                .map_or(Category::None, |(e, _)| e.category),
            category_now,
            members,
            used: false,
        }
    }

    fn living_parents(&self) -> impl Iterator<Item = (usize, &Member)> {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.relation.is_parent() && m.died.is_none())
    }

    /// A living parent paid monthly assistance in the first paid month.
    fn paid_parent(&self, also: impl Fn(&Member) -> bool) -> Option<usize> {
        self.living_parents()
            .find(|(_, m)| m.monthly > Fen::ZERO && also(m))
            .map(|(i, _)| i)
    }

    fn child(&self) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.relation == Relation::Child)
    }
}

/// Whether a grade-3 assessment before `month` would give the family monthly assistance.
fn regrade_pays(family: &Family, month: Month, policy: &Policy) -> bool {
    let Some(grade) = DisabilityGrade::new(3) else {
        return false;
    };
    let mut child = family.child().clone();
    child.disabilities.push(Disability {
        grade,
        assessed: month.prev().first_day(),
    });
    Family::new(
        family.county(),
        family.hukou(),
        family.parents().to_vec(),
        child,
    )
    .is_ok_and(|f| evaluate(&f, month, policy).monthly_total() > Fen::ZERO)
}

/// The story's state: the families, whom things happened to, what was done.
struct Demo<'a> {
    archive: &'a Archive,
    policy: &'a Policy,
    policy_text: &'a str,
    today: Date,
    seed: u64,
    families: usize,
    rng: Rng,
    households: Vec<Household>,
    by_id: HashMap<String, usize>,
    /// Persons whose transfer the bank returned in the latest run: (household, member).
    failed: Vec<(usize, usize)>,
    runs: Vec<RunId>,
    facts_recorded: usize,
    corrections: usize,
    claims: Vec<(String, String, Fen)>,
    death_flags: u64,
}

impl<'a> Demo<'a> {
    async fn load(
        archive: &'a Archive,
        policy: &'a Policy,
        policy_text: &'a str,
        options: &DemoOptions,
        first: Month,
    ) -> Result<Demo<'a>> {
        let now = Month::of(options.today);
        let ids: Vec<FamilyId> = archive
            .list_families("3713")
            .await?
            .into_iter()
            .map(|f| f.family_id)
            .collect();
        let mut households = Vec::with_capacity(ids.len());
        // The facts money depends on are enough to choose whom things happen to, and read in
        // half the time of whole files (no ID numbers, phones or health to decrypt).
        for chunk in ids.chunks(500) {
            for file in archive.payment_files(chunk).await? {
                households.push(Household::from_file(&file, first, now, policy));
            }
        }
        households.sort_by(|a, b| a.family_no.cmp(&b.family_no));
        let by_id = households
            .iter()
            .enumerate()
            .map(|(i, h)| (h.family_id.as_str().to_owned(), i))
            .collect();
        Ok(Demo {
            archive,
            policy,
            policy_text,
            today: options.today,
            seed: options.seed,
            families: households.len(),
            rng: Rng::new(options.seed),
            households,
            by_id,
            failed: Vec::new(),
            runs: Vec::new(),
            facts_recorded: 0,
            corrections: 0,
            claims: Vec::new(),
            death_flags: 0,
        })
    }

    fn census_report(&self, census_rejected: usize) -> DemoReport {
        let mut counties: Vec<(CountyCode, usize)> = Vec::new();
        let mut categories: Vec<(Category, usize)> = [
            Category::Bereaved,
            Category::Disabled,
            Category::Orphan,
            Category::None,
        ]
        .into_iter()
        .map(|c| (c, 0))
        .collect();
        for h in &self.households {
            match counties.iter_mut().find(|(c, _)| *c == h.county) {
                Some((_, n)) => *n += 1,
                None => counties.push((h.county, 1)),
            }
            if let Some((_, n)) = categories.iter_mut().find(|(c, _)| *c == h.category_now) {
                *n += 1;
            }
        }
        counties.sort();
        DemoReport {
            families: self.households.len(),
            persons: self.households.iter().map(|h| h.members.len()).sum(),
            census_rejected,
            counties,
            categories,
            facts_recorded: 0,
            corrections: 0,
            claims: Vec::new(),
            death_flags: 0,
            runs: Vec::new(),
            today_year: self.today.year(),
            visit_periods: 0,
            visits: 0,
            dedicated_visitors: 0,
            applications: Vec::new(),
            complaints: 0,
            reconfirmed: (0, 0),
            spot_check: None,
            files_dir: None,
        }
    }

    /// A family nothing happened to yet, and one of its members, chosen at random among those
    /// `which` names.
    fn pick(&mut self, which: impl Fn(&Household) -> Option<usize>) -> Option<(usize, usize)> {
        let candidates: Vec<(usize, usize)> = self
            .households
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.used)
            .filter_map(|(i, h)| which(h).map(|m| (i, m)))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let chosen = candidates[self.rng.below(candidates.len())];
        self.households[chosen.0].used = true;
        Some(chosen)
    }

    /// How many of a kind of event, growing slowly with the archive (1 for 300 families, 3 for 3000).
    fn several(&self) -> usize {
        1 + self.families / 1500
    }

    /// A day of `month`, not after today.
    fn day_in(&mut self, month: Month) -> Date {
        let first = month.first_day();
        let last = first.last_of_month().min(self.today);
        if last <= first {
            return first;
        }
        let days = usize::try_from(last.day() - first.day()).unwrap_or(0);
        first.saturating_add(Span::new().days(self.rng.below(days + 1) as i64))
    }

    /// 走访 (二(一)): this year's plan; visits in most periods already open (each county is
    /// diligent to its own degree, so the overdue lists and the coverage differ), some raising
    /// needs with a follow-up (most of those due already closed); a dedicated visitor named for
    /// most families that need one; then the plan again, so that periods point at their visits.
    /// Returns (periods, visits, dedicated visitors).
    async fn visits(&mut self) -> Result<(i64, usize, usize)> {
        const VISITORS: [&str; 4] = [
            "村计生专干 张丽",
            "村计生专干 王芳",
            "乡镇计生办 孙强",
            "村卫生室 赵医生",
        ];
        const FOUND: [&str; 5] = [
            "身体尚可，情绪平稳，生活能自理",
            "独居，生活能自理，家中整洁",
            "患高血压，按时服药，已提醒复查",
            "情绪低落，思念子女，陪同聊天约一小时",
            "老两口相互照顾，邻里常来往",
        ];
        let holidays = guanai_care::holidays::Holidays::embedded()?;
        let year = self.today.year();
        let caseworker = Actor::new(STAFF.caseworker);
        self.archive
            .plan_visits(year, None, self.policy, holidays, &caseworker)
            .await?;
        let mut records: Vec<(FamilyId, NewVisit)> = Vec::new();
        let mut dedicated = 0;
        for h in 0..self.households.len() {
            let family = self.households[h].family_id.clone();
            let county: u64 = self.households[h].county.to_string().parse().unwrap_or(0);
            // 60 % to 96 % of periods visited, by county.
            let diligence = 60 + (county * 7 % 37) as usize;
            let plan = self.archive.visit_plan_of(&family, year).await?;
            for p in &plan {
                let period = p.period;
                if period.starts_on > self.today || self.rng.below(100) >= diligence {
                    continue;
                }
                let last = period.due_on.min(self.today);
                let days = period.starts_on.until(last).map_or(0, |s| s.get_days());
                let on = period.starts_on.saturating_add(
                    Span::new().days(self.rng.below(days.max(0) as usize + 1) as i64),
                );
                let need = self.rng.below(10) == 0;
                records.push((
                    family.clone(),
                    NewVisit {
                        visited_on: on,
                        occasion: period.kind.occasion(),
                        visitor: VISITORS[self.rng.below(VISITORS.len())].to_owned(),
                        found: FOUND[self.rng.below(FOUND.len())].to_owned(),
                        needs: if need {
                            "希望协助办理医疗救助报销".into()
                        } else {
                            String::new()
                        },
                        follow_up: if need {
                            "联系乡镇卫生院协助报销".into()
                        } else {
                            String::new()
                        },
                        follow_up_due: need.then(|| on.saturating_add(Span::new().days(14))),
                    },
                ));
            }
            let needs_dedicated = plan.iter().any(|p| {
                p.period.level == guanai_care::visits::NeedLevel::High
                    && p.period.starts_on <= self.today
                    && self.today <= p.period.due_on
            });
            if needs_dedicated && self.rng.below(100) < 85 {
                let visitor = VISITORS[self.rng.below(2)].trim_start_matches("村计生专干 ");
                self.archive
                    .assign_dedicated_visitor(&family, visitor, "村计生专干", &caseworker)
                    .await?;
                dedicated += 1;
            }
        }
        let ids = self
            .archive
            .record_visits(&records, self.policy, self.today, &caseworker)
            .await?;
        for ((family, visit), id) in records.iter().zip(&ids) {
            let closable = visit.follow_up_due.is_some_and(|due| due < self.today);
            if closable && self.rng.below(10) < 7 {
                self.archive
                    .close_follow_up(family, id, "已协助办理，费用已报销", &caseworker)
                    .await?;
            }
        }
        let plan = self
            .archive
            .plan_visits(year, None, self.policy, holidays, &caseworker)
            .await?;
        Ok((plan.periods, ids.len(), dedicated))
    }

    /// Casework (issue 6): seven new families imported as applications and taken to every stage
    /// of the procedure (one approved after the last run, so the next run pays its arrears; one
    /// rejected, open to appeal; one on public notice with an objection); next year's
    /// re-confirmation opened with a fifth of the parents confirmed; complaints, two of them late;
    /// a few service statuses. The staff are the demo accounts' people, so the web reads as one story.
    /// Returns (applications by status, complaints, (confirmed, on the list)).
    async fn casework(&mut self, dir: &Path) -> Result<(Vec<(String, usize)>, usize, (i64, i64))> {
        use guanai_store::casework::{Decision, Status, Step};
        let (village, township, county) = (
            Actor::new("village (王芳)"),
            Actor::new("township (孙强)"),
            Actor::new(format!("county ({})", STAFF.caseworker)),
        );
        let today = self.today;
        let ago = |days: i64| today.saturating_sub(Span::new().days(days));
        let path = dir.join("申请-演示.csv");
        write_census(&path, 7, self.seed ^ 0x5151)?;
        let mut families = Vec::new();
        for item in CensusReader::open(&path, today)? {
            let Ok(mut family) = item else { continue };
            family.family_no = format!("SQ-{}", family.family_no);
            families.push(family);
        }
        let rows = families.iter().map(|f| f.members.len()).sum::<usize>();
        import(
            self.archive,
            families.into_iter().map(Ok::<CensusFamily, Vec<RowError>>),
            || rows,
            &ImportOptions {
                partial: true,
                actor: Actor::new(STAFF.census),
                applications: Some(guanai_store::import::ApplicationsFrom {
                    applied_on: ago(20),
                    evidence: "申请表、户口簿、独生子女父母光荣证、子女死亡（伤残）证明".into(),
                }),
            },
            |_| {},
        )
        .await?;
        let city = crate::case_cmd::operator(guanai_store::access::CITY_CODE);
        let pending = self
            .archive
            .scoped(&city)
            .applications(Some(Status::Applied), 0, 50)
            .await?;
        let ids: Vec<String> = pending
            .rows
            .iter()
            .map(|(a, _)| a.application_id.clone())
            .collect();
        let a = self.archive;
        let version = |id: String| async move { a.application(&id).await.map(|x| x.version) };
        for (i, id) in ids.iter().enumerate().skip(1) {
            a.decide(
                id,
                version(id.clone()).await?,
                Step::VillageCheck,
                Decision::Pass,
                "入户核实，材料属实",
                "",
                ago(18),
                &village,
            )
            .await?;
            let from = match i {
                2 => ago(3),
                3 => ago(5),
                _ => ago(17),
            };
            if i == 1 {
                continue;
            }
            a.post_notice(
                id,
                version(id.clone()).await?,
                from,
                self.policy,
                today,
                &village,
            )
            .await?;
            match i {
                2 => continue,
                3 => {
                    a.record_objection(
                        id,
                        ago(4),
                        "邻居",
                        "反映该户另有子女在外地，请核实",
                        today,
                        &village,
                    )
                    .await?;
                    continue;
                }
                _ => {}
            }
            a.decide(
                id,
                version(id.clone()).await?,
                Step::TownshipReview,
                Decision::Pass,
                "公示期满无异议，审核通过",
                "",
                ago(9),
                &township,
            )
            .await?;
            match i {
                5 => {
                    a.decide(
                        id,
                        version(id.clone()).await?,
                        Step::CountyApproval,
                        Decision::Pass,
                        "同意纳入",
                        "",
                        ago(2),
                        &county,
                    )
                    .await?;
                }
                6 => {
                    a.decide(
                        id,
                        version(id.clone()).await?,
                        Step::CountyApproval,
                        Decision::Reject,
                        "",
                        "子女死亡证明与户籍注销日期不一致，请补充派出所证明",
                        ago(2),
                        &county,
                    )
                    .await?;
                }
                _ => {}
            }
        }
        let mut by_status: Vec<(String, usize)> = Vec::new();
        for id in &ids {
            let status = a.application(id).await?.status.as_zh().to_owned();
            match by_status.iter_mut().find(|(s, _)| *s == status) {
                Some((_, n)) => *n += 1,
                None => by_status.push((status, 1)),
            }
        }

        // Next year's re-confirmation, a fifth confirmed this month.
        let year = today.year() + 1;
        let campaign = a
            .open_reconfirmation(year, self.policy, today, &Actor::new("city (周敏)"))
            .await?;
        let roster = a.scoped(&city).roster(year, true, 0, 200).await?;
        let mut confirmed = 0;
        for line in roster.rows.iter().step_by(5) {
            let on = self.day_in(Month::of(today));
            a.confirm_parent(year, &line.person_id, on, "入户见面确认", today, &village)
                .await?;
            confirmed += 1;
        }

        // Complaints: one answered, one in time, two late (escalated).
        let mut complaints = 0;
        for (k, (days, summary, answered)) in [
            (25, "九月份扶助金未到账", true),
            (3, "希望增加走访次数", false),
            (20, "反映专人联系电话打不通", false),
            (40, "对一次性救助金额有疑问", false),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(h) = self.households.get(k * 7) else {
                break;
            };
            let family = h.family_id.clone();
            let village_code = self
                .archive
                .family_file(&family)
                .await?
                .facts
                .iter()
                .rev()
                .find_map(|f| match &f.value {
                    Some(FactValue::Registration { village, .. }) => Some(village.to_string()),
                    _ => None,
                });
            let Some(area_code) = village_code else {
                continue;
            };
            let id = a
                .file_complaint(
                    &guanai_store::complaints::NewComplaint {
                        area_code,
                        family: Some(family),
                        source: guanai_store::complaints::Source::Family,
                        complainant: format!(
                            "{} 138{}",
                            h.members.first().map_or("家属", |m| m.name.as_str()),
                            self.rng.digits(8)
                        ),
                        summary: summary.into(),
                        detail: format!("{summary}，请尽快核实答复。"),
                        received_on: ago(days),
                    },
                    self.policy,
                    today,
                    &village,
                )
                .await?;
            if answered {
                a.answer_complaint(
                    &id,
                    "经核查系银行卡冻结导致代发失败，已更新账户并于下一批次补发。",
                    ago(10),
                    &township,
                )
                .await?;
            }
            complaints += 1;
        }

        // Service statuses for a few parents entitled to medical relief.
        let mut set = 0;
        for h in 0..self.households.len() {
            if set >= 12 {
                break;
            }
            let family = self.households[h].family_id.clone();
            let list = a
                .service_checklist(&family, Month::of(today), self.policy)
                .await?;
            let Some(item) = list
                .iter()
                .find(|i| i.service == guanai_rules::engine::ServiceKind::MedicalRelief)
            else {
                continue;
            };
            let status = [
                guanai_store::services::ServiceStatus::Offered,
                guanai_store::services::ServiceStatus::InProgress,
                guanai_store::services::ServiceStatus::Granted,
            ][set % 3];
            a.set_service_status(
                &family,
                &item.person_id,
                item.service,
                status,
                "已告知医疗救助政策及报销流程",
                ago(7),
                self.policy,
                today,
                &village,
            )
            .await?;
            set += 1;
        }
        Ok((by_status, complaints, (confirmed, campaign.persons)))
    }

    /// Reports (三(三)): the statistical register brought up to date, then a spot check drawn by
    /// the inspector (the `inspector` demo account) with the demo's seed in the county with the
    /// most special-difficulty families, and findings recorded for its first three families:
    /// every item of the first passed, three of the second, and the third's visits failed.
    /// Returns (county, families drawn, findings, failed).
    async fn spot_check(&mut self) -> Result<Option<(CountyCode, usize, usize, usize)>> {
        use guanai_store::assessment::NewFinding;
        self.archive.refresh_register(self.policy).await?;
        let inspector = Actor::new("inspector (吴刚)");
        let month = Month::of(self.today);
        let mut counties: Vec<(CountyCode, usize)> = Vec::new();
        for h in self
            .households
            .iter()
            .filter(|h| h.category_now != Category::None)
        {
            match counties.iter_mut().find(|(c, _)| *c == h.county) {
                Some((_, n)) => *n += 1,
                None => counties.push((h.county, 1)),
            }
        }
        counties.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut drawn = None;
        for (county, _) in counties {
            match self
                .archive
                .draw_spot_check(
                    &county.to_string(),
                    month,
                    self.policy.assessment.spot_check_size,
                    Some(self.seed),
                    "市卫生计生委年度不定期抽查",
                    &inspector,
                )
                .await
            {
                Ok(check) => {
                    drawn = Some((county, check));
                    break;
                }
                // No family of this county in the programme this month: try the next one.
                Err(guanai_store::StoreError::Invalid { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let Some((county, check)) = drawn else {
            return Ok(None);
        };
        let plan: [&[(&str, bool, &str)]; 3] = [
            &[
                ("identity", true, "户口簿、身份证与档案一致"),
                ("category", true, ""),
                ("payment", true, "银行流水显示每月按时到账"),
                ("visits", true, ""),
                ("services", true, ""),
                ("privacy", true, ""),
            ],
            &[
                ("identity", true, ""),
                ("category", true, ""),
                ("payment", true, ""),
            ],
            &[
                ("identity", true, ""),
                (
                    "visits",
                    false,
                    "走访记录称上月已入户，户主称近三个月未见走访人员",
                ),
            ],
        ];
        let (mut findings, mut failed) = (0, 0);
        for (family, items) in check.families.iter().zip(plan) {
            for &(item, passed, note) in items {
                self.archive
                    .record_spot_finding(
                        &check.check_id,
                        &family.family_id,
                        NewFinding {
                            item,
                            passed,
                            note,
                            checked_on: self.today,
                        },
                        self.today,
                        &inspector,
                    )
                    .await?;
                findings += 1;
                if !passed {
                    failed += 1;
                }
            }
        }
        Ok(Some((county, check.families.len(), findings, failed)))
    }

    fn account(&mut self) -> (String, String) {
        (
            "临沂农商银行".to_owned(),
            format!("623018{}", self.rng.digits(13)),
        )
    }

    fn phone(&mut self) -> String {
        const PREFIXES: [&str; 8] = ["135", "138", "139", "151", "158", "177", "187", "188"];
        let prefix = PREFIXES[self.rng.below(PREFIXES.len())];
        format!("{prefix}{}", self.rng.digits(8))
    }

    async fn record(
        &mut self,
        (h, m): (usize, Option<usize>),
        value: FactValue,
        valid_from: Option<Date>,
        actor: &str,
        reason: &str,
    ) -> Result<FactId> {
        let household = &self.households[h];
        let kind = value.kind();
        let fact = NewFact {
            person_id: m.map(|m| household.members[m].person_id.clone()),
            value,
            valid_from,
        };
        let (id, version) = self
            .archive
            .record(
                &household.family_id,
                household.version,
                fact,
                &Actor::new(actor),
                reason,
            )
            .await
            .with_context(|| {
                format!("recording a {kind} fact for family {}", household.family_no)
            })?;
        self.households[h].version = version;
        self.facts_recorded += 1;
        Ok(id)
    }

    /// A member's resident ID number, from the family's full file.
    async fn id_number(&self, h: usize, m: usize) -> Result<Option<ResidentId>> {
        let household = &self.households[h];
        let person = &household.members[m].person_id;
        let file = self.archive.family_file(&household.family_id).await?;
        Ok(file
            .current(None)
            .into_iter()
            .filter(|f| f.person_id.as_ref() == Some(person))
            .find_map(|f| match &f.value {
                Some(FactValue::IdNumber { number }) => Some(*number),
                _ => None,
            }))
    }

    /// The paying account of every county's finance, for the bank files.
    async fn set_payers(&mut self) -> Result<()> {
        for county in CountyCode::all() {
            let payer = guanai_bank::Payer {
                name: format!("{}财政局", county.name()),
                account: format!("3700{}", self.rng.digits(16)),
                bank: format!("中国农业银行临沂{}支行", county.name()),
            };
            self.archive
                .set_payer(county, &payer, &Actor::new(STAFF.finance))
                .await?;
        }
        Ok(())
    }

    /// What caseworkers recorded between the census and the first run: new phones and a new
    /// bank card, 低保 granted and ended, notes, a birth date corrected.
    async fn after_census(&mut self, month: Month) -> Result<()> {
        let actor = STAFF.caseworker;
        for _ in 0..3 {
            let Some((h, m)) = self.pick(|h| h.living_parents().map(|(i, _)| i).next()) else {
                break;
            };
            let number = self.phone();
            self.record(
                (h, Some(m)),
                FactValue::Phone { number },
                None,
                actor,
                "本人来电告知新的手机号码",
            )
            .await?;
        }
        if let Some((h, m)) = self.pick(|h| h.paid_parent(|m| m.account)) {
            let (bank, account) = self.account();
            self.record(
                (h, Some(m)),
                FactValue::BankAccount { bank, account },
                None,
                actor,
                "本人申请更换代发银行卡（原卡遗失，已挂失）",
            )
            .await?;
        }
        if let Some((h, m)) = self.pick(|h| h.paid_parent(|m| !m.dibao)) {
            let on = self.day_in(month);
            self.record(
                (h, Some(m)),
                FactValue::Welfare {
                    dibao: true,
                    wubao: false,
                },
                Some(on),
                actor,
                "民政部门认定为最低生活保障对象（低保）",
            )
            .await?;
        }
        if let Some((h, m)) =
            self.pick(|h| h.living_parents().find(|(_, m)| m.dibao).map(|(i, _)| i))
        {
            let on = self.day_in(month);
            self.record(
                (h, Some(m)),
                FactValue::Welfare {
                    dibao: false,
                    wubao: false,
                },
                Some(on),
                actor,
                "家庭收入提高，经民政部门复核退出低保",
            )
            .await?;
        }
        if let Some((h, _)) = self.pick(|h| (h.category == Category::Bereaved).then_some(0)) {
            let text = format!(
                "{}年{}月镇计生办入户走访，老人身体尚可，已送去慰问品",
                month.year(),
                month.month()
            );
            self.record((h, None), FactValue::Note { text }, None, actor, "走访记录")
                .await?;
        }
        let born_before = self.today.saturating_sub(Span::new().years(75));
        if let Some((h, m)) = self.pick(|h| {
            h.living_parents()
                .find(|(_, m)| m.birth < born_before)
                .map(|(i, _)| i)
        }) {
            // Notes are about the file (the archive keeps them family-level): the person is named.
            let member = &self.households[h].members[m];
            let text = format!(
                "{}{}听力较差，电话联系请找村计生专干转告",
                member.relation.as_zh(),
                member.name
            );
            self.record((h, None), FactValue::Note { text }, None, actor, "便于联系")
                .await?;
        }
        self.correct_birth_date().await
    }

    /// A child's birth date mistyped in the census, corrected from the household register: a
    /// child without an ID number (born before 1985), moved a few days within its month.
    async fn correct_birth_date(&mut self) -> Result<()> {
        // The index holds no ID numbers (it is read without them): candidates are checked
        // against their full file, a few at most.
        let mut found = None;
        for _ in 0..20 {
            let Some((h, m)) = self.pick(|h| {
                h.child().filter(|&c| {
                    h.members[c].identity_fact.is_some() && h.members[c].birth.year() < 1990
                })
            }) else {
                break;
            };
            if self.id_number(h, m).await?.is_none() {
                found = Some((h, m));
                break;
            }
        }
        let Some((h, m)) = found else {
            return Ok(());
        };
        let shift = 1 + self.rng.below(8) as i64;
        let member = &self.households[h].members[m];
        let birth = member.birth;
        let forward = i64::from(birth.day()) + shift <= i64::from(birth.days_in_month());
        let corrected = if forward {
            birth.saturating_add(Span::new().days(shift))
        } else {
            birth.saturating_sub(Span::new().days(shift))
        };
        let limit = member.died.into_iter().chain(member.first_assessed).min();
        if limit.is_some_and(|d| corrected > d) {
            return Ok(());
        }
        let (Some(fact), name, sex) = (
            member.identity_fact.clone(),
            member.name.clone(),
            member.sex,
        ) else {
            return Ok(());
        };
        let household = &self.households[h];
        let replacement = NewFact {
            person_id: Some(member.person_id.clone()),
            value: FactValue::Identity {
                name,
                sex,
                birth_date: corrected,
            },
            valid_from: None,
        };
        let (_, version) = self
            .archive
            .correct(
                &household.family_id,
                household.version,
                &fact,
                Some(replacement),
                &Actor::new(STAFF.caseworker),
                &format!("普查登记出生日期 {birth} 有误，按户口簿更正为 {corrected}"),
            )
            .await?;
        self.households[h].version = version;
        self.corrections += 1;
        Ok(())
    }

    async fn death(&mut self, (h, m): (usize, usize), on: Date, reason: &str) -> Result<()> {
        let certificate_no = format!(
            "D{}{}{}",
            self.households[h].county,
            on.year(),
            self.rng.digits(5)
        );
        self.record(
            (h, Some(m)),
            FactValue::Death {
                certificate_no: Some(certificate_no),
            },
            Some(on),
            STAFF.caseworker,
            reason,
        )
        .await?;
        self.households[h].members[m].died = Some(on);
        Ok(())
    }

    /// Parents who died in `month`, reported in time: nothing is due from the month after. The
    /// first, a bereaved parent, was cremated at the city funeral home: a funeral claim.
    async fn deaths(&mut self, month: Month) -> Result<()> {
        // With a spouse who has an account, who receives the reimbursement.
        let bereaved = self.pick(|h| {
            let living: Vec<(usize, &Member)> = h.living_parents().collect();
            match living.as_slice() {
                [(dies, d), (_, spouse)] | [(_, spouse), (dies, d)]
                    if h.category == Category::Bereaved
                        && d.monthly > Fen::ZERO
                        && spouse.account =>
                {
                    Some(*dies)
                }
                _ => None,
            }
        });
        if let Some(parent) = bereaved {
            let on = self.day_in(month);
            self.death(parent, on, "村计生专干报告死亡，已核验死亡证明")
                .await?;
            self.funeral_claim(parent).await?;
        }
        for _ in 1..self.several() {
            let Some(parent) = self.pick(|h| h.paid_parent(|_| true)) else {
                break;
            };
            let on = self.day_in(month);
            self.death(parent, on, "村计生专干报告死亡，已核验死亡证明")
                .await?;
        }
        Ok(())
    }

    async fn funeral_claim(&mut self, (h, m): (usize, usize)) -> Result<()> {
        let invoice = Fen(180_000 + 100 * self.rng.below(1400) as i64);
        let invoice_no = format!("LYBY{}", self.rng.digits(10));
        let input = FuneralClaimInput {
            family: self.households[h].family_id.clone(),
            person: self.households[h].members[m].person_id.clone(),
            invoice,
            invoice_no,
            cremated: true,
            funeral_home: "临沂市殡仪馆".to_owned(),
            city_funeral_home: true,
            evidence: "火化证明、基本殡葬服务费发票、死亡证明（家属提交）".to_owned(),
        };
        let view = self
            .archive
            .file_funeral_claim(&input, self.policy, &Actor::new(STAFF.caseworker))
            .await?;
        self.households[h].version = self.archive.family_file(&input.family).await?.version;
        self.claims.push((view.kind, view.status, view.amount));
        Ok(())
    }

    /// Deaths in `month` (before the first paid month) reported only now: the first run paid
    /// them, the next recovers it — from the surviving parent's payment, or, with no one left
    /// to pay, as a debt to collect.
    async fn late_deaths(&mut self, month: Month) -> Result<()> {
        let set_off = self.pick(|h| {
            let paid: Vec<usize> = h
                .living_parents()
                .filter(|(_, m)| m.monthly > Fen::ZERO && m.account)
                .map(|(i, _)| i)
                .collect();
            match paid.as_slice() {
                [first, _] => Some(*first),
                _ => None,
            }
        });
        let alone = self.pick(|h| {
            let living: Vec<usize> = h.living_parents().map(|(i, _)| i).collect();
            match living.as_slice() {
                [only] if h.members[*only].monthly > Fen::ZERO && h.members[*only].account => {
                    Some(*only)
                }
                _ => None,
            }
        });
        for parent in [set_off, alone].into_iter().flatten() {
            let on = self.day_in(month);
            self.death(
                parent,
                on,
                "家属补报死亡（未及时上报），按死亡证明日期记录；已发放款项需追回",
            )
            .await?;
        }
        Ok(())
    }

    /// A grade-4 child re-assessed at grade 3 from `month`: the family qualifies from the month
    /// after, and the next run pays the arrears (补发) and the one-time grant. Without such a
    /// child, a grade-3 child re-assessed at grade 2.
    async fn reassessment(&mut self, month: Month) -> Result<()> {
        // The new assessment must be the latest, or the old grade stays in force.
        let before = Some(month.first_day());
        let regrade = self.pick(|h| {
            h.child()
                .filter(|&c| h.members[c].regrade_pays && h.members[c].last_assessed < before)
        });
        let (at, grade) = match regrade {
            Some(at) => (at, 3),
            None => match self.pick(|h| {
                h.child().filter(|&c| {
                    h.category == Category::Disabled
                        && h.members[c].grade.is_some_and(|g| g.get() == 3)
                        && h.members[c].last_assessed < before
                })
            }) {
                Some(at) => (at, 2),
                None => return Ok(()),
            },
        };
        let Some(grade) = DisabilityGrade::new(grade) else {
            return Ok(());
        };
        let on = self.day_in(month);
        let certificate_no = format!("{}{}", self.households[at.0].county, self.rng.digits(14));
        self.record(
            (at.0, Some(at.1)),
            FactValue::Disability {
                grade,
                certificate_no: Some(certificate_no),
            },
            Some(on),
            STAFF.caseworker,
            &format!("县残联重新评定为{}级残疾（换发残疾证）", grade.get()),
        )
        .await?;
        Ok(())
    }

    /// A bereaved parent who adopted a child in `month` (再生育或收养): assistance ends.
    async fn later_child(&mut self, month: Month) -> Result<()> {
        if let Some((h, m)) = self.pick(|h| {
            (h.category == Category::Bereaved)
                .then(|| h.paid_parent(|_| true))
                .flatten()
        }) {
            let on = self.day_in(month);
            self.record(
                (h, Some(m)),
                FactValue::LaterChild,
                Some(on),
                STAFF.caseworker,
                "依法收养子女，经民政部门收养登记核实",
            )
            .await?;
        }
        Ok(())
    }

    /// Accounts brought in for parents who had none: their held money is paid by the next run.
    async fn missing_accounts(&mut self) -> Result<()> {
        for _ in 0..2 {
            let Some((h, m)) = self.pick(|h| h.paid_parent(|m| !m.account)) else {
                break;
            };
            let (bank, account) = self.account();
            self.record(
                (h, Some(m)),
                FactValue::BankAccount { bank, account },
                None,
                STAFF.caseworker,
                "补录代发银行账户（本人持卡到镇计生办登记）",
            )
            .await?;
            self.households[h].members[m].account = true;
        }
        Ok(())
    }

    /// New accounts for the transfers the bank returned; before the newest run one is left
    /// uncorrected, so that it shows as a blocking problem there.
    async fn fix_failed_accounts(&mut self, leave_one: bool) -> Result<()> {
        let mut failed = std::mem::take(&mut self.failed);
        failed.sort_by(|a, b| {
            let key = |(h, m): &(usize, usize)| {
                (
                    self.households[*h].family_no.clone(),
                    self.households[*h].members[*m].relation.as_str(),
                )
            };
            key(a).cmp(&key(b))
        });
        failed.dedup();
        let skip = usize::from(leave_one && !failed.is_empty());
        for (h, m) in failed.into_iter().skip(skip) {
            let (bank, account) = self.account();
            self.record(
                (h, Some(m)),
                FactValue::BankAccount { bank, account },
                None,
                STAFF.caseworker,
                "原代发账户已销户被银行退回，本人提供新账户",
            )
            .await?;
        }
        Ok(())
    }

    /// Civil affairs' death list names a paid parent the archive still has alive: the
    /// cross-check flags them, and the newest run blocks the transfer until someone looks.
    async fn death_report(&mut self, month: Month) -> Result<()> {
        let Some((h, m)) = self.pick(|h| h.paid_parent(|m| m.account)) else {
            return Ok(());
        };
        let Some(number) = self.id_number(h, m).await? else {
            return Ok(());
        };
        let died = self.day_in(month);
        let findings = self.archive.match_deaths(&[(number, died)]).await?;
        let source = format!(
            "市民政局死亡人员名单（{}年{}月）",
            month.year(),
            month.month()
        );
        self.death_flags += self
            .archive
            .flag_deaths(&findings, &source, &Actor::new(STAFF.data_check))
            .await?;
        Ok(())
    }

    /// Medical relief (二(三)) for a parent of 49 or over treated in `month` — only where the
    /// pack sets the county's ratio and cap (the shipped pack sets none).
    async fn medical_claim(&mut self, month: Month) -> Result<()> {
        let policy = self.policy;
        let aged = self.today.saturating_sub(Span::new().years(49));
        let Some((h, m)) = self.pick(|h| {
            policy
                .medical_relief(h.county, month)
                .and_then(|_| h.paid_parent(|m| m.birth <= aged))
        }) else {
            return Ok(());
        };
        let treated_on = self.day_in(month);
        let total = Fen(600_000 + 100 * self.rng.below(14_000) as i64);
        let insurance_paid = Fen(total.get() * (55 + self.rng.below(15) as i64) / 100);
        let input = MedicalClaimInput {
            family: self.households[h].family_id.clone(),
            person: self.households[h].members[m].person_id.clone(),
            treated_on,
            hospital: format!("{}人民医院", self.households[h].county.name()),
            hospital_level: HospitalLevel::County,
            total,
            insurance_paid,
            evidence: "住院收费票据、医保结算单、出院记录".to_owned(),
        };
        let view = self
            .archive
            .file_medical_claim(&input, policy, &Actor::new(STAFF.caseworker))
            .await?;
        self.households[h].version = self.archive.family_file(&input.family).await?.version;
        self.claims.push((view.kind, view.status, view.amount));
        Ok(())
    }

    /// Pays `month`: build and check; unless it is the newest, approve (not by the builder),
    /// export, apply the bank's return and close.
    async fn pay(&mut self, month: Month, first: bool, newest: bool, dir: &Path) -> Result<()> {
        let clerk = Actor::new(STAFF.clerk);
        let finance = Actor::new(STAFF.finance);
        let options = BuildOptions {
            month,
            county: None,
            policy: self.policy,
            policy_text: self.policy_text,
            ledger_start: first.then_some(month),
            progress: None,
        };
        let run = match self.archive.build_run(&options, &clerk).await? {
            BuildOutcome::Built(summary) => summary.run_id,
            BuildOutcome::NothingNew { .. } => return Ok(()),
        };
        self.runs.push(run.clone());
        let open: Vec<ProblemView> = self
            .archive
            .problems(&run, true)
            .await?
            .into_iter()
            .filter(|p| !p.resolved)
            .collect();
        self.archive
            .check_run(&run, hold_reason(&open).as_deref(), &clerk)
            .await?;
        if newest {
            return Ok(());
        }
        self.archive.approve_run(&run, &finance).await?;
        let execution_date = month
            .first_day()
            .saturating_add(Span::new().days(9))
            .min(self.today);
        let exported = self
            .archive
            .export_run(
                &run,
                &dir.join("代发").join(run.as_str()),
                execution_date,
                &finance,
            )
            .await?;
        if exported.count > 0 {
            let file = self.bank_return(&exported)?;
            let name = format!("回盘-{run}.csv");
            std::fs::write(dir.join("代发").join(run.as_str()).join(&name), &file)?;
            self.archive
                .import_results(&run, &file, &name, &finance)
                .await?;
            self.failed = self
                .archive
                .failed_transfers()
                .await?
                .into_iter()
                .filter(|(r, _)| r == run.as_str())
                .filter_map(|(_, t)| {
                    let h = *self.by_id.get(&t.family_id)?;
                    let m = self.households[h]
                        .members
                        .iter()
                        .position(|m| m.person_id.as_str() == t.person_id)?;
                    Some((h, m))
                })
                .collect();
        }
        self.archive.close_run(&run, &finance).await?;
        Ok(())
    }

    /// The bank's return (回盘) for the exported 代发 files: every transfer paid but a handful,
    /// returned because the account was closed. Rows echo the files' 业务参考号, 户名, 账号 and
    /// 金额; the failures are chosen by account number, so they do not depend on archive ids.
    fn bank_return(&mut self, exported: &ExportedFiles) -> Result<Vec<u8>> {
        let mut rows: Vec<[String; 4]> = Vec::new();
        for path in exported
            .files
            .iter()
            .flat_map(|f| &f.paths)
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let mut lines = text.trim_start_matches('\u{feff}').lines();
            let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
            let column = |name: &str| {
                header
                    .iter()
                    .position(|h| *h == name)
                    .with_context(|| format!("{} has no column {name}", path.display()))
            };
            let columns = [
                column("业务参考号")?,
                column("户名")?,
                column("账号")?,
                column("金额(元)")?,
            ];
            for line in lines {
                let cells: Vec<&str> = line.split(',').collect();
                if cells.first().is_some_and(|c| *c == "合计") {
                    continue;
                }
                rows.push(columns.map(|c| cells.get(c).copied().unwrap_or_default().to_owned()));
            }
        }
        rows.sort_by(|a, b| (&a[2], &a[1]).cmp(&(&b[2], &b[1])));
        let failing = if rows.len() < 20 {
            0
        } else {
            (rows.len() / 600).clamp(2, 6)
        };
        let mut failed = vec![false; rows.len()];
        let mut chosen = 0;
        while chosen < failing {
            let i = self.rng.below(rows.len());
            if !failed[i] {
                failed[i] = true;
                chosen += 1;
            }
        }
        let mut out = String::from("\u{feff}业务参考号,户名,账号,金额(元),状态,失败原因\r\n");
        for (row, failed) in rows.iter().zip(failed) {
            let [reference, name, account, amount] = row;
            let (status, reason) = if failed {
                ("失败", "账户已销户")
            } else {
                ("成功", "")
            };
            out.push_str(&format!(
                "{reference},{name},{account},{amount},{status},{reason}\r\n"
            ));
        }
        Ok(out.into_bytes())
    }
}

/// Why the check holds the transfers with open blocking problems (as `pay check --hold`).
fn hold_reason(open: &[ProblemView]) -> Option<String> {
    if open.is_empty() {
        return None;
    }
    let mut reasons: Vec<&str> = open
        .iter()
        .map(|p| match p.code.as_str() {
            "no_account" => "无代发账户，待补录",
            "invalid_account" => "代发账户无效，待核实",
            "account_failed" => "上次代发被银行退回，账户待更正",
            "death_reported" => "死亡比对显示已去世，待核实",
            "duplicate_id" => "身份证号重复登记，待核实",
            _ => "待核实",
        })
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    Some(reasons.join("；"))
}

fn category_zh(c: Category) -> &'static str {
    match c {
        Category::Bereaved => "失独",
        Category::Disabled => "伤残",
        Category::Orphan => "孤儿",
        Category::None => "暂不符合",
    }
}

fn transfer_zh(status: &str) -> &str {
    match status {
        "pending" => "待报送",
        "held" => "暂缓",
        "sent" => "已报送",
        "paid" => "已到账",
        "failed" => "被退回",
        other => other,
    }
}

impl fmt::Display for DemoRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}  {}  {}（{}）  {} 条 {} 元",
            self.run_id,
            self.month,
            self.status.as_zh(),
            self.status.as_str(),
            self.lines,
            self.total
        )?;
        for (nature, count, amount) in &self.by_nature {
            let zh = guanai_pay::Nature::parse(nature).map_or(nature.as_str(), |n| n.as_zh());
            write!(f, "，{zh} {count} 条 {amount} 元")?;
        }
        for (status, count, amount) in &self.transfers {
            write!(f, "；{} {count} 笔 {amount} 元", transfer_zh(status))?;
        }
        if self.status == RunStatus::Checked {
            write!(f, "；待财政批准 / awaiting approval")?;
        }
        Ok(())
    }
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "演示档案 / demo archive: {} 户 {} 人，{} 个县区 / {} families, {} persons, {} counties",
            self.families,
            self.persons,
            self.counties.len(),
            self.families,
            self.persons,
            self.counties.len()
        )?;
        let categories: Vec<String> = self
            .categories
            .iter()
            .map(|(c, n)| format!("{} {n}", category_zh(*c)))
            .collect();
        writeln!(f, "  类别 / categories: {}", categories.join("，"))?;
        if self.census_rejected > 0 {
            writeln!(f, "  普查未通过 {} 户", self.census_rejected)?;
        }
        writeln!(
            f,
            "  普查后记录 {} 条、更正 {} 条；理赔 {} 件；死亡比对标记 {} 人",
            self.facts_recorded,
            self.corrections,
            self.claims.len(),
            self.death_flags
        )?;
        writeln!(
            f,
            "  走访 / visits: 本年计划 {} 个周期，已登记走访 {} 次，专人 {} 名",
            self.visit_periods, self.visits, self.dedicated_visitors
        )?;
        let applications: Vec<String> = self
            .applications
            .iter()
            .map(|(status, n)| format!("{status} {n}"))
            .collect();
        writeln!(
            f,
            "  申请 / applications: {}；投诉 {} 件；{} 年度确认 {}/{} 人",
            applications.join("，"),
            self.complaints,
            self.today_year + 1,
            self.reconfirmed.0,
            self.reconfirmed.1
        )?;
        if let Some((county, drawn, findings, failed)) = &self.spot_check {
            writeln!(
                f,
                "  抽查 / spot check: {} 抽取 {drawn} 户，已记录 {findings} 项（不合格 {failed} 项）",
                county.name()
            )?;
        }
        writeln!(f, "  发放批次 / payment runs:")?;
        for run in &self.runs {
            writeln!(f, "    {run}")?;
        }
        if let Some(dir) = &self.files_dir {
            writeln!(f, "  普查与代发文件 / files: {}", dir.display())?;
        }
        Ok(())
    }
}
