//! The care network (二(一), issue 6): volunteers registered with their organisation, one-to-one
//! pairing with families (a family may refuse; a volunteer only within their area), volunteers'
//! service records by type (医疗帮扶、生活照料、精神慰藉、法律援助), and the counselling team —
//! referrals of a family to a counsellor and the sessions held, whose notes are sealed and read
//! by the counsellor alone. Every change is audited in its own transaction.

use guanai_rules::calendar::parse_date;
use jiff::civil::Date;

use crate::access::{Role, User};
use crate::archive::{Archive, now_micros};
use crate::checks::{not_future, text};
use crate::error::StoreError;
use crate::model::{Actor, FamilyId};
use crate::on_db;
use crate::reads::{Hex, Read, Reads};
use crate::scope::Scoped;

/// What a volunteer did for a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HelpKind {
    MedicalHelp,
    DailyCare,
    EmotionalComfort,
    LegalAid,
}

impl HelpKind {
    pub const ALL: [HelpKind; 4] = [
        HelpKind::MedicalHelp,
        HelpKind::DailyCare,
        HelpKind::EmotionalComfort,
        HelpKind::LegalAid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HelpKind::MedicalHelp => "medical_help",
            HelpKind::DailyCare => "daily_care",
            HelpKind::EmotionalComfort => "emotional_comfort",
            HelpKind::LegalAid => "legal_aid",
        }
    }

    pub fn parse(text: &str) -> Option<HelpKind> {
        HelpKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn as_zh(self) -> &'static str {
        match self {
            HelpKind::MedicalHelp => "医疗帮扶",
            HelpKind::DailyCare => "生活照料",
            HelpKind::EmotionalComfort => "精神慰藉",
            HelpKind::LegalAid => "法律援助",
        }
    }
}

/// A volunteer's service record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRecord {
    pub service_id: String,
    pub volunteer: String,
    pub on_date: Date,
    pub kind: HelpKind,
    pub minutes: i64,
    pub note: String,
}

/// A referral to a counsellor, with its sessions (notes only for the counsellor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub referral_id: String,
    pub family_id: FamilyId,
    /// The counsellor's user id and display name.
    pub counsellor_id: String,
    pub counsellor: String,
    pub reason: String,
    pub referred_on: Date,
    pub referred_by: String,
    pub closed_on: Option<Date>,
    /// (date, minutes, notes): notes are `None` for everyone but the counsellor.
    pub sessions: Vec<(Date, i64, Option<String>)>,
}

fn date_of(text: &str) -> Result<Date, StoreError> {
    parse_date(text).map_err(|e| StoreError::Corrupt(format!("care network date: {e}")))
}

fn notes_aad(session_id: &str) -> Vec<u8> {
    format!("counselling:{session_id}:notes").into_bytes()
}

