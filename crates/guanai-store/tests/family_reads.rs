//! A family page's reads in one statement (`Scoped::family_reads`) give exactly what each
//! module's own read gives — contacts with sealed phones, visits, the care network with sealed
//! session notes, complaints, applications, change requests, documents with sealed labels — and
//! leave out what the user's role may not see; against SQLite and PostgreSQL (the service on
//! 127.0.0.1:5432, or `GUANAI_TEST_POSTGRES`); without PostgreSQL its half is skipped with a
//! message, except in CI (`CI` set), where it fails.

mod support;

use support::{census_family, user};

use guanai_care::visits::Occasion;
use guanai_rules::{Month, Policy, VillageCode, parse_date};
use guanai_store::access::Role;
use guanai_store::complaints::{NewComplaint, Source};
use guanai_store::documents::{DocumentKind, NewDocument};
use guanai_store::family_reads::FileWants;
use guanai_store::network::HelpKind;
use guanai_store::visits::NewVisit;
use guanai_store::{Actor, FactValue, NewFact};
use jiff::civil::Date;

const VILLAGE: &str = "371321001003";
const TODAY: &str = "2026-11-30";

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

fn everything(today: Date) -> FileWants {
    FileWants {
        payments: true,
        checklist: Some(Month::of(today)),
        complaints: Some(20),
        volunteers: true,
        helpers: true,
        referrals: true,
        cases: true,
        changes: true,
        documents: true,
        visit_year: today.year(),
        today,
    }
}

