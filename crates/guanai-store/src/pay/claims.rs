//! Claims paid through payment runs: funeral reimbursement (二(五)) and medical relief (二(三)).
//! The rules engine decides ([`decide_funeral`], [`decide_medical`]) from the family's facts for
//! the claim's month; this module checks the input, reads what was granted before under the
//! family's lock, and records every decision — granted or refused — with the evidence the
//! caseworker saw and the explanation in Chinese. A refusal is recorded and returned, not an
//! error: the caseworker prints it. Payment runs pay what [`Archive::payable_claims`] lists.

use guanai_pay::LineKind;
use guanai_rules::explain::Lang;
use guanai_rules::{
    ClaimDecision, ClaimKind, ClaimRefusal, Fen, FuneralClaim, HospitalLevel, MedicalClaim, Month,
    Policy, decide_funeral, decide_medical,
};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::{TimeZone, offset};
use serde_json::json;

use super::PayError;
use crate::archive::{Archive, now_micros};
use crate::error::StoreError;
use crate::file::{FamilyFile, FileError};
use crate::model::{Actor, FactValue, FamilyId, PersonId};
use crate::on_db;

/// How often a claim is decided again when the family's file changed between reading the facts
/// and recording the decision.
const ATTEMPTS: usize = 3;

const APPROVED: &str = "approved";
const REFUSED: &str = "refused";

/// A claim for medical relief (二(三)) for one treatment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicalClaimInput {
    pub family: FamilyId,
    /// The parent treated.
    pub person: PersonId,
    pub treated_on: Date,
    pub hospital: String,
    pub hospital_level: HospitalLevel,
    /// The costs within the insurance scope (医保范围内的医药费用).
    pub total: Fen,
    /// What the insurance paid of `total`.
    pub insurance_paid: Fen,
    /// What the caseworker saw: invoice and settlement numbers …
    pub evidence: String,
}

/// A claim for the reimbursement of a deceased parent's basic funeral service fees (二(五)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuneralClaimInput {
    pub family: FamilyId,
    /// The deceased parent (the death must be on file).
    pub person: PersonId,
    /// The amount of the basic funeral service fee invoice.
    pub invoice: Fen,
    pub invoice_no: String,
    pub cremated: bool,
    pub funeral_home: String,
    /// The funeral home is one of the city's (本市殡仪馆).
    pub city_funeral_home: bool,
    /// What the caseworker saw: invoice, cremation certificate …
    pub evidence: String,
}

/// A recorded claim and its decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimView {
    pub claim_id: String,
    pub family_id: String,
    pub person_id: String,
    /// `funeral_reimbursement` or `medical_relief` (the payment line kinds).
    pub kind: String,
    /// `approved` or `refused`.
    pub status: String,
    /// Granted (zero when refused).
    pub amount: Fen,
    /// The invoice, or the personal burden after insurance.
    pub claimed: Fen,
    /// The treatment date, or the date of death (the filing date when no death is on file).
    pub event_date: String,
    /// The claim's particulars as JSON (hospital, amounts, invoice number, funeral home …).
    pub details: String,
    /// The explanation in Chinese, one step a line, or the refusal; then the policy pack.
    pub decision: String,
    pub evidence: String,
    pub policy_name: String,
    pub recorded_at: Timestamp,
    pub recorded_by: String,
    /// The payment run and line that pay it, once a run took it.
    pub run_id: Option<String>,
    pub line_no: Option<i64>,
}

/// A claim row as stored (the columns of [`columns!`], in order).
type ClaimRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<i64>,
);

macro_rules! columns {
    () => {
        "claim_id, family_id, person_id, kind, status, amount, claimed, event_date, details, \
         evidence, decision, policy_name, recorded_at, recorded_by, run_id, line_no"
    };
}

/// A claim ready to be decided under the family's lock.
struct Filing<'a> {
    file: &'a FamilyFile,
    person: &'a PersonId,
    kind: ClaimKind,
    claimed: Fen,
    event_date: Date,
    details: serde_json::Value,
    evidence: &'a str,
}

