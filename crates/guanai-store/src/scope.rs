//! What a signed-in user may see and touch (issue 5). The web application reaches families,
//! payments and the audit log only through [`Scoped`], which every query of it filters by the
//! user's area (or, for a volunteer, their pairings): a handler cannot forget the scope, and a
//! family outside it is "not found". Break-the-glass grants open one family for reading.

use guanai_rules::ResidentId;
use guanai_rules::policy::CaseworkParams;

use crate::access::{Role, User};
use crate::archive::{Archive, FileKinds, now_micros};
use crate::error::StoreError;
use crate::file::FamilyFile;
use crate::model::{FactId, FactValue, FamilyId, NewFact};
use crate::on_db;
use crate::pay::{LineView, PayError, RunId, RunSummary};
use crate::reads::{Read, Reads, Slot, Where};

/// How a user sees a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// In the user's area (or paired to the volunteer): read, and write if the role may.
    Own,
    /// Opened by a break-the-glass grant until this time (microseconds): read only.
    Granted { until_micros: i64 },
}

/// Sort orders of a family list. Lists are ordered by where families live (village, then census
/// number): the order the scope's index gives, so a page of a county's or the city's families
/// costs the same as a page of one village's. (Ordering a whole county by census number or by
/// registration time sorted every family in scope: half a second per page for a county of a
/// million-family archive, five seconds for the city.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FamilySort {
    #[default]
    Village,
}

impl FamilySort {
    pub fn parse(text: &str) -> Option<FamilySort> {
        match text {
            "village" => Some(FamilySort::Village),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FamilySort::Village => "village",
        }
    }

    fn order_by(self, descending: bool) -> &'static str {
        match (self, descending) {
            (FamilySort::Village, false) => "p.village_code, f.family_no, f.family_id",
            (FamilySort::Village, true) => {
                "p.village_code DESC, f.family_no DESC, f.family_id DESC"
            }
        }
    }
}

/// A family search: every given criterion must hold.
#[derive(Debug, Clone, Default)]
pub struct FamilyQuery {
    /// A member's name, or its beginning (e.g. a surname). Matches come in name order (the
    /// sort applies to searches without a name); a page counts matching members.
    pub name: Option<String>,
    /// An area inside the user's (county, township or village code).
    pub area: Option<String>,
    /// The census number (家庭编号), exactly.
    pub family_no: Option<String>,
    /// A resident ID number, exactly (through the blind index).
    pub id_number: Option<ResidentId>,
    pub sort: FamilySort,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
}

/// The most rows one page of a list returns.
pub const MAX_PAGE: i64 = 200;

/// One row of a family list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRow {
    pub family_id: FamilyId,
    pub family_no: String,
    pub county_code: String,
    pub village_code: String,
    pub village_name: String,
    /// Current names of the members.
    pub names: Vec<String>,
}

/// A page of rows and whether more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub more: bool,
}

/// The archive as one user may use it.
pub struct Scoped<'a> {
    pub(crate) archive: &'a Archive,
    pub(crate) user: User,
    seen: Option<&'a SeenFamilies>,
}

/// The families a user was found to see during one request. A page asks once for each of its
/// sections (the file, payments, visits, services …), and within a request the answer does not
/// change; only what was seen is kept (a family not found is asked again).
#[derive(Debug, Default)]
pub struct SeenFamilies(std::sync::Mutex<Vec<(FamilyId, Visibility)>>);

impl SeenFamilies {
    fn get(&self, family: &FamilyId) -> Option<Visibility> {
        let seen = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.iter().find(|(f, _)| f == family).map(|(_, v)| *v)
    }

    fn put(&self, family: &FamilyId, visibility: Visibility) {
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.push((family.clone(), visibility));
    }
}

impl Archive {
    /// The archive seen through a user's scope.
    pub fn scoped(&self, user: &User) -> Scoped<'_> {
        Scoped {
            archive: self,
            user: user.clone(),
            seen: None,
        }
    }

    /// The archive seen through a user's scope for one request, remembering in `seen` the
    /// families found visible so that the request's later reads do not ask again.
    pub fn scoped_within<'a>(&'a self, user: &User, seen: &'a SeenFamilies) -> Scoped<'a> {
        Scoped {
            archive: self,
            user: user.clone(),
            seen: Some(seen),
        }
    }
}

/// The upper bound of a prefix range over digit codes (';' sorts right after '9').
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix};")
}

/// How a family is seen from the rows of `Scoped::visibility_reads`.
fn visibility_from(own: Vec<(String,)>, granted: Vec<(i64,)>) -> Option<Visibility> {
    if !own.is_empty() {
        return Some(Visibility::Own);
    }
    granted
        .first()
        .map(|&(until_micros,)| Visibility::Granted { until_micros })
}

