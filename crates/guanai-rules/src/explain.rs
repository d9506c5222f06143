//! Explanations: the engine records each rule it applies as a structured [`Reason`] (facts,
//! parameters and the clause), and this module renders them in Chinese or English. Structured
//! reasons are what a payment line keeps as its trace; the text is for people.

use std::fmt::Write;

use jiff::civil::Date;

use crate::calendar::{Month, Ymd, birthday};
use crate::engine::{
    Category, Grant, GrantKind, MonthlyAssistance, MonthlyKind, Person, RatesApplied, ServiceKind,
    ServiceSet,
};
use crate::facts::{DisabilityGrade, Family, Sex};
use crate::money::Fen;
use crate::policy::Policy;

/// Receives the reasons of an evaluation, in the order the rules were applied.
pub trait Trace {
    fn note(&mut self, reason: Reason);
}

/// No tracing: the calls compile away.
impl Trace for () {
    #[inline(always)]
    fn note(&mut self, _: Reason) {}
}

impl Trace for Vec<Reason> {
    fn note(&mut self, reason: Reason) {
        self.push(reason);
    }
}

/// One rule applied, with the facts and parameters it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Spec §3: the family's category and why.
    Category(Category, CategoryReason),
    /// Spec §4: no special assistance before the national programme existed.
    ProgrammeNotStarted { programme_start: Month },
    /// Spec §4: a parent is paid, with the rows the amount came from.
    Paid {
        parent: u8,
        assistance: MonthlyAssistance,
        rows: RatesApplied,
    },
    /// Spec §4: a parent is not paid, and why.
    NotPaid { parent: u8, why: ParentReason },
    /// Spec §6: services of one person.
    Services {
        person: Person,
        services: ServiceSet,
    },
    /// Spec §5: a one-time grant is listed.
    GrantDue(Grant),
    /// Spec §5: a grant the family's kind would suggest is not listed, and why.
    GrantNotDue { kind: GrantKind, why: GrantReason },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryReason {
    ChildDied {
        date: Date,
    },
    Orphan {
        child_birth: Date,
    },
    Disabled {
        grade: DisabilityGrade,
        assessed: Date,
    },
    GradeDoesNotQualify {
        grade: DisabilityGrade,
        assessed: Date,
    },
    DisabilityNotYetInForce {
        assessed: Date,
    },
    ChildDeathNotYetInForce {
        date: Date,
    },
    OrphanReachedAdulthood {
        child_birth: Date,
    },
    NoQualifyingEvent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentReason {
    ProgrammeNotStarted,
    Died {
        date: Date,
    },
    BornBeforeCutoff {
        cutoff: Date,
    },
    LaterChild {
        date: Date,
    },
    MotherUnderAge {
        mother_birth: Date,
    },
    FatherUnderAge {
        father_birth: Date,
        mother_died_young: bool,
    },
    NoParentOfAge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantReason {
    BeforeStart { start: Month },
    NoParentWithoutLaterChild,
}

/// The language of rendered explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

/// How people are named in explanations: their ids as given in the input.
pub struct Labels<'a> {
    pub parents: [&'a str; 2],
    pub child: &'a str,
}

/// Renders one reason as a sentence into `out` (which is not cleared first).
pub fn render(
    reason: &Reason,
    lang: Lang,
    family: &Family,
    labels: &Labels<'_>,
    policy: &Policy,
    out: &mut String,
) {
    // Writing to a String cannot fail.
    let _ = match lang {
        Lang::Zh => zh(reason, family, labels, policy, out),
        Lang::En => en(reason, family, labels, policy, out),
    };
}

/// Renders every reason, one sentence each.
pub fn render_all(
    reasons: &[Reason],
    lang: Lang,
    family: &Family,
    labels: &Labels<'_>,
    policy: &Policy,
) -> Vec<String> {
    reasons
        .iter()
        .map(|r| {
            let mut s = String::new();
            render(r, lang, family, labels, policy, &mut s);
            s
        })
        .collect()
}

fn parent_label<'a>(
    family: &Family,
    labels: &Labels<'a>,
    i: u8,
    lang: Lang,
) -> (&'a str, &'static str) {
    let sex = family.parents().get(usize::from(i)).map(|p| p.sex);
    let role = match (sex, lang) {
        (Some(Sex::Female), Lang::Zh) => "母亲",
        (Some(Sex::Male), Lang::Zh) => "父亲",
        (Some(Sex::Female), Lang::En) => "mother",
        (Some(Sex::Male), Lang::En) => "father",
        (None, _) => "",
    };
    (
        labels.parents.get(usize::from(i)).copied().unwrap_or(""),
        role,
    )
}

fn age_from(birth: Date, age: i16) -> String {
    birthday(birth, age).map_or_else(|| "—".to_owned(), |d| Month::effective_from(d).to_string())
}

fn service_zh(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::MedicalRelief => "医疗救助",
        ServiceKind::InsuranceContributionPaid => "代缴居民医保个人缴费",
        ServiceKind::DibaoUplift => "高于低保线照顾",
        ServiceKind::NursingHomePriority => "优先入住政府养老机构",
        ServiceKind::NursingHomeFeeHalf => "敬老院费用减免50%",
        ServiceKind::WubaoInclusion => "纳入五保（转民政审核）",
        ServiceKind::HousingPriority => "保障性住房优先",
        ServiceKind::FuneralReimbursement => "基本殡葬服务费报销",
        ServiceKind::HolidayVisits => "春节、中秋走访慰问",
        ServiceKind::RegularVisits => "定期巡访",
        ServiceKind::DedicatedVisitor => "专人定期巡访",
    }
}

