//! The dashboard's counts of families by category. A category is the rules engine's answer for
//! this month, so counting means evaluating every family in the user's scope: done once in the
//! background per scope and kept for ten minutes, so the dashboard never waits for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guanai_rules::engine::{Category, evaluate};
use guanai_rules::{Month, Policy};
use guanai_store::Archive;
use guanai_store::access::{Role, User};

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

#[derive(Clone)]
enum Entry {
    Counting,
    Ready {
        at: Instant,
        month: Month,
        counts: CategoryCounts,
    },
}

/// The cache of counts per scope.
#[derive(Default, Clone)]
pub struct Stats {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

/// The key of a user's scope: their area, or the volunteer themself.
fn scope_key(user: &User) -> String {
    match user.role {
        Role::Volunteer => format!("volunteer:{}", user.user_id),
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
        let key = scope_key(user);
        let Ok(mut entries) = self.entries.lock() else {
            return None;
        };
        match entries.get(&key) {
            Some(Entry::Ready {
                at,
                month: m,
                counts,
            }) if *m == month && at.elapsed() < FRESH => {
                return Some(*counts);
            }
            Some(Entry::Counting) => return None,
            _ => {}
        }
        let previous = match entries.get(&key) {
            Some(Entry::Ready {
                counts, month: m, ..
            }) if *m == month => Some(*counts),
            _ => None,
        };
        entries.insert(key.clone(), Entry::Counting);
        drop(entries);
        let (archive, user, policy, cache) = (
            archive.clone(),
            user.clone(),
            policy.clone(),
            self.entries.clone(),
        );
        tokio::spawn(async move {
            let result = count(&archive, &user, &policy, month).await;
            if let Ok(mut entries) = cache.lock() {
                match result {
                    Ok(counts) => {
                        entries.insert(
                            key,
                            Entry::Ready {
                                at: Instant::now(),
                                month,
                                counts,
                            },
                        );
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "counting families by category failed");
                        entries.remove(&key);
                    }
                }
            }
        });
        previous
    }
}

async fn count(
    archive: &Archive,
    user: &User,
    policy: &Policy,
    month: Month,
) -> Result<CategoryCounts, guanai_store::StoreError> {
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
