//! Building a payment run: for every family in scope, what is due for every month of the window
//! (asked of the rules engine, with the facts as recorded up to the run's moment) against what is
//! booked, netted into transfers; blocking problems found on the way. Everything is written in
//! one transaction, guarded by the counties' generations: a killed build leaves nothing, and of
//! two builds started at once only one commits.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use guanai_pay::booked::Amounts;
use guanai_pay::{
    Booked, DueLine, FamilyDue, LineKind, Nature, Payee, Window, family_lines_until, net_family,
};
use guanai_rules::calendar::counts_in;
use guanai_rules::{CountyCode, Fen, Month, Policy};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::{PayError, RunId, RunStatus};
use crate::archive::{Archive, now_micros};
use crate::bulk::{self, Col};
use crate::file::FamilyFile;
use crate::model::{Actor, FactValue, FamilyId, Relation};
use crate::on_db;

/// What to build.
pub struct BuildOptions<'a> {
    pub month: Month,
    /// One county, or every county.
    pub county: Option<CountyCode>,
    pub policy: &'a Policy,
    /// The pack's text, stored with the run.
    pub policy_text: &'a str,
    /// The ledger's first month, set by the first run (default: the first run's month).
    pub ledger_start: Option<Month>,
    /// Told where a long build has got to (the command line prints it for the operator).
    pub progress: Option<&'a (dyn Fn(BuildProgress) + Send + Sync)>,
}

/// Where a build has got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildProgress {
    /// Families planned and their rows written into the run's open transaction (not yet
    /// visible to anyone).
    Written {
        families: usize,
        of: usize,
        lines: usize,
    },
    /// The transaction committed: the run exists.
    Committed,
}

/// The result of a build.
#[derive(Debug)]
pub enum BuildOutcome {
    Built(Box<super::RunSummary>),
    /// Everything due is already booked (and, with `open`, waiting in that open run): no run
    /// was created.
    NothingNew {
        families: usize,
        open: Option<String>,
    },
}

/// A line as planned. Ids are shared (`Arc<str>`): a run of a million lines stays compact.
pub(super) struct LineRow {
    pub family_id: Arc<str>,
    pub person_id: Arc<str>,
    pub county: CountyCode,
    pub kind: &'static str,
    pub nature: &'static str,
    pub for_month: Month,
    pub amounts: Amounts,
    pub booked: i64,
    pub due: i64,
    pub version: i64,
    /// The claim this line pays (funeral reimbursement, medical relief).
    pub claim_id: Option<String>,
}

struct TransferRow {
    family_id: Arc<str>,
    person_id: Arc<str>,
    county: CountyCode,
    amount: i64,
    account_fact: Option<String>,
    blind_index: Option<[u8; 32]>,
    status: &'static str,
    note: String,
}

struct ProblemRow {
    family_id: String,
    person_id: Option<String>,
    code: &'static str,
    detail: String,
    blocking: bool,
    transfer: Option<usize>,
}

/// Postings the approval entry makes beyond the lines' own (those — funding charged, payables
/// credited — are summed from the lines when approved): netting within a family, debts and
/// debts set off. (account, family, amount; debit positive).
pub(crate) type Planned = (String, Option<String>, i64);

#[derive(Default)]
struct Plan {
    lines: Vec<LineRow>,
    transfers: Vec<TransferRow>,
    problems: Vec<ProblemRow>,
    postings: Vec<Planned>,
    positions: Vec<(Arc<str>, String)>,
    grants: Vec<(String, &'static str, usize)>,
    beyond_limit: i64,
}

/// Families read and planned together.
const CHUNK: usize = 500;

impl Plan {
    /// Appends another chunk's plan, renumbering its references to lines and transfers.
    fn merge(&mut self, other: Plan) {
        let (lines, transfers) = (self.lines.len(), self.transfers.len());
        self.lines.extend(other.lines);
        self.transfers.extend(other.transfers);
        self.problems
            .extend(other.problems.into_iter().map(|mut p| {
                p.transfer = p.transfer.map(|t| t + transfers);
                p
            }));
        self.postings.extend(other.postings);
        self.positions.extend(other.positions);
        self.grants
            .extend(other.grants.into_iter().map(|(f, k, l)| (f, k, l + lines)));
        self.beyond_limit += other.beyond_limit;
    }
}

/// The rows of a batch of planned chunks to write now; grants refer to the batch's lines.
struct Batch {
    lines: Vec<LineRow>,
    transfers: Vec<TransferRow>,
    grants: Vec<(String, &'static str, usize)>,
    positions: Vec<(Arc<str>, String)>,
}

/// What a build has written so far and what it keeps to the end: the problems (written last,
/// after the duplicate check), the planned postings, the first transfer of each ID number, and
/// the figures of the run's summary. Transfers are numbered from 0 here, from 1 in the tables.
#[derive(Default)]
struct Written {
    lines: usize,
    transfers: usize,
    problems: Vec<ProblemRow>,
    postings: Vec<Planned>,
    /// The first transfer of each ID number (by its blind index).
    payees: HashMap<[u8; 32], u32>,
    /// A transfer to an ID number already paid earlier in this run: (later, first).
    twice: Vec<(u32, u32)>,
    /// Pending transfers without a blocking problem of their own family's checks.
    unblocked: Vec<u32>,
    beyond_limit: i64,
    natures: BTreeMap<&'static str, (i64, i64)>,
    counties: BTreeMap<CountyCode, i64>,
    standard: i64,
    statuses: BTreeMap<&'static str, (i64, i64)>,
}

impl Written {
    /// Counts a batch into the run and hands back its rows to write.
    fn take(&mut self, plan: Plan) -> Batch {
        let first_transfer = self.transfers;
        for l in &plan.lines {
            let n = self.natures.entry(l.nature).or_default();
            n.0 += 1;
            n.1 += l.amounts.amount.get();
            *self.counties.entry(l.county).or_default() += l.amounts.county.get();
            self.standard += l.amounts.standard.get();
        }
        let blocked: HashSet<usize> = plan
            .problems
            .iter()
            .filter(|p| p.blocking)
            .filter_map(|p| p.transfer)
            .collect();
        for (i, t) in plan.transfers.iter().enumerate() {
            let number = (first_transfer + i) as u32;
            let s = self.statuses.entry(t.status).or_default();
            s.0 += 1;
            s.1 += t.amount;
            if t.status == "pending" && !blocked.contains(&i) {
                self.unblocked.push(number);
            }
            if let Some(index) = t.blind_index {
                match self.payees.entry(index) {
                    Entry::Occupied(first) => self.twice.push((number, *first.get())),
                    Entry::Vacant(slot) => {
                        slot.insert(number);
                    }
                }
            }
        }
        self.problems.extend(plan.problems.into_iter().map(|mut p| {
            p.transfer = p.transfer.map(|t| t + first_transfer);
            p
        }));
        self.postings.extend(plan.postings);
        self.beyond_limit += plan.beyond_limit;
        self.lines += plan.lines.len();
        self.transfers += plan.transfers.len();
        Batch {
            lines: plan.lines,
            transfers: plan.transfers,
            grants: plan.grants,
            positions: plan.positions,
        }
    }