/// Why a claim was not recorded (nothing was written).
enum NotRecorded {
    /// The family's file changed after its facts were read: decide again.
    FileChanged,
    /// The funeral index refused a second approval written at the same moment.
    FuneralTaken,
}

impl Archive {
    /// Decides a claim for medical relief (二(三)) with the facts of the treatment's month and
    /// the relief already granted to the parent that calendar year, and records the decision.
    pub async fn file_medical_claim(
        &self,
        input: &MedicalClaimInput,
        policy: &Policy,
        actor: &Actor,
    ) -> Result<ClaimView, PayError> {
        check_text("--evidence", &input.evidence)?;
        check_text("--hospital", &input.hospital)?;
        for (field, amount) in [
            ("--total", input.total),
            ("--insurance-paid", input.insurance_paid),
        ] {
            if amount < Fen::ZERO {
                return Err(PayError::Invalid(format!(
                    "{field}: must not be negative, not {amount}"
                )));
            }
        }
        if input.insurance_paid > input.total {
            return Err(PayError::Invalid(format!(
                "--insurance-paid: {} is more than --total {}",
                input.insurance_paid, input.total
            )));
        }
        let today = today();
        if input.treated_on > today {
            return Err(PayError::Invalid(format!(
                "--treated-on: {} is in the future (today is {today})",
                input.treated_on
            )));
        }
        let month = Month::of(input.treated_on);
        for _ in 0..ATTEMPTS {
            let (file, parent) = self.claimant(&input.family, &input.person).await?;
            let family = file
                .engine_family(month, None)
                .map_err(|e| facts_error(&input.family, month, e))?;
            let filing = Filing {
                file: &file,
                person: &input.person,
                kind: ClaimKind::MedicalRelief,
                claimed: input.total - input.insurance_paid,
                event_date: input.treated_on,
                details: json!({
                    "hospital": input.hospital.trim(),
                    "hospital_level": input.hospital_level.as_str(),
                    "total": input.total.get(),
                    "insurance_paid": input.insurance_paid.get(),
                }),
                evidence: input.evidence.trim(),
            };
            let decide = |reimbursed_this_year: Fen| {
                let claim = MedicalClaim {
                    treated_on: input.treated_on,
                    hospital_level: input.hospital_level,
                    total: input.total,
                    insurance_paid: input.insurance_paid,
                    reimbursed_this_year,
                };
                decide_medical(&family, parent, &claim, policy)
            };
            if let Some(view) = self.record_claim(&filing, decide, policy, actor).await? {
                return Ok(view);
            }
        }
        Err(changed(&input.family))
    }

    /// Decides a claim for a deceased parent's basic funeral service fees (二(五)) with the
    /// facts of the month after the death, and records the decision. A parent's funeral fees
    /// are reimbursed once: a claim after an approved one is an error naming it.
    pub async fn file_funeral_claim(
        &self,
        input: &FuneralClaimInput,
        policy: &Policy,
        actor: &Actor,
    ) -> Result<ClaimView, PayError> {
        check_text("--evidence", &input.evidence)?;
        check_text("--invoice-no", &input.invoice_no)?;
        if input.cremated {
            check_text("--funeral-home", &input.funeral_home)?;
        }
        if input.invoice <= Fen::ZERO {
            return Err(PayError::Invalid(format!(
                "--invoice: must be more than 0, not {}",
                input.invoice
            )));
        }
        for _ in 0..ATTEMPTS {
            let (file, parent) = self.claimant(&input.family, &input.person).await?;
            let died = date_of_death(&file, &input.person);
            // Without a death the rules refuse (ParentNotDead); the facts of today's month serve.
            let event_date = died.unwrap_or_else(today);
            let month = died.map_or(Month::of(event_date), Month::effective_from);
            let family = file
                .engine_family(month, None)
                .map_err(|e| facts_error(&input.family, month, e))?;
            let filing = Filing {
                file: &file,
                person: &input.person,
                kind: ClaimKind::FuneralReimbursement,
                claimed: input.invoice,
                event_date,
                details: json!({
                    "invoice": input.invoice.get(),
                    "invoice_no": input.invoice_no.trim(),
                    "cremated": input.cremated,
                    "funeral_home": input.funeral_home.trim(),
                    "city_funeral_home": input.city_funeral_home,
                    "died": died.map(|d| d.to_string()),
                }),
                evidence: input.evidence.trim(),
            };
            // An earlier approval is refused before the rules are asked (see `record_claim`).
            let decide = |_: Fen| {
                let claim = FuneralClaim {
                    invoice: input.invoice,
                    cremated: input.cremated,
                    city_funeral_home: input.city_funeral_home,
                    already_reimbursed: false,
                };
                decide_funeral(&family, parent, &claim, policy)
            };
            if let Some(view) = self.record_claim(&filing, decide, policy, actor).await? {
                return Ok(view);
            }
        }
        Err(changed(&input.family))
    }

