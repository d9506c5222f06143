//! Documents on the family file (材料, issue 5): attached, listed, opened and withdrawn through
//! the user's scope, sealed at rest, typed by their content, audited when opened — against
//! SQLite and PostgreSQL (the service on 127.0.0.1:5432, or `GUANAI_TEST_POSTGRES`); without
//! PostgreSQL its half is skipped with a message, except in CI (`CI` set), where it fails.

mod support;

use guanai_crypto::Algorithm;
use guanai_rules::{Hukou, Sex, VillageCode, parse_date};
use guanai_store::access::{NewUser, Role, User};
use guanai_store::documents::{DocumentKind, DocumentType, MAX_DOCUMENT_BYTES, NewDocument};
use guanai_store::{
    Actor, Archive, AuditQuery, Db, DocumentId, FactValue, FamilyId, NewFamily, NewPerson,
    Relation, StoreError,
};
use sha2::{Digest, Sha256};

const YINAN: &str = "371321001003";
const LANSHAN: &str = "371302001001";
/// A string that must never be found in the database as written.
const MARKER: &str = "GUANAI-PLAINTEXT-MARKER-7f3e";

fn bereaved(no: &str, village: &str) -> NewFamily {
    let village = VillageCode::parse(village).expect("village");
    let d = |s: &str| parse_date(s).expect("date");
    NewFamily {
        family_no: no.to_owned(),
        county_code: village.county(),
        registration: (Hukou::Rural, village, None),
        persons: vec![
            NewPerson {
                relation: Relation::Mother,
                facts: vec![(
                    FactValue::Identity {
                        name: "王秀英".into(),
                        sex: Sex::Female,
                        birth_date: d("1968-07-05"),
                    },
                    None,
                )],
            },
            NewPerson {
                relation: Relation::Child,
                facts: vec![
                    (
                        FactValue::Identity {
                            name: "李明".into(),
                            sex: Sex::Male,
                            birth_date: d("1990-01-01"),
                        },
                        None,
                    ),
                    (
                        FactValue::Death {
                            certificate_no: None,
                        },
                        Some(d("2012-06-15")),
                    ),
                ],
            },
        ],
        import_hash: None,
    }
}

async fn user(a: &Archive, login: &str, role: Role, area: &str) -> User {
    a.create_user(
        &NewUser {
            login: login.into(),
            display_name: login.into(),
            role,
            area_code: area.into(),
            password: "correct horse battery".into(),
        },
        &Actor::new("admin"),
    )
    .await
    .expect("user")
}

/// A family in 沂南县 and one in 兰山区, and a user per role that matters here.
struct World {
    yinan: FamilyId,
    lanshan: FamilyId,
    village: User,
    county: User,
    county_b: User,
    finance: User,
    inspector: User,
    volunteer: User,
}

async fn world(a: &Archive) -> World {
    let census = Actor::new("census");
    let yinan = a
        .create_family(&bereaved("M-1", YINAN), &census, "普查录入")
        .await
        .expect("family");
    let lanshan = a
        .create_family(&bereaved("M-2", LANSHAN), &census, "普查录入")
        .await
        .expect("family");
    let volunteer = user(a, "volunteer", Role::Volunteer, "371321").await;
    a.pair_volunteer(&volunteer, &yinan, &Actor::new("admin"))
        .await
        .expect("pair");
    World {
        yinan,
        lanshan,
        village: user(a, "village", Role::Village, YINAN).await,
        county: user(a, "county", Role::County, "371321").await,
        county_b: user(a, "county_b", Role::County, "371302").await,
        finance: user(a, "finance", Role::Finance, "371321").await,
        inspector: user(a, "inspector", Role::Inspector, "371300").await,
        volunteer,
    }
}

