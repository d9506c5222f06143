//! The figures behind reports (三(三), 三(四); migration 0014): the statistical register (one
//! profile per family, [`guanai_report::register`], recomputed from the file whenever the family's
//! version or the policy pack changed), payments summed per run when it is approved
//! (`pay_run_total`), and grouped counts of services and visits. Every figure is summed per
//! area under a prefix of village codes; the caller (a [`Scoped`] user or the command line)
//! chooses the prefix.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures_util::StreamExt;
use guanai_report::register::{FamilyTally, MonthState, Profile, Standing, candidate_months};
use guanai_report::tables::{PaymentTotal, VisitTally};
use guanai_rules::engine::evaluate;
use guanai_rules::{Month, Policy};
use jiff::civil::Date;
use sha2::{Digest, Sha256};

use crate::archive::Archive;
use crate::bulk::{self, Col};
use crate::error::StoreError;
use crate::file::FamilyFile;
use crate::model::{FactValue, FamilyId};
use crate::on_db;
use crate::scope::prefix_end;

/// What a refresh of the register did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RegisterRefresh {
    /// Families in the archive.
    pub families: i64,
    /// Families whose profile was (re)computed.
    pub refreshed: i64,
}

/// The key of the pack a profile was computed with: SHA-256 over every parameter.
pub fn register_key(policy: &Policy) -> String {
    bulk::hex(&Sha256::digest(format!("{policy:?}").as_bytes()))
}

/// The length of the codes one level below an area prefix: city (4) → counties (6) → townships
/// (9) → villages (12).
pub fn child_level(prefix: &str) -> usize {
    match prefix.len() {
        0..=4 => 6,
        5..=6 => 9,
        _ => 12,
    }
}

/// A family's profile from its file: the engine evaluated at every month something can change.
pub fn profile_of(file: &FamilyFile, policy: &Policy) -> Profile {
    let births: Vec<Date> = file
        .facts
        .iter()
        .filter_map(|f| match &f.value {
            Some(FactValue::Identity { birth_date, .. }) => Some(*birth_date),
            _ => None,
        })
        .collect();
    let e = &policy.eligibility;
    let months = candidate_months(
        policy.programme_start,
        file.facts.iter().filter_map(|f| f.valid_from),
        births,
        &[e.assistance_age, e.orphan_age_limit, e.elderly_age],
        &[policy.start],
    );
    let mut profile = Profile::default();
    let mut last = None;
    for month in months {
        match file.engine_family(month, None) {
            Ok(family) => {
                let evaluation = evaluate(&family, month, policy);
                profile.push(month, MonthState::of(&family, &evaluation));
                last = Some(family);
            }
            Err(_) => profile.push_unreadable(month),
        }
    }
    if let Some(family) = last {
        for (slot, parent) in profile.parents.iter_mut().zip(family.parents()) {
            *slot = Some(parent.birth_date);
        }
    }
    profile
}

