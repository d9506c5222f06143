//! The dashboard's counts that grow with the archive, counted in the background per scope and
//! kept for ten minutes, so the dashboard never waits for them: families by category (the rules
//! engine's answer for this month, so every family in scope is evaluated) and this year's visit
//! figures (二(一): a grouped count over every visit period in scope — 0.4 s for 280,000 periods
//! on SQLite, so seconds for a city of a million families), and this year's charts of the scope
//! (issue 7: a whole statistical report, seconds for the city). The public summary (三(四)),
//! served without signing in, is kept here too, per period, and made one at a time.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guanai_rules::engine::{Category, evaluate};
use guanai_rules::{Month, Policy};
use guanai_store::access::{Role, User};
use guanai_store::visits::DueState;
use guanai_store::{Archive, StoreError};
use jiff::civil::Date;

/// How long counts are shown before they are counted again.
const FRESH: Duration = Duration::from_secs(10 * 60);
/// Families read per query while counting.
const CHUNK: i64 = 500;

/// Families per category: bereaved, orphan, disabled, none, and files that cannot be evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryCounts {
    pub bereaved: i64,
    pub orphan: i64,
    pub disabled: i64,
    pub none: i64,
    pub unreadable: i64,
}

/// This year's visit figures of a scope (二(一)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitFigures {
    /// Periods of the year due before today and not visited.
    pub overdue: i64,
    /// Open periods due within [`crate::pages::visits::DUE_SOON_DAYS`] days.
    pub due_soon: i64,
    /// Families needing a dedicated visitor today without one.
    pub without_dedicated: i64,
    /// Periods of the year due before today.
    pub due: i64,
}

impl VisitFigures {
    /// The share of the periods due so far that were visited, in whole percent.
    pub fn coverage(&self) -> String {
        crate::pages::visits::coverage(self.due, self.overdue)
    }
}

enum Entry<K, T> {
    Counting { previous: Option<(K, T)> },
    Ready { at: Instant, key: K, value: T },
}

/// Values per scope, counted in the background and kept for [`FRESH`]; each value is counted
/// for a key (the month, the day) and a value of another key is never shown.
struct Cache<K, T> {
    entries: Arc<Mutex<HashMap<String, Entry<K, T>>>>,
    /// Bumped by [`Cache::forget`]: a count started before is not kept.
    generation: Arc<AtomicU64>,
}

impl<K, T> Default for Cache<K, T> {
    fn default() -> Self {
        Cache {
            entries: Arc::default(),
            generation: Arc::default(),
        }
    }
}

impl<K, T> Clone for Cache<K, T> {
    fn clone(&self) -> Self {
        Cache {
            entries: self.entries.clone(),
            generation: self.generation.clone(),
        }
    }
}

impl<K, T> Cache<K, T>
where
    K: Copy + PartialEq + Send + 'static,
    T: Clone + Send + 'static,
{
    /// The value for `scope` and `key`: a fresh one, or the last one while it is counted again,
    /// or `None` while it is counted the first time. Starts `count` when nothing fresh is there
    /// and no count is running.
    fn get<F>(&self, scope: String, key: K, what: &'static str, count: F) -> Option<T>
    where
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let Ok(mut entries) = self.entries.lock() else {
            return None;
        };
        let previous = match entries.get(&scope) {
            Some(Entry::Ready { at, key: k, value }) if *k == key && at.elapsed() < FRESH => {
                return Some(value.clone());
            }
            Some(Entry::Counting { previous }) => {
                return previous
                    .as_ref()
                    .filter(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone());
            }
            Some(Entry::Ready { key: k, value, .. }) => Some((*k, value.clone())),
            None => None,
        };
        entries.insert(
            scope.clone(),
            Entry::Counting {
                previous: previous.clone(),
            },
        );
        drop(entries);
        let (cache, generation) = (self.entries.clone(), self.generation.clone());
        let started = generation.load(Ordering::SeqCst);
        tokio::spawn(async move {
            let result = count.await;
            if let Ok(mut entries) = cache.lock() {
                match result {
                    // Forgotten while counting: what was counted may predate the change.
                    Ok(_) if generation.load(Ordering::SeqCst) != started => {
                        entries.remove(&scope);
                    }
                    Ok(value) => {
                        entries.insert(
                            scope,
                            Entry::Ready {
                                at: Instant::now(),
                                key,
                                value,
                            },
                        );
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "counting {what} for the dashboard failed");
                        entries.remove(&scope);
                    }
                }
            }
        });
        previous.filter(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Drops every scope's value, so the next look counts again.
    fn forget(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.clear();
        }
    }
}