fn service_en(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::MedicalRelief => "medical relief",
        ServiceKind::InsuranceContributionPaid => "insurance contribution paid by the county",
        ServiceKind::DibaoUplift => "care above the dibao line",
        ServiceKind::NursingHomePriority => "priority in government nursing homes",
        ServiceKind::NursingHomeFeeHalf => "half fees in nursing homes",
        ServiceKind::WubaoInclusion => "wubao inclusion (referred to civil affairs)",
        ServiceKind::HousingPriority => "housing priority",
        ServiceKind::FuneralReimbursement => "funeral fees reimbursed",
        ServiceKind::HolidayVisits => "Spring Festival and Mid-Autumn visits",
        ServiceKind::RegularVisits => "regular visits",
        ServiceKind::DedicatedVisitor => "a dedicated visitor",
    }
}

/// Lists services grouped by the clause they come from: `[二(三)] a、b；[二(四)] c`.
fn write_services(
    out: &mut String,
    services: ServiceSet,
    policy: &Policy,
    group_sep: &str,
    item_sep: &str,
    name: fn(ServiceKind) -> &'static str,
) -> std::fmt::Result {
    let mut clause = "";
    for kind in services.iter() {
        if kind.clause() != clause {
            if !clause.is_empty() {
                out.push_str(group_sep);
            }
            clause = kind.clause();
            write!(out, "[{clause}] ")?;
        } else {
            out.push_str(item_sep);
        }
        out.push_str(name(kind));
        if kind == ServiceKind::DibaoUplift {
            write!(out, " +{}", policy.services.dibao_uplift.text())?;
        }
    }
    Ok(())
}

fn grant_zh(kind: GrantKind) -> &'static str {
    match kind {
        GrantKind::BereavedGrant => "失独家庭一次性救助",
        GrantKind::OrphanGrant => "计划生育孤儿一次性救助",
        GrantKind::DisabledGrant => "伤残家庭一次性救助",
    }
}

fn grant_en(kind: GrantKind) -> &'static str {
    match kind {
        GrantKind::BereavedGrant => "bereaved-family grant",
        GrantKind::OrphanGrant => "orphan grant",
        GrantKind::DisabledGrant => "disabled-child grant",
    }
}