impl Archive {
    /// Registers a volunteer's organisation and skills (replacing what was registered).
    pub async fn register_volunteer(
        &self,
        volunteer: &User,
        organisation: &str,
        skills: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        if volunteer.role != Role::Volunteer {
            return Err(StoreError::invalid(
                "volunteer",
                format!("{} 不是志愿者账号 / not a volunteer", volunteer.login),
            ));
        }
        text("organisation", organisation, true, 100)?;
        text("skills", skills, false, 200)?;
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO volunteer_profile (user_id, organisation, skills, registered_at, registered_by) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_id) DO UPDATE SET organisation = excluded.organisation, skills = excluded.skills, \
                 registered_at = excluded.registered_at, registered_by = excluded.registered_by",
            )
            .bind(&volunteer.user_id)
            .bind(organisation.trim())
            .bind(skills.trim())
            .bind(now_micros())
            .bind(&actor.name)
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "volunteer.register", &volunteer.login, organisation.trim());
            tx.commit().await?;
        });
        Ok(())
    }

    /// A volunteer's organisation and skills, if registered.
    pub async fn volunteer_profile(
        &self,
        volunteer: &User,
    ) -> Result<Option<(String, String)>, StoreError> {
        on_db!(self.db(), pool => {
            Ok(sqlx::query_as("SELECT organisation, skills FROM volunteer_profile WHERE user_id = $1")
                .bind(&volunteer.user_id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Records that a family does not want a volunteer; it ends its pairings.
    pub async fn refuse_pairing(
        &self,
        family: &FamilyId,
        refused_on: Date,
        reason: &str,
        today: Date,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        not_future("refused_on", refused_on, today)?;
        text("reason", reason, false, 500)?;
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO pairing_refusal (family_id, refused_on, reason, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (family_id) DO UPDATE SET refused_on = excluded.refused_on, reason = excluded.reason, \
                 recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
            )
            .bind(family.as_str())
            .bind(refused_on.to_string())
            .bind(reason.trim())
            .bind(&actor.name)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM volunteer_pairing WHERE family_id = $1")
                .bind(family.as_str())
                .execute(&mut *tx)
                .await?;
            crate::audit::append_audit!(&mut *tx, actor, "volunteer.refused", family.as_str(), reason.trim());
            tx.commit().await?;
        });
        Ok(())
    }

    /// Withdraws a family's refusal (it now wants a volunteer).
    pub async fn withdraw_refusal(
        &self,
        family: &FamilyId,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query("DELETE FROM pairing_refusal WHERE family_id = $1").bind(family.as_str()).execute(&mut *tx).await?;
            crate::audit::append_audit!(&mut *tx, actor, "volunteer.refusal_withdrawn", family.as_str(), "");
            tx.commit().await?;
        });
        Ok(())
    }

    /// A family's refusal of pairing, if any: (date, reason).
    pub async fn pairing_refusal(
        &self,
        family: &FamilyId,
    ) -> Result<Option<(Date, String)>, StoreError> {
        refusal_from(refusal_read(family).rows(self.db()).await?)
    }

    /// The volunteers paired with a family: (login, display name, organisation).
    pub async fn volunteers_of(
        &self,
        family: &FamilyId,
    ) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        paired_read(family).rows(self.db()).await
    }

    /// Records what a volunteer did for a family.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_help(
        &self,
        family: &FamilyId,
        volunteer: &User,
        on_date: Date,
        kind: HelpKind,
        minutes: i64,
        note: &str,
        today: Date,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        not_future("on_date", on_date, today)?;
        if !(1..=24 * 60).contains(&minutes) {
            return Err(StoreError::invalid(
                "minutes",
                "时长为 1–1440 分钟 / 1 to 1440 minutes",
            ));
        }
        text("note", note, true, 1000)?;
        let id = format!("H{:032x}", rand::random::<u128>());
        let target = format!("{family}/{id}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO volunteer_service (service_id, family_id, user_id, on_date, kind, minutes, note, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&id)
            .bind(family.as_str())
            .bind(&volunteer.user_id)
            .bind(on_date.to_string())
            .bind(kind.as_str())
            .bind(minutes)
            .bind(note.trim())
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "volunteer.help", &target, kind.as_str());
            tx.commit().await?;
        });
        Ok(id)
    }

    /// A family's volunteer service records, newest first.
    pub async fn help_of(&self, family: &FamilyId) -> Result<Vec<HelpRecord>, StoreError> {
        help_from(help_read(family).rows(self.db()).await?)
    }

    /// Refers a family to a counsellor of the family's county (or the city).
    pub async fn refer_to_counsellor(
        &self,
        family: &FamilyId,
        counsellor: &User,
        reason: &str,
        referred_on: Date,
        today: Date,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        if counsellor.role != Role::Counsellor || !counsellor.active {
            return Err(StoreError::invalid(
                "counsellor",
                format!(
                    "{} 不是在职的心理咨询师 / not an active counsellor",
                    counsellor.login
                ),
            ));
        }
        not_future("referred_on", referred_on, today)?;
        text("reason", reason, true, 1000)?;
        let village: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT village_code FROM family_place WHERE family_id = $1").bind(family.as_str()).fetch_optional(pool).await?
        });
        let Some(village) = village else {
            return Err(StoreError::FamilyNotFound(family.to_string()));
        };
        if !village.starts_with(counsellor.area_prefix()) {
            return Err(StoreError::invalid(
                "counsellor",
                "咨询师不在这户家庭所在区域 / the counsellor works elsewhere",
            ));
        }
        let id = format!("R{:032x}", rand::random::<u128>());
        let target = format!("{family}/{id}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO counselling_referral (referral_id, family_id, counsellor_id, reason, referred_on, referred_by, referred_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(family.as_str())
            .bind(&counsellor.user_id)
            .bind(reason.trim())
            .bind(referred_on.to_string())
            .bind(&actor.name)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
            // The reason stays out of the log: it is a health matter.
            crate::audit::append_audit!(&mut *tx, actor, "counselling.refer", &target, &counsellor.login);
            tx.commit().await?;
        });
        Ok(id)
    }

    /// Records a session held under a referral (the referral's counsellor only); notes sealed.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_session(
        &self,
        referral_id: &str,
        counsellor: &User,
        on_date: Date,
        minutes: i64,
        notes: &str,
        today: Date,
    ) -> Result<String, StoreError> {
        not_future("on_date", on_date, today)?;
        if !(1..=600).contains(&minutes) {
            return Err(StoreError::invalid(
                "minutes",
                "时长为 1–600 分钟 / 1 to 600 minutes",
            ));
        }
        text("notes", notes, true, 8000)?;
        let row: Option<(String, String, String, Option<String>)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT family_id, counsellor_id, referred_on, closed_on FROM counselling_referral WHERE referral_id = $1")
                .bind(referral_id)
                .fetch_optional(pool)
                .await?
        });
        let Some((family, assigned, referred_on, closed)) = row else {
            return Err(StoreError::invalid(
                "referral",
                "转介不存在 / no such referral",
            ));
        };
        if assigned != counsellor.user_id {
            return Err(StoreError::Forbidden(
                "只有接受转介的咨询师可以记录 / only the referral's counsellor records sessions"
                    .into(),
            ));
        }
        if closed.is_some() {
            return Err(StoreError::invalid(
                "referral",
                "转介已结案 / the referral is closed",
            ));
        }
        if on_date < date_of(&referred_on)? {
            return Err(StoreError::invalid(
                "on_date",
                "咨询日期早于转介日期 / a session cannot precede its referral",
            ));
        }
        let id = format!("N{:032x}", rand::random::<u128>());
        let sealed = self
            .keys()
            .encrypt(notes.trim().as_bytes(), &notes_aad(&id));
        let target = format!("{family}/{referral_id}/{id}");
        let actor = counsellor.actor();
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            sqlx::query(
                "INSERT INTO counselling_session (session_id, referral_id, on_date, minutes, notes, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(referral_id)
            .bind(on_date.to_string())
            .bind(minutes)
            .bind(sealed)
            .bind(&actor.name)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, &actor, "counselling.session", &target, "");
            tx.commit().await?;
        });
        Ok(id)
    }

    /// Closes a referral (its counsellor, or a caseworker).
    pub async fn close_referral(
        &self,
        referral_id: &str,
        closed_on: Date,
        today: Date,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        not_future("closed_on", closed_on, today)?;
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            let done = sqlx::query("UPDATE counselling_referral SET closed_on = $1 WHERE referral_id = $2 AND closed_on IS NULL")
                .bind(closed_on.to_string())
                .bind(referral_id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::invalid("referral", "转介不存在或已结案 / no such open referral"));
            }
            crate::audit::append_audit!(&mut *tx, actor, "counselling.close", referral_id, "");
            tx.commit().await?;
        });
        Ok(())
    }

    /// A family's referrals; session notes are opened only for `reader` when they are the
    /// referral's counsellor.
    pub async fn referrals_of(
        &self,
        family: &FamilyId,
        reader: &User,
    ) -> Result<Vec<Referral>, StoreError> {
        let mut reads = Reads::default();
        let (referrals, sessions) = (
            reads.add(referrals_read(family)),
            reads.add(sessions_read(family)),
        );
        let answers = reads.run(self.db()).await?;
        self.referrals_from(
            family,
            reader,
            answers.rows(referrals)?,
            answers.rows(sessions)?,
        )
    }

    /// A family's referrals from their rows and their sessions' rows: the session notes are
    /// opened for the referral's own counsellor only.
    pub(crate) fn referrals_from(
        &self,
        family: &FamilyId,
        reader: &User,
        rows: Vec<ReferralRow>,
        sessions: Vec<SessionRow>,
    ) -> Result<Vec<Referral>, StoreError> {
        let mut out = Vec::with_capacity(rows.len());
        for (id, counsellor_id, counsellor, reason, on, by, closed) in rows {
            let own = reader.role == Role::Counsellor && reader.user_id == counsellor_id;
            let mut list = Vec::new();
            for (_, session_id, on_date, minutes, sealed) in sessions.iter().filter(|s| s.0 == id) {
                let notes = if own {
                    let plain = self.keys().decrypt(&sealed.0, &notes_aad(session_id))?;
                    Some(String::from_utf8_lossy(&plain).into_owned())
                } else {
                    None
                };
                list.push((date_of(on_date)?, *minutes, notes));
            }
            out.push(Referral {
                referral_id: id,
                family_id: family.clone(),
                counsellor_id,
                counsellor,
                // Only the counsellor and caseworkers see why; volunteers never reach this.
                reason,
                referred_on: date_of(&on)?,
                referred_by: by,
                closed_on: closed.as_deref().map(date_of).transpose()?,
                sessions: list,
            });
        }
        Ok(out)
    }
}

