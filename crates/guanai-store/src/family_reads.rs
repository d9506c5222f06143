//! Everything a family's file shows beside its facts (payments and ledger, contacts, visits,
//! services and complaints, the care network, casework, change requests, documents), read in
//! one statement through `Reads` instead of a statement per section: with the session and the
//! file itself, a family page costs four statements. Each part is the same read, decoded the
//! same way, as the module that owns it uses alone; who may see which part is decided here as
//! in those modules' `Scoped` functions.

use guanai_rules::{Month, Policy, VillageCode};
use jiff::civil::Date;

use crate::access::{Role, User};
use crate::casework::{
    Applied, RosterLine, applied_from, applied_read, deadlines_from, deadlines_read,
    family_roster_from, family_roster_read,
};
use crate::changes::{ChangeRequest, changes_read};
use crate::complaints::{Complaint, complaints_read};
use crate::contacts::{Contact, contact_areas, contacts_read};
use crate::documents::{DocumentInfo, documents_read};
use crate::error::StoreError;
use crate::exits::{Exit, exit_from, exit_read};
use crate::file::FamilyFile;
use crate::network::{
    HelpRecord, Referral, help_from, help_read, paired_read, referrals_read, refusal_from,
    refusal_read, sessions_read,
};
use crate::pay::StatementLine;
use crate::pay::{LineView, family_lines_from, family_lines_read, statement_from, statement_read};
use crate::reads::Reads;
use crate::scope::Scoped;
use crate::services::{ChecklistItem, checklist_of, statuses_read};
use crate::visits::{
    DedicatedVisitor, PlannedVisit, VisitPlanSummary, VisitRecord, dedicated_from, dedicated_read,
    plan_from, plan_made_from, plan_made_read, plan_read, visits_from, visits_read,
};

/// Which parts of the file a page shows (the parts a user's role may not see are left out
/// whatever is asked).
#[derive(Debug, Clone)]
pub struct FileWants {
    /// Payment lines and the ledger statement.
    pub payments: bool,
    /// The service checklist of this month (二(三)–二(五), spec §6).
    pub checklist: Option<Month>,
    /// At most this many complaints about the family, newest first.
    pub complaints: Option<i64>,
    /// Paired volunteers, a refusal of pairing, and what volunteers did.
    pub volunteers: bool,
    /// The volunteers and counsellors who could be paired with or referred to the family.
    pub helpers: bool,
    /// Counselling referrals and their sessions.
    pub referrals: bool,
    /// Applications, the exit, and the re-confirmation lists of this year and the next.
    pub cases: bool,
    /// Change requests.
    pub changes: bool,
    /// Documents, withdrawn ones included.
    pub documents: bool,
    /// The year of the visit plan shown.
    pub visit_year: i16,
    pub today: Date,
}

/// The parts of a family's file beside its facts; `None` where not asked or not allowed.
#[derive(Debug, Clone, Default)]
pub struct FamilyReads {
    pub payments: Option<Payments>,
    /// The contact persons of the family's village, township, county and the city.
    pub contacts: Vec<Contact>,
    pub visit_plan: Vec<PlannedVisit>,
    pub visits: Vec<VisitRecord>,
    pub dedicated_visitor: Option<DedicatedVisitor>,
    /// When the whole archive's plan of the visit year was last made.
    pub plan_made: Option<VisitPlanSummary>,
    pub checklist: Option<Vec<ChecklistItem>>,
    pub complaints: Option<Vec<Complaint>>,
    pub volunteers: Option<Volunteers>,
    pub helpers: Vec<User>,
    pub referrals: Option<Vec<Referral>>,
    pub cases: Option<Cases>,
    pub changes: Option<Vec<ChangeRequest>>,
    pub documents: Option<Vec<DocumentInfo>>,
}

/// A family's payment lines across runs (with their run) and its ledger statement.
pub type Payments = (Vec<(String, LineView)>, Vec<StatementLine>);

/// The volunteers' side of the care network (二(一)).
#[derive(Debug, Clone, Default)]
pub struct Volunteers {
    /// (login, display name, organisation).
    pub paired: Vec<(String, String, Option<String>)>,
    pub refusal: Option<(Date, String)>,
    pub help: Vec<HelpRecord>,
}

/// A family's casework.
#[derive(Debug, Clone, Default)]
pub struct Cases {
    /// Applications, newest first.
    pub applied: Vec<Applied>,
    pub exit: Option<Exit>,
    /// Each re-confirmation year with a campaign (this year, the next): its deadline and the
    /// family's parents on its list.
    pub years: Vec<(i16, Date, Vec<RosterLine>)>,
}