fn zh(
    r: &Reason,
    family: &Family,
    labels: &Labels<'_>,
    policy: &Policy,
    out: &mut String,
) -> std::fmt::Result {
    let e = &policy.eligibility;
    match *r {
        Reason::Category(_, why) => match why {
            CategoryReason::ChildDied { date } => write!(
                out,
                "[二(二)·§3] 失独家庭：独生子女于{date}死亡，自{}起计（事件次月生效）",
                Month::effective_from(date),
                date = Ymd(date)
            ),
            CategoryReason::Orphan { child_birth } => write!(
                out,
                "[二(二)·§3] 计划生育孤儿家庭：所列父母均已去世，子女未满{}周岁（{child_birth}出生，{}起不再属孤儿）",
                e.orphan_age_limit,
                age_from(child_birth, e.orphan_age_limit),
                child_birth = Ymd(child_birth)
            ),
            CategoryReason::Disabled { grade, assessed } => write!(
                out,
                "[二(二)·§3] 伤残家庭：独生子女{}级残疾（三级以上），{assessed}评定，自{}起计",
                grade.get(),
                Month::effective_from(assessed),
                assessed = Ymd(assessed)
            ),
            CategoryReason::GradeDoesNotQualify { grade, assessed } => write!(
                out,
                "[§3] 非特殊困难家庭：残疾等级{}级（{assessed}评定）不属三级以上",
                grade.get(),
                assessed = Ymd(assessed)
            ),
            CategoryReason::DisabilityNotYetInForce { assessed } => write!(
                out,
                "[§1·§3] 非特殊困难家庭：残疾评定日期{assessed}，自{}起生效",
                Month::effective_from(assessed),
                assessed = Ymd(assessed)
            ),
            CategoryReason::ChildDeathNotYetInForce { date } => write!(
                out,
                "[§1·§3] 非特殊困难家庭：子女死亡日期{date}，自{}起按失独家庭计",
                Month::effective_from(date),
                date = Ymd(date)
            ),
            CategoryReason::OrphanReachedAdulthood { child_birth } => write!(
                out,
                "[§3] 非特殊困难家庭：子女（{child_birth}出生）已满{}周岁，不再属计划生育孤儿",
                e.orphan_age_limit,
                child_birth = Ymd(child_birth)
            ),
            CategoryReason::NoQualifyingEvent => {
                write!(out, "[§3] 非特殊困难家庭：独生子女健在且无三级以上残疾")
            }
        },
        Reason::ProgrammeNotStarted { programme_start } => {
            write!(
                out,
                "[§4] 特别扶助制度自{programme_start}起实施，此前不发放"
            )
        }
        Reason::Paid {
            parent,
            assistance,
            rows,
        } => {
            let (id, role) = parent_label(family, labels, parent, Lang::Zh);
            let kind = match assistance.kind {
                MonthlyKind::BereavedAssistance => "失独",
                MonthlyKind::DisabledAssistance => "伤残",
            };
            write!(
                out,
                "[二(二)·§4] {id}（{role}）{kind}特别扶助金{}元/月 = 上级标准{}元",
                assistance.amount, assistance.standard
            )?;
            let national = rows.national.map_or(Fen::ZERO, |r| r.0);
            match (rows.national, rows.provincial) {
                (_, Some((p, from))) if p >= national => write!(out, "（山东省标准，{from}起）")?,
                (Some((_, from)), _) => write!(out, "（国家标准，{from}起）")?,
                _ => {}
            }
            write!(out, " + 县级财政{}元", assistance.county)?;
            if let Some((local, from)) = rows.local {
                write!(out, "（临沂标准{local}元，{from}起；取二者较高）")?;
            }
            Ok(())
        }
        Reason::NotPaid { parent, why } => {
            let (id, role) = parent_label(family, labels, parent, Lang::Zh);
            write!(out, "[二(二)·§4] {id}（{role}）本月无特别扶助金：")?;
            match why {
                ParentReason::ProgrammeNotStarted => {
                    write!(out, "特别扶助制度自{}起实施", policy.programme_start)
                }
                ParentReason::Died { date } => {
                    write!(
                        out,
                        "已于{date}去世，发放至{}止",
                        Month::of(date),
                        date = Ymd(date)
                    )
                }
                ParentReason::BornBeforeCutoff { cutoff } => {
                    write!(out, "出生早于{cutoff}（国家条件）", cutoff = Ymd(cutoff))
                }
                ParentReason::LaterChild { date } => {
                    write!(out, "已于{date}再生育或收养子女", date = Ymd(date))
                }
                ParentReason::MotherUnderAge { mother_birth } => write!(
                    out,
                    "母亲（{mother_birth}出生）未满{}周岁，{}起符合",
                    e.assistance_age,
                    age_from(mother_birth, e.assistance_age),
                    mother_birth = Ymd(mother_birth)
                ),
                ParentReason::FatherUnderAge {
                    father_birth,
                    mother_died_young,
                } => write!(
                    out,
                    "{}，须父亲本人满{}周岁（{father_birth}出生，{}起符合）",
                    if mother_died_young {
                        "母亲未满49周岁即去世"
                    } else {
                        "未列母亲"
                    },
                    e.assistance_age,
                    age_from(father_birth, e.assistance_age),
                    father_birth = Ymd(father_birth)
                ),
                ParentReason::NoParentOfAge => {
                    write!(out, "没有达到{}周岁的父母", e.assistance_age)
                }
            }
        }
        Reason::Services { person, services } => {
            match person {
                Person::Parent(i) => {
                    let (id, role) = parent_label(family, labels, i, Lang::Zh);
                    write!(out, "[§6] {id}（{role}）可享：")?;
                }
                Person::Child => write!(out, "[二(一)·§6] 孤儿{}可享：", labels.child)?,
            }
            write_services(out, services, policy, "；", "、", service_zh)?;
            Ok(())
        }
        Reason::GrantDue(g) => write!(
            out,
            "[二(二)·§5] {}{}元，县级财政承担，{}起应发，每户限一次",
            grant_zh(g.kind),
            g.amount,
            g.due_from
        ),
        Reason::GrantNotDue { kind, why } => match why {
            GrantReason::BeforeStart { start } => {
                write!(out, "[二(二)·§5] {}自{start}起实施", grant_zh(kind))
            }
            GrantReason::NoParentWithoutLaterChild => write!(
                out,
                "[二(二)·§5] 不予{}：没有健在且未再生育或收养子女的父母",
                grant_zh(kind)
            ),
        },
    }
}

