//! Changes that need approval (变更审批, issue 6) through the real router and its forms, on SQLite
//! and PostgreSQL: the village's death form becomes a proposal awaiting the township, shown on the
//! family file; the township approves it there and the death is recorded; the village may not
//! decide, another county does not find it.

mod support;

use axum::http::StatusCode;
use support::{World, both};

#[tokio::test]
async fn a_death_submitted_by_the_village_is_recorded_once_the_township_approves_it() {
    both(async |w: &World| {
        let a = w.family_a.to_string();
        let file = w.archive.family_file(&w.family_a).await.expect("file");
        let mother = file.persons[0].person_id.to_string();
        let mut village = w.client("village").await;
        let r = village
            .post(
                &format!("/families/{a}/record"),
                &[
                    ("form", "death"),
                    ("version", "1"),
                    ("person", &mother),
                    ("date", "2026-01-10"),
                    ("certificate_no", "D-1"),
                    ("reason", "殡仪馆通报"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let location = r.location.expect("redirect");
        assert_eq!(location, format!("/families/{a}?proposed=township#changes"));
        let r = village.get(&location).await;
        assert!(r.body.contains("已提交变更申请，待乡镇审批"), "{}", r.body);
        let section = &r.body[r.body.find("id=\"changes\"").expect("changes section")..];
        let section = &section[..section.find("</section>").expect("end")];
        assert!(section.contains("殡仪馆通报"), "{section}");
        assert!(section.contains("待审批"), "{section}");
        assert!(
            !section.contains("<form"),
            "the village may not decide: {section}"
        );
        let after = w.archive.family_file(&w.family_a).await.expect("file");
        assert_eq!(after.version, 1, "no death recorded yet");
        let changes = w.archive.changes_of(&w.family_a).await.expect("changes");
        let change = changes[0].change_id.clone();
        let decide = format!("/families/{a}/changes/{change}");

        // The village cannot approve; another county does not find the family.
        let r = village.post(&decide, &[("decision", "approve")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let mut other = w.client("county_b").await;
        let r = other.post(&decide, &[("decision", "approve")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let still = w
            .archive
            .change(&change)
            .await
            .expect("change")
            .expect("one");
        assert_eq!(still.status, "proposed");

        // The township finds it in its list of changes awaiting approval, sees the form on the
        // file and approves; the death is recorded.
        let mut township = w.client("township").await;
        let list = township.get("/cases").await;
        assert!(
            list.body.contains("id=\"pending-change-list\"")
                && list.body.contains(&format!("/families/{a}#changes")),
            "{}",
            list.body
        );
        let other = w.client("county_b").await.get("/cases").await;
        assert!(
            other.body.contains("id=\"no-pending-changes\""),
            "county B sees none"
        );
        let r = township.get(&format!("/families/{a}")).await;
        assert!(
            r.body.contains(&format!("id=\"form-change-{change}\"")),
            "{}",
            r.body
        );
        // A rejection needs a note, shown next to the list.
        let r = township
            .post(&decide, &[("decision", "reject"), ("note", "")])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("a rejection needs a reason"), "{}", r.body);
        let r = township
            .post(&decide, &[("decision", "approve"), ("note", "证明已核")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let after = w.archive.family_file(&w.family_a).await.expect("file");
        assert_eq!(after.version, 2);
        assert!(
            after.facts.iter().any(|f| f.kind == "death"
                && f.person_id.as_ref().map(ToString::to_string) == Some(mother.clone())
                && f.reason == format!("变更申请 {change}：殡仪馆通报")),
            "the mother's death is recorded"
        );
        let r = township.get(&format!("/families/{a}?month=2026-11")).await;
        let section = &r.body[r.body.find("id=\"changes\"").expect("changes section")..];
        assert!(section.contains("已批准并登记"), "{section}");
        // Decided once.
        let r = township.post(&decide, &[("decision", "approve")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    })
    .await;
}