/// What a file lacks for the assessment's data completeness: an ID number for every parent who
/// has been paid, a phone for the family, a bank account for every parent who has been paid.
fn missing_of(
    profile: &Profile,
    file: &FamilyFile,
    present: &HashSet<(String, &'static str)>,
) -> String {
    let ever_paid = profile.segments.iter().fold(0u8, |m, (_, s)| m | s.paid);
    let mut missing = Vec::new();
    let parents: Vec<_> = file
        .persons
        .iter()
        .filter(|p| {
            matches!(
                p.relation,
                crate::model::Relation::Mother | crate::model::Relation::Father
            )
        })
        .collect();
    for (i, p) in parents.iter().enumerate().take(2) {
        if ever_paid & (1 << i) == 0 {
            continue;
        }
        for kind in ["id_number", "bank_account"] {
            if !present.contains(&(p.person_id.as_str().to_owned(), kind)) {
                missing.push(format!("{kind}:{}", p.relation.as_str()));
            }
        }
    }
    if !present.contains(&(String::new(), "phone")) {
        missing.push("phone".to_owned());
    }
    missing.join(",")
}

/// Adds a family to its area's tally (areas are looked up without allocating once present).
fn tally_into(
    groups: &mut BTreeMap<String, FamilyTally>,
    area: &str,
    profile: &Profile,
    standing: Standing,
    from: Month,
    to: Month,
) {
    match groups.get_mut(area) {
        Some(t) => t.add(profile, standing, from, to),
        None => {
            let mut t = FamilyTally::default();
            t.add(profile, standing, from, to);
            groups.insert(area.to_owned(), t);
        }
    }
}

/// Register rows read per query.
const REGISTER_CHUNK: i64 = 20_000;

/// Families per transaction when the register is refreshed.
const REFRESH_CHUNK: usize = 500;

impl Archive {
    /// Recomputes the profile of every family whose file or pack changed since its profile was
    /// made (all of them the first time). Chunks are read and evaluated on both cores and each
    /// written in its own transaction: stopping half-way leaves correct rows, and the next
    /// refresh finishes the job.
    pub async fn refresh_register(&self, policy: &Policy) -> Result<RegisterRefresh, StoreError> {
        let key = register_key(policy);
        let (families, stale): (i64, Vec<FamilyId>) = on_db!(self.db(), pool => {
            let families: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM family").fetch_one(pool).await?;
            let rows: Vec<String> = sqlx::query_scalar(
                "SELECT f.family_id FROM family f LEFT JOIN stat_family s ON s.family_id = f.family_id \
                 WHERE s.family_id IS NULL OR s.version <> f.version OR s.policy_digest <> $1 ORDER BY f.family_id",
            )
            .bind(&key)
            .fetch_all(pool)
            .await?;
            (families, rows.into_iter().filter_map(|id| FamilyId::parse(&id)).collect())
        });
        if stale.is_empty() {
            return Ok(RegisterRefresh {
                families,
                refreshed: 0,
            });
        }
        let policy = std::sync::Arc::new(policy.clone());
        let key = std::sync::Arc::new(key);
        let sql = std::sync::Arc::new(bulk::insert_sql(
            self.db(),
            "stat_family",
            &[
                ("family_id", Col::Text),
                ("version", Col::Int),
                ("policy_digest", Col::Text),
                ("county_code", Col::Text),
                ("village_code", Col::Text),
                ("profile", Col::Text),
                ("missing", Col::Text),
            ],
            // Two refreshes at once (the dashboard's charts and a report page, say) may write
            // the same family: on PostgreSQL the second's DELETE does not see the first's
            // uncommitted rows, so its INSERT would fail on the key. The later row wins; any
            // row is recomputed whenever its version or pack differs.
            "ON CONFLICT (family_id) DO UPDATE SET version = excluded.version, policy_digest = excluded.policy_digest, \
             county_code = excluded.county_code, village_code = excluded.village_code, profile = excluded.profile, \
             missing = excluded.missing",
        ));
        let mut chunks =
            futures_util::stream::iter(stale.chunks(REFRESH_CHUNK).map(<[FamilyId]>::to_vec))
                .map(|chunk| {
                    let archive = self.clone();
                    let policy = policy.clone();
                    let key = key.clone();
                    let sql = sql.clone();
                    tokio::spawn(
                        async move { archive.refresh_chunk(&chunk, &policy, &key, &sql).await },
                    )
                })
                .buffered(2);
        let mut refreshed = 0;
        while let Some(done) = chunks.next().await {
            refreshed +=
                done.map_err(|e| StoreError::Corrupt(format!("a register worker failed: {e}")))??;
        }
        if refreshed > 10_000 {
            self.refresh_statistics(&["stat_family"]).await?;
        }
        Ok(RegisterRefresh {
            families,
            refreshed,
        })
    }

    async fn refresh_chunk(
        &self,
        chunk: &[FamilyId],
        policy: &Policy,
        key: &str,
        sql: &str,
    ) -> Result<i64, StoreError> {
        let files = self.care_files(chunk).await?;
        type Present = (String, Option<String>, String);
        let (present, places): (Vec<Present>, Vec<(String, String)>) = on_db!(self.db(), pool => {
            // A fact is replaced only within its family: `n.family_id` lets the check use the
            // family index instead of scanning every fact of the archive for each one here.
            let mut q = sqlx::QueryBuilder::new(
                "SELECT f.family_id, f.person_id, f.kind FROM fact f WHERE f.kind IN ('id_number', 'bank_account', 'phone') \
                 AND f.retracted = FALSE AND NOT EXISTS (SELECT 1 FROM fact n WHERE n.family_id = f.family_id AND n.replaces = f.fact_id) AND f.family_id IN (",
            );
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id.as_str());
            }
            list.push_unseparated(")");
            let present = q.build_query_as().fetch_all(pool).await?;
            let mut q = sqlx::QueryBuilder::new("SELECT family_id, village_code FROM family_place WHERE family_id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id.as_str());
            }
            list.push_unseparated(")");
            (present, q.build_query_as().fetch_all(pool).await?)
        });
        let mut by_family: HashMap<&str, HashSet<(String, &'static str)>> = HashMap::new();
        for (family, person, kind) in &present {
            let kind: &'static str = match kind.as_str() {
                "id_number" => "id_number",
                "bank_account" => "bank_account",
                _ => "phone",
            };
            let set = by_family.entry(family.as_str()).or_default();
            if kind == "phone" {
                set.insert((String::new(), "phone"));
            } else if let Some(p) = person {
                set.insert((p.clone(), kind));
            }
        }
        let places: HashMap<String, String> = places.into_iter().collect();
        let empty = HashSet::new();
        let mut rows = Vec::with_capacity(files.len());
        for file in &files {
            let profile = profile_of(file, policy);
            let missing = missing_of(
                &profile,
                file,
                by_family.get(file.family_id.as_str()).unwrap_or(&empty),
            );
            let county = file.county_code.to_string();
            let village = places
                .get(file.family_id.as_str())
                .cloned()
                .unwrap_or_else(|| format!("{county}000000"));
            rows.push(serde_json::json!([
                file.family_id.as_str(),
                file.version,
                key,
                &village[..6.min(village.len())],
                village,
                profile.encode(),
                missing,
            ]));
        }
        let written = rows.len() as i64;
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            let mut q = sqlx::QueryBuilder::new("DELETE FROM stat_family WHERE family_id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id.as_str());
            }
            list.push_unseparated(")");
            q.build().execute(&mut *tx).await?;
            for part in rows.chunks(bulk::ROWS) {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(serde_json::Value::Array(part.to_vec()).to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(written)
    }

    /// Casework standing of the families that have one: applications pending (none approved)
    /// and approved exits.
    pub(crate) async fn standings(&self) -> Result<HashMap<String, Standing>, StoreError> {
        let (pending, exits): (Vec<String>, Vec<(String, String)>) = on_db!(self.db(), pool => {
            let pending = sqlx::query_scalar(
                "SELECT family_id FROM application GROUP BY family_id \
                 HAVING SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END) = 0",
            )
            .fetch_all(pool)
            .await?;
            let exits = sqlx::query_as("SELECT family_id, exit_on FROM family_exit WHERE status = 'approved'")
                .fetch_all(pool)
                .await?;
            (pending, exits)
        });
        let mut out: HashMap<String, Standing> = HashMap::new();
        for family in pending {
            out.entry(family).or_default().pending = true;
        }
        for (family, on) in exits {
            let date = guanai_rules::parse_date(&on)
                .map_err(|e| StoreError::Corrupt(format!("family_exit.exit_on {on:?}: {e}")))?;
            out.entry(family).or_default().exited_on = Some(date);
        }
        Ok(out)
    }

    /// Reads every register row under `prefix` (village codes), in no particular order, handing
    /// each family's id, village, profile, missing items and standing to `visit`. The rows come
    /// in chunks, each one text built by the database (a row at a time cost 5 s for a million
    /// families, most of it in the driver), and the next chunk is read while one is counted.
    /// Memory holds two chunks, whatever the size of the archive.
    pub async fn scan_register(
        &self,
        prefix: &str,
        mut visit: impl FnMut(&str, &str, &Profile, &str, Standing),
    ) -> Result<i64, StoreError> {
        let standings = self.standings().await?;
        let mut seen = 0;
        let start = match self.db() {
            crate::db::Db::Sqlite(..) => "0".to_owned(),
            crate::db::Db::Pg(_) => String::new(),
        };
        let mut next = Some(self.register_chunk(prefix, start));
        while let Some(reading) = next.take() {
            let (cursor, count, text) = reading
                .await
                .map_err(|e| StoreError::Corrupt(format!("a register reader failed: {e}")))??;
            if count == REGISTER_CHUNK {
                next = Some(self.register_chunk(prefix, cursor));
            }
            for line in text.split('\n').filter(|l| !l.is_empty()) {
                let mut fields = line.splitn(4, '|');
                let (Some(family), Some(village), Some(profile), Some(missing)) =
                    (fields.next(), fields.next(), fields.next(), fields.next())
                else {
                    return Err(StoreError::Corrupt(format!("stat_family row {line:?}")));
                };
                let profile =
                    Profile::parse(profile).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let standing = standings.get(family).copied().unwrap_or_default();
                visit(family, village, &profile, missing, standing);
                seen += 1;
            }
        }
        Ok(seen)
    }

    /// Starts reading the register rows under `prefix` after `cursor` (SQLite: a rowid, in the
    /// table's order; PostgreSQL: a family id): the last key, the number of rows and the rows as
    /// `family|village|profile|missing` lines.
    fn register_chunk(
        &self,
        prefix: &str,
        cursor: String,
    ) -> tokio::task::JoinHandle<Result<(String, i64, String), StoreError>> {
        let archive = self.clone();
        let (lo, hi) = (prefix.to_owned(), prefix_end(prefix));
        tokio::spawn(async move {
            let row: (Option<String>, i64, Option<String>) = on_db!(archive.db(), pool => {
                let sql = match archive.db() {
                    crate::db::Db::Sqlite(..) => "SELECT CAST(MAX(k) AS TEXT), COUNT(*), group_concat(line, char(10)) FROM ( \
                         SELECT rowid AS k, family_id || '|' || village_code || '|' || profile || '|' || missing AS line FROM stat_family \
                         WHERE rowid > CAST($1 AS INTEGER) AND village_code >= $2 AND village_code < $3 ORDER BY rowid LIMIT $4) AS c",
                    crate::db::Db::Pg(_) => "SELECT MAX(k), COUNT(*), string_agg(line, chr(10)) FROM ( \
                         SELECT family_id AS k, family_id || '|' || village_code || '|' || profile || '|' || missing AS line FROM stat_family \
                         WHERE family_id > $1 AND village_code >= $2 AND village_code < $3 ORDER BY family_id LIMIT $4) AS c",
                };
                sqlx::query_as(sql)
                    .bind(&cursor)
                    .bind(&lo)
                    .bind(&hi)
                    .bind(REGISTER_CHUNK)
                    .fetch_one(pool)
                    .await?
            });
            Ok((row.0.unwrap_or_default(), row.1, row.2.unwrap_or_default()))
        })
    }

    /// Table 1's counts per area one level below `prefix`, for the months `from..=to`, and
    /// the number of families on the register there. The register must be fresh
    /// ([`Archive::refresh_register`]).
    pub async fn family_tally(
        &self,
        prefix: &str,
        from: Month,
        to: Month,
    ) -> Result<(Vec<(String, FamilyTally)>, i64), StoreError> {
        let level = child_level(prefix);
        let mut groups: BTreeMap<String, FamilyTally> = BTreeMap::new();
        let families = self
            .scan_register(prefix, |_, village, profile, _, standing| {
                tally_into(
                    &mut groups,
                    &village[..level.min(village.len())],
                    profile,
                    standing,
                    from,
                    to,
                );
            })
            .await?;
        Ok((groups.into_iter().collect(), families))
    }

    /// Payments of the approved runs of months `from..=to` under `prefix`, summed per month
    /// (the run's), area one level below the prefix, kind and nature.
    pub async fn payment_totals(
        &self,
        prefix: &str,
        from: Month,
        to: Month,
    ) -> Result<Vec<PaymentTotal>, StoreError> {
        let level = child_level(prefix);
        type Row = (String, String, String, String, i64, i64, i64, i64, i64);
        let rows: Vec<Row> = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT month, substr(village_code, 1, {level}) AS area, kind, nature, CAST(SUM(lines) AS BIGINT), CAST(SUM(families) AS BIGINT), \
                 CAST(SUM(amount) AS BIGINT), CAST(SUM(standard_fen) AS BIGINT), CAST(SUM(county_fen) AS BIGINT) \
                 FROM pay_run_total WHERE month >= $1 AND month <= $2 AND village_code >= $3 AND village_code < $4 \
                 GROUP BY month, substr(village_code, 1, {level}), kind, nature ORDER BY month, area, kind, nature",
            )))
            .bind(from.to_string())
            .bind(to.to_string())
            .bind(prefix)
            .bind(prefix_end(prefix))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(
                |(month, area, kind, nature, lines, families, amount, standard, county)| {
                    Ok(PaymentTotal {
                        month: Month::parse(&month).map_err(|e| {
                            StoreError::Corrupt(format!("pay_run_total.month: {e}"))
                        })?,
                        area,
                        kind,
                        nature,
                        lines,
                        families,
                        amount,
                        standard_fen: standard,
                        county_fen: county,
                    })
                },
            )
            .collect()
    }

    /// Current service statuses (spec §6) under `prefix`: per area one level below, service
    /// and status, the number of persons.
    pub async fn service_counts(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        let level = child_level(prefix);
        let rows = on_db!(self.db(), pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT substr(p.village_code, 1, {level}) AS area, s.service, s.status, COUNT(*) \
                 FROM service_status s JOIN family_place p ON p.family_id = s.family_id \
                 WHERE p.village_code >= $1 AND p.village_code < $2 AND NOT EXISTS ( \
                   SELECT 1 FROM service_status n WHERE n.family_id = s.family_id AND n.person_id = s.person_id AND n.service = s.service \
                   AND (n.recorded_at > s.recorded_at OR (n.recorded_at = s.recorded_at AND n.status_id > s.status_id))) \
                 GROUP BY substr(p.village_code, 1, {level}), s.service, s.status ORDER BY area, s.service, s.status",
            )))
            .bind(prefix)
            .bind(prefix_end(prefix))
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// A year's visit plan under `prefix` as of a day: per area one level below (where the family
    /// lived when each period began) and kind of period, the periods planned, due by the day,
    /// and visited of those due.
    pub async fn visit_tally(
        &self,
        prefix: &str,
        year: i16,
        as_of: Date,
    ) -> Result<Vec<VisitTally>, StoreError> {
        let level = child_level(prefix);
        let rows: Vec<(String, String, i64, i64, i64)> = on_db!(self.db(), pool => {
            sqlx::query_as(
                "SELECT v.village_code, v.kind, COUNT(*), \
                 CAST(SUM(CASE WHEN v.due_on <= $1 THEN 1 ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN v.due_on <= $1 AND v.visit_id IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM visit_period v WHERE v.year = $2 AND v.village_code >= $3 AND v.village_code < $4 \
                 GROUP BY v.village_code, v.kind",
            )
            .bind(as_of.to_string())
            .bind(i64::from(year))
            .bind(prefix)
            .bind(prefix_end(prefix))
            .fetch_all(pool)
            .await?
        });
        // Counted per village in the index's order, summed per area here.
        let mut sums: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
        for (village, kind, planned, due, done) in rows {
            let area = village.get(..level).unwrap_or(&village).to_owned();
            let s = sums.entry((area, kind)).or_default();
            s.0 += planned;
            s.1 += due;
            s.2 += done;
        }
        Ok(sums
            .into_iter()
            .map(|((area, kind), (planned, due, done))| VisitTally {
                area,
                kind,
                planned,
                due,
                done,
            })
            .collect())
    }

    /// Names of areas by code.
    pub async fn area_names(&self, codes: &[&str]) -> Result<HashMap<String, String>, StoreError> {
        let mut out = HashMap::new();
        for chunk in codes.chunks(500) {
            let rows: Vec<(String, String)> = on_db!(self.db(), pool => {
                let mut q = sqlx::QueryBuilder::new("SELECT code, name FROM area WHERE code IN (");
                let mut list = q.separated(", ");
                for c in chunk {
                    list.push_bind(*c);
                }
                list.push_unseparated(")");
                q.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }
}

/// What a statistical report covers: the areas under `prefix`, the months `from..=to`, the
/// visits of `to`'s year as of `as_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRequest {
    pub prefix: String,
    pub from: Month,
    pub to: Month,
    pub as_of: Date,
    /// Chart titles and legends in English (the tables carry both languages).
    pub english: bool,
}

impl ReportRequest {
    /// Checks the period: `from` not after `to`, at most ten years.
    pub fn check(&self) -> Result<(), StoreError> {
        if self.from > self.to {
            return Err(StoreError::invalid(
                "from",
                format!(
                    "{} 晚于 {} / the period starts after it ends",
                    self.from, self.to
                ),
            ));
        }
        if self.from.months_until(self.to) >= 120 {
            return Err(StoreError::invalid(
                "to",
                "统计期不能超过十年 / a period of at most ten years",
            ));
        }
        Ok(())
    }
}

/// The statistical tables of an area and period, with the charts drawn from them.
#[derive(Debug, Clone)]
pub struct StatisticalReport {
    pub area_name: String,
    pub families: guanai_report::Table,
    pub payments_by_month: guanai_report::Table,
    pub payments_by_area: guanai_report::Table,
    pub grants: guanai_report::Table,
    pub services: guanai_report::Table,
    pub visits: guanai_report::Table,
    /// SVG: payments per month by funding source.
    pub payments_chart: String,
    /// SVG: special-difficulty families per area.
    pub families_chart: String,
    /// SVG: visit coverage per area.
    pub visits_chart: String,
    /// Families on the register (every family of the scope, in the programme or not).
    pub register_families: i64,
}

impl StatisticalReport {
    /// The tables in the order they are printed.
    pub fn tables(&self) -> [&guanai_report::Table; 6] {
        [
            &self.families,
            &self.payments_by_month,
            &self.payments_by_area,
            &self.grants,
            &self.services,
            &self.visits,
        ]
    }
}

fn chart_error(e: guanai_report::ChartError) -> StoreError {
    StoreError::Corrupt(format!("chart: {e}"))
}

impl Archive {
    /// The area's name (the city for its prefix).
    pub async fn area_name(&self, prefix: &str) -> Result<String, StoreError> {
        let code = if prefix.len() <= 4 {
            crate::access::CITY_CODE.to_owned()
        } else {
            prefix.to_owned()
        };
        Ok(self
            .area_names(&[code.as_str()])
            .await?
            .remove(&code)
            .unwrap_or(code))
    }

    /// The areas one level below `prefix` that appear in any of `codes`, with names, in code
    /// order.
    async fn named_areas(
        &self,
        codes: impl IntoIterator<Item = String>,
    ) -> Result<Vec<(String, guanai_report::Label)>, StoreError> {
        let mut codes: Vec<String> = codes.into_iter().collect();
        codes.sort();
        codes.dedup();
        let names = self
            .area_names(&codes.iter().map(String::as_str).collect::<Vec<_>>())
            .await?;
        Ok(codes
            .into_iter()
            .map(|c| {
                let name = names.get(&c).cloned().unwrap_or_else(|| c.clone());
                let label = guanai_report::Label::new(name.clone(), name);
                (c, label)
            })
            .collect())
    }

    /// Refreshes the register, then sums and lays out every statistical table of the request.
    pub async fn statistical_report(
        &self,
        policy: &Policy,
        request: &ReportRequest,
    ) -> Result<StatisticalReport, StoreError> {
        use guanai_report::{Label, chart, register, tables};
        request.check()?;
        self.refresh_register(policy).await?;
        let prefix = request.prefix.as_str();
        let area_name = self.area_name(prefix).await?;
        let subtitle = Label::new(
            format!("{area_name}　{} 至 {}", request.from, request.to),
            format!("{area_name}, {} to {}", request.from, request.to),
        );
        // The register's pass and the grouped queries run at once (SQLite reads on their own
        // connections in WAL mode; PostgreSQL in the server).
        let ((tally, register_families), payments, services, visits) = tokio::try_join!(
            self.family_tally(prefix, request.from, request.to),
            self.payment_totals(prefix, request.from, request.to),
            self.service_counts(prefix),
            self.visit_tally(prefix, request.to.year(), request.as_of),
        )?;
        let areas = self
            .named_areas(
                tally
                    .iter()
                    .map(|(a, _)| a.clone())
                    .chain(payments.iter().map(|p| p.area.clone()))
                    .chain(visits.iter().map(|v| v.area.clone())),
            )
            .await?;
        let name_of = |code: &str| {
            areas
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| Label::new(code, code))
        };
        let family_rows: Vec<(Label, FamilyTally)> =
            tally.iter().map(|(a, t)| (name_of(a), *t)).collect();
        let visit_subtitle = Label::new(
            format!(
                "{area_name}　{} 年，截至 {}",
                request.to.year(),
                request.as_of
            ),
            format!("{area_name}, {} as of {}", request.to.year(), request.as_of),
        );
        let families = register::families_table(&family_rows, subtitle.clone());
        let payments_by_month =
            tables::payments_by_month(&payments, request.from, request.to, subtitle.clone());
        let payments_by_area = tables::payments_by_area(&payments, &areas, subtitle.clone());
        let grants = tables::grants_table(&payments, subtitle.clone());
        let service_counts: Vec<(String, String, i64)> = services
            .into_iter()
            .map(|(_, service, status, n)| (service, status, n))
            .collect();
        let services = tables::services_table(
            &service_counts,
            Label::new(area_name.clone(), area_name.clone()),
        );
        let visit_areas: Vec<(String, Label)> = areas
            .iter()
            .filter(|(c, _)| visits.iter().any(|v| v.area == *c))
            .cloned()
            .collect();
        let visits_table = tables::visits_table(&visits, &visit_areas, visit_subtitle);
        // Charts from the very tables above.
        let monthly: Vec<(String, guanai_rules::Fen, guanai_rules::Fen)> = payments_by_month
            .rows
            .iter()
            .map(|r| {
                let fen = |i: usize| {
                    guanai_rules::Fen(r.get(i).and_then(guanai_report::Cell::number).unwrap_or(0))
                };
                let month = match r.first() {
                    Some(guanai_report::Cell::Text(t)) => t.clone(),
                    _ => String::new(),
                };
                (month, fen(10), fen(11))
            })
            .collect();
        let english = request.english;
        let pick = |zh: String, en: String| if english { en } else { zh };
        let payments_chart = chart::payments_trend(
            &pick(
                format!("{area_name} 扶助资金发放（元）"),
                format!("{area_name}: payments (yuan)"),
            ),
            &monthly,
            if english {
                ("Higher-level funds", "County finance")
            } else {
                ("上级资金", "县级财政")
            },
        )
        .map_err(chart_error)?;
        let families_chart = chart::bars(
            &pick(
                format!("{area_name} 特殊困难家庭（户，{}）", request.to),
                format!("{area_name}: special-difficulty families ({})", request.to),
            ),
            &family_rows
                .iter()
                .map(|(l, t)| (l.zh.clone(), t.families()))
                .collect::<Vec<_>>(),
            if english { "families" } else { "户" },
        )
        .map_err(chart_error)?;
        let visits_chart = chart::shares(
            &pick(
                format!("{area_name} 走访覆盖率（截至 {}）", request.as_of),
                format!("{area_name}: visit coverage (as of {})", request.as_of),
            ),
            &visits_table
                .rows
                .iter()
                .map(|r| {
                    let name = match r.first() {
                        Some(guanai_report::Cell::Text(t)) => t.clone(),
                        _ => String::new(),
                    };
                    let share = match r.get(4) {
                        Some(guanai_report::Cell::Share(s)) => *s,
                        _ => None,
                    };
                    (name, share)
                })
                .collect::<Vec<_>>(),
        )
        .map_err(chart_error)?;
        Ok(StatisticalReport {
            area_name,
            families,
            payments_by_month,
            payments_by_area,
            grants,
            services,
            visits: visits_table,
            payments_chart,
            families_chart,
            visits_chart,
            register_families,
        })
    }

    /// The county assessment of the counties under `prefix` as of a day: scores, the scorecard
    /// table and the table of lost points (register refreshed first).
    pub async fn assessment(
        &self,
        policy: &Policy,
        prefix: &str,
        as_of: Date,
        english: bool,
    ) -> Result<Assessment, StoreError> {
        use guanai_report::{Label, scorecard};
        self.refresh_register(policy).await?;
        let weights = scorecard::weights_of(&policy.assessment);
        let measures = self.county_measures(prefix, policy, as_of).await?;
        let scores = scorecard::score(measures, &weights);
        let area_name = self.area_name(prefix).await?;
        let subtitle = Label::new(
            format!("{area_name}　{} 年，截至 {as_of}", as_of.year()),
            format!("{area_name}, {} as of {as_of}", as_of.year()),
        );
        let table = scorecard::scorecard_table(&scores, &weights, subtitle.clone());
        let lost = scorecard::lost_points_table(&scores, english, subtitle);
        Ok(Assessment {
            scores,
            weights,
            table,
            lost,
        })
    }

    /// The public summary (三(四)): special-difficulty families by county and category and the
    /// money paid per county in the period, counts below the pack's threshold withheld.
    pub async fn public_summary(
        &self,
        policy: &Policy,
        from: Month,
        to: Month,
    ) -> Result<Vec<guanai_report::Table>, StoreError> {
        use guanai_report::{Cell, Column, ColumnKind, Label, Table, publicity};
        let request = ReportRequest {
            prefix: crate::access::area_prefix(crate::access::CITY_CODE).to_owned(),
            from,
            to,
            as_of: to.first_day(),
            english: false,
        };
        request.check()?;
        self.refresh_register(policy).await?;
        let ((tally, _), payments) = tokio::try_join!(
            self.family_tally(&request.prefix, from, to),
            self.payment_totals(&request.prefix, from, to),
        )?;
        let areas = self
            .named_areas(
                tally
                    .iter()
                    .map(|(a, _)| a.clone())
                    .chain(payments.iter().map(|p| p.area.clone())),
            )
            .await?;
        let subtitle = Label::new(
            format!("临沂市　{from} 至 {to}"),
            format!("Linyi, {from} to {to}"),
        );
        let rows: Vec<Vec<Cell>> = areas
            .iter()
            .map(|(code, name)| {
                let t = tally
                    .iter()
                    .find(|(a, _)| a == code)
                    .map(|(_, t)| *t)
                    .unwrap_or_default();
                let paid: i64 = payments
                    .iter()
                    .filter(|p| p.area == *code)
                    .map(|p| p.amount)
                    .sum();
                vec![
                    Cell::Text(name.zh.clone()),
                    Cell::Count(t.families()),
                    Cell::Count(t.bereaved),
                    Cell::Count(t.disabled),
                    Cell::Count(t.orphan),
                    Cell::Count(t.paid_parents),
                    Cell::Fen(guanai_rules::Fen(paid)),
                ]
            })
            .collect();
        let table = Table {
            key: "public".to_owned(),
            title: Label::new(
                "临沂市计划生育特殊困难家庭扶助情况公示",
                "Linyi special-difficulty family relief: public summary",
            ),
            subtitle,
            columns: vec![
                Column::new(ColumnKind::Text, "县区", "County"),
                Column::new(ColumnKind::Count, "扶助家庭（户）", "Families"),
                Column::new(ColumnKind::Count, "失独家庭", "Bereaved"),
                Column::new(ColumnKind::Count, "伤残家庭", "Disabled"),
                Column::new(ColumnKind::Count, "孤儿家庭", "Orphan"),
                Column::new(ColumnKind::Count, "扶助对象（人）", "Parents assisted"),
                Column::new(ColumnKind::Fen, "发放金额（元）", "Paid (yuan)"),
            ],
            rows,
            totals: None,
            notes: vec![Label::new(
                "只公布汇总数字，不含任何姓名、身份证号或住址（三(四)）。",
                "Counts and totals only: no names, ID numbers or addresses (三(四)).",
            )],
        };
        let totals = table.sum_rows(|_, _| None);
        let table = Table {
            totals: Some(totals),
            ..table
        };
        Ok(vec![publicity::suppress(
            &table,
            policy.assessment.min_public_cell,
        )])
    }
}