fn en(
    r: &Reason,
    family: &Family,
    labels: &Labels<'_>,
    policy: &Policy,
    out: &mut String,
) -> std::fmt::Result {
    let e = &policy.eligibility;
    match *r {
        Reason::Category(_, why) => match why {
            CategoryReason::ChildDied { date } => write!(
                out,
                "[二(二), §3] bereaved: the only child died on {date}, counting from {} (the month after)",
                Month::effective_from(date),
                date = Ymd(date)
            ),
            CategoryReason::Orphan { child_birth } => write!(
                out,
                "[二(二), §3] orphan: every listed parent has died and the child (born {child_birth}) is under {} (until {})",
                e.orphan_age_limit,
                age_from(child_birth, e.orphan_age_limit),
                child_birth = Ymd(child_birth)
            ),
            CategoryReason::Disabled { grade, assessed } => write!(
                out,
                "[二(二), §3] disabled: the only child has disability grade {} (grade 3 or above), assessed {assessed}, counting from {}",
                grade.get(),
                Month::effective_from(assessed),
                assessed = Ymd(assessed)
            ),
            CategoryReason::GradeDoesNotQualify { grade, assessed } => write!(
                out,
                "[§3] none: disability grade {} (assessed {assessed}) is not grade 3 or above",
                grade.get(),
                assessed = Ymd(assessed)
            ),
            CategoryReason::DisabilityNotYetInForce { assessed } => write!(
                out,
                "[§1, §3] none: the disability assessed on {assessed} counts from {}",
                Month::effective_from(assessed),
                assessed = Ymd(assessed)
            ),
            CategoryReason::ChildDeathNotYetInForce { date } => write!(
                out,
                "[§1, §3] none: the child's death on {date} counts from {}",
                Month::effective_from(date),
                date = Ymd(date)
            ),
            CategoryReason::OrphanReachedAdulthood { child_birth } => write!(
                out,
                "[§3] none: the child (born {child_birth}) has reached {} and is no longer an orphan",
                e.orphan_age_limit,
                child_birth = Ymd(child_birth)
            ),
            CategoryReason::NoQualifyingEvent => {
                write!(
                    out,
                    "[§3] none: the only child is alive without a disability of grade 3 or above"
                )
            }
        },
        Reason::ProgrammeNotStarted { programme_start } => {
            write!(
                out,
                "[§4] special assistance exists from {programme_start}; nothing is paid before"
            )
        }
        Reason::Paid {
            parent,
            assistance,
            rows,
        } => {
            let (id, role) = parent_label(family, labels, parent, Lang::En);
            write!(
                out,
                "[二(二), §4] {id} ({role}): special assistance {} yuan a month = standard {} yuan",
                assistance.amount, assistance.standard
            )?;
            let national = rows.national.map_or(Fen::ZERO, |r| r.0);
            match (rows.national, rows.provincial) {
                (_, Some((p, from))) if p >= national => write!(out, " (Shandong, from {from})")?,
                (Some((_, from)), _) => write!(out, " (national, from {from})")?,
                _ => {}
            }
            write!(out, " + county finance {} yuan", assistance.county)?;
            if let Some((local, from)) = rows.local {
                write!(
                    out,
                    " (Linyi rate {local} yuan from {from}; the higher of the two)"
                )?;
            }
            Ok(())
        }
        Reason::NotPaid { parent, why } => {
            let (id, role) = parent_label(family, labels, parent, Lang::En);
            write!(
                out,
                "[二(二), §4] {id} ({role}) gets no special assistance this month: "
            )?;
            match why {
                ParentReason::ProgrammeNotStarted => {
                    write!(out, "the programme exists from {}", policy.programme_start)
                }
                ParentReason::Died { date } => {
                    write!(
                        out,
                        "died on {date}; paid up to {}",
                        Month::of(date),
                        date = Ymd(date)
                    )
                }
                ParentReason::BornBeforeCutoff { cutoff } => {
                    write!(
                        out,
                        "born before {cutoff} (national condition)",
                        cutoff = Ymd(cutoff)
                    )
                }
                ParentReason::LaterChild { date } => {
                    write!(
                        out,
                        "had or adopted another child on {date}",
                        date = Ymd(date)
                    )
                }
                ParentReason::MotherUnderAge { mother_birth } => write!(
                    out,
                    "the mother (born {mother_birth}) is under {}; qualifies from {}",
                    e.assistance_age,
                    age_from(mother_birth, e.assistance_age),
                    mother_birth = Ymd(mother_birth)
                ),
                ParentReason::FatherUnderAge {
                    father_birth,
                    mother_died_young,
                } => write!(
                    out,
                    "{}, so the father must reach {} himself (born {father_birth}; qualifies from {})",
                    if mother_died_young {
                        "the mother died before her 49th birthday"
                    } else {
                        "no mother is listed"
                    },
                    e.assistance_age,
                    age_from(father_birth, e.assistance_age),
                    father_birth = Ymd(father_birth)
                ),
                ParentReason::NoParentOfAge => {
                    write!(out, "no parent has reached {}", e.assistance_age)
                }
            }
        }
        Reason::Services { person, services } => {
            match person {
                Person::Parent(i) => {
                    let (id, role) = parent_label(family, labels, i, Lang::En);
                    write!(out, "[§6] {id} ({role}) is entitled to: ")?;
                }
                Person::Child => {
                    write!(out, "[二(一), §6] orphan {} is entitled to: ", labels.child)?
                }
            }
            write_services(out, services, policy, "; ", ", ", service_en)?;
            Ok(())
        }
        Reason::GrantDue(g) => write!(
            out,
            "[二(二), §5] {} of {} yuan, paid by county finance, due from {}, once per family",
            grant_en(g.kind),
            g.amount,
            g.due_from
        ),
        Reason::GrantNotDue { kind, why } => match why {
            GrantReason::BeforeStart { start } => write!(
                out,
                "[二(二), §5] the {} exists from {start}",
                grant_en(kind)
            ),
            GrantReason::NoParentWithoutLaterChild => write!(
                out,
                "[二(二), §5] no {}: no parent is alive without a later child",
                grant_en(kind)
            ),
        },
    }
}
