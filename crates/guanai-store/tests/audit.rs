//! The audit log as a hash chain, on SQLite and PostgreSQL: every change writes its entry in its
//! own transaction, the chain verifies, and tampering — an altered reason, a deleted entry, a
//! deleted tail, a row written around the log — is reported at the right entry. Concurrent
//! appenders leave a chain without gaps; rows written before the chain are chained on open.

mod support;

use support::{Backend, cleanup};

use guanai_rules::{Hukou, ResidentId, Sex, VillageCode, parse_date};
use guanai_store::{
    Actor, Archive, AuditBreak, AuditQuery, FactValue, FamilyId, NewFact, NewFamily, NewPerson,
    PersonId, Relation, on_db,
};
use jiff::civil::Date;

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

const MOTHER_ID: &str = "372832196807050242";
const VILLAGE: &str = "371321001003";

fn family(no: &str) -> NewFamily {
    let village = VillageCode::parse(VILLAGE).expect("village");
    let identity = |name: &str, sex, birth| {
        (
            FactValue::Identity {
                name: name.into(),
                sex,
                birth_date: d(birth),
            },
            None,
        )
    };
    NewFamily {
        family_no: no.to_owned(),
        county_code: village.county(),
        registration: (Hukou::Rural, village, None),
        persons: vec![
            NewPerson {
                relation: Relation::Mother,
                facts: vec![
                    identity("王秀英", Sex::Female, "1968-07-05"),
                    (
                        FactValue::IdNumber {
                            number: ResidentId::parse(MOTHER_ID, d("2026-11-30")).expect("id"),
                        },
                        None,
                    ),
                ],
            },
            NewPerson {
                relation: Relation::Child,
                facts: vec![identity("李明", Sex::Male, "1990-01-01")],
            },
        ],
        import_hash: None,
    }
}

/// Runs one SQL statement on the backend's database, as someone with database access would.
async fn tamper(b: &Backend, sql: &'static str) {
    on_db!(b.archive.db(), pool => {
        sqlx::query(sql).execute(pool).await.expect("tamper");
    });
}

/// A chain of `n` entries written by `Archive::audit`.
async fn entries(a: &Archive, n: usize) {
    for i in 0..n {
        a.audit(
            &Actor::new("督查"),
            "export_unmasked",
            "371321",
            &format!("抽查 {i}"),
        )
        .await
        .expect("audit");
    }
}

async fn first_break(a: &Archive) -> Option<AuditBreak> {
    a.verify_audit().await.expect("verify").first_break
}

/// The URL the backend was opened with, to open it again.
fn url_of(b: &Backend) -> String {
    match (&b.sqlite_file, &b.pg_drop) {
        (Some(path), _) => format!("sqlite://{}", path.display()),
        (None, Some((admin, name))) => {
            let base = &admin[..admin.rfind('/').expect("database in the URL")];
            format!("{base}/{name}")
        }
        (None, None) => unreachable!("a backend is SQLite or PostgreSQL"),
    }
}

fn mother(a: &guanai_store::FamilyFile) -> PersonId {
    a.persons
        .iter()
        .find(|p| p.relation == Relation::Mother)
        .expect("mother")
        .person_id
        .clone()
}

