//! The formulas of policy pack `linyi-2014` (spec `docs/policy-linyi-2014.md`): family category
//! (§3), monthly special assistance with its funding split (§4, 二(二)), one-time grants (§5,
//! 二(二)) and service entitlements (§6, 二(一)–二(五)), all under the timing rule (§1).
//! Pure and allocation-free: [`evaluate`] for bulk work, [`evaluate_traced`] to also record the
//! [`Reason`]s an explanation is rendered from.

use jiff::civil::Date;

use crate::calendar::{Month, counts_in, has_reached_age};
use crate::explain::{CategoryReason, GrantReason, ParentReason, Reason, Trace};
use crate::facts::{Family, Parent, Sex};
use crate::money::Fen;
use crate::policy::{Policy, RateTable};

/// Family category for a month (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// 失独: the only child died.
    Bereaved,
    /// 计划生育孤儿: the child is under 18 and every listed parent has died.
    Orphan,
    /// 伤残: the child is alive with disability grade 1–3.
    Disabled,
    None,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Bereaved => "bereaved",
            Category::Orphan => "orphan",
            Category::Disabled => "disabled",
            Category::None => "none",
        }
    }
}

/// The kind of monthly special assistance (特别扶助金).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MonthlyKind {
    BereavedAssistance,
    DisabledAssistance,
}

impl MonthlyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MonthlyKind::BereavedAssistance => "bereaved_assistance",
            MonthlyKind::DisabledAssistance => "disabled_assistance",
        }
    }
}

/// One parent's monthly special assistance: `amount = standard + county` (二(二)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthlyAssistance {
    pub kind: MonthlyKind,
    pub amount: Fen,
    /// Paid from higher-level (national/provincial) funds.
    pub standard: Fen,
    /// The raised part, paid by county finance (提高部分由县级财政承担).
    pub county: Fen,
}

/// The kinds of one-time grant (一次性救助), each at most once per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantKind {
    BereavedGrant,
    OrphanGrant,
    DisabledGrant,
}

impl GrantKind {
    pub const ALL: [GrantKind; 3] = [
        GrantKind::BereavedGrant,
        GrantKind::OrphanGrant,
        GrantKind::DisabledGrant,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::BereavedGrant => "bereaved_grant",
            GrantKind::OrphanGrant => "orphan_grant",
            GrantKind::DisabledGrant => "disabled_grant",
        }
    }
}

/// A one-time grant the family is entitled to as of the evaluated month; always paid by county finance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub kind: GrantKind,
    pub amount: Fen,
    /// The first month it was due.
    pub due_from: Month,
}

/// Service entitlements (spec §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ServiceKind {
    MedicalRelief,
    InsuranceContributionPaid,
    DibaoUplift,
    NursingHomePriority,
    NursingHomeFeeHalf,
    WubaoInclusion,
    HousingPriority,
    FuneralReimbursement,
    HolidayVisits,
    RegularVisits,
    DedicatedVisitor,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 11] = [
        ServiceKind::MedicalRelief,
        ServiceKind::InsuranceContributionPaid,
        ServiceKind::DibaoUplift,
        ServiceKind::NursingHomePriority,
        ServiceKind::NursingHomeFeeHalf,
        ServiceKind::WubaoInclusion,
        ServiceKind::HousingPriority,
        ServiceKind::FuneralReimbursement,
        ServiceKind::HolidayVisits,
        ServiceKind::RegularVisits,
        ServiceKind::DedicatedVisitor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::MedicalRelief => "medical_relief",
            ServiceKind::InsuranceContributionPaid => "insurance_contribution_paid",
            ServiceKind::DibaoUplift => "dibao_uplift",
            ServiceKind::NursingHomePriority => "nursing_home_priority",
            ServiceKind::NursingHomeFeeHalf => "nursing_home_fee_half",
            ServiceKind::WubaoInclusion => "wubao_inclusion",
            ServiceKind::HousingPriority => "housing_priority",
            ServiceKind::FuneralReimbursement => "funeral_reimbursement",
            ServiceKind::HolidayVisits => "holiday_visits",
            ServiceKind::RegularVisits => "regular_visits",
            ServiceKind::DedicatedVisitor => "dedicated_visitor",
        }
    }

    /// The notice's clause the service comes from.
    pub fn clause(self) -> &'static str {
        match self {
            ServiceKind::MedicalRelief | ServiceKind::InsuranceContributionPaid => "二(三)",
            ServiceKind::DibaoUplift
            | ServiceKind::NursingHomePriority
            | ServiceKind::NursingHomeFeeHalf
            | ServiceKind::WubaoInclusion => "二(四)",
            ServiceKind::HousingPriority | ServiceKind::FuneralReimbursement => "二(五)",
            ServiceKind::HolidayVisits
            | ServiceKind::RegularVisits
            | ServiceKind::DedicatedVisitor => "二(一)",
        }
    }
}