/// A county assessment: scores, the weights used, the scorecard and lost-point tables.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub scores: Vec<guanai_report::scorecard::CountyScore>,
    pub weights: Vec<(guanai_report::scorecard::Indicator, i64)>,
    pub table: guanai_report::Table,
    pub lost: guanai_report::Table,
}

impl crate::scope::Scoped<'_> {
    /// The prefix of a report on `area` (the user's own when none is given): inside the user's
    /// area, and only for roles that see reports.
    pub fn report_prefix(&self, area: Option<&str>) -> Result<String, StoreError> {
        if !self.user.role.sees_reports() {
            return Err(StoreError::Forbidden(
                "统计报表仅对各级专干、财务和督查人员开放 / reports are for caseworkers, finance and inspectors".into(),
            ));
        }
        let own = self.user.area_prefix().to_owned();
        match area.map(str::trim).filter(|a| !a.is_empty()) {
            None => Ok(own),
            Some(a) if a == crate::access::CITY_CODE && own.len() <= 4 => Ok(own),
            Some(a) => {
                if !a.bytes().all(|b| b.is_ascii_digit()) || !matches!(a.len(), 6 | 9 | 12) {
                    return Err(StoreError::invalid(
                        "area",
                        format!(
                            "{a:?} 不是县区、乡镇或村的代码 / not a county, township or village code"
                        ),
                    ));
                }
                if !a.starts_with(&own) {
                    return Err(StoreError::Forbidden(format!(
                        "{a} 不在您的辖区内 / outside your area"
                    )));
                }
                Ok(a.to_owned())
            }
        }
    }

    /// The statistical tables of the user's area (or an area inside it).
    pub async fn statistical_report(
        &self,
        policy: &Policy,
        area: Option<&str>,
        from: Month,
        to: Month,
        as_of: Date,
        english: bool,
    ) -> Result<StatisticalReport, StoreError> {
        let prefix = self.report_prefix(area)?;
        self.archive
            .statistical_report(
                policy,
                &ReportRequest {
                    prefix,
                    from,
                    to,
                    as_of,
                    english,
                },
            )
            .await
    }

    fn require_assessment(&self) -> Result<(), StoreError> {
        if self.user.role.sees_assessment() {
            Ok(())
        } else {
            Err(StoreError::Forbidden(
                "考核与抽查对县区、市级专干、财务和督查人员开放 / the assessment is for county and city staff and inspectors".into(),
            ))
        }
    }

    /// The assessment of the user's county, or of every county for the city.
    pub async fn assessment(
        &self,
        policy: &Policy,
        as_of: Date,
        english: bool,
    ) -> Result<Assessment, StoreError> {
        self.require_assessment()?;
        self.archive
            .assessment(policy, self.user.area_prefix(), as_of, english)
            .await
    }

    /// Spot checks of the user's county (or all, for the city), newest first.
    pub async fn spot_checks(
        &self,
    ) -> Result<Vec<crate::assessment::SpotCheckSummary>, StoreError> {
        self.require_assessment()?;
        self.archive.spot_checks(self.user.area_prefix()).await
    }

    /// A spot check of a county in the user's area; "not found" outside it.
    pub async fn spot_check(
        &self,
        check_id: &str,
    ) -> Result<crate::assessment::SpotCheck, StoreError> {
        self.require_assessment()?;
        let check = self.archive.spot_check(check_id).await?;
        if !check.county_code.starts_with(self.user.area_prefix()) {
            return Err(StoreError::invalid(
                "check",
                format!("没有抽查 {check_id} / no such spot check"),
            ));
        }
        Ok(check)
    }

    /// Draws again from the stored list and compares (any reader of the check may).
    pub async fn verify_spot_check(
        &self,
        check_id: &str,
    ) -> Result<crate::assessment::DrawVerification, StoreError> {
        self.spot_check(check_id).await?;
        self.archive.verify_spot_check(check_id).await
    }

    /// Draws a spot check (city caseworkers and inspectors).
    pub async fn draw_spot_check(
        &self,
        county: &str,
        month: Month,
        size: i64,
        seed: Option<u64>,
        note: &str,
    ) -> Result<crate::assessment::SpotCheck, StoreError> {
        if !self.user.role.can_spot_check() {
            return Err(StoreError::Forbidden(
                "抽查由市级专干或督查人员进行 / spot checks are drawn by the city or inspectors"
                    .into(),
            ));
        }
        self.archive
            .draw_spot_check(county, month, size, seed, note, &self.user.actor())
            .await
    }

    /// Records a finding of a spot check (city caseworkers and inspectors).
    pub async fn record_spot_finding(
        &self,
        check_id: &str,
        family: &crate::model::FamilyId,
        finding: crate::assessment::NewFinding<'_>,
        today: Date,
    ) -> Result<(), StoreError> {
        if !self.user.role.can_spot_check() {
            return Err(StoreError::Forbidden(
                "抽查结果由市级专干或督查人员记录 / findings are recorded by the city or inspectors".into(),
            ));
        }
        self.spot_check(check_id).await?;
        self.archive
            .record_spot_finding(check_id, family, finding, today, &self.user.actor())
            .await
    }
}