/// A piece of the scope condition: SQL text, or a value to bind.
pub(crate) enum ScopePiece {
    Sql(&'static str),
    Bind(String),
}

/// The condition on `family f JOIN family_place p` that keeps a query inside the user's scope.
pub(crate) fn scope_condition(user: &User) -> Vec<ScopePiece> {
    use ScopePiece::{Bind, Sql};
    match user.role {
        Role::Admin => vec![Sql(" AND 1 = 0")],
        Role::Volunteer => vec![
            Sql(
                " AND f.family_id IN (SELECT v.family_id FROM volunteer_pairing v WHERE v.user_id = ",
            ),
            Bind(user.user_id.clone()),
            Sql(")"),
        ],
        Role::Counsellor => vec![
            Sql(
                " AND f.family_id IN (SELECT r.family_id FROM counselling_referral r WHERE r.closed_on IS NULL AND r.counsellor_id = ",
            ),
            Bind(user.user_id.clone()),
            Sql(")"),
        ],
        _ => {
            let prefix = user.area_prefix().to_owned();
            vec![
                Sql(" AND p.village_code >= "),
                Bind(prefix.clone()),
                Sql(" AND p.village_code < "),
                Bind(prefix_end(&prefix)),
            ]
        }
    }
}

/// Adds the scope condition on `family f JOIN family_place p` to a query.
macro_rules! push_scope {
    ($q:expr, $user:expr) => {{
        for piece in $crate::scope::scope_condition($user) {
            match piece {
                $crate::scope::ScopePiece::Sql(sql) => {
                    $q.push(sql);
                }
                $crate::scope::ScopePiece::Bind(value) => {
                    $q.push_bind(value);
                }
            }
        }
    }};
}
pub(crate) use push_scope;

impl Scoped<'_> {
    pub fn user(&self) -> &User {
        &self.user
    }

    /// How the user sees a family, or `None` when it is outside their scope.
    pub async fn visibility(&self, family: &FamilyId) -> Result<Option<Visibility>, StoreError> {
        if let Some(known) = self.seen.and_then(|seen| seen.get(family)) {
            return Ok(Some(known));
        }
        let found = self.ask_visibility(family).await?;
        if let (Some(seen), Some(visibility)) = (self.seen, found) {
            seen.put(family, visibility);
        }
        Ok(found)
    }

    /// How the user sees a family, asked of the database.
    async fn ask_visibility(&self, family: &FamilyId) -> Result<Option<Visibility>, StoreError> {
        let mut reads = Reads::default();
        let (own, granted) = self.visibility_reads(family, &mut reads);
        let answers = reads.run(self.archive.db()).await?;
        Ok(visibility_from(answers.rows(own)?, answers.rows(granted)?))
    }