/// A set of services, one bit per [`ServiceKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServiceSet(u16);

impl ServiceSet {
    pub fn insert(&mut self, kind: ServiceKind) {
        self.0 |= 1 << kind as u16;
    }

    pub fn contains(self, kind: ServiceKind) -> bool {
        self.0 & (1 << kind as u16) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = ServiceKind> {
        ServiceKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }
}

/// Whom an entitlement belongs to: a parent (by input index) or the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Person {
    Parent(u8),
    Child,
}

/// Everything a family is entitled to for one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub month: Month,
    pub category: Category,
    /// Monthly assistance per parent, by parent input index.
    pub monthly: [Option<MonthlyAssistance>; 2],
    /// Grants listed as of this month, in the order of [`GrantKind::ALL`].
    pub one_time: [Option<Grant>; 3],
    /// Services per parent, by parent input index.
    pub parent_services: [ServiceSet; 2],
    /// Services attributed to the child (visits for an orphan family).
    pub child_services: ServiceSet,
}

impl Evaluation {
    /// Monthly assistance entries in parent input order.
    pub fn monthly(&self) -> impl Iterator<Item = (usize, &MonthlyAssistance)> {
        self.monthly
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.as_ref().map(|m| (i, m)))
    }

    pub fn grants(&self) -> impl Iterator<Item = &Grant> {
        self.one_time.iter().flatten()
    }

    /// All services with their holder.
    pub fn services(&self) -> impl Iterator<Item = (Person, ServiceKind)> + '_ {
        let parents = self
            .parent_services
            .iter()
            .enumerate()
            .flat_map(|(i, set)| set.iter().map(move |k| (Person::Parent(i as u8), k)));
        parents.chain(self.child_services.iter().map(|k| (Person::Child, k)))
    }

    /// Total monthly assistance for the family.
    pub fn monthly_total(&self) -> Fen {
        self.monthly().fold(Fen::ZERO, |sum, (_, m)| sum + m.amount)
    }
}

/// Evaluates a family for one month.
pub fn evaluate(family: &Family, month: Month, policy: &Policy) -> Evaluation {
    evaluate_traced(family, month, policy, &mut ())
}