    /// The blocking problems of ID numbers paid twice: within the run (`named` gives the
    /// family and person of the transfers involved) or in another run of the month (`others`:
    /// the run's transfer, the other run, the person paid there). The same person twice is no
    /// duplicate (a supplementary run of the month); the same number on another person is.
    fn duplicates(
        &mut self,
        named: &HashMap<u32, (String, String)>,
        others: &[(u32, String, String)],
        month: Month,
    ) {
        for (later, first) in &self.twice {
            let (Some((family, person)), Some((other_family, other_person))) =
                (named.get(later), named.get(first))
            else {
                continue;
            };
            if person != other_person {
                self.problems.push(ProblemRow {
                    family_id: family.clone(),
                    person_id: Some(person.clone()),
                    code: "duplicate_id",
                    detail: format!(
                        "同一身份证号在本批次中重复发放（另见家庭 {other_family} 的人员 {other_person}）"
                    ),
                    blocking: true,
                    transfer: Some(*later as usize),
                });
            }
        }
        for (first, run, other_person) in others {
            let Some((family, person)) = named.get(first) else {
                continue;
            };
            if person != other_person {
                self.problems.push(ProblemRow {
                    family_id: family.clone(),
                    person_id: Some(person.clone()),
                    code: "duplicate_id",
                    detail: format!(
                        "同一身份证号已在 {month} 的发放批次 {run} 中（人员 {other_person}）"
                    ),
                    blocking: true,
                    transfer: Some(*first as usize),
                });
            }
        }
    }

    /// Whether any pending transfer is free of blocking problems (money that can go to the bank).
    fn payable(&self) -> bool {
        let blocked: HashSet<usize> = self
            .problems
            .iter()
            .filter(|p| p.blocking)
            .filter_map(|p| p.transfer)
            .collect();
        self.unblocked
            .iter()
            .any(|t| !blocked.contains(&(*t as usize)))
    }