/// refused_on, reason.
pub(crate) type RefusalRow = (String, String);

pub(crate) fn refusal_read(family: &FamilyId) -> Read {
    Read::new(
        "pairing refusal",
        "refused_on, reason",
        "FROM pairing_refusal WHERE family_id = $1",
    )
    .arg(family.as_str())
}

pub(crate) fn refusal_from(rows: Vec<RefusalRow>) -> Result<Option<(Date, String)>, StoreError> {
    rows.into_iter()
        .next()
        .map(|(on, reason)| Ok((date_of(&on)?, reason)))
        .transpose()
}

pub(crate) fn paired_read(family: &FamilyId) -> Read {
    Read::new(
        "paired volunteers",
        "u.login, u.display_name, vp.organisation",
        "FROM volunteer_pairing p JOIN app_user u ON u.user_id = p.user_id \
         LEFT JOIN volunteer_profile vp ON vp.user_id = p.user_id WHERE p.family_id = $1",
    )
    .order("u.login")
    .arg(family.as_str())
}

/// service_id, volunteer, on_date, kind, minutes, note.
pub(crate) type HelpRow = (String, String, String, String, i64, String);

pub(crate) fn help_read(family: &FamilyId) -> Read {
    Read::new(
        "volunteer services",
        "s.service_id, u.display_name, s.on_date, s.kind, s.minutes, s.note",
        "FROM volunteer_service s JOIN app_user u ON u.user_id = s.user_id WHERE s.family_id = $1",
    )
    .order("s.on_date DESC, s.recorded_at DESC")
    .arg(family.as_str())
}