/// Evaluates a family for one month, recording every rule applied in `trace`, in order.
pub fn evaluate_traced<T: Trace>(
    family: &Family,
    month: Month,
    policy: &Policy,
    trace: &mut T,
) -> Evaluation {
    let (category, why) = category(family, month, policy);
    trace.note(Reason::Category(category, why));
    let mut eval = Evaluation {
        month,
        category,
        monthly: [None; 2],
        one_time: [None; 3],
        parent_services: [ServiceSet::default(); 2],
        child_services: ServiceSet::default(),
    };
    let qualifying = matches!(category, Category::Bereaved | Category::Disabled);
    if qualifying && month < policy.programme_start {
        trace.note(Reason::ProgrammeNotStarted {
            programme_start: policy.programme_start,
        });
    }
    for (i, parent) in family.parents().iter().enumerate().take(2) {
        let who = i as u8;
        if qualifying {
            match monthly_for(family, parent, category, month, policy) {
                Ok((assistance, rows)) => {
                    trace.note(Reason::Paid {
                        parent: who,
                        assistance,
                        rows,
                    });
                    eval.monthly[i] = Some(assistance);
                }
                Err(why) => trace.note(Reason::NotPaid { parent: who, why }),
            }
        }
        let services = parent_services(family, parent, category, month, policy);
        if !services.is_empty() {
            trace.note(Reason::Services {
                person: Person::Parent(who),
                services,
            });
        }
        eval.parent_services[i] = services;
    }
    if category == Category::Orphan && policy.services.orphan_visits {
        let mut set = ServiceSet::default();
        set.insert(ServiceKind::HolidayVisits);
        set.insert(ServiceKind::RegularVisits);
        trace.note(Reason::Services {
            person: Person::Child,
            services: set,
        });
        eval.child_services = set;
    }
    for (slot, kind) in eval.one_time.iter_mut().zip(GrantKind::ALL) {
        match grant(family, kind, month, policy) {
            Ok(g) => {
                trace.note(Reason::GrantDue(g));
                *slot = Some(g);
            }
            Err(Some(why)) => trace.note(Reason::GrantNotDue { kind, why }),
            Err(None) => {}
        }
    }
    eval
}

/// An event counts for `month` (timing rule).
fn happened(date: Option<Date>, month: Month) -> bool {
    date.is_some_and(|d| counts_in(d, month))
}

/// Spec §3, in order: bereaved, orphan, disabled, none.
pub fn category(family: &Family, month: Month, policy: &Policy) -> (Category, CategoryReason) {
    let child = family.child();
    if let Some(died) = child.death_date.filter(|d| counts_in(*d, month)) {
        return (Category::Bereaved, CategoryReason::ChildDied { date: died });
    }
    let parents = family.parents();
    let orphaned = !parents.is_empty() && parents.iter().all(|p| happened(p.death_date, month));
    let minor = !has_reached_age(child.birth_date, policy.eligibility.orphan_age_limit, month);
    if orphaned && minor {
        return (
            Category::Orphan,
            CategoryReason::Orphan {
                child_birth: child.birth_date,
            },
        );
    }
    if let Some(d) = child.disability_in_force(month) {
        if d.grade.qualifies() {
            return (
                Category::Disabled,
                CategoryReason::Disabled {
                    grade: d.grade,
                    assessed: d.assessed,
                },
            );
        }
        return (
            Category::None,
            CategoryReason::GradeDoesNotQualify {
                grade: d.grade,
                assessed: d.assessed,
            },
        );
    }
    if let Some(first) = child.disabilities.first() {
        return (
            Category::None,
            CategoryReason::DisabilityNotYetInForce {
                assessed: first.assessed,
            },
        );
    }
    if let Some(died) = child.death_date {
        return (
            Category::None,
            CategoryReason::ChildDeathNotYetInForce { date: died },
        );
    }
    if orphaned {
        return (
            Category::None,
            CategoryReason::OrphanReachedAdulthood {
                child_birth: child.birth_date,
            },
        );
    }
    (Category::None, CategoryReason::NoQualifyingEvent)
}

/// The rate rows in force for a month: national, provincial and local (for explanations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatesApplied {
    pub national: Option<(Fen, Month)>,
    pub provincial: Option<(Fen, Month)>,
    pub local: Option<(Fen, Month)>,
}