#[tokio::test]
async fn every_change_writes_its_entry_and_the_chain_verifies() {
    on_both!(|b| {
        let a = &b.archive;
        let clerk = Actor::new("沂南县计生办");
        let id: FamilyId = a
            .create_family(&family("YN-001"), &clerk, "普查录入")
            .await
            .expect("create");
        let file = a.family_file(&id).await.expect("file");
        let (death, v) = a
            .record(
                &id,
                file.version,
                NewFact {
                    person_id: Some(mother(&file)),
                    value: FactValue::Death {
                        certificate_no: None,
                    },
                    valid_from: Some(d("2024-02-29")),
                },
                &clerk,
                "殡仪馆通报",
            )
            .await
            .expect("record");
        let (fixed, _) = a
            .correct(
                &id,
                v,
                &death,
                Some(NewFact {
                    person_id: Some(mother(&file)),
                    value: FactValue::Death {
                        certificate_no: None,
                    },
                    valid_from: Some(d("2024-02-28")),
                }),
                &clerk,
                "死亡证明日期更正",
            )
            .await
            .expect("correct");
        a.set_contact(
            "371321",
            "张联络",
            "联系人",
            Some("0539-1234567"),
            &Actor::new("市级"),
        )
        .await
        .expect("contact");

        let log = a
            .audit_entries(&AuditQuery::default())
            .await
            .expect("entries");
        let seen: Vec<(i64, &str, &str, &str, &str)> = log
            .iter()
            .map(|e| {
                (
                    e.seq,
                    e.actor.as_str(),
                    e.action.as_str(),
                    e.target.as_str(),
                    e.reason.as_str(),
                )
            })
            .collect();
        let record_target = format!("{id}/{death}");
        let correct_target = format!("{id}/{fixed}");
        assert_eq!(
            seen[1..],
            [
                (
                    3,
                    "沂南县计生办",
                    "fact.correct",
                    correct_target.as_str(),
                    "死亡证明日期更正"
                ),
                (
                    2,
                    "沂南县计生办",
                    "fact.record",
                    record_target.as_str(),
                    "殡仪馆通报"
                ),
                (1, "沂南县计生办", "family.create", id.as_str(), "普查录入"),
            ],
            "{}: newest first",
            b.label
        );
        assert_eq!((log[0].seq, log[0].action.as_str()), (4, "contact.set"));
        assert!(log[0].target.starts_with("371321/"), "{}", log[0].target);
        assert!(
            log.iter().all(|e| !e.reason.contains("0539")
                && !e.target.contains("0539")
                && !e.reason.contains(MOTHER_ID)),
            "no phones or ID numbers in the log"
        );

        let v = a.verify_audit().await.expect("verify");
        assert!(v.is_intact(), "{}: {v:?}", b.label);
        assert_eq!(v.entries, 4);
        assert_eq!(v.head.as_ref().map(|h| h.0), Some(4));
    });
}

#[tokio::test]
async fn a_refused_change_writes_no_entry() {
    on_both!(|b| {
        let a = &b.archive;
        let clerk = Actor::new("clerk");
        let id = a
            .create_family(&family("YN-002"), &clerk, "普查录入")
            .await
            .expect("create");
        let file = a.family_file(&id).await.expect("file");
        let stale = a
            .record(
                &id,
                file.version + 7,
                NewFact {
                    person_id: None,
                    value: FactValue::Note {
                        text: "走访".into(),
                    },
                    valid_from: None,
                },
                &clerk,
                "走访记录",
            )
            .await;
        assert!(stale.is_err(), "{}: a stale version is refused", b.label);
        assert_eq!(
            a.audit_count(&AuditQuery::default()).await.expect("count"),
            1
        );
        assert!(a.verify_audit().await.expect("verify").is_intact());
    });
}

#[tokio::test]
async fn a_census_import_writes_one_entry_per_transaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let header = "家庭编号,成员关系,姓名,性别,公民身份号码,出生日期,户籍性质,所在村居代码,联系电话,开户银行,银行账号,低保,五保,慢性病,居住状况,独生子女父母光荣证号,死亡日期,死亡证明编号,再生育或收养日期,残疾等级,残疾评定日期,残疾证号,备注";
    let mut text = format!("{header}\n");
    for n in 0..3u16 {
        let id = ResidentId::build("371321", d("1966-02-02"), 2 * n + 2).expect("id");
        text.push_str(&format!(
            "C-{n},母亲,王秀英,女,{},1966-02-02,农村,{VILLAGE},13812345678,临沂农商银行,6222021234567890123,否,否,否,,,,,,,,,\n",
            id.as_str()
        ));
        text.push_str(&format!(
            "C-{n},子女,李明,男,,1990-01-01,农村,{VILLAGE},,,,,,,,,2012-06-15,,,,,,\n"
        ));
    }
    let path = dir.path().join("census.csv");
    std::fs::write(&path, text).expect("write");
    on_both!(|b| {
        let a = &b.archive;
        let reader = guanai_census::CensusReader::open(&path, d("2026-11-30")).expect("census");
        let options = guanai_store::import::ImportOptions {
            partial: false,
            actor: Actor::new("普查"),
            applications: None,
        };
        let report = guanai_store::import::import(a, reader, || 0, &options, |_| {})
            .await
            .expect("import");
        assert_eq!(report.added, 3, "{}", b.label);
        let log = a
            .audit_entries(&AuditQuery::default())
            .await
            .expect("entries");
        assert_eq!(log.len(), 1, "{}: one entry for the whole import", b.label);
        assert_eq!(
            (log[0].action.as_str(), log[0].actor.as_str()),
            ("census.import", "普查")
        );
        assert!(log[0].reason.contains("3 families"), "{}", log[0].reason);
        assert!(!log[0].reason.contains("13812345678"));
        assert!(a.verify_audit().await.expect("verify").is_intact());
    });
}