pub(crate) fn help_from(rows: Vec<HelpRow>) -> Result<Vec<HelpRecord>, StoreError> {
    rows.into_iter()
        .map(|(service_id, volunteer, on, kind, minutes, note)| {
            Ok(HelpRecord {
                kind: HelpKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("volunteer service {kind}")))?,
                on_date: date_of(&on)?,
                service_id,
                volunteer,
                minutes,
                note,
            })
        })
        .collect()
}

/// referral_id, counsellor_id, counsellor's name, reason, referred_on, referred_by, closed_on.
pub(crate) type ReferralRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

pub(crate) fn referrals_read(family: &FamilyId) -> Read {
    Read::new(
        "counselling referrals",
        "r.referral_id, r.counsellor_id, u.display_name, r.reason, r.referred_on, r.referred_by, r.closed_on",
        "FROM counselling_referral r JOIN app_user u ON u.user_id = r.counsellor_id WHERE r.family_id = $1",
    )
    .order("r.referred_at DESC")
    .arg(family.as_str())
}

/// referral_id, session_id, on_date, minutes, sealed notes.
pub(crate) type SessionRow = (String, String, String, i64, Hex);

/// The sessions of every referral of a family.
pub(crate) fn sessions_read(family: &FamilyId) -> Read {
    Read::new(
        "counselling sessions",
        "s.referral_id, s.session_id, s.on_date, s.minutes, hex(s.notes)",
        "FROM counselling_session s JOIN counselling_referral r ON r.referral_id = s.referral_id WHERE r.family_id = $1",
    )
    .order("s.on_date, s.recorded_at")
    .arg(family.as_str())
}