    /// The new run's summary, from what was written (the same figures `run_summary` reads
    /// back, without scanning a million lines again).
    #[allow(clippy::too_many_arguments)]
    fn summary(
        self,
        run_id: RunId,
        options: &BuildOptions<'_>,
        scope: &str,
        known_at: Timestamp,
        window: Window,
        digest: String,
        actor: &Actor,
    ) -> super::RunSummary {
        super::RunSummary {
            run_id,
            month: options.month.to_string(),
            scope: scope.to_owned(),
            status: RunStatus::Draft,
            known_at,
            ledger_first: window.first.to_string(),
            arrears_from: window.arrears_from.to_string(),
            policy_name: options.policy.name.clone(),
            policy_digest: digest,
            created_by: actor.name.clone(),
            checked_by: None,
            approved_by: None,
            exported_by: None,
            closed_by: None,
            lines: self.lines as i64,
            total: Fen(self.natures.values().map(|n| n.1).sum()),
            by_nature: self
                .natures
                .into_iter()
                .map(|(n, (c, a))| (n.to_owned(), c, Fen(a)))
                .collect(),
            standard: Fen(self.standard),
            by_county: self
                .counties
                .into_iter()
                .map(|(c, a)| (c.to_string(), Fen(a)))
                .collect(),
            transfers: self
                .statuses
                .into_iter()
                .map(|(s, (c, a))| (s.to_owned(), c, Fen(a)))
                .collect(),
            problems: self.problems.len() as i64,
            blocking: self.problems.iter().filter(|p| p.blocking).count() as i64,
            beyond_limit: Fen(self.beyond_limit),
        }
    }
}

/// The bulk statements a build writes with (`$1` is a JSON array of rows).
struct RowSql {
    line: String,
    transfer: String,
    problem: String,
    position: String,
}

impl RowSql {
    fn new(db: &crate::db::Db) -> RowSql {
        RowSql {
            line: bulk::insert_sql(
                db,
                "pay_line",
                &[
                    ("run_id", Col::Text),
                    ("line_no", Col::Int),
                    ("family_id", Col::Text),
                    ("person_id", Col::Text),
                    ("county_code", Col::Text),
                    ("kind", Col::Text),
                    ("nature", Col::Text),
                    ("for_month", Col::Text),
                    ("amount", Col::Int),
                    ("standard_fen", Col::Int),
                    ("county_fen", Col::Int),
                    ("booked_before", Col::Int),
                    ("due", Col::Int),
                    ("family_version", Col::Int),
                    ("claim_id", Col::Text),
                ],
                "",
            ),
            transfer: bulk::insert_sql(
                db,
                "pay_transfer",
                &[
                    ("run_id", Col::Text),
                    ("transfer_no", Col::Int),
                    ("family_id", Col::Text),
                    ("person_id", Col::Text),
                    ("county_code", Col::Text),
                    ("amount", Col::Int),
                    ("account_fact", Col::Text),
                    ("blind_index", Col::Hex),
                    ("status", Col::Text),
                    ("note", Col::Text),
                ],
                "",
            ),
            problem: bulk::insert_sql(
                db,
                "pay_problem",
                &[
                    ("run_id", Col::Text),
                    ("problem_no", Col::Int),
                    ("family_id", Col::Text),
                    ("person_id", Col::Text),
                    ("code", Col::Text),
                    ("detail", Col::Text),
                    ("blocking", Col::Bool),
                    ("transfer_no", Col::Int),
                ],
                "",
            ),
            position: super::ledger::upsert_positions_sql(db),
        }
    }
}

/// Per-chunk state read from the payment tables.
#[derive(Default)]
struct ChunkState {
    booked: HashMap<String, String>,
    balances: HashMap<String, i64>,
    awards: HashMap<(String, String), String>,
    flags: HashMap<String, Vec<String>>,
    last_transfer: HashMap<String, (String, Option<String>, String)>,
    blind: HashMap<String, [u8; 32]>,
    /// Approved claims not yet in a run, by family.
    claims: HashMap<String, Vec<super::ClaimView>>,
    /// Families with applications of which none is approved yet: not enrolled, not paid.
    pending: HashMap<String, String>,
    /// Parents on a re-confirmation list not confirmed: nothing more is paid for the months from
    /// the one after the deadline (the earliest such month, and the deadline).
    suspended: HashMap<String, (Month, String)>,
    /// Families that left the programme (approved exits): nothing is due from this month.
    ended: HashMap<String, Month>,
}

impl Archive {
    /// Builds the payment run for a month (and county). See the module comment.
    pub async fn build_run(
        &self,
        options: &BuildOptions<'_>,
        actor: &Actor,
    ) -> Result<BuildOutcome, PayError> {
        let known_at_micros = now_micros();
        let known_at = Timestamp::from_microsecond(known_at_micros)
            .map_err(|e| PayError::Invalid(e.to_string()))?;
        let scope = options
            .county
            .map(|c| c.to_string())
            .unwrap_or_else(|| "all".to_owned());
        let counties = self.scope_counties(options.county).await?;
        let generations = self.generations(&counties).await?;
        let stored_start = self.setting("ledger_start").await?;
        let first = match (&stored_start, options.ledger_start) {
            (Some(text), Some(asked)) if *text != asked.to_string() => {
                return Err(PayError::Invalid(format!(
                    "--ledger-start: the ledger already starts in {text}; it cannot be changed to {asked}"
                )));
            }
            (Some(text), _) => Month::parse(text).map_err(|e| PayError::Invalid(e.to_string()))?,
            (None, asked) => asked.unwrap_or(options.month),
        };
        if options.month < first {
            return Err(PayError::Invalid(format!(
                "--month: {} is before the ledger's first month {first}",
                options.month
            )));
        }
        if stored_start.is_none() {
            // The ledger's first month is declared by the first build, even one that finds
            // nothing to pay.
            on_db!(self.db(), pool => {
                sqlx::query("INSERT INTO pay_setting (name, value) VALUES ('ledger_start', $1) ON CONFLICT (name) DO NOTHING")
                    .bind(first.to_string())
                    .execute(pool)
                    .await?;
            });
        }
        let window = Window {
            first,
            month: options.month,
            arrears_from: options
                .policy
                .earliest_arrears_month(options.month)
                .max(first),
        };

        let ids = self.families_in(options.county).await?;
        // Chunks are read and planned on every core, in family order. A stream of them, made
        // afresh for each pass.
        let policy = Arc::new(options.policy.clone());
        let planned = || {
            futures_util::stream::iter(ids.chunks(CHUNK).map(<[FamilyId]>::to_vec))
                .map(|chunk| {
                    let archive = self.clone();
                    let policy = policy.clone();
                    tokio::spawn(async move {
                        let files = archive.payment_files(&chunk).await?;
                        let state = archive.chunk_state(&chunk).await?;
                        let mut part = Plan::default();
                        for file in &files {
                            plan_family(file, &state, &window, &policy, known_at, &mut part)?;
                        }
                        Ok::<(Plan, usize), PayError>((part, chunk.len()))
                    })
                })
                .buffered(4)
                .map(|joined| {
                    joined.map_err(|e| {
                        PayError::Invalid(format!("a payment run worker failed: {e}"))
                    })?
                })
        };
        // With a run still open for one of the counties, nothing can be written: the open run is
        // the answer when nothing new is due (a run built again), a refusal otherwise (below,
        // when the county cannot be claimed).
        if let Some(open) = self.open_run(&counties).await? {
            let mut chunks = std::pin::pin!(planned());
            let mut lines = 0;
            while let Some(part) = chunks.next().await {
                lines += part?.0.lines.len();
            }
            if lines == 0 {
                return Ok(BuildOutcome::NothingNew {
                    families: ids.len(),
                    open: Some(open),
                });
            }
        }

        let tell = |step: BuildProgress| {
            if let Some(progress) = options.progress {
                progress(step);
            }
        };
        let rows = RowSql::new(self.db());
        let digest = bulk::hex(&Sha256::digest(options.policy_text.as_bytes()));
        let now = now_micros();
        // One transaction: the counties are claimed first (so a second build started at once is
        // refused before it reads anything), then each batch of planned chunks is written as it
        // comes, so that a city's plan is never held in memory at once.
        let (run_id, run) = on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            let seq: (i64,) = sqlx::query_as("SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS BIGINT) FROM pay_run WHERE month = $1 AND scope = $2")
                .bind(options.month.to_string())
                .bind(&scope)
                .fetch_one(&mut *tx)
                .await?;
            let run_id = RunId::new(options.month, &scope, seq.0);
            for (county, generation) in &generations {
                let claimed = sqlx::query("UPDATE pay_county SET generation = generation + 1, open_run = $1 WHERE county_code = $2 AND generation = $3 AND open_run IS NULL")
                    .bind(run_id.as_str())
                    .bind(county)
                    .bind(generation)
                    .execute(&mut *tx)
                    .await?;
                if claimed.rows_affected() != 1 {
                    let open: Option<(Option<String>,)> = sqlx::query_as("SELECT open_run FROM pay_county WHERE county_code = $1")
                        .bind(county)
                        .fetch_optional(&mut *tx)
                        .await?;
                    tx.rollback().await?;
                    return match open.and_then(|o| o.0) {
                        Some(run) => {
                            let status = self.run_status(&run).await.map(|s| s.as_str().to_owned()).unwrap_or_default();
                            Err(PayError::RunOpen { run, county: county.clone(), status })
                        }
                        None => Err(PayError::Concurrent(county.clone())),
                    };
                }
            }
            sqlx::query("INSERT INTO pay_policy (digest, name, text, stored_at) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING")
                .bind(&digest)
                .bind(&options.policy.name)
                .bind(options.policy_text)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO pay_run (run_id, month, scope, seq, status, known_at, ledger_first, arrears_from, policy_digest, beyond_limit, created_at, created_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11)")
                .bind(run_id.as_str())
                .bind(options.month.to_string())
                .bind(&scope)
                .bind(seq.0)
                .bind(RunStatus::Draft.as_str())
                .bind(known_at_micros)
                .bind(first.to_string())
                .bind(window.arrears_from.to_string())
                .bind(&digest)
                .bind(now)
                .bind(&actor.name)
                .execute(&mut *tx)
                .await?;
            let mut run = Written::default();
            let mut batch = Plan::default();
            let mut families = 0;
            let mut chunks = std::pin::pin!(planned());
            loop {
                let next = chunks.next().await;
                let done = next.is_none();
                if let Some(part) = next {
                    let (part, count) = part?;
                    families += count;
                    batch.merge(part);
                }
                if batch.lines.len() + batch.transfers.len() < bulk::ROWS && !done {
                    continue;
                }
                let Batch { lines, transfers, grants, positions } = run.take(std::mem::take(&mut batch));
                let (first_line, first_transfer) = (run.lines - lines.len(), run.transfers - transfers.len());
                if !lines.is_empty() {
                    let values: Vec<_> = lines
                        .iter()
                        .enumerate()
                        .map(|(i, l)| {
                            (
                                run_id.as_str(),
                                (first_line + i + 1) as i64,
                                &*l.family_id,
                                &*l.person_id,
                                l.county.to_string(),
                                l.kind,
                                l.nature,
                                l.for_month.to_string(),
                                l.amounts.amount.get(),
                                l.amounts.standard.get(),
                                l.amounts.county.get(),
                                l.booked,
                                l.due,
                                l.version,
                                l.claim_id.as_deref(),
                            )
                        })
                        .collect();
                    sqlx::query(sqlx::AssertSqlSafe(rows.line.as_str()))
                        .bind(json(&values)?)
                        .execute(&mut *tx)
                        .await?;
                }
                for (i, l) in lines.iter().enumerate() {
                    let Some(claim) = &l.claim_id else { continue };
                    let attached = sqlx::query("UPDATE claim SET run_id = $1, line_no = $2 WHERE claim_id = $3 AND status = 'approved' AND run_id IS NULL")
                        .bind(run_id.as_str())
                        .bind((first_line + i + 1) as i64)
                        .bind(claim)
                        .execute(&mut *tx)
                        .await?;
                    if attached.rows_affected() != 1 {
                        tx.rollback().await?;
                        return Err(PayError::Invalid(format!("claim {claim} was paid by another run meanwhile; nothing was written — build again")));
                    }
                }
                if !transfers.is_empty() {
                    let values: Vec<_> = transfers
                        .iter()
                        .enumerate()
                        .map(|(i, t)| {
                            (
                                run_id.as_str(),
                                (first_transfer + i + 1) as i64,
                                &*t.family_id,
                                &*t.person_id,
                                t.county.to_string(),
                                t.amount,
                                t.account_fact.as_deref(),
                                t.blind_index.as_ref().map(|b| bulk::hex(b)),
                                t.status,
                                t.note.as_str(),
                            )
                        })
                        .collect();
                    sqlx::query(sqlx::AssertSqlSafe(rows.transfer.as_str()))
                        .bind(json(&values)?)
                        .execute(&mut *tx)
                        .await?;
                }
                for chunk in grants.chunks(1000) {
                    let mut q = sqlx::QueryBuilder::new("INSERT INTO grant_award (family_id, kind, run_id, line_no) ");
                    q.push_values(chunk, |mut b, (family, kind, line)| {
                        b.push_bind(family)
                            .push_bind(*kind)
                            .push_bind(run_id.as_str())
                            .push_bind((first_line + *line + 1) as i64);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                if !positions.is_empty() {
                    sqlx::query(sqlx::AssertSqlSafe(rows.position.as_str()))
                        .bind(json(&positions)?)
                        .execute(&mut *tx)
                        .await?;
                }
                tell(BuildProgress::Written {
                    families,
                    of: ids.len(),
                    lines: run.lines,
                });
                if done {
                    break;
                }
            }
            // The same resident ID number paid twice (二(二) 社会化发放: one account per person):
            // within this run, or in another run of the month.
            // The month's other runs are read once, their transfers matched against this run's
            // ID numbers in memory (an index on the blind index cost each build more than the
            // whole check: a million random inserts).
            let mut others = Vec::new();
            {
                let mut paid = sqlx::query_as::<_, (Vec<u8>, String, String)>(
                    "SELECT t.blind_index, t.run_id, t.person_id FROM pay_run r JOIN pay_transfer t ON t.run_id = r.run_id \
                     WHERE r.month = $1 AND r.run_id <> $2 AND r.status <> 'discarded' AND t.status <> 'held' AND t.blind_index IS NOT NULL",
                )
                .bind(options.month.to_string())
                .bind(run_id.as_str())
                .fetch(&mut *tx);
                while let Some((index, other_run, person)) = paid.try_next().await? {
                    let first = <[u8; 32]>::try_from(index.as_slice()).ok().and_then(|i| run.payees.get(&i));
                    if let Some(&first) = first {
                        others.push((first, other_run, person));
                    }
                }
            }
            let mut named: HashMap<u32, (String, String)> = HashMap::new();
            let wanted: Vec<u32> = run
                .twice
                .iter()
                .flat_map(|(later, first)| [*later, *first])
                .chain(others.iter().map(|o| o.0))
                .collect();
            for chunk in wanted.chunks(500) {
                let mut q = sqlx::QueryBuilder::new("SELECT transfer_no, family_id, person_id FROM pay_transfer WHERE run_id = ");
                q.push_bind(run_id.as_str());
                q.push(" AND transfer_no IN (");
                let mut list = q.separated(", ");
                for no in chunk {
                    list.push_bind(i64::from(*no) + 1);
                }
                list.push_unseparated(")");
                let found: Vec<(i64, String, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
                for (no, family, person) in found {
                    if let Ok(no) = u32::try_from(no - 1) {
                        named.insert(no, (family, person));
                    }
                }
            }
            run.duplicates(&named, &others, options.month);
            // Without new lines, a run is only worth building for money owed that can now go to
            // the bank (an account fixed since).
            if run.lines == 0 && !run.payable() {
                tx.rollback().await?;
                return Ok(BuildOutcome::NothingNew {
                    families: ids.len(),
                    open: None,
                });
            }
            for (n, chunk) in run.problems.chunks(bulk::ROWS).enumerate() {
                let values: Vec<_> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        (
                            run_id.as_str(),
                            (n * bulk::ROWS + i + 1) as i64,
                            p.family_id.as_str(),
                            p.person_id.as_deref(),
                            p.code,
                            p.detail.as_str(),
                            p.blocking,
                            p.transfer.map(|t| t as i64 + 1),
                        )
                    })
                    .collect();
                sqlx::query(sqlx::AssertSqlSafe(rows.problem.as_str()))
                    .bind(json(&values)?)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE pay_run SET beyond_limit = $1 WHERE run_id = $2")
                .bind(run.beyond_limit)
                .bind(run_id.as_str())
                .execute(&mut *tx)
                .await?;
            crate::plan_postings!(&mut *tx, run_id.as_str(), &run.postings);
            tx.commit().await?;
            (run_id, run)
        });
        tell(BuildProgress::Committed);
        self.refresh_statistics(&["pay_line", "pay_transfer", "pay_position", "pay_problem"])
            .await?;
        Ok(BuildOutcome::Built(Box::new(run.summary(
            run_id, options, &scope, known_at, window, digest, actor,
        ))))
    }

    /// The counties a run covers.
    async fn scope_counties(&self, county: Option<CountyCode>) -> Result<Vec<String>, PayError> {
        Ok(match county {
            Some(c) => vec![c.to_string()],
            None => {
                let rows: Vec<(String,)> = on_db!(self.db(), pool => {
                    sqlx::query_as("SELECT code FROM area WHERE level = 'county' ORDER BY code").fetch_all(pool).await?
                });
                rows.into_iter().map(|r| r.0).collect()
            }
        })
    }

    /// Each county's generation (rows created on first use).
    async fn generations(&self, counties: &[String]) -> Result<Vec<(String, i64)>, PayError> {
        let mut out = Vec::with_capacity(counties.len());
        for county in counties {
            let row: (i64,) = on_db!(self.db(), pool => {
                sqlx::query("INSERT INTO pay_county (county_code, generation, open_run) VALUES ($1, 0, NULL) ON CONFLICT (county_code) DO NOTHING")
                    .bind(county)
                    .execute(pool)
                    .await?;
                sqlx::query_as("SELECT generation FROM pay_county WHERE county_code = $1").bind(county).fetch_one(pool).await?
            });
            out.push((county.clone(), row.0));
        }
        Ok(out)
    }

    /// An open run (built, not yet exported) for any of these counties.
    async fn open_run(&self, counties: &[String]) -> Result<Option<String>, PayError> {
        let rows: Vec<(String, Option<String>)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT county_code, open_run FROM pay_county WHERE open_run IS NOT NULL").fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .find(|(c, _)| counties.contains(c))
            .and_then(|(_, run)| run))
    }