/// The dashboard's charts of a scope (issue 7): the statistical report's SVGs for this year up
/// to this month, drawn by `guanai-report` (inline SVG with `role="img"` and a `<title>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charts {
    pub from: Month,
    pub to: Month,
    pub as_of: Date,
    /// Payments per month by funding source.
    pub payments: String,
    /// Special-difficulty families per area one level below the scope.
    pub families: String,
    /// Visit coverage per area.
    pub visits: String,
}

/// How many periods' public summaries are kept at once.
const PUBLIC_KEPT: usize = 24;

type PublicEntries = HashMap<(Month, Month), (Instant, Arc<Vec<guanai_report::Table>>)>;

/// The public summary (三(四)) per period, kept for [`FRESH`]. It is served without signing in,
/// so summaries are made one at a time: however many requests arrive, at most one pass over the
/// register runs for them.
#[derive(Default, Clone)]
struct PublicCache {
    entries: Arc<tokio::sync::Mutex<PublicEntries>>,
}

/// The dashboard's background counts.
#[derive(Default, Clone)]
pub struct Stats {
    categories: Cache<Month, CategoryCounts>,
    visits: Cache<Date, VisitFigures>,
    charts: Cache<Date, Arc<Charts>>,
    public: PublicCache,
}

/// The key of a user's scope: their area, or the user themself for the roles that see the
/// families paired or referred to them rather than an area's (volunteers, counsellors): their
/// counts are never shown to anyone else.
fn scope_key(user: &User) -> String {
    match user.role {
        Role::Volunteer | Role::Counsellor => format!("user:{}", user.user_id),
        _ => user.area_prefix().to_owned(),
    }
}

impl Stats {
    /// The counts for the user's scope, or `None` while they are being counted (the count is
    /// started if it is not running).
    pub fn categories(
        &self,
        archive: &Archive,
        user: &User,
        policy: &Policy,
        month: Month,
    ) -> Option<CategoryCounts> {
        let (archive, counted_for, policy) = (archive.clone(), user.clone(), policy.clone());
        self.categories
            .get(scope_key(user), month, "families by category", async move {
                count_categories(&archive, &counted_for, &policy, month).await
            })
    }

    /// This year's visit figures for the user's scope on `today`, or `None` while they are
    /// being counted.
    pub fn visits(&self, archive: &Archive, user: &User, today: Date) -> Option<VisitFigures> {
        let (archive, counted_for) = (archive.clone(), user.clone());
        self.visits
            .get(scope_key(user), today, "visit figures", async move {
                count_visits(&archive, &counted_for, today).await
            })
    }

    /// Forgets the visit figures (after a year's plan was made: they changed everywhere).
    pub fn forget_visits(&self) {
        self.visits.forget();
        self.charts.forget();
    }