    /// Fails with "not found" when the family is outside the scope.
    async fn require(&self, family: &FamilyId) -> Result<Visibility, StoreError> {
        self.visibility(family)
            .await?
            .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))
    }

    /// Fails unless the user may change this family.
    pub(crate) async fn require_write(&self, family: &FamilyId) -> Result<(), StoreError> {
        if !self.user.role.can_record() {
            return Err(StoreError::Forbidden(
                "只有专干可以登记或更正 / only caseworkers record and correct facts".into(),
            ));
        }
        match self.require(family).await? {
            Visibility::Own => Ok(()),
            Visibility::Granted { .. } => Err(StoreError::Forbidden(
                "临时查看只能阅读,不能修改 / a break-the-glass grant is read-only".into(),
            )),
        }
    }

    /// A family's file, when the user may see it: whether they may and the file are read in
    /// one statement (a file outside the scope is read and dropped, never returned).
    pub async fn family_file(
        &self,
        family: &FamilyId,
    ) -> Result<(FamilyFile, Visibility), StoreError> {
        if let Some(known) = self.seen.and_then(|seen| seen.get(family)) {
            return Ok((self.archive.family_file(family).await?, known));
        }
        let mut reads = Reads::default();
        let (own, granted) = self.visibility_reads(family, &mut reads);
        let file = reads.add(
            self.archive
                .files_read(std::slice::from_ref(family), FileKinds::All),
        );
        let answers = reads.run(self.archive.db()).await?;
        let visibility = visibility_from(answers.rows(own)?, answers.rows(granted)?)
            .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))?;
        if let Some(seen) = self.seen {
            seen.put(family, visibility);
        }
        let file = self
            .archive
            .files_from(std::slice::from_ref(family), answers.rows(file)?)?
            .pop()
            .ok_or_else(|| StoreError::FamilyNotFound(family.to_string()))?;
        Ok((file, visibility))
    }

    /// The two reads that tell how the user sees a family: inside their scope, or by a grant
    /// not yet expired.
    fn visibility_reads(&self, family: &FamilyId, reads: &mut Reads) -> (Slot, Slot) {
        let mut own = Where::new(
            "FROM family f JOIN family_place p ON p.family_id = f.family_id WHERE f.family_id = ",
        );
        own.push_bind(family.as_str());
        push_scope!(own, &self.user);
        let own = own.read("scope", "f.family_id");
        let granted = Read::new(
            "grant",
            "expires_at",
            "FROM access_grant WHERE user_id = $1 AND family_id = $2 AND expires_at > $3",
        )
        .order("expires_at DESC")
        .arg(self.user.user_id.as_str())
        .arg(family.as_str())
        .arg(now_micros());
        (reads.add(own), reads.add(granted))
    }

    /// Records a fact (caseworkers, own area). A kind the policy has approved at a level above
    /// the user's is refused (field `approval`): propose it instead (`crate::changes`).
    pub async fn record(
        &self,
        family: &FamilyId,
        expected_version: i64,
        fact: NewFact,
        reason: &str,
        casework: &CaseworkParams,
    ) -> Result<(FactId, i64), StoreError> {
        self.require_write(family).await?;
        self.check_level(fact.value.kind(), casework)?;
        self.archive
            .record(family, expected_version, fact, &self.user.actor(), reason)
            .await
    }

    /// Corrects or withdraws a fact (caseworkers, own area); approval as for [`Scoped::record`],
    /// by the kind of the fact replaced and of its replacement.
    pub async fn correct(
        &self,
        family: &FamilyId,
        expected_version: i64,
        replaces: &FactId,
        replacement: Option<NewFact>,
        reason: &str,
        casework: &CaseworkParams,
    ) -> Result<(FactId, i64), StoreError> {
        self.require_write(family).await?;
        self.check_correction_level(family, replaces, replacement.as_ref(), casework)
            .await?;
        self.archive
            .correct(
                family,
                expected_version,
                replaces,
                replacement,
                &self.user.actor(),
                reason,
            )
            .await
    }

    /// The unmasked value of a sealed fact, for a stated reason; audited.
    pub async fn reveal(
        &self,
        family: &FamilyId,
        fact: &FactId,
        reason: &str,
    ) -> Result<FactValue, StoreError> {
        if !self.user.role.can_reveal() {
            return Err(StoreError::Forbidden(
                "此角色不能查看完整信息 / this role sees masked values only".into(),
            ));
        }
        if reason.trim().chars().count() < 2 {
            return Err(StoreError::invalid(
                "reason",
                "请写明查看理由 / state why you need the full value",
            ));
        }
        let (file, _) = self.family_file(family).await?;
        let Some(record) = file.facts.iter().find(|f| &f.fact_id == fact) else {
            return Err(StoreError::FactNotFound(fact.clone(), family.clone()));
        };
        let Some(value) = record.value.clone() else {
            return Err(StoreError::FactNotFound(fact.clone(), family.clone()));
        };
        self.archive
            .audit(
                &self.user.actor(),
                "reveal",
                &format!("{family}/{fact} {}", record.kind),
                reason.trim(),
            )
            .await?;
        Ok(value)
    }

    /// Families matching a search, one page.
    pub async fn search(&self, query: &FamilyQuery) -> Result<Page<FamilyRow>, StoreError> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let offset = query.offset.max(0);
        let by_id: Option<Vec<String>> = match &query.id_number {
            Some(number) => Some(
                self.archive
                    .find_by_id_number(number)
                    .await?
                    .into_iter()
                    .map(|(f, _)| f.as_str().to_owned())
                    .collect(),
            ),
            None => None,
        };
        if by_id.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Page {
                rows: Vec::new(),
                more: false,
            });
        }
        let area = match &query.area {
            Some(a) => {
                let a = a.trim();
                if a.len() < 4 || a.len() > 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(StoreError::invalid(
                        "area",
                        format!("不是区划代码 / not an area code: {a}"),
                    ));
                }
                Some(crate::access::area_prefix(a).to_owned())
            }
            None => None,
        };
        let name_key = query
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(crate::place::name_key);
        // A name search is driven by the name index in name order: it stops after one page of
        // matches in scope instead of collecting and sorting every namesake of the city.
        let mut q = match &name_key {
            Some(key) => {
                let mut q = Where::new(
                    "FROM person_name n JOIN family f ON f.family_id = n.family_id \
                     JOIN family_place p ON p.family_id = n.family_id WHERE n.name_key >= ",
                );
                q.push_bind(key.clone())
                    .push(" AND n.name_key < ")
                    .push_bind(format!("{key}g"));
                // The same area on the name row: the index answers it without a lookup.
                if !matches!(
                    self.user.role,
                    Role::Volunteer | Role::Counsellor | Role::Admin
                ) {
                    let prefix = self.user.area_prefix().to_owned();
                    q.push(" AND n.village_code >= ")
                        .push_bind(prefix.as_str())
                        .push(" AND n.village_code < ")
                        .push_bind(prefix_end(&prefix));
                }
                q
            }
            None => Where::new(
                "FROM family f JOIN family_place p ON p.family_id = f.family_id WHERE 1 = 1",
            ),
        };
        push_scope!(q, &self.user);
        if let Some(area) = &area {
            q.push(" AND p.village_code >= ")
                .push_bind(area.clone())
                .push(" AND p.village_code < ")
                .push_bind(prefix_end(area));
        }
        if let Some(no) = &query.family_no {
            q.push(" AND f.family_no = ").push_bind(no.trim());
        }
        if let Some(ids) = &by_id {
            q.push(" AND f.family_id IN (");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push_bind(id.as_str());
            }
            q.push(")");
        }
        let order = if name_key.is_some() {
            "n.name_key, n.village_code, n.family_id"
        } else {
            query.sort.order_by(query.descending)
        };
        // A read (see `reads`): on SQLite it runs on this thread.
        let rows: Vec<(String, String, String, String)> = q
            .read(
                "search",
                "f.family_id, f.family_no, f.county_code, p.village_code",
            )
            .order(order)
            .page(limit + 1, offset)
            .rows(self.archive.db())
            .await?;
        let more = rows.len() as i64 > limit;
        let mut rows = rows;
        rows.truncate(limit as usize);
        // Two namesakes in one family are one row.
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert(r.0.clone()));
        self.rows_of(&rows).await.map(|rows| Page { rows, more })
    }

    /// Fills in village names and members' names for a page of families.
    pub(crate) async fn rows_of(
        &self,
        rows: &[(String, String, String, String)],
    ) -> Result<Vec<FamilyRow>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // One read per family, all in one statement (an IN list would build a temporary
        // b-tree on SQLite).
        let mut reads = Reads::default();
        let slots: Vec<Slot> = rows
            .iter()
            .map(|r| {
                reads.add(
                    Read::new("names", "name", "FROM person_name WHERE family_id = $1")
                        .order("person_id")
                        .arg(r.0.as_str()),
                )
            })
            .collect();
        let answers = reads.run(self.archive.db()).await?;
        let names = slots
            .into_iter()
            .map(|slot| answers.rows::<(String,)>(slot))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .iter()
            .zip(names)
            .map(|((family, no, county, village), names)| FamilyRow {
                family_id: FamilyId::from_db(family.clone()),
                family_no: no.clone(),
                county_code: county.clone(),
                village_code: village.clone(),
                // Names of villages are embedded with the division codes: no query.
                village_name: guanai_rules::VillageCode::parse(village)
                    .map(|v| v.name().to_owned())
                    .unwrap_or_default(),
                names: names.into_iter().map(|(name,)| name).collect(),
            })
            .collect())
    }

    /// Families in scope per county (the first six digits of the village), for the dashboard.
    pub async fn families_by_county(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT substr(p.village_code, 1, 6), CAST(COUNT(*) AS BIGINT) FROM family f \
                 JOIN family_place p ON p.family_id = f.family_id WHERE 1 = 1",
            );
            push_scope!(q, &self.user);
            q.push(" GROUP BY substr(p.village_code, 1, 6) ORDER BY 1");
            Ok(q.build_query_as().fetch_all(pool).await?)
        })
    }

    /// Every family in scope, in pages of ids (for the dashboard's category count).
    pub async fn family_ids_after(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<FamilyId>, StoreError> {
        let ids: Vec<String> = on_db!(self.archive.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT f.family_id FROM family f JOIN family_place p ON p.family_id = f.family_id WHERE f.family_id > ",
            );
            q.push_bind(after.to_owned());
            push_scope!(q, &self.user);
            q.push(" ORDER BY f.family_id LIMIT ");
            q.push_bind(limit.clamp(1, 10_000));
            q.build_query_scalar().fetch_all(pool).await?
        });
        Ok(ids.into_iter().map(FamilyId::from_db).collect())
    }

    /// Whether a payment run's scope (a county, or `all`) is inside the user's.
    fn sees_run(&self, run_scope: &str) -> bool {
        if !self.user.role.sees_payments() {
            return false;
        }
        let prefix = self.user.area_prefix();
        run_scope == "all" && prefix.len() == 4 || run_scope.starts_with(prefix)
    }

    /// Payment runs the user may see, newest first.
    pub async fn runs(&self) -> Result<Vec<RunSummary>, PayError> {
        Ok(self
            .archive
            .list_runs()
            .await?
            .into_iter()
            .filter(|r| self.sees_run(&r.scope))
            .collect())
    }

    /// One run, when the user may see it.
    pub async fn run(&self, run: &RunId) -> Result<RunSummary, PayError> {
        let summary = self.archive.run_summary(run).await?;
        if self.sees_run(&summary.scope) {
            Ok(summary)
        } else {
            Err(PayError::RunNotFound(run.to_string()))
        }
    }

    /// A run's problems (blocking ones first), when the user may see the run.
    pub async fn run_problems(
        &self,
        run: &RunId,
    ) -> Result<Vec<crate::pay::ProblemView>, PayError> {
        self.run(run).await?;
        let mut problems = self.archive.problems(run, false).await?;
        problems.sort_by_key(|p| (!p.blocking, p.problem_no));
        Ok(problems)
    }

    /// One page of a run's lines, when the user may see the run.
    pub async fn run_lines(
        &self,
        run: &RunId,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<LineView>, PayError> {
        self.run(run).await?;
        self.archive.run_lines_page(run, offset, limit).await
    }

    /// Whether an area code lies inside the user's area (volunteers and administrators have
    /// none for this purpose).
    pub fn covers_area(&self, code: &str) -> bool {
        !matches!(
            self.user.role,
            Role::Volunteer | Role::Counsellor | Role::Admin
        ) && crate::access::area_prefix(code).starts_with(self.user.area_prefix())
    }

    /// The contact persons of an area inside the user's (二(一)).
    pub async fn contacts_of(
        &self,
        code: &str,
    ) -> Result<Vec<crate::contacts::Contact>, StoreError> {
        if !self.covers_area(code) {
            return Err(StoreError::FamilyNotFound(code.to_owned()));
        }
        self.archive.contacts_of(code).await
    }

    /// Names an area's contact person for a duty (caseworkers, inside their area).
    pub async fn set_contact(
        &self,
        code: &str,
        name: &str,
        duty: &str,
        phone: Option<&str>,
    ) -> Result<(), StoreError> {
        if !self.user.role.can_record() {
            return Err(StoreError::Forbidden(
                "只有专干可以设置联系人 / only caseworkers name contacts".into(),
            ));
        }
        if !self.covers_area(code) {
            return Err(StoreError::invalid(
                "area",
                format!("{code} 不在您的工作区域内 / is outside your area"),
            ));
        }
        self.archive
            .set_contact(code, name, duty, phone, &self.user.actor())
            .await
    }

    /// The audit log, newest first (inspectors and administrators).
    pub async fn audit_entries(
        &self,
        query: &crate::AuditQuery,
    ) -> Result<Vec<crate::AuditEntry>, StoreError> {
        if !self.user.role.can_read_audit() {
            return Err(StoreError::Forbidden(
                "只有督查人员和管理员可以查看审计日志 / only inspectors and administrators read the audit log".into(),
            ));
        }
        self.archive.audit_entries(query).await
    }

    /// Checks the audit log's hash chain (inspectors and administrators).
    pub async fn verify_audit(&self) -> Result<crate::AuditVerification, StoreError> {
        if !self.user.role.can_read_audit() {
            return Err(StoreError::Forbidden(
                "只有督查人员和管理员可以查看审计日志 / only inspectors and administrators read the audit log".into(),
            ));
        }
        self.archive.verify_audit().await
    }

    /// The archive itself, for operations that check their own permission (payment runs by a
    /// finance officer, who the caller has verified may act on the run's scope).
    pub fn archive_for_run(&self, run_scope: &str) -> Result<&Archive, PayError> {
        if self.user.role.can_pay() && self.sees_run(run_scope) {
            Ok(self.archive)
        } else {
            Err(PayError::RunNotFound(run_scope.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn a_prefix_range_holds_every_longer_code_and_nothing_else() {
        let end = prefix_end("371302");
        for inside in ["371302", "371302001", "371302001999"] {
            assert!(inside >= "371302" && inside < end.as_str(), "{inside}");
        }
        for outside in ["371301999999", "371303", "3713020"] {
            let holds = outside >= "371302" && outside < end.as_str();
            assert_eq!(holds, outside.starts_with("371302"), "{outside}");
        }
    }
}