/// Spec §4: eligibility of one parent and the amount with its funding split.
fn monthly_for(
    family: &Family,
    parent: &Parent,
    category: Category,
    month: Month,
    policy: &Policy,
) -> Result<(MonthlyAssistance, RatesApplied), ParentReason> {
    if month < policy.programme_start {
        return Err(ParentReason::ProgrammeNotStarted);
    }
    if let Some(date) = parent.death_date.filter(|d| counts_in(*d, month)) {
        return Err(ParentReason::Died { date });
    }
    if parent.birth_date < policy.eligibility.earliest_birth_date {
        return Err(ParentReason::BornBeforeCutoff {
            cutoff: policy.eligibility.earliest_birth_date,
        });
    }
    if let Some(date) = parent.later_child_date.filter(|d| counts_in(*d, month)) {
        return Err(ParentReason::LaterChild { date });
    }
    age_condition(family, month, policy)?;
    let kind = match category {
        Category::Bereaved => MonthlyKind::BereavedAssistance,
        _ => MonthlyKind::DisabledAssistance,
    };
    let rates = rates(kind, family, month, policy);
    let standard = rates
        .national
        .map_or(Fen::ZERO, |r| r.0)
        .max(rates.provincial.map_or(Fen::ZERO, |r| r.0));
    let amount = standard.max(rates.local.map_or(Fen::ZERO, |r| r.0));
    Ok((
        MonthlyAssistance {
            kind,
            amount,
            standard,
            county: amount - standard,
        },
        rates,
    ))
}

fn rates(kind: MonthlyKind, family: &Family, month: Month, policy: &Policy) -> RatesApplied {
    let pick = |table| {
        policy.row_in_force(table, month).map(|row| {
            let by = match kind {
                MonthlyKind::BereavedAssistance => &row.bereaved,
                MonthlyKind::DisabledAssistance => &row.disabled,
            };
            (by.get(family.hukou()), row.from)
        })
    };
    RatesApplied {
        national: pick(RateTable::National),
        provincial: pick(RateTable::Provincial),
        local: pick(RateTable::Local),
    }
}

/// The age condition (spec §4), the same for both parents: the mother must have reached 49;
/// where no mother is listed, or she has died before her 49th birthday, the father must have.
fn age_condition(family: &Family, month: Month, policy: &Policy) -> Result<(), ParentReason> {
    let age = policy.eligibility.assistance_age;
    let mother = family.mother();
    let mother_died_young = mother.is_some_and(|m| {
        m.death_date.is_some_and(|d| {
            counts_in(d, month)
                && crate::calendar::birthday(m.birth_date, age).is_none_or(|b| d < b)
        })
    });
    match mother {
        Some(m) if !mother_died_young => {
            if has_reached_age(m.birth_date, age, month) {
                Ok(())
            } else {
                Err(ParentReason::MotherUnderAge {
                    mother_birth: m.birth_date,
                })
            }
        }
        _ => {
            let father = family.parents().iter().find(|p| p.sex == Sex::Male);
            match father {
                Some(f) if has_reached_age(f.birth_date, age, month) => Ok(()),
                Some(f) => Err(ParentReason::FatherUnderAge {
                    father_birth: f.birth_date,
                    mother_died_young,
                }),
                None => Err(ParentReason::NoParentOfAge),
            }
        }
    }
}

/// Spec §6: services of one parent.
fn parent_services(
    family: &Family,
    parent: &Parent,
    category: Category,
    month: Month,
    policy: &Policy,
) -> ServiceSet {
    let mut set = ServiceSet::default();
    let bereaved = category == Category::Bereaved;
    if let Some(died) = parent.death_date.filter(|d| counts_in(*d, month)) {
        let child_died_first = family.child().death_date.is_some_and(|c| c <= died);
        let later_child_before_death = parent.later_child_date.is_some_and(|l| l < died);
        if child_died_first && !later_child_before_death {
            set.insert(ServiceKind::FuneralReimbursement);
        }
        return set;
    }
    if !(bereaved || category == Category::Disabled) || happened(parent.later_child_date, month) {
        return set;
    }
    let e = &policy.eligibility;
    if has_reached_age(parent.birth_date, e.assistance_age, month) {
        set.insert(ServiceKind::MedicalRelief);
    }
    if parent.dibao || parent.wubao {
        set.insert(ServiceKind::InsuranceContributionPaid);
    }
    let elderly = has_reached_age(parent.birth_date, e.elderly_age, month);
    if bereaved && parent.dibao {
        set.insert(ServiceKind::DibaoUplift);
    }
    if bereaved {
        set.insert(ServiceKind::NursingHomePriority);
        set.insert(ServiceKind::NursingHomeFeeHalf);
    }
    if elderly && parent.wubao {
        set.insert(ServiceKind::WubaoInclusion);
    }
    set.insert(ServiceKind::HousingPriority);
    set.insert(ServiceKind::HolidayVisits);
    set.insert(ServiceKind::RegularVisits);
    if bereaved && (elderly || parent.chronically_ill) {
        set.insert(ServiceKind::DedicatedVisitor);
    }
    set
}