/// A small PDF carrying the marker.
fn pdf() -> Vec<u8> {
    format!("%PDF-1.4\n% {MARKER}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        .into_bytes()
}

fn death_certificate() -> NewDocument {
    NewDocument {
        kind: DocumentKind::DeathCertificate,
        title: format!("李明死亡证明 {MARKER}"),
        file_name: format!("C:\\扫描\\{MARKER}-死亡证明.pdf"),
        content: pdf(),
    }
}

fn field_of(e: StoreError) -> String {
    match e {
        StoreError::Invalid { field, .. } => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every document row's stored bytes, as the database holds them.
async fn raw_rows(db: &Db) -> Vec<(String, String, Vec<u8>, Vec<u8>)> {
    let sql = "SELECT document_id, sha256, label, content FROM family_document";
    match db {
        Db::Sqlite(pool, _) => sqlx::query_as(sql).fetch_all(pool).await.expect("rows"),
        Db::Pg(pool) => sqlx::query_as(sql).fetch_all(pool).await.expect("rows"),
    }
}

async fn audit(a: &Archive, action: &str) -> Vec<guanai_store::AuditEntry> {
    a.audit_entries(&AuditQuery {
        action_prefix: Some(action.into()),
        ..AuditQuery::default()
    })
    .await
    .expect("audit")
}

#[tokio::test]
async fn a_document_comes_back_byte_for_byte_with_its_hash() {
    on_both!(|b| {
        let a = &b.archive;
        let w = world(a).await;
        let village = a.scoped(&w.village);
        let added = village
            .add_document(&w.yinan, death_certificate())
            .await
            .expect("add");
        assert_eq!(added.content_type, DocumentType::Pdf);
        assert_eq!(added.size_bytes, pdf().len() as i64);
        assert_eq!(
            added.file_name,
            format!("{MARKER}-死亡证明.pdf"),
            "{}: the folder is dropped",
            b.label
        );
        let expected_sha: String = Sha256::digest(pdf())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(added.sha256, expected_sha);
        assert!(added.document_id.as_str().starts_with('D'));

        let listed = a
            .scoped(&w.county)
            .documents(&w.yinan, false)
            .await
            .expect("list");
        assert_eq!(listed, vec![added.clone()], "{}", b.label);
        let opened = a
            .scoped(&w.county)
            .open_document(&w.yinan, &added.document_id, "核对死亡证明")
            .await
            .expect("open");
        assert_eq!(opened.content, pdf(), "{}: the same bytes", b.label);
        assert_eq!(opened.info, added);
        let sha: String = Sha256::digest(&opened.content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sha, opened.info.sha256);
        // Time-ordered ids: a later document sorts after, and the list is newest first.
        let photo = village
            .add_document(
                &w.yinan,
                NewDocument {
                    kind: DocumentKind::VisitPhoto,
                    title: String::new(),
                    file_name: String::new(),
                    content: b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
                },
            )
            .await
            .expect("photo");
        assert!(photo.document_id > added.document_id);
        assert_eq!(photo.file_name, "visit_photo.png", "a name when none came");
        let listed = village.documents(&w.yinan, false).await.expect("list");
        assert_eq!(
            listed
                .iter()
                .map(|d| d.document_id.clone())
                .collect::<Vec<_>>(),
            vec![photo.document_id.clone(), added.document_id.clone()]
        );
        assert_eq!(audit(a, "document.add").await.len(), 2, "{}", b.label);
    });
}

#[tokio::test]
async fn content_title_and_file_name_are_sealed_at_rest() {
    on_both!(|b| {
        let a = &b.archive;
        let w = world(a).await;
        a.scoped(&w.village)
            .add_document(&w.yinan, death_certificate())
            .await
            .expect("add");
        let rows = raw_rows(a.db()).await;
        assert_eq!(rows.len(), 1);
        let (_, sha, label, content) = &rows[0];
        assert!(
            !contains(content, MARKER.as_bytes()),
            "{}: the content is stored in plaintext",
            b.label
        );
        assert!(!contains(content, b"%PDF-"), "{}", b.label);
        assert!(
            !contains(label, MARKER.as_bytes()) && !contains(label, "死亡证明".as_bytes()),
            "{}: the title or file name is stored in plaintext",
            b.label
        );
        assert_eq!(sha.len(), 64);
        // Nor does the audit log repeat the free text.
        for e in a
            .audit_entries(&AuditQuery::default())
            .await
            .expect("audit")
        {
            assert!(
                !e.reason.contains(MARKER) && !e.target.contains(MARKER),
                "{e:?}"
            );
        }
    });
}

#[tokio::test]
async fn the_type_comes_from_the_content_so_a_text_file_named_pdf_is_refused_naming_file() {
    on_both!(|b| {
        let a = &b.archive;
        let w = world(a).await;
        let village = a.scoped(&w.village);
        let mut fake = death_certificate();
        fake.file_name = "死亡证明.pdf".into();
        fake.content = b"this is a text file, whatever its name says".to_vec();
        let e = village
            .add_document(&w.yinan, fake)
            .await
            .expect_err("refused");
        assert_eq!(field_of(e), "file", "{}", b.label);
        let mut html = death_certificate();
        html.file_name = "photo.jpg".into();
        html.content = b"<html><script>alert(1)</script></html>".to_vec();
        assert_eq!(
            field_of(
                village
                    .add_document(&w.yinan, html)
                    .await
                    .expect_err("html")
            ),
            "file"
        );
        let mut empty = death_certificate();
        empty.content.clear();
        assert_eq!(
            field_of(
                village
                    .add_document(&w.yinan, empty)
                    .await
                    .expect_err("empty")
            ),
            "file"
        );
        // A JPEG named .pdf is a JPEG: stored as one, saved under a name that says so.
        let mut jpeg = death_certificate();
        jpeg.file_name = "scan.pdf".into();
        jpeg.content = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
        let stored = village.add_document(&w.yinan, jpeg).await.expect("jpeg");
        assert_eq!(stored.content_type, DocumentType::Jpeg);
        assert_eq!(stored.download_name(), "scan.pdf.jpg");
        assert!(village.documents(&w.yinan, true).await.expect("list").len() == 1);
    });
}

#[tokio::test]
async fn a_document_of_ten_mib_is_taken_and_one_byte_more_is_refused_naming_file() {
    on_both!(|b| {
        let a = &b.archive;
        let w = world(a).await;
        let village = a.scoped(&w.village);
        let mut big = death_certificate();
        big.content = b"%PDF-1.4\n".to_vec();
        big.content.resize(MAX_DOCUMENT_BYTES + 1, b' ');
        let e = village
            .add_document(&w.yinan, big.clone())
            .await
            .expect_err("refused");
        assert_eq!(field_of(e), "file", "{}", b.label);
        big.content.truncate(MAX_DOCUMENT_BYTES);
        let taken = village.add_document(&w.yinan, big).await.expect("10 MiB");
        assert_eq!(taken.size_bytes, MAX_DOCUMENT_BYTES as i64);
        let opened = village
            .open_document(&w.yinan, &taken.document_id, "核对")
            .await
            .expect("open");
        assert_eq!(opened.content.len(), MAX_DOCUMENT_BYTES, "{}", b.label);
    });
}

#[tokio::test]
async fn titles_are_limited_and_an_other_document_must_say_what_it_is() {
    on_both!(|b| {
        let a = &b.archive;
        let w = world(a).await;
        let village = a.scoped(&w.village);
        let mut long = death_certificate();
        long.title = "证".repeat(201);
        assert_eq!(
            field_of(
                village
                    .add_document(&w.yinan, long)
                    .await
                    .expect_err("long")
            ),
            "title"
        );
        let mut other = death_certificate();
        other.kind = DocumentKind::Other;
        other.title = "  ".into();
        assert_eq!(
            field_of(
                village
                    .add_document(&w.yinan, other.clone())
                    .await
                    .expect_err("untitled")
            ),
            "title",
            "{}",
            b.label
        );
        other.title = "收养登记证\n".into();
        let taken = village.add_document(&w.yinan, other).await.expect("other");
        assert_eq!(taken.title, "收养登记证");
    });
}

#[tokio::test]
async fn a_withdrawn_document_needs_a_reason_and_leaves_the_default_list() {
    on_both!(|b| {
        let a = &b.archive;
        let w = world(a).await;
        let village = a.scoped(&w.village);
        let doc = village
            .add_document(&w.yinan, death_certificate())
            .await
            .expect("add");
        for reason in ["", " ", "错"] {
            let e = village
                .withdraw_document(&w.yinan, &doc.document_id, reason)
                .await
                .expect_err("no reason");
            assert_eq!(field_of(e), "reason", "{}: {reason:?}", b.label);
        }
        assert_eq!(
            village
                .documents(&w.yinan, false)
                .await
                .expect("list")
                .len(),
            1
        );
        // Only caseworkers of the area withdraw.
        for other in [&w.finance, &w.inspector] {
            let e = a
                .scoped(other)
                .withdraw_document(&w.yinan, &doc.document_id, "传错了文件")
                .await
                .expect_err("not theirs");
            assert!(matches!(e, StoreError::Forbidden(_)), "{e:?}");
        }
        village
            .withdraw_document(&w.yinan, &doc.document_id, "传错了家庭的文件")
            .await
            .expect("withdraw");
        assert!(
            village
                .documents(&w.yinan, false)
                .await
                .expect("list")
                .is_empty(),
            "{}: hidden from the default list",
            b.label
        );
        let all = village.documents(&w.yinan, true).await.expect("all");
        assert_eq!(all.len(), 1);
        let withdrawal = all[0].withdrawn.clone().expect("marked");
        assert_eq!(withdrawal.reason, "传错了家庭的文件");
        assert!(withdrawal.by.contains("village"));
        let again = village
            .withdraw_document(&w.yinan, &doc.document_id, "再撤一次")
            .await
            .expect_err("already withdrawn");
        assert_eq!(field_of(again), "document");
        let entries = audit(a, "document.withdraw").await;
        assert_eq!(entries.len(), 1, "{}", b.label);
        assert_eq!(entries[0].reason, "传错了家庭的文件");
        assert_eq!(
            entries[0].target,
            format!("{}/{}", w.yinan, doc.document_id)
        );
        // It stays evidence: it still opens, for a reason.
        let opened = village
            .open_document(&w.yinan, &doc.document_id, "查看撤销的材料")
            .await
            .expect("open withdrawn");
        assert_eq!(opened.content, pdf());
    });
}

#[tokio::test]
async fn opening_a_document_needs_a_reason_and_writes_who_and_why_to_the_audit_log() {
    on_both!(|b| {
        let a = &b.archive;
        let w = world(a).await;
        let doc = a
            .scoped(&w.village)
            .add_document(&w.yinan, death_certificate())
            .await
            .expect("add");
        let county = a.scoped(&w.county);
        let e = county
            .open_document(&w.yinan, &doc.document_id, " ")
            .await
            .expect_err("no reason");
        assert_eq!(field_of(e), "reason");
        assert!(audit(a, "document.open").await.is_empty(), "{}", b.label);
        county
            .open_document(&w.yinan, &doc.document_id, "审核丧葬费报销")
            .await
            .expect("open");
        let entries = audit(a, "document.open").await;
        assert_eq!(entries.len(), 1, "{}", b.label);
        let e = &entries[0];
        assert!(e.actor.contains("county"), "{e:?}");
        assert_eq!(e.reason, "审核丧葬费报销");
        assert_eq!(
            e.target,
            format!("{}/{} death_certificate", w.yinan, doc.document_id)
        );
        // Listing reads no content and writes nothing.
        county.documents(&w.yinan, true).await.expect("list");
        assert_eq!(audit(a, "document.open").await.len(), 1);
        assert!(a.verify_audit().await.expect("verify").is_intact());
    });
}

#[tokio::test]
async fn another_areas_user_gets_not_found_and_roles_see_what_their_rules_allow() {
    on_both!(|b| {
        let a = &b.archive;
        let w = world(a).await;
        let doc = a
            .scoped(&w.village)
            .add_document(&w.yinan, death_certificate())
            .await
            .expect("add");
        // Another county: the family does not exist for them.
        let other = a.scoped(&w.county_b);
        let not_found = |e: StoreError| matches!(e, StoreError::FamilyNotFound(_));
        assert!(not_found(
            other.documents(&w.yinan, false).await.expect_err("list")
        ));
        assert!(not_found(
            other
                .open_document(&w.yinan, &doc.document_id, "核对材料")
                .await
                .expect_err("open")
        ));
        assert!(not_found(
            other
                .add_document(&w.yinan, death_certificate())
                .await
                .expect_err("add")
        ));
        assert!(not_found(
            other
                .withdraw_document(&w.yinan, &doc.document_id, "传错了文件")
                .await
                .expect_err("withdraw")
        ));
        // Nor does a document turn up under another family's id, even the user's own.
        let e = other
            .open_document(&w.lanshan, &doc.document_id, "核对材料")
            .await
            .expect_err("wrong family");
        assert!(matches!(e, StoreError::DocumentNotFound(..)), "{e:?}");
        let unknown = DocumentId::generate();
        let e = a
            .scoped(&w.county)
            .open_document(&w.yinan, &unknown, "核对材料")
            .await
            .expect_err("unknown");
        assert!(matches!(e, StoreError::DocumentNotFound(..)), "{e:?}");
        assert!(audit(a, "document.open").await.is_empty());

        // Inspectors list (masked roles read the file) but do not open or attach.
        let inspector = a.scoped(&w.inspector);
        assert_eq!(
            inspector
                .documents(&w.yinan, false)
                .await
                .expect("list")
                .len(),
            1
        );
        let forbidden = |e: StoreError| matches!(e, StoreError::Forbidden(_));
        assert!(forbidden(
            inspector
                .open_document(&w.yinan, &doc.document_id, "抽查核对")
                .await
                .expect_err("inspector opens")
        ));
        assert!(forbidden(
            inspector
                .add_document(&w.yinan, death_certificate())
                .await
                .expect_err("inspector adds")
        ));
        // The paired volunteer sees no documents at all.
        let volunteer = a.scoped(&w.volunteer);
        assert!(forbidden(
            volunteer
                .documents(&w.yinan, false)
                .await
                .expect_err("volunteer lists")
        ));
        assert!(forbidden(
            volunteer
                .open_document(&w.yinan, &doc.document_id, "走访需要")
                .await
                .expect_err("volunteer opens")
        ));
        // Finance officers of the area open (invoices and bank cards back their payments), but
        // do not attach.
        let finance = a.scoped(&w.finance);
        finance
            .open_document(&w.yinan, &doc.document_id, "核对报销票据")
            .await
            .expect("finance opens");
        assert!(forbidden(
            finance
                .add_document(&w.yinan, death_certificate())
                .await
                .expect_err("finance adds")
        ));
        // A break-the-glass grant reads, and does not write.
        a.grant_access(
            &w.county_b,
            &w.yinan,
            "迁入本区,核对材料",
            std::time::Duration::from_secs(3600),
        )
        .await
        .expect("grant");
        let granted = a.scoped(&w.county_b);
        assert_eq!(
            granted
                .documents(&w.yinan, false)
                .await
                .expect("list")
                .len(),
            1
        );
        granted
            .open_document(&w.yinan, &doc.document_id, "迁入核对")
            .await
            .expect("granted opens");
        assert!(forbidden(
            granted
                .add_document(&w.yinan, death_certificate())
                .await
                .expect_err("granted adds")
        ));
        assert_eq!(audit(a, "document.open").await.len(), 2, "{}", b.label);
    });
}

#[tokio::test]
async fn sealed_content_moved_to_another_row_does_not_open() {
    on_both!(|b| {
        let a = &b.archive;
        let w = world(a).await;
        let village = a.scoped(&w.village);
        let first = village
            .add_document(&w.yinan, death_certificate())
            .await
            .expect("first");
        let mut second = death_certificate();
        second.content = b"%PDF-1.4\nanother document\n".to_vec();
        let second = village
            .add_document(&w.yinan, second)
            .await
            .expect("second");
        let sql = "UPDATE family_document SET content = (SELECT content FROM family_document WHERE document_id = $1) WHERE document_id = $2";
        match a.db() {
            Db::Sqlite(pool, _) => sqlx::query(sql)
                .bind(first.document_id.as_str())
                .bind(second.document_id.as_str())
                .execute(pool)
                .await
                .map(|_| ()),
            Db::Pg(pool) => sqlx::query(sql)
                .bind(first.document_id.as_str())
                .bind(second.document_id.as_str())
                .execute(pool)
                .await
                .map(|_| ()),
        }
        .expect("swap");
        let e = village
            .open_document(&w.yinan, &second.document_id, "核对材料")
            .await
            .expect_err("tampered");
        assert!(matches!(e, StoreError::Crypto(_)), "{}: {e:?}", b.label);
        assert!(audit(a, "document.open").await.is_empty());
    });
}

#[tokio::test]
async fn key_rotation_reseals_documents_and_they_still_open() {
    on_both!(|b| {
        let w = world(&b.archive).await;
        let doc = b
            .archive
            .scoped(&w.village)
            .add_document(&w.yinan, death_certificate())
            .await
            .expect("add");
        let mut archive = b.archive.clone();
        let mut keys = archive.keys().clone();
        keys.rotate(Algorithm::Sm4Gcm);
        archive.set_keys(keys);
        let done = guanai_store::rotate::reencrypt(&archive, &Actor::new("市级"))
            .await
            .expect("rotate");
        assert_eq!(done.documents, 1, "{}", b.label);
        let again = guanai_store::rotate::reencrypt(&archive, &Actor::new("市级"))
            .await
            .expect("again");
        assert_eq!(again.documents, 0, "nothing left to do");
        let opened = archive
            .scoped(&w.village)
            .open_document(&w.yinan, &doc.document_id, "核对")
            .await
            .expect("open after rotation");
        assert_eq!(opened.content, pdf());
        assert_eq!(opened.info.title, doc.title);
    });
}

#[tokio::test]
async fn a_backup_refuses_an_archive_with_documents_rather_than_leave_them_out() {
    on_both!(|b| {
        let a = &b.archive;
        let w = world(a).await;
        let mut out = Vec::new();
        guanai_store::backup::backup(a, &mut out)
            .await
            .expect("no documents yet");
        a.scoped(&w.village)
            .add_document(&w.yinan, death_certificate())
            .await
            .expect("add");
        let e = guanai_store::backup::backup(a, &mut Vec::new())
            .await
            .expect_err("refused");
        assert!(
            matches!(&e, StoreError::Backup(m) if m.contains("1 document(s)")),
            "{}: {e}",
            b.label
        );
    });
}