#[tokio::test]
async fn key_rotation_writes_one_entry() {
    on_both!(|b| {
        let mut archive = b.archive.clone();
        archive
            .create_family(&family("KR-001"), &Actor::new("census"), "普查录入")
            .await
            .expect("create");
        let mut keys = archive.keys().clone();
        let new_id = keys.rotate(guanai_crypto::Algorithm::Sm4Gcm);
        archive.set_keys(keys);
        guanai_store::rotate::reencrypt(&archive, &Actor::new("管理员"))
            .await
            .expect("rotate");
        let rotations = archive
            .audit_entries(&AuditQuery {
                action_prefix: Some("key.".into()),
                ..AuditQuery::default()
            })
            .await
            .expect("entries");
        assert_eq!(rotations.len(), 1, "{}", b.label);
        assert_eq!(rotations[0].target, format!("key {new_id}"));
        assert!(
            rotations[0].reason.contains("1 facts"),
            "{}",
            rotations[0].reason
        );
        assert!(archive.verify_audit().await.expect("verify").is_intact());
    });
}

#[tokio::test]
async fn an_altered_reason_is_reported_at_its_entry() {
    on_both!(|b| {
        entries(&b.archive, 5).await;
        tamper(&b, "UPDATE audit SET reason = '无' WHERE seq = 3").await;
        assert_eq!(
            first_break(&b.archive).await,
            Some(AuditBreak::Altered { seq: 3 }),
            "{}",
            b.label
        );
    });
}

#[tokio::test]
async fn a_deleted_entry_is_reported_at_its_seq() {
    on_both!(|b| {
        entries(&b.archive, 5).await;
        tamper(&b, "DELETE FROM audit WHERE seq = 2").await;
        let v = b.archive.verify_audit().await.expect("verify");
        assert_eq!(
            v.first_break,
            Some(AuditBreak::Missing { seq: 2, through: 2 }),
            "{}",
            b.label
        );
        assert_eq!(v.entries, 1, "entry 1 is intact");
    });
}

#[tokio::test]
async fn a_deleted_last_entry_is_reported_against_the_head() {
    on_both!(|b| {
        entries(&b.archive, 5).await;
        tamper(&b, "DELETE FROM audit WHERE seq = 5").await;
        assert_eq!(
            first_break(&b.archive).await,
            Some(AuditBreak::TailMissing { seq: 5, head: 5 }),
            "{}",
            b.label
        );
    });
}