    /// The dashboard's charts for the user's scope on `today` (this year up to this month), or
    /// `None` while they are being drawn. A statistical report over a city of a million families
    /// takes seconds: it is made in the background, never while the dashboard waits.
    pub fn charts(
        &self,
        archive: &Archive,
        user: &User,
        policy: &Policy,
        today: Date,
    ) -> Option<Arc<Charts>> {
        let (archive, counted_for, policy) = (archive.clone(), user.clone(), policy.clone());
        self.charts.get(
            scope_key(user),
            today,
            "the dashboard's charts",
            async move {
                let to = Month::of(today);
                let from = Month::new(today.year(), 1).unwrap_or(to);
                let report = archive
                    .scoped(&counted_for)
                    .statistical_report(&policy, None, from, to, today, false)
                    .await?;
                Ok(Arc::new(Charts {
                    from,
                    to,
                    as_of: today,
                    payments: report.payments_chart,
                    families: report.families_chart,
                    visits: report.visits_chart,
                }))
            },
        )
    }

    /// The public summary of `from..=to` (三(四); already suppressed), made at most once per
    /// period every [`FRESH`] and one at a time.
    pub async fn public_summary(
        &self,
        archive: &Archive,
        policy: &Policy,
        from: Month,
        to: Month,
    ) -> Result<Arc<Vec<guanai_report::Table>>, StoreError> {
        let mut entries = self.public.entries.lock().await;
        if let Some((at, tables)) = entries.get(&(from, to))
            && at.elapsed() < FRESH
        {
            return Ok(tables.clone());
        }
        let tables = Arc::new(archive.public_summary(policy, from, to).await?);
        entries.retain(|_, (at, _)| at.elapsed() < FRESH);
        if entries.len() >= PUBLIC_KEPT
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| *k)
        {
            entries.remove(&oldest);
        }
        entries.insert((from, to), (Instant::now(), tables.clone()));
        Ok(tables)
    }
}

async fn count_categories(
    archive: &Archive,
    user: &User,
    policy: &Policy,
    month: Month,
) -> Result<CategoryCounts, StoreError> {
    let scoped = archive.scoped(user);
    let mut counts = CategoryCounts::default();
    let mut after = String::new();
    loop {
        let ids = scoped.family_ids_after(&after, CHUNK).await?;
        let Some(last) = ids.last() else { break };
        after = last.as_str().to_owned();
        for file in archive.family_files(&ids).await? {
            match file.engine_family(month, None) {
                Ok(family) => match evaluate(&family, month, policy).category {
                    Category::Bereaved => counts.bereaved += 1,
                    Category::Orphan => counts.orphan += 1,
                    Category::Disabled => counts.disabled += 1,
                    Category::None => counts.none += 1,
                },
                Err(_) => counts.unreadable += 1,
            }
        }
    }
    Ok(counts)
}

async fn count_visits(
    archive: &Archive,
    user: &User,
    today: Date,
) -> Result<VisitFigures, StoreError> {
    let scoped = archive.scoped(user);
    let mut figures = VisitFigures::default();
    for c in scoped.visit_counts(today).await? {
        figures.overdue += c.overdue;
        figures.without_dedicated += c.without_dedicated;
        figures.due += c.due;
    }
    figures.due_soon = scoped
        .due_visit_count(
            DueState::DueSoon {
                days: crate::pages::visits::DUE_SOON_DAYS,
            },
            today,
        )
        .await?;
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, role: Role, area: &str) -> User {
        User {
            user_id: id.into(),
            login: id.into(),
            display_name: id.into(),
            role,
            area_code: area.into(),
            active: true,
        }
    }

    #[test]
    fn caseworkers_of_an_area_share_counts_and_paired_or_referred_scopes_are_their_own() {
        let village = user("u1", Role::Village, "371321001003");
        let finance = user("u2", Role::Finance, "371321");
        let county = user("u3", Role::County, "371321");
        assert_eq!(scope_key(&finance), scope_key(&county));
        assert_ne!(scope_key(&village), scope_key(&county));
        for role in [Role::Volunteer, Role::Counsellor] {
            let own = user("u4", role, "371321");
            assert_ne!(scope_key(&own), scope_key(&county), "{role:?}");
            assert_ne!(scope_key(&own), scope_key(&user("u5", role, "371321")));
        }
    }
}