    /// A family's claims, oldest first.
    pub async fn claims_of(&self, family: &FamilyId) -> Result<Vec<ClaimView>, PayError> {
        let rows: Vec<ClaimRow> = on_db!(self.db(), pool => {
            sqlx::query_as(concat!("SELECT ", columns!(), " FROM claim WHERE family_id = $1 ORDER BY recorded_at, claim_id"))
                .bind(family.as_str())
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(view).collect()
    }

    /// One claim by its id.
    pub async fn claim(&self, claim_id: &str) -> Result<ClaimView, PayError> {
        let row: Option<ClaimRow> = on_db!(self.db(), pool => {
            sqlx::query_as(concat!("SELECT ", columns!(), " FROM claim WHERE claim_id = $1"))
                .bind(claim_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(view)
            .unwrap_or_else(|| Err(PayError::Invalid(format!("--claim: no claim {claim_id}"))))
    }

    /// The approved claims of these families that no payment run has taken yet and that pay
    /// something, by family and then oldest first (the order of `families` is not kept).
    pub async fn payable_claims(&self, families: &[FamilyId]) -> Result<Vec<ClaimView>, PayError> {
        let mut out = Vec::new();
        for chunk in families.chunks(500) {
            let rows: Vec<ClaimRow> = on_db!(self.db(), pool => {
                let mut q = sqlx::QueryBuilder::new(concat!(
                    "SELECT ", columns!(), " FROM claim WHERE status = 'approved' AND amount > 0 AND run_id IS NULL AND family_id IN ("
                ));
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(id.as_str());
                }
                list.push_unseparated(")");
                q.build_query_as().fetch_all(pool).await?
            });
            for row in rows {
                out.push(view(row)?);
            }
        }
        out.sort_by(|a, b| {
            (&a.family_id, a.recorded_at, &a.claim_id).cmp(&(
                &b.family_id,
                b.recorded_at,
                &b.claim_id,
            ))
        });
        Ok(out)
    }

    /// The family's file and the claimant's index among its parents, in the order the rules
    /// engine sees them ([`FamilyFile::engine_family`]).
    async fn claimant(
        &self,
        family: &FamilyId,
        person: &PersonId,
    ) -> Result<(FamilyFile, usize), PayError> {
        let file = self.family_file(family).await?;
        let index = file
            .persons
            .iter()
            .filter(|p| p.relation.is_parent())
            .position(|p| &p.person_id == person)
            .ok_or_else(|| {
                PayError::Invalid(format!(
                    "--person: {person} is not a parent of family {family}"
                ))
            })?;
        Ok((file, index))
    }

    /// Decides and records a claim in one transaction that holds the family's row, so that
    /// claims of one family are decided one at a time and against the facts that were read.
    /// `decide` gets what this kind of claim granted the person in the event's year. `None`:
    /// the file changed since it was read; nothing was written.
    async fn record_claim(
        &self,
        filing: &Filing<'_>,
        decide: impl FnOnce(Fen) -> Result<ClaimDecision, ClaimRefusal>,
        policy: &Policy,
        actor: &Actor,
    ) -> Result<Option<ClaimView>, PayError> {
        let claim_id = new_claim_id();
        let family = filing.file.family_id.as_str();
        let person = filing.person.as_str();
        let kind = kind_str(filing.kind);
        let year = i64::from(filing.event_date.year());
        let now = now_micros();
        let recorded = on_db!(self.db(), pool => {
            let mut tx = pool.begin().await?;
            // A write first: it takes the row lock (PostgreSQL) or the write lock (SQLite)
            // before anything is read, and fails if the file changed since it was read.
            let locked = sqlx::query("UPDATE family SET version = version WHERE family_id = $1 AND version = $2")
                .bind(family)
                .bind(filing.file.version)
                .execute(&mut *tx)
                .await?;
            if locked.rows_affected() == 0 {
                tx.rollback().await?;
                Err(NotRecorded::FileChanged)
            } else {
                let granted: i64 = match filing.kind {
                    ClaimKind::MedicalRelief => {
                        sqlx::query_scalar(
                            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM claim \
                             WHERE person_id = $1 AND kind = $2 AND year = $3 AND status = 'approved'",
                        )
                        .bind(person)
                        .bind(kind)
                        .bind(year)
                        .fetch_one(&mut *tx)
                        .await?
                    }
                    ClaimKind::FuneralReimbursement => {
                        let first: Option<String> = sqlx::query_scalar(
                            "SELECT claim_id FROM claim WHERE person_id = $1 AND kind = $2 AND status = 'approved'",
                        )
                        .bind(person)
                        .bind(kind)
                        .fetch_optional(&mut *tx)
                        .await?;
                        if let Some(first) = first {
                            tx.rollback().await?;
                            return Err(funeral_again(Some(&first)));
                        }
                        0
                    }
                };
                let row = decided(filing, decide(Fen(granted)), claim_id, now, policy, actor);
                let inserted = sqlx::query(concat!(
                    "INSERT INTO claim (", columns!(), ", year) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
                ))
                .bind(&row.0)
                .bind(&row.1)
                .bind(&row.2)
                .bind(&row.3)
                .bind(&row.4)
                .bind(row.5)
                .bind(row.6)
                .bind(&row.7)
                .bind(&row.8)
                .bind(&row.9)
                .bind(&row.10)
                .bind(&row.11)
                .bind(row.12)
                .bind(&row.13)
                .bind(&row.14)
                .bind(row.15)
                .bind(year)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        tx.rollback().await?;
                        Err(NotRecorded::FuneralTaken)
                    }
                    Err(e) => return Err(e.into()),
                    Ok(_) => {
                        tx.commit().await?;
                        Ok(row)
                    }
                }
            }
        });
        let row = match recorded {
            Ok(row) => row,
            Err(NotRecorded::FileChanged) => return Ok(None),
            Err(NotRecorded::FuneralTaken) => {
                let first: Option<String> = on_db!(self.db(), pool => {
                    sqlx::query_scalar("SELECT claim_id FROM claim WHERE person_id = $1 AND kind = $2 AND status = 'approved'")
                        .bind(person)
                        .bind(kind)
                        .fetch_optional(pool)
                        .await?
                });
                return Err(funeral_again(first.as_deref()));
            }
        };
        let claim = view(row)?;
        self.audit(
            actor,
            "claim.file",
            &claim.claim_id,
            &format!(
                "{} {}: {} yuan for person {} of family {}",
                claim.kind, claim.status, claim.amount, claim.person_id, claim.family_id
            ),
        )
        .await?;
        Ok(Some(claim))
    }
}

/// The row of a decided claim: the amount and the explanation of a grant, or the refusal.
fn decided(
    filing: &Filing<'_>,
    outcome: Result<ClaimDecision, ClaimRefusal>,
    claim_id: String,
    now: i64,
    policy: &Policy,
    actor: &Actor,
) -> ClaimRow {
    let (status, amount, mut decision) = match outcome {
        Ok(granted) => (
            APPROVED,
            granted.amount,
            granted.render(Lang::Zh).join("\n"),
        ),
        Err(refusal) => (REFUSED, Fen::ZERO, refusal.render(Lang::Zh)),
    };
    decision.push_str("\n政策包：");
    decision.push_str(&policy.name);
    (
        claim_id,
        filing.file.family_id.to_string(),
        filing.person.to_string(),
        kind_str(filing.kind).to_owned(),
        status.to_owned(),
        amount.get(),
        filing.claimed.get(),
        filing.event_date.to_string(),
        filing.details.to_string(),
        filing.evidence.to_owned(),
        decision,
        policy.name.clone(),
        now,
        actor.name.clone(),
        None,
        None,
    )
}

fn view(row: ClaimRow) -> Result<ClaimView, PayError> {
    let recorded_at = Timestamp::from_microsecond(row.12).map_err(|e| {
        StoreError::Corrupt(format!("claim {}: recorded_at {}: {e}", row.0, row.12))
    })?;
    Ok(ClaimView {
        claim_id: row.0,
        family_id: row.1,
        person_id: row.2,
        kind: row.3,
        status: row.4,
        amount: Fen(row.5),
        claimed: Fen(row.6),
        event_date: row.7,
        details: row.8,
        evidence: row.9,
        decision: row.10,
        policy_name: row.11,
        recorded_at,
        recorded_by: row.13,
        run_id: row.14,
        line_no: row.15,
    })
}

/// The kind as stored: the payment line kind that pays it.
fn kind_str(kind: ClaimKind) -> &'static str {
    match kind {
        ClaimKind::MedicalRelief => LineKind::MedicalRelief.as_str(),
        ClaimKind::FuneralReimbursement => LineKind::FuneralReimbursement.as_str(),
    }
}

/// A new claim id: "C", then 12 hex digits of the current time in microseconds and 20 random
/// ones (time-ordered, like the archive's other ids).
fn new_claim_id() -> String {
    let micros = now_micros().max(0).unsigned_abs();
    let random = rand::random::<u128>() & ((1u128 << 80) - 1);
    format!(
        "C{:032x}",
        ((u128::from(micros) & 0xffff_ffff_ffff) << 80) | random
    )
}

/// The person's date of death as currently on file (the earliest, as the engine reads it).
fn date_of_death(file: &FamilyFile, person: &PersonId) -> Option<Date> {
    file.current(None)
        .into_iter()
        .filter(|f| f.person_id.as_ref() == Some(person))
        .filter(|f| matches!(f.value, Some(FactValue::Death { .. })))
        .filter_map(|f| f.valid_from)
        .min()
}

/// Today in Linyi (China Standard Time, UTC+8, no daylight saving).
fn today() -> Date {
    Timestamp::now().to_zoned(TimeZone::fixed(offset(8))).date()
}

fn check_text(field: &str, text: &str) -> Result<(), PayError> {
    if text.trim().is_empty() {
        Err(PayError::Invalid(format!("{field}: must not be empty")))
    } else {
        Ok(())
    }
}

fn facts_error(family: &FamilyId, month: Month, e: FileError) -> PayError {
    PayError::Invalid(format!(
        "--family: the file of {family} cannot be evaluated for {month}: {e}"
    ))
}

fn changed(family: &FamilyId) -> PayError {
    PayError::Invalid(format!(
        "--family: the file of {family} kept changing while the claim was decided; nothing was recorded — file the claim again"
    ))
}

fn funeral_again(first: Option<&str>) -> PayError {
    match first {
        Some(first) => PayError::Invalid(format!(
            "--person: this parent's funeral reimbursement was already approved (claim {first})"
        )),
        None => PayError::Invalid(
            "--person: another funeral claim for this parent was recorded at the same moment; nothing was recorded — look at the family's claims and file again if needed".to_owned(),
        ),
    }
}