#[tokio::test]
async fn a_rewrite_of_the_whole_chain_is_caught_only_by_a_head_kept_outside() {
    on_both!(|b| {
        let a = &b.archive;
        entries(a, 3).await;
        let kept = a.verify_audit().await.expect("verify").head.expect("head");
        assert_eq!(a.audit_hash(3).await.expect("hash"), Some(kept.1.clone()));
        // Someone with database access rewrites entry 2 and recomputes every hash after it.
        let rows: Vec<(i64, i64, String, String, String, String)> = on_db!(a.db(), pool => {
            sqlx::query_as("SELECT seq, at, actor, action, target, reason FROM audit ORDER BY seq")
                .fetch_all(pool)
                .await
                .expect("rows")
        });
        let mut prev = guanai_store::audit::GENESIS.to_vec();
        for (seq, at, actor, action, target, reason) in rows {
            let reason = if seq == 2 { "无".to_owned() } else { reason };
            let hash =
                guanai_store::audit::entry_hash(&prev, seq, at, &actor, &action, &target, &reason);
            on_db!(a.db(), pool => {
                sqlx::query("UPDATE audit SET reason = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
                    .bind(&reason)
                    .bind(prev.as_slice())
                    .bind(hash.as_slice())
                    .bind(seq)
                    .execute(pool)
                    .await
                    .expect("rewrite");
                sqlx::query("UPDATE audit_head SET hash = $1")
                    .bind(hash.as_slice())
                    .execute(pool)
                    .await
                    .expect("rewrite");
            });
            prev = hash.to_vec();
        }
        assert!(
            a.verify_audit().await.expect("verify").is_intact(),
            "{}: a chain without a secret cannot catch this by itself",
            b.label
        );
        assert_ne!(
            a.audit_hash(kept.0).await.expect("hash"),
            Some(kept.1),
            "the head kept outside does"
        );
    });
}

#[tokio::test]
async fn rows_written_around_the_chain_are_found_and_never_chained() {
    on_both!(|b| {
        entries(&b.archive, 2).await;
        tamper(
            &b,
            "INSERT INTO audit (audit_id, at, actor, action, target, reason) VALUES ('Aforged', 1, 'x', 'reveal', 'F1', '')",
        )
        .await;
        assert_eq!(
            first_break(&b.archive).await,
            Some(AuditBreak::Unchained {
                audit_id: "Aforged".into()
            }),
            "{}",
            b.label
        );
        // Opening the archive again does not adopt it.
        let again = Archive::open(&url_of(&b), b.archive.keys().clone())
            .await
            .expect("reopen");
        assert_eq!(
            first_break(&again).await,
            Some(AuditBreak::Unchained {
                audit_id: "Aforged".into()
            })
        );
        again.db().close().await;
        tamper(&b, "DELETE FROM audit_head").await;
        assert_eq!(first_break(&b.archive).await, Some(AuditBreak::HeadMissing));
        let err = b
            .archive
            .audit(&Actor::new("x"), "reveal", "F1", "")
            .await
            .expect_err("nothing is appended without a head");
        assert!(err.to_string().contains("audit_head"), "{err}");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appenders_leave_a_chain_without_gaps() {
    on_both!(|b| {
        let mut tasks = Vec::new();
        for t in 0..8 {
            let a = b.archive.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..15 {
                    a.audit(
                        &Actor::new(format!("task{t}")),
                        "reveal",
                        "F1",
                        &format!("{t}-{i}"),
                    )
                    .await
                    .expect("append");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let v = b.archive.verify_audit().await.expect("verify");
        assert!(v.is_intact(), "{}: {v:?}", b.label);
        assert_eq!(v.entries, 120);
        let seqs: Vec<i64> = b
            .archive
            .audit_entries(&AuditQuery::default())
            .await
            .expect("entries")
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, (1..=120).rev().collect::<Vec<_>>());
    });
}

#[tokio::test]
async fn entries_written_before_the_chain_are_chained_once_on_open() {
    on_both!(|b| {
        // The state migration 0004 leaves: rows without seq or hash, and no head yet.
        tamper(&b, "DELETE FROM audit_head").await;
        tamper(
            &b,
            "INSERT INTO audit (audit_id, at, actor, action, target, reason) VALUES \
             ('A2', 2000, '市级', 'backup', 'all', '例行备份'), \
             ('A1', 1000, '市级', 'reveal', 'F1', '核对'), \
             ('A3', 2000, '市级', 'export_unmasked', '371321', '抽查')",
        )
        .await;
        let opened = Archive::open(&url_of(&b), b.archive.keys().clone())
            .await
            .expect("reopen");
        let log = opened
            .audit_entries(&AuditQuery::default())
            .await
            .expect("entries");
        let order: Vec<(i64, &str)> = log.iter().map(|e| (e.seq, e.action.as_str())).collect();
        assert_eq!(
            order,
            [(3, "export_unmasked"), (2, "backup"), (1, "reveal")],
            "{}: (at, audit_id) order",
            b.label
        );
        let v = opened.verify_audit().await.expect("verify");
        assert!(v.is_intact(), "{v:?}");
        // Idempotent: opening again changes nothing, and new entries continue the chain.
        let head = v.head;
        let again = Archive::open(&url_of(&b), b.archive.keys().clone())
            .await
            .expect("reopen");
        assert_eq!(again.verify_audit().await.expect("verify").head, head);
        again
            .audit(&Actor::new("督查"), "reveal", "F1", "复核")
            .await
            .expect("append");
        let v = again.verify_audit().await.expect("verify");
        assert!(v.is_intact(), "{v:?}");
        assert_eq!(v.entries, 4);
        opened.db().close().await;
        again.db().close().await;
    });
}

#[tokio::test]
async fn inspectors_browse_page_by_page_with_filters() {
    on_both!(|b| {
        let a = &b.archive;
        let start = jiff::Timestamp::now();
        for i in 0..6 {
            let actor = if i % 2 == 0 { "张三" } else { "李四" };
            let target = format!("F{i}/X{i}");
            a.audit(&Actor::new(actor), "fact.record", &target, "走访")
                .await
                .expect("audit");
        }
        a.audit(
            &Actor::new("张三"),
            "pay.approve",
            "202610-all-1",
            "approved",
        )
        .await
        .expect("audit");
        let q = |f: fn(&mut AuditQuery)| {
            let mut q = AuditQuery::default();
            f(&mut q);
            q
        };
        let mine = q(|q| q.actor = Some("张三".into()));
        assert_eq!(a.audit_count(&mine).await.expect("count"), 4, "{}", b.label);
        let facts = q(|q| {
            q.action_prefix = Some("fact.".into());
            q.limit = Some(4);
        });
        let page1 = a.audit_entries(&facts).await.expect("page");
        assert_eq!(
            page1.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [6, 5, 4, 3]
        );
        let page2 = a
            .audit_entries(&AuditQuery {
                offset: 4,
                ..facts.clone()
            })
            .await
            .expect("page");
        assert_eq!(page2.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(a.audit_count(&facts).await.expect("count"), 6);
        let one_family = q(|q| q.target_prefix = Some("F3".into()));
        let found = a.audit_entries(&one_family).await.expect("target");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].target, "F3/X3");
        // A prefix is exact: `%` and `_` are not wildcards, case counts.
        let wild = q(|q| q.action_prefix = Some("%".into()));
        assert_eq!(a.audit_count(&wild).await.expect("count"), 0);
        let upper = q(|q| q.action_prefix = Some("PAY".into()));
        assert_eq!(a.audit_count(&upper).await.expect("count"), 0);
        let earlier = AuditQuery {
            to: Some(start),
            ..AuditQuery::default()
        };
        assert_eq!(a.audit_count(&earlier).await.expect("count"), 0);
        let since = AuditQuery {
            from: Some(start),
            ..AuditQuery::default()
        };
        assert_eq!(a.audit_count(&since).await.expect("count"), 7);
    });
}

#[tokio::test]
async fn a_backup_restores_with_its_chain() {
    let keys = guanai_crypto::Keyring::generate(guanai_crypto::Algorithm::Aes256Gcm);
    let source = support::sqlite_with(keys.clone()).await;
    source
        .archive
        .create_family(&family("BK-001"), &Actor::new("census"), "普查录入")
        .await
        .expect("create");
    entries(&source.archive, 3).await;
    let mut dump = Vec::new();
    guanai_store::backup::backup(&source.archive, &mut dump)
        .await
        .expect("backup");
    let original = source.archive.verify_audit().await.expect("verify");

    let mut targets = vec![support::sqlite_with(keys.clone()).await];
    targets.extend(support::postgres_with(keys.clone()).await);
    for b in targets {
        guanai_store::backup::restore(&b.archive, &mut dump.as_slice(), &Actor::new("管理员"))
            .await
            .expect("restore");
        let v = b.archive.verify_audit().await.expect("verify");
        assert!(v.is_intact(), "{}: {v:?}", b.label);
        assert_eq!(
            v.entries,
            original.entries + 1,
            "the restore is audited too"
        );
        let log = b
            .archive
            .audit_entries(&AuditQuery::default())
            .await
            .expect("entries");
        assert_eq!(log[0].action, "archive.restore");
        assert_eq!(log[0].actor, "管理员");
        assert_eq!(
            b.archive
                .audit_entries(&AuditQuery {
                    offset: 1,
                    limit: Some(1),
                    ..AuditQuery::default()
                })
                .await
                .expect("entries")[0]
                .seq,
            original.head.as_ref().map_or(0, |h| h.0),
            "the original entries keep their places"
        );
        cleanup(b).await;
    }

    // A backup of a broken log restores broken (the restore's own entry follows the head).
    tamper(&source, "DELETE FROM audit WHERE seq = 4").await;
    let mut dump = Vec::new();
    guanai_store::backup::backup(&source.archive, &mut dump)
        .await
        .expect("backup");
    let b = support::sqlite_with(keys.clone()).await;
    guanai_store::backup::restore(&b.archive, &mut dump.as_slice(), &Actor::new("管理员"))
        .await
        .expect("restore");
    assert_eq!(
        first_break(&b.archive).await,
        Some(AuditBreak::Missing { seq: 4, through: 4 })
    );
    cleanup(b).await;
    cleanup(source).await;
}