    pub(crate) async fn setting(&self, name: &str) -> Result<Option<String>, PayError> {
        let row: Option<(String,)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT value FROM pay_setting WHERE name = $1").bind(name).fetch_optional(pool).await?
        });
        Ok(row.map(|r| r.0))
    }

    async fn families_in(&self, county: Option<CountyCode>) -> Result<Vec<FamilyId>, PayError> {
        let rows: Vec<(String,)> = on_db!(self.db(), pool => {
            match county {
                Some(c) => sqlx::query_as("SELECT family_id FROM family WHERE county_code = $1 ORDER BY family_id").bind(c.to_string()).fetch_all(pool).await?,
                None => sqlx::query_as("SELECT family_id FROM family ORDER BY family_id").fetch_all(pool).await?,
            }
        });
        Ok(rows
            .into_iter()
            .filter_map(|r| FamilyId::parse(&r.0))
            .collect())
    }

    async fn chunk_state(&self, chunk: &[FamilyId]) -> Result<ChunkState, PayError> {
        let mut state = ChunkState::default();
        // One value for the whole chunk: every payment table's rows for these families,
        // aggregated as JSON by the database (see `Archive::payment_files`).
        let sqlite = matches!(self.db(), crate::db::Db::Sqlite(..));
        // A JSON array of the rows `SELECT cols FROM rest`, as one value.
        let agg = |cols: &str, order: &str, rest: &str| -> (String, &'static str) {
            if sqlite {
                (
                    format!("(SELECT json_group_array(json_array({cols}){order}) FROM {rest} "),
                    ")",
                )
            } else {
                (
                    format!(
                        "(SELECT COALESCE(json_agg(json_build_array({cols}){order}), '[]') FROM {rest} "
                    ),
                    ")",
                )
            }
        };
        let blind = if sqlite {
            "hex(blind_index)"
        } else {
            "encode(blind_index, 'hex')"
        };
        let parts = [
            agg("family_id, booked", "", "pay_position WHERE family_id IN"),
            agg("account, balance", "", "ledger_balance WHERE family_id IN"),
            agg(
                "family_id, kind, run_id",
                "",
                "grant_award WHERE family_id IN",
            ),
            agg("person_id, reported", "", "death_flag WHERE family_id IN"),
            agg(
                "t.person_id, t.status, t.account_fact, t.note",
                " ORDER BY r.created_at, t.run_id",
                "pay_transfer t JOIN pay_run r ON r.run_id = t.run_id WHERE t.status IN ('sent', 'paid', 'failed') AND t.family_id IN",
            ),
            agg(
                &format!("person_id, {blind}"),
                "",
                "person_lookup WHERE family_id IN",
            ),
            agg("family_id, status", "", "application WHERE family_id IN"),
            agg(
                "r.person_id, c.deadline",
                "",
                "reconfirm_roster r JOIN reconfirm_campaign c ON c.year = r.year WHERE r.confirmed_on IS NULL AND r.family_id IN",
            ),
            agg(
                "family_id, exit_on",
                "",
                "family_exit WHERE status = 'approved' AND family_id IN",
            ),
        ];
        // SQLite joins the arrays' text (json() around each would parse it again); PostgreSQL
        // builds a JSON value.
        let (array, comma, end) = if sqlite {
            ("'[' || ", " || ',' || ", " || ']'")
        } else {
            ("json_build_array(", ", ", ")")
        };
        type State = (
            Vec<(String, String)>,
            Vec<(String, i64)>,
            Vec<(String, String, String)>,
            Vec<(String, String)>,
            Vec<(String, String, Option<String>, String)>,
            Vec<(String, String)>,
            Vec<(String, String)>,
            Vec<(String, String)>,
            Vec<(String, String)>,
        );
        let json: (String,) = on_db!(self.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(format!("SELECT CAST({array}"));
            for (i, (prefix, suffix)) in parts.iter().enumerate() {
                if i > 0 {
                    q.push(comma);
                }
                q.push(prefix.as_str());
                q.push("(");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(id.as_str());
                }
                list.push_unseparated(")");
                q.push(*suffix);
            }
            q.push(end);
            q.push(" AS TEXT)");
            q.build_query_as().fetch_one(pool).await?
        });
        let (booked, balances, awards, flags, transfers, blind, applications, unconfirmed, exits): State =
            serde_json::from_str(&json.0).map_err(|e| {
                PayError::Invalid(format!("payment state of a chunk of families: {e}"))
            })?;
        state.booked = booked.into_iter().collect();
        for (family, exit_on) in exits {
            let from =
                crate::exits::ended_from(&exit_on).map_err(|e| PayError::Invalid(e.to_string()))?;
            state.ended.insert(family, from);
        }
        let mut approved = std::collections::HashSet::new();
        for (family, status) in applications {
            if status == "approved" {
                approved.insert(family);
            } else {
                state.pending.insert(family, status);
            }
        }
        state.pending.retain(|family, _| !approved.contains(family));
        for (person, deadline) in unconfirmed {
            let from = guanai_rules::parse_date(&deadline)
                .map(|d| Month::of(d).next())
                .map_err(|e| PayError::Invalid(format!("re-confirmation deadline: {e}")))?;
            let entry = state
                .suspended
                .entry(person)
                .or_insert((from, deadline.clone()));
            if from < entry.0 {
                *entry = (from, deadline);
            }
        }
        state.balances = balances.into_iter().collect();
        state.awards = awards.into_iter().map(|(f, k, r)| ((f, k), r)).collect();
        for (person, reported) in flags {
            state.flags.entry(person).or_default().push(reported);
        }
        for (person, status, fact, note) in transfers {
            state.last_transfer.insert(person, (status, fact, note));
        }
        for claim in self.payable_claims(chunk).await? {
            state
                .claims
                .entry(claim.family_id.clone())
                .or_default()
                .push(claim);
        }
        // The blind index of the ID number in force (the lookup keeps one per number recorded).
        for (person, index) in blind {
            let index: [u8; 32] = bulk::from_hex(&index)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    PayError::Invalid(format!("blind index of {person} is not 32 bytes of hex"))
                })?;
            state.blind.insert(person, index);
        }
        Ok(state)
    }
}