impl Scoped<'_> {
    /// Pairs a volunteer with a family of the area (caseworkers), unless the family refused.
    pub async fn pair_volunteer(
        &self,
        volunteer: &User,
        family: &FamilyId,
    ) -> Result<(), StoreError> {
        self.require_write(family).await?;
        self.archive
            .pair_volunteer(volunteer, family, &self.user.actor())
            .await
    }

    /// Records a family's refusal of pairing (caseworkers of the area).
    pub async fn refuse_pairing(
        &self,
        family: &FamilyId,
        refused_on: Date,
        reason: &str,
        today: Date,
    ) -> Result<(), StoreError> {
        self.require_write(family).await?;
        self.archive
            .refuse_pairing(family, refused_on, reason, today, &self.user.actor())
            .await
    }

    /// Records help given: a paired volunteer for themself.
    pub async fn record_help(
        &self,
        family: &FamilyId,
        on_date: Date,
        kind: HelpKind,
        minutes: i64,
        note: &str,
        today: Date,
    ) -> Result<String, StoreError> {
        if self.user.role != Role::Volunteer {
            return Err(StoreError::Forbidden(
                "志愿服务由志愿者本人记录 / volunteers record their own service".into(),
            ));
        }
        self.visibility(family)
            .await?
            .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))?;
        let volunteer = self.user.clone();
        self.archive
            .record_help(
                family,
                &volunteer,
                on_date,
                kind,
                minutes,
                note,
                today,
                &volunteer.actor(),
            )
            .await
    }

    /// Refers a family of the area to a counsellor (caseworkers).
    pub async fn refer_to_counsellor(
        &self,
        family: &FamilyId,
        counsellor: &User,
        reason: &str,
        referred_on: Date,
        today: Date,
    ) -> Result<String, StoreError> {
        self.require_write(family).await?;
        self.archive
            .refer_to_counsellor(
                family,
                counsellor,
                reason,
                referred_on,
                today,
                &self.user.actor(),
            )
            .await
    }

    /// Records a session (the referral's counsellor).
    pub async fn record_session(
        &self,
        referral_id: &str,
        on_date: Date,
        minutes: i64,
        notes: &str,
        today: Date,
    ) -> Result<String, StoreError> {
        if self.user.role != Role::Counsellor {
            return Err(StoreError::Forbidden(
                "只有心理咨询师记录咨询 / only counsellors record sessions".into(),
            ));
        }
        let user = self.user.clone();
        self.archive
            .record_session(referral_id, &user, on_date, minutes, notes, today)
            .await
    }

    /// A family's referrals: caseworkers of the area see that there are referrals and sessions;
    /// the counsellor also sees the notes; volunteers see nothing of counselling.
    pub async fn referrals(&self, family: &FamilyId) -> Result<Vec<Referral>, StoreError> {
        if self.user.role == Role::Volunteer {
            return Ok(Vec::new());
        }
        self.visibility(family)
            .await?
            .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))?;
        let reader = self.user.clone();
        self.archive.referrals_of(family, &reader).await
    }
}