impl Scoped<'_> {
    /// The parts of `file` a page shows, in one statement (the user must see the family).
    pub async fn family_reads(
        &self,
        file: &FamilyFile,
        village: Option<VillageCode>,
        policy: &Policy,
        wants: &FileWants,
    ) -> Result<FamilyReads, StoreError> {
        let family = &file.family_id;
        self.visibility(family)
            .await?
            .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))?;
        let role = self.user().role;
        let volunteer = role == Role::Volunteer;
        let mut reads = Reads::default();
        let mut ask = |read| reads.add(read);
        let payments = wants
            .payments
            .then(|| (ask(family_lines_read(family)), ask(statement_read(family))));
        let contacts = village.map(|v| contact_areas(v).map(|code| ask(contacts_read(&code))));
        let visit_plan = ask(plan_read(family, wants.visit_year));
        let visits = ask(visits_read(family));
        let dedicated = ask(dedicated_read(family));
        let plan_made = ask(plan_made_read(wants.visit_year));
        let checklist = wants
            .checklist
            .filter(|_| !volunteer)
            .map(|month| (month, ask(statuses_read(family))));
        let complaints = wants
            .complaints
            .filter(|_| self.sees_complaints().is_ok())
            .map(|limit| (limit, ask(complaints_read(family))));
        let volunteers = wants.volunteers.then(|| {
            (
                ask(paired_read(family)),
                ask(refusal_read(family)),
                ask(help_read(family)),
            )
        });
        let village_code = village.map(|v| v.to_string());
        let helpers = village_code.as_deref().filter(|_| wants.helpers).map(|v| {
            crate::access::helper_areas(v).map(|area| ask(crate::access::helpers_read(area)))
        });
        let referrals = (wants.referrals && !volunteer)
            .then(|| (ask(referrals_read(family)), ask(sessions_read(family))));
        // This year's and next year's re-confirmation.
        let (first, last) = (wants.today.year(), wants.today.year().saturating_add(1));
        let cases = wants.cases.then(|| {
            (
                ask(applied_read(family)),
                ask(exit_read(family)),
                ask(deadlines_read(first, last)),
                (!volunteer).then(|| ask(family_roster_read(first, last, family))),
            )
        });
        let changes = wants.changes.then(|| ask(changes_read(family)));
        let documents =
            (wants.documents && role.sees_documents()).then(|| ask(documents_read(family, true)));

        let answers = reads.run(self.archive.db()).await?;
        let archive = self.archive;
        Ok(FamilyReads {
            payments: match payments {
                Some((lines, statement)) => Some((
                    family_lines_from(answers.rows(lines)?),
                    statement_from(answers.rows(statement)?).map_err(pay_error)?,
                )),
                None => None,
            },
            contacts: match contacts {
                Some(slots) => {
                    let mut all = Vec::new();
                    for slot in slots {
                        all.extend(archive.contacts_from(answers.rows(slot)?)?);
                    }
                    all
                }
                None => Vec::new(),
            },
            visit_plan: plan_from(answers.rows(visit_plan)?)?,
            visits: visits_from(family, answers.rows(visits)?)?,
            dedicated_visitor: dedicated_from(answers.rows(dedicated)?),
            plan_made: plan_made_from(wants.visit_year, answers.rows(plan_made)?),
            checklist: match checklist {
                Some((month, slot)) => {
                    Some(checklist_of(file, month, policy, answers.rows(slot)?)?)
                }
                None => None,
            },
            complaints: match complaints {
                Some((limit, slot)) => {
                    Some(self.complaints_from(answers.rows(slot)?, policy, wants.today, limit)?)
                }
                None => None,
            },
            volunteers: match volunteers {
                Some((paired, refusal, help)) => Some(Volunteers {
                    paired: answers.rows(paired)?,
                    refusal: refusal_from(answers.rows(refusal)?)?,
                    help: help_from(answers.rows(help)?)?,
                }),
                None => None,
            },
            helpers: match helpers {
                Some(slots) => crate::access::helpers_from(
                    slots
                        .into_iter()
                        .map(|slot| answers.rows(slot))
                        .collect::<Result<_, _>>()?,
                )?,
                None => Vec::new(),
            },
            referrals: match referrals {
                Some((referrals, sessions)) => Some(archive.referrals_from(
                    family,
                    self.user(),
                    answers.rows(referrals)?,
                    answers.rows(sessions)?,
                )?),
                None => None,
            },
            cases: match cases {
                Some((applied, exit, deadlines, roster)) => {
                    let roster = match roster {
                        Some(slot) => family_roster_from(answers.rows(slot)?)?,
                        None => Vec::new(),
                    };
                    let years = deadlines_from(answers.rows(deadlines)?)?
                        .into_iter()
                        .map(|(year, deadline)| {
                            let lines = roster
                                .iter()
                                .filter(|(y, _)| *y == year)
                                .map(|(_, line)| line.clone())
                                .collect();
                            (year, deadline, lines)
                        })
                        .collect();
                    Some(Cases {
                        applied: applied_from(answers.rows(applied)?)?,
                        exit: exit_from(answers.rows(exit)?)?,
                        years,
                    })
                }
                None => None,
            },
            changes: match changes {
                Some(slot) => Some(archive.changes_from(answers.rows(slot)?)?),
                None => None,
            },
            documents: match documents {
                Some(slot) => Some(archive.documents_from(family, answers.rows(slot)?)?),
                None => None,
            },
        })
    }
}

/// The ledger's errors are the payment module's; reading a statement can only fail on stored
/// data.
fn pay_error(e: crate::pay::PayError) -> StoreError {
    match e {
        crate::pay::PayError::Store(e) => e,
        other => StoreError::Corrupt(other.to_string()),
    }
}
