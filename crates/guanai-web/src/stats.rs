//! The dashboard's counts that grow with the archive, counted in the background per scope and
//! kept for ten minutes, so the dashboard never waits for them: families by category (the rules
//! engine's answer for this month, so every family in scope is evaluated) and this year's visit
//! figures (二(一): a grouped count over every visit period in scope — 0.4 s for 280,000 periods
//! on SQLite, so seconds for a city of a million families).

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
    T: Copy + Send + 'static,
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
                return Some(*value);
            }
            Some(Entry::Counting { previous }) => {
                return previous.filter(|(k, _)| *k == key).map(|(_, v)| v);
            }
            Some(Entry::Ready { key: k, value, .. }) => Some((*k, *value)),
            None => None,
        };
        entries.insert(scope.clone(), Entry::Counting { previous });
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

/// The dashboard's background counts.
#[derive(Default, Clone)]
pub struct Stats {
    categories: Cache<Month, CategoryCounts>,
    visits: Cache<Date, VisitFigures>,
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