/// Whether a grant's condition holds in `month` (spec §5), and its amount then.
fn grant_condition(family: &Family, kind: GrantKind, month: Month, policy: &Policy) -> Option<Fen> {
    let some_parent_qualifies = || {
        family
            .parents()
            .iter()
            .any(|p| !happened(p.death_date, month) && !happened(p.later_child_date, month))
    };
    let (category, _) = category(family, month, policy);
    match kind {
        GrantKind::BereavedGrant => (category == Category::Bereaved && some_parent_qualifies())
            .then_some(policy.one_time.bereaved_grant),
        GrantKind::OrphanGrant => {
            (category == Category::Orphan).then_some(policy.one_time.orphan_grant)
        }
        GrantKind::DisabledGrant => {
            let child = family.child();
            let d = child
                .disability_in_force(month)
                .filter(|d| d.grade.qualifies())?;
            if happened(child.death_date, month) || !some_parent_qualifies() {
                return None;
            }
            policy.one_time.disabled_grant(d.grade)
        }
    }
}

/// Spec §5: a grant is listed for `month` when its condition held in some month from the pack's
/// start through `month`. The condition can only change where an event takes effect, so it is
/// enough to test the start month and every such month. `Err(None)` means the grant is not
/// relevant to this family at all (nothing to explain).
fn grant(
    family: &Family,
    kind: GrantKind,
    month: Month,
    policy: &Policy,
) -> Result<Grant, Option<GrantReason>> {
    let child = family.child();
    let cannot_apply = match kind {
        GrantKind::BereavedGrant => child.death_date.is_none(),
        GrantKind::OrphanGrant => family.parents().iter().all(|p| p.death_date.is_none()),
        GrantKind::DisabledGrant => !child.disabilities.iter().any(|d| d.grade.qualifies()),
    };
    if cannot_apply {
        return Err(None);
    }
    if month < policy.start {
        let relevant = grant_condition(family, kind, month, policy).is_some();
        return Err(relevant.then_some(GrantReason::BeforeStart {
            start: policy.start,
        }));
    }
    let birthday = crate::calendar::birthday(child.birth_date, policy.eligibility.orphan_age_limit);
    let mut fixed: [Option<Date>; 6] = [child.death_date, birthday, None, None, None, None];
    for (i, p) in family.parents().iter().enumerate().take(2) {
        fixed[2 + 2 * i] = p.death_date;
        fixed[3 + 2 * i] = p.later_child_date;
    }
    let assessments = child.disabilities.iter().map(|d| Some(d.assessed));
    let mut first: Option<(Month, Fen)> = None;
    let mut consider = |m: Month| {
        if m >= policy.start
            && m <= month
            && first.is_none_or(|(f, _)| m < f)
            && let Some(amount) = grant_condition(family, kind, m, policy)
        {
            first = Some((m, amount));
        }
    };
    consider(policy.start);
    for d in fixed.into_iter().chain(assessments).flatten() {
        consider(Month::effective_from(d));
    }
    match first {
        Some((due_from, amount)) => Ok(Grant {
            kind,
            amount,
            due_from,
        }),
        None => {
            // The family is of the grant's kind but no parent can receive it: say so.
            let (now, _) = category(family, month, policy);
            let matches = match kind {
                GrantKind::BereavedGrant => now == Category::Bereaved,
                GrantKind::DisabledGrant => now == Category::Disabled,
                GrantKind::OrphanGrant => false,
            };
            Err(matches.then_some(GrantReason::NoParentWithoutLaterChild))
        }
    }
}

#[cfg(test)]
mod tests;