#[tokio::test]
async fn one_statement_reads_what_each_section_reads_alone() {
    on_both!(|b| {
        let a = &b.archive;
        let policy = Policy::embedded("linyi-2014").expect("policy");
        let today = d(TODAY);
        let admin = Actor::new("admin");
        let fam = a
            .create_family(
                &census_family("R-1", VILLAGE),
                &Actor::new("census"),
                "普查",
            )
            .await
            .expect("family");
        let village = VillageCode::parse(VILLAGE).expect("village");
        let county = user(a, "c", Role::County, "371321").await;
        let caseworker = user(a, "v", Role::Village, VILLAGE).await;
        let vol = user(a, "vol", Role::Volunteer, "371321001").await;
        let psy = user(a, "psy", Role::Counsellor, "371321").await;
        user(a, "vol2", Role::Volunteer, VILLAGE).await;

        // Contacts at two levels, with phones (sealed).
        for (area, name, phone) in [
            (VILLAGE, "张丽", "13800000001"),
            ("371300", "周敏", "13800000002"),
        ] {
            a.set_contact(area, name, "联系人", Some(phone), &admin)
                .await
                .expect("contact");
        }
        // Two visits on one day (the order falls back to their ids).
        let visit = |occasion, visitor: &str| NewVisit {
            visited_on: d("2026-11-02"),
            occasion,
            visitor: visitor.into(),
            found: "身体尚可，情绪平稳".into(),
            needs: String::new(),
            follow_up: String::new(),
            follow_up_due: None,
        };
        a.record_visits(
            &[
                (fam.clone(), visit(Occasion::Regular, "村计生专干 张丽")),
                (fam.clone(), visit(Occasion::Regular, "村卫生室 赵医生")),
            ],
            &policy,
            today,
            &admin,
        )
        .await
        .expect("visits");
        // The care network: a volunteer's help, a referral with a session (notes sealed).
        let c = a.scoped(&county);
        c.pair_volunteer(&vol, &fam).await.expect("pair");
        a.scoped(&vol)
            .record_help(
                &fam,
                d("2026-11-20"),
                HelpKind::EmotionalComfort,
                90,
                "陪同聊天",
                today,
            )
            .await
            .expect("help");
        let referral = c
            .refer_to_counsellor(&fam, &psy, "失眠", d("2026-11-01"), today)
            .await
            .expect("refer");
        a.scoped(&psy)
            .record_session(&referral, d("2026-11-05"), 50, "首次访谈", today)
            .await
            .expect("session");
        // A complaint, an application, a proposed change, a document (label sealed).
        a.file_complaint(
            &NewComplaint {
                area_code: VILLAGE.into(),
                family: Some(fam.clone()),
                source: Source::Family,
                complainant: "王秀英".into(),
                summary: "九月份扶助金未到账".into(),
                detail: "请核查。".into(),
                received_on: d("2026-10-01"),
            },
            &policy,
            today,
            &admin,
        )
        .await
        .expect("complaint");
        let v = a.scoped(&caseworker);
        v.apply(&fam, d("2026-11-03"), "王秀英", "户口本", today)
            .await
            .expect("apply");
        let file = a.family_file(&fam).await.expect("file");
        let mother = file.persons[0].person_id.clone();
        v.propose_change(
            &fam,
            Some(NewFact {
                person_id: Some(mother),
                value: FactValue::Death {
                    certificate_no: Some("DC-1".into()),
                },
                valid_from: Some(d("2026-10-20")),
            }),
            None,
            "殡葬通报",
            today,
        )
        .await
        .expect("propose");
        v.add_document(
            &fam,
            NewDocument {
                kind: DocumentKind::DeathCertificate,
                title: "死亡证明".into(),
                file_name: "证明.pdf".into(),
                content: b"%PDF-1.4\n%test\n".to_vec(),
            },
        )
        .await
        .expect("document");

        let file = a.family_file(&fam).await.expect("file");
        let wants = everything(today);
        let reads = c
            .family_reads(&file, Some(village), &policy, &wants)
            .await
            .expect("reads");
        let label = b.label;
        assert_eq!(
            reads.contacts,
            a.contacts_for(village).await.expect("contacts"),
            "{label}"
        );
        assert_eq!(reads.contacts.len(), 2, "{label}");
        assert_eq!(reads.contacts[0].phone.as_deref(), Some("13800000001"));
        assert_eq!(reads.visits, a.visits_of(&fam).await.expect("visits"));
        assert_eq!(reads.visits.len(), 2, "{label}");
        assert_eq!(
            reads.visit_plan,
            a.visit_plan_of(&fam, today.year()).await.expect("plan")
        );
        assert_eq!(
            reads.dedicated_visitor,
            a.dedicated_visitor_of(&fam).await.expect("dedicated")
        );
        assert_eq!(
            reads.plan_made,
            a.visit_plan_made(today.year()).await.expect("made")
        );
        assert_eq!(
            reads.checklist,
            Some(
                a.service_checklist(&fam, Month::of(today), &policy)
                    .await
                    .expect("checklist")
            )
        );
        let complaints = c
            .complaints_about(&fam, &policy, today, 20)
            .await
            .expect("complaints");
        assert_eq!(complaints.len(), 1, "{label}");
        assert_eq!(reads.complaints, Some(complaints));
        let network = reads.volunteers.clone().expect("volunteers");
        assert_eq!(network.paired, a.volunteers_of(&fam).await.expect("paired"));
        assert_eq!(network.refusal, None);
        assert_eq!(network.help, a.help_of(&fam).await.expect("help"));
        let helpers = a.helpers_covering(VILLAGE).await.expect("helpers");
        assert_eq!(
            helpers.iter().map(|u| u.login.as_str()).collect::<Vec<_>>(),
            ["psy", "vol", "vol2"],
            "{label}"
        );
        assert_eq!(reads.helpers, helpers);
        let referrals = c.referrals(&fam).await.expect("referrals");
        assert_eq!(referrals[0].sessions.len(), 1, "{label}");
        assert_eq!(reads.referrals, Some(referrals));
        let cases = reads.cases.clone().expect("cases");
        let applications = a.applications_of(&fam).await.expect("applications");
        assert_eq!(
            cases
                .applied
                .iter()
                .map(|x| (&x.application_id, x.status, x.applied_on, &x.applicant))
                .collect::<Vec<_>>(),
            applications
                .iter()
                .map(|x| (&x.application_id, x.status, x.applied_on, &x.applicant))
                .collect::<Vec<_>>()
        );
        assert_eq!(cases.exit, a.exit_of(&fam).await.expect("exit"));
        let changes = a.changes_of(&fam).await.expect("changes");
        assert_eq!(changes.len(), 1, "{label}");
        assert_eq!(reads.changes, Some(changes));
        let documents = c.documents(&fam, true).await.expect("documents");
        assert_eq!(documents[0].title, "死亡证明", "{label}");
        assert_eq!(reads.documents, Some(documents));
        let (lines, statement) = reads.payments.clone().expect("payments");
        assert_eq!(lines, a.family_payments(&fam).await.expect("lines"));
        assert_eq!(statement, a.statement(&fam).await.expect("statement"));

        // The counsellor reads the session's notes; the volunteer none of what is not theirs.
        let own = a
            .scoped(&psy)
            .family_reads(&file, Some(village), &policy, &wants)
            .await
            .expect("counsellor");
        let notes = own.referrals.expect("referrals")[0].sessions[0].2.clone();
        assert_eq!(notes.as_deref(), Some("首次访谈"), "{label}");
        let volunteer = a
            .scoped(&vol)
            .family_reads(&file, Some(village), &policy, &wants)
            .await
            .expect("volunteer");
        assert!(volunteer.checklist.is_none(), "{label}");
        assert!(volunteer.referrals.is_none(), "{label}");
        assert!(volunteer.documents.is_none(), "{label}");
        assert!(volunteer.cases.expect("cases").years.is_empty());
        // Outside the user's area: not found, nothing read.
        let elsewhere = user(a, "far", Role::County, "371302").await;
        let refused = a
            .scoped(&elsewhere)
            .family_reads(&file, Some(village), &policy, &wants)
            .await;
        assert!(
            matches!(refused, Err(guanai_store::StoreError::FamilyNotFound(_))),
            "{refused:?}"
        );
    });
}