/// Plans one family: lines, netting, transfers, problems, postings, the new position.
fn plan_family(
    file: &FamilyFile,
    state: &ChunkState,
    window: &Window,
    policy: &Policy,
    known_at: Timestamp,
    plan: &mut Plan,
) -> Result<(), PayError> {
    let family_id = file.family_id.as_str();
    let family_arc: Arc<str> = Arc::from(family_id);
    let person_arcs: HashMap<&str, Arc<str>> = file
        .persons
        .iter()
        .map(|p| (p.person_id.as_str(), Arc::from(p.person_id.as_str())))
        .collect();
    let arc_of = |person: &str| {
        person_arcs
            .get(person)
            .cloned()
            .unwrap_or_else(|| Arc::from(person))
    };
    let problem =
        |code: &'static str, person: Option<&str>, detail: String, blocking: bool| ProblemRow {
            family_id: family_id.to_owned(),
            person_id: person.map(str::to_owned),
            code,
            detail,
            blocking,
            transfer: None,
        };
    // The engine's facts for every month of the window.
    let mut months = Vec::new();
    let mut m = window.first;
    while m <= window.month {
        match file.engine_family(m, Some(known_at)) {
            Ok(f) => months.push((m, f)),
            Err(e) => {
                plan.problems.push(problem(
                    "not_evaluated",
                    None,
                    format!("档案不完整，未计算：{e}"),
                    false,
                ));
                return Ok(());
            }
        }
        m = m.next();
    }
    let Some((_, now)) = months.last() else {
        return Ok(());
    };
    let facts = |month: Month| -> &guanai_rules::Family {
        months
            .iter()
            .find(|(m, _)| *m == month)
            .map_or(now, |(_, f)| f)
    };
    let parents: Vec<&str> = file
        .persons
        .iter()
        .filter(|p| p.relation.is_parent())
        .map(|p| p.person_id.as_str())
        .collect();
    // The primary payee: the first parent alive without a later child; for an orphan, a guardian.
    let alive_at_run = |i: usize| {
        now.parents().get(i).is_some_and(|p| {
            !p.death_date.is_some_and(|d| counts_in(d, window.month))
                && !p
                    .later_child_date
                    .is_some_and(|d| counts_in(d, window.month))
        })
    };
    let primary: Option<&str> = (0..parents.len())
        .find(|i| alive_at_run(*i))
        .and_then(|i| parents.get(i).copied())
        .or_else(|| {
            file.persons
                .iter()
                .find(|p| p.relation == Relation::Guardian)
                .or_else(|| file.persons.iter().find(|p| p.relation == Relation::Child))
                .map(|p| p.person_id.as_str())
        });

    let mut booked = match state.booked.get(family_id) {
        Some(text) => Booked::parse(text)?,
        None => Booked::default(),
    };
    let FamilyDue {
        mut lines,
        beyond_limit,
        grant_without_payee,
    } = family_lines_until(
        &facts,
        &parents,
        primary,
        &booked,
        window,
        policy,
        state.ended.get(family_id).copied(),
    );
    plan.beyond_limit += beyond_limit.get();
    if beyond_limit > Fen::ZERO {
        plan.problems.push(problem(
            "beyond_limit",
            None,
            format!(
                "补发超出政策期限（{} 之前）的金额 {beyond_limit} 元未发放",
                window.arrears_from
            ),
            false,
        ));
    }
    if let Some(kind) = grant_without_payee {
        plan.problems.push(problem(
            "no_payee",
            None,
            format!("{}应发放，但家庭无可收款人", kind.as_zh()),
            false,
        ));
    }
    // A grant awarded before and recovered must not be awarded again silently.
    lines.retain(|l| {
        if l.nature != Nature::Grant {
            return true;
        }
        match state
            .awards
            .get(&(family_id.to_owned(), l.kind.as_str().to_owned()))
        {
            Some(run) => {
                plan.problems.push(problem(
                    "grant_awarded",
                    Some(&l.person),
                    format!(
                        "{}已在批次 {run} 发放过（后被追回），不再自动发放，请人工核定",
                        l.kind.as_zh()
                    ),
                    false,
                ));
                false
            }
            None => true,
        }
    });

    // Casework gates (issue 6): an application not yet approved pays nothing; a parent not
    // re-confirmed by the deadline is paid nothing more from the month after it. Recoveries stay:
    // money not due is recovered whatever the casework says. What is held back now is due again,
    // as arrears, in the first run after the approval or the confirmation.
    if let Some(status) = state.pending.get(family_id) {
        let held = lines.iter().filter(|l| l.due > l.booked).count();
        lines.retain(|l| l.due <= l.booked);
        if held > 0 {
            let status = crate::casework::Status::parse(status).map_or("?", |s| s.as_zh());
            plan.problems.push(problem(
                "enrolment_pending",
                None,
                format!("申请尚未批准（{status}），{held} 条应发款项暂不发放"),
                false,
            ));
        }
    }
    let mut withheld: Vec<(String, Month, String)> = Vec::new();
    lines.retain(|l| match state.suspended.get(&l.person) {
        Some((from, deadline)) if l.for_month >= *from && l.due > l.booked => {
            if !withheld.iter().any(|(p, _, _)| *p == l.person) {
                withheld.push((l.person.clone(), *from, deadline.clone()));
            }
            false
        }
        _ => true,
    });
    for (person, from, deadline) in withheld {
        plan.problems.push(problem(
            "reconfirm_missing",
            Some(&person),
            format!("未在 {deadline} 前完成年度资格确认，自 {from} 起暂停发放，确认后补发"),
            false,
        ));
    }

    // Approved claims (二(三) medical relief, 二(五) funeral reimbursement), paid by county finance.
    let mut claim_ids: HashMap<usize, String> = HashMap::new();
    for claim in state.claims.get(family_id).into_iter().flatten() {
        let Some(kind) = LineKind::parse(&claim.kind) else {
            continue;
        };
        claim_ids.insert(lines.len(), claim.claim_id.clone());
        lines.push(DueLine {
            person: claim.person_id.clone(),
            kind,
            for_month: window.month,
            nature: Nature::Claim,
            amounts: Amounts {
                amount: claim.amount,
                standard: Fen::ZERO,
                county: claim.amount,
            },
            booked: Fen::ZERO,
            due: claim.amount,
        });
    }

    // Who is involved: persons with lines or with money owed.
    let county_of = |month: Month| facts(month).county();
    let mut persons: Vec<&str> = file.persons.iter().map(|p| p.person_id.as_str()).collect();
    persons.retain(|p| {
        lines.iter().any(|l| l.person == *p)
            || state
                .balances
                .get(&format!("payable:{p}"))
                .is_some_and(|b| *b != 0)
    });
    let debt_before = state
        .balances
        .get(&format!("receivable:{family_id}"))
        .copied()
        .unwrap_or(0);
    if persons.is_empty() && lines.is_empty() {
        return Ok(());
    }
    let current = file.current(Some(known_at));
    let account_of = |person: &str| {
        current.iter().rev().find_map(|f| match &f.value {
            Some(FactValue::BankAccount { bank, account })
                if f.person_id.as_ref().is_some_and(|p| p.as_str() == person) =>
            {
                Some((f.fact_id.as_str().to_owned(), bank.clone(), account.clone()))
            }
            _ => None,
        })
    };
    let died_on_file = |person: &str| {
        current.iter().find_map(|f| match f.value {
            Some(FactValue::Death { .. })
                if f.person_id.as_ref().is_some_and(|p| p.as_str() == person) =>
            {
                f.valid_from
            }
            _ => None,
        })
    };
    let payees: Vec<Payee> = persons
        .iter()
        .map(|p| Payee {
            // Payable accounts are credit-normal: what is owed is minus the balance.
            before: Fen(-state
                .balances
                .get(&format!("payable:{p}"))
                .copied()
                .unwrap_or(0)),
            lines: lines
                .iter()
                .filter(|l| l.person == *p)
                .fold(Fen::ZERO, |s, l| s + l.amounts.amount),
            can_receive: died_on_file(p).is_none(),
            blocked: None,
        })
        .collect();
    let primary_index = primary.and_then(|q| persons.iter().position(|p| *p == q));
    let netting = net_family(&payees, primary_index, Fen(debt_before));

    // Lines (their postings — Dr funding by source, Cr the person's payable — are made from the
    // lines on approval).
    let county_now = county_of(window.month);
    for (i, l) in lines.iter().enumerate() {
        let county = county_of(l.for_month.max(window.first).min(window.month));
        if l.nature == Nature::Grant {
            plan.grants
                .push((family_id.to_owned(), l.kind.as_str(), plan.lines.len()));
        }
        if l.nature != Nature::Claim {
            booked.add(&l.person, l.kind, l.for_month, l.amounts);
        }
        plan.lines.push(LineRow {
            family_id: family_arc.clone(),
            person_id: arc_of(&l.person),
            county,
            kind: l.kind.as_str(),
            nature: l.nature.as_str(),
            for_month: l.for_month,
            amounts: l.amounts,
            booked: l.booked.get(),
            due: l.due.get(),
            version: file.version,
            claim_id: claim_ids.get(&i).cloned(),
        });
    }
    // Netting within the family, debt, and debt set off.
    let payable = |i: usize| format!("payable:{}", persons[i]);
    for (from, to, amount) in &netting.moves {
        plan.postings
            .push((payable(*from), Some(family_id.to_owned()), amount.get()));
        plan.postings
            .push((payable(*to), Some(family_id.to_owned()), -amount.get()));
    }
    let receivable = format!("receivable:{family_id}");
    if netting.new_debt > Fen::ZERO {
        plan.postings.push((
            receivable.clone(),
            Some(family_id.to_owned()),
            netting.new_debt.get(),
        ));
        // The payables that were negative are brought back to zero.
        for (i, amount) in &netting.debt_from {
            plan.postings
                .push((payable(*i), Some(family_id.to_owned()), -amount.get()));
        }
        plan.problems.push(problem(
            "debt",
            None,
            format!(
                "追回款 {} 元无法在家庭发放中抵扣，记为应收（待追缴）",
                netting.new_debt
            ),
            false,
        ));
    }
    if netting.debt_offset > Fen::ZERO {
        for (i, amount) in &netting.offset_from {
            plan.postings
                .push((payable(*i), Some(family_id.to_owned()), amount.get()));
        }
        plan.postings.push((
            receivable,
            Some(family_id.to_owned()),
            -netting.debt_offset.get(),
        ));
    }

    // Transfers, with the checks a finance officer needs before money leaves.
    for (i, amount) in &netting.transfers {
        let person = persons[*i];
        let index = plan.transfers.len();
        let account = account_of(person);
        let mut blockers: Vec<(&'static str, String)> = Vec::new();
        match &account {
            None => blockers.push(("no_account", "没有银行账户，无法代发".to_owned())),
            Some((_, bank, number)) => {
                if let Err(why) = check_account(bank, number) {
                    blockers.push(("invalid_account", format!("银行账户无效：{why}")));
                }
            }
        }
        if let Some(reported) = state.flags.get(person) {
            let on_file = died_on_file(person).map(|d| d.to_string());
            for r in reported {
                if on_file.as_deref() != Some(r.as_str()) {
                    blockers.push((
                        "death_reported",
                        format!("死亡比对显示该人员已于 {r} 去世，档案未记载"),
                    ));
                }
            }
        }
        if let (Some((status, Some(fact), note)), Some((current_fact, _, _))) =
            (state.last_transfer.get(person), &account)
            && status == "failed"
            && fact == current_fact
        {
            blockers.push((
                "account_failed",
                format!("上次代发被银行退回（{note}），银行账户尚未更正"),
            ));
        }
        for (code, detail) in blockers {
            plan.problems.push(ProblemRow {
                family_id: family_id.to_owned(),
                person_id: Some(person.to_owned()),
                code,
                detail,
                blocking: true,
                transfer: Some(index),
            });
        }
        plan.transfers.push(TransferRow {
            family_id: family_arc.clone(),
            person_id: arc_of(person),
            county: county_now,
            amount: amount.get(),
            account_fact: account.map(|a| a.0),
            blind_index: state.blind.get(person).copied(),
            status: "pending",
            note: String::new(),
        });
    }
    for (i, amount, why) in &netting.held {
        plan.transfers.push(TransferRow {
            family_id: family_arc.clone(),
            person_id: arc_of(persons[*i]),
            county: county_now,
            amount: amount.get(),
            account_fact: None,
            blind_index: None,
            status: "held",
            note: why.clone(),
        });
        plan.problems.push(problem(
            "held",
            Some(persons[*i]),
            format!("{amount} 元暂缓发放：{why}"),
            false,
        ));
    }
    if !lines.is_empty() {
        plan.positions.push((family_arc.clone(), booked.to_text()));
    }
    Ok(())
}

/// A bank account a batch payment can go to: a bank name and 12–30 digits.
pub(crate) fn check_account(bank: &str, number: &str) -> Result<(), String> {
    if bank.trim().is_empty() {
        return Err("开户行为空".to_owned());
    }
    let digits: String = number.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("账号只能是数字".to_owned());
    }
    if !(12..=30).contains(&digits.len()) {
        return Err(format!("账号应为 12–30 位数字，实为 {} 位", digits.len()));
    }
    Ok(())
}

/// Rows as one JSON value for a bulk insert.
fn json<T: serde::Serialize + ?Sized>(rows: &T) -> Result<String, PayError> {
    serde_json::to_string(rows).map_err(|e| PayError::Invalid(format!("payment rows: {e}")))
}
