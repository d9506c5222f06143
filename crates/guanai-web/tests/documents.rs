//! Documents on the family file (材料, issue 5) through the real router: uploading through the
//! form (multipart, the CSRF token first) and downloading for a reason, refusals next to their
//! fields, withdrawing, escaping of free text, who sees which part of the section, and another
//! county's caseworker finding nothing — on SQLite and, where it matters, PostgreSQL.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guanai_store::AuditQuery;
use guanai_store::documents::MAX_DOCUMENT_BYTES;
use support::{Client, Reply, World, both};

/// A small PDF.
fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// Posts the upload form of `family` as `c`'s browser would: `_csrf` first (unless `None`), the
/// text fields, the file last.
async fn upload(
    c: &mut Client,
    family: &str,
    csrf: Option<&str>,
    fields: &[(&str, &str)],
    file_name: &str,
    bytes: &[u8],
) -> Reply {
    let boundary = "guanai-documents-5e1b";
    let mut body: Vec<u8> = Vec::new();
    let mut text = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    if let Some(token) = csrf {
        text("_csrf", token);
    }
    for (name, value) in fields {
        text(name, value);
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = Request::builder()
        .method("POST")
        .uri(format!("/families/{family}/documents"))
        .header(header::HOST, "localhost")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        );
    if let Some(cookie) = &c.cookie {
        request = request.header(header::COOKIE, format!("guanai_session={cookie}"));
    }
    c.send(request.body(Body::from(body)).expect("request"))
        .await
}

/// A client signed in as `login` that has read a page (so it holds the CSRF token).
async fn signed_in(w: &World, login: &str) -> (Client, String) {
    let mut c = w.client(login).await;
    c.get("/account").await;
    let token = c.csrf.clone().expect("csrf");
    (c, token)
}

/// The ids of the documents listed on a page (`id="document-D…"`), in order.
fn document_ids(body: &str) -> Vec<String> {
    body.match_indices("id=\"document-D")
        .map(|(at, m)| body[at + m.len() - 1..at + m.len() + 32].to_owned())
        .collect()
}

/// The documents section of a family page.
fn section(body: &str) -> &str {
    let Some(start) = body.find("id=\"documents\"") else {
        return "";
    };
    let end = body[start..]
        .find("</section>")
        .map_or(body.len(), |e| start + e);
    &body[start..end]
}

/// The text of the element with this id (up to its closing tag).
fn element<'a>(body: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let Some(at) = body.find(&marker) else {
        return "";
    };
    let start = at + body[at..].find('>').map_or(0, |g| g + 1);
    let end = start + body[start..].find('<').unwrap_or(0);
    &body[start..end]
}

#[tokio::test]
async fn a_caseworker_uploads_through_the_form_and_downloads_it_for_a_reason() {
    both(async |w: &World| {
        let family = w.family_a.to_string();
        let (mut c, token) = signed_in(w, "village").await;
        let page = c.get(&format!("/families/{family}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(section(&page.body).contains("id=\"no-documents\""));
        assert!(section(&page.body).contains("enctype=\"multipart/form-data\""));

        let r = upload(
            &mut c,
            &family,
            Some(&token),
            &[("kind", "death_certificate"), ("title", "李明死亡证明")],
            "死亡证明.pdf",
            &pdf(),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            r.location.as_deref(),
            Some(format!("/families/{family}?saved=1#documents").as_str())
        );
        let page = c.get(&format!("/families/{family}")).await;
        let listed = section(&page.body);
        for shown in ["死亡证明", "李明死亡证明", "死亡证明.pdf", "测试village"] {
            assert!(listed.contains(shown), "{shown} not in {listed}");
        }
        assert!(listed.contains(&format!("{} B", pdf().len())), "{listed}");
        let ids = document_ids(&page.body);
        assert_eq!(ids.len(), 1, "{listed}");
        let doc = &ids[0];

        // Opening needs a reason, shown next to the field.
        let open = format!("/families/{family}/documents/{doc}/open");
        let r = c.post(&open, &[("reason", " ")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(
            !element(&r.body, &format!("error-open-{doc}")).is_empty(),
            "the reason's error is next to the field"
        );
        let r = c.post(&open, &[("reason", "核对死亡日期")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.bytes, pdf(), "the same bytes come back");
        let h = |name: header::HeaderName| {
            r.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(h(header::CONTENT_TYPE), "application/pdf");
        let disposition = h(header::CONTENT_DISPOSITION);
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(
            disposition.contains("filename*=UTF-8''%E6%AD%BB%E4%BA%A1%E8%AF%81%E6%98%8E.pdf"),
            "{disposition}"
        );
        assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(h(header::CACHE_CONTROL), "no-store");
        let opened = w
            .archive
            .audit_entries(&AuditQuery {
                action_prefix: Some("document.open".into()),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        assert_eq!(opened.len(), 1, "one opening, one entry");
        assert_eq!(opened[0].reason, "核对死亡日期");
        assert!(opened[0].actor.starts_with("village"), "{:?}", opened[0]);
        assert!(opened[0].target.contains(doc.as_str()));
    })
    .await;
}

#[tokio::test]
async fn an_upload_without_the_csrf_token_is_refused_and_stores_nothing() {
    let w = support::sqlite().await;
    let family = w.family_a.to_string();
    let (mut c, _) = signed_in(&w, "village").await;
    let r = upload(
        &mut c,
        &family,
        None,
        &[("kind", "death_certificate")],
        "死亡证明.pdf",
        &pdf(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = upload(
        &mut c,
        &family,
        Some("not-the-token"),
        &[("kind", "death_certificate")],
        "死亡证明.pdf",
        &pdf(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The open and withdraw forms are refused without it too.
    let fake = guanai_store::DocumentId::generate();
    for action in ["open", "withdraw"] {
        let r = c
            .post_raw(
                &format!("/families/{family}/documents/{fake}/{action}"),
                &[("reason", "核对材料")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{action}");
    }
    let page = c.get(&format!("/families/{family}")).await;
    assert!(document_ids(&page.body).is_empty());
    w.cleanup().await;
}

#[tokio::test]
async fn another_countys_caseworker_gets_404_on_the_list_the_upload_and_the_download() {
    both(async |w: &World| {
        let family = w.family_a.to_string();
        let (mut village, token) = signed_in(w, "village").await;
        let r = upload(
            &mut village,
            &family,
            Some(&token),
            &[("kind", "bank_card")],
            "卡.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = village.get(&format!("/families/{family}")).await;
        let doc = document_ids(&page.body).pop().expect("a document");

        let (mut other, token_b) = signed_in(w, "county_b").await;
        let r = other.get(&format!("/families/{family}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "the file and its list");
        assert!(!r.body.contains(&doc));
        let r = other
            .post(
                &format!("/families/{family}/documents/{doc}/open"),
                &[("reason", "核对材料")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "the download");
        assert!(r.bytes.windows(4).all(|b| b != b"\x89PNG"));
        let r = other
            .post(
                &format!("/families/{family}/documents/{doc}/withdraw"),
                &[("reason", "传错了文件")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "the withdrawal");
        let r = upload(
            &mut other,
            &family,
            Some(&token_b),
            &[("kind", "bank_card")],
            "卡.pdf",
            &pdf(),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "the upload");
        // Their own family does not hold it either.
        let r = other
            .post(
                &format!("/families/{}/documents/{doc}/open", w.family_b),
                &[("reason", "核对材料")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let opened = w
            .archive
            .audit_entries(&AuditQuery {
                action_prefix: Some("document.open".into()),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        assert!(opened.is_empty(), "nothing was opened");
    })
    .await;
}

#[tokio::test]
async fn free_text_is_escaped_on_the_page() {
    let w = support::sqlite().await;
    let family = w.family_a.to_string();
    let (mut c, token) = signed_in(&w, "village").await;
    let r = upload(
        &mut c,
        &family,
        Some(&token),
        &[("kind", "other"), ("title", "<script>alert('x')</script>")],
        "<img src=x onerror=alert(1)>.pdf",
        &pdf(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get(&format!("/families/{family}")).await;
    let listed = section(&page.body);
    assert!(!page.body.contains("<script>alert"), "{listed}");
    assert!(!page.body.contains("<img src=x"), "{listed}");
    // askama writes `<` and `>` as numeric references; either form is escaped.
    let escaped = |text: &str| {
        let numeric = text.replace('<', "&#60;").replace('>', "&#62;");
        let named = text.replace('<', "&lt;").replace('>', "&gt;");
        listed.contains(&numeric) || listed.contains(&named)
    };
    assert!(escaped("<script>alert("), "{listed}");
    assert!(escaped("<img src=x onerror=alert(1)>.pdf"), "{listed}");
    w.cleanup().await;
}

#[tokio::test]
async fn refused_uploads_say_why_next_to_the_field_and_keep_what_was_typed() {
    let w = support::sqlite().await;
    let family = w.family_a.to_string();
    let (mut c, token) = signed_in(&w, "village").await;
    // A text file named .pdf: the type is read from the content.
    let r = upload(
        &mut c,
        &family,
        Some(&token),
        &[("kind", "hospital_invoice"), ("title", "住院发票")],
        "发票.pdf",
        b"just some text, not a PDF",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        element(&r.body, "error-file").contains("PDF"),
        "{}",
        section(&r.body)
    );
    assert!(
        r.body.contains("id=\"form-document\"")
            && r.body.contains("<details open id=\"form-document\"")
    );
    assert!(
        section(&r.body).contains("value=\"住院发票\""),
        "the title is kept"
    );
    assert!(section(&r.body).contains("<option value=\"hospital_invoice\" selected>"));
    // Larger than the limit: read only up to it, refused naming the file.
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(MAX_DOCUMENT_BYTES + 1, b' ');
    let r = upload(
        &mut c,
        &family,
        Some(&token),
        &[("kind", "hospital_invoice")],
        "发票.pdf",
        &big,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "{}",
        element(&r.body, "error-file")
    );
    assert!(element(&r.body, "error-file").contains("MiB"));
    // An unknown kind, and an "other" without a title.
    let r = upload(
        &mut c,
        &family,
        Some(&token),
        &[("kind", "passport")],
        "x.pdf",
        &pdf(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!element(&r.body, "error-kind").is_empty());
    let r = upload(
        &mut c,
        &family,
        Some(&token),
        &[("kind", "other")],
        "x.pdf",
        &pdf(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!element(&r.body, "error-title").is_empty());
    let page = c.get(&format!("/families/{family}")).await;
    assert!(document_ids(&page.body).is_empty(), "nothing was stored");
    w.cleanup().await;
}

#[tokio::test]
async fn a_withdrawn_document_needs_a_reason_and_is_folded_away_with_it() {
    let w = support::sqlite().await;
    let family = w.family_a.to_string();
    let (mut c, token) = signed_in(&w, "village").await;
    upload(
        &mut c,
        &family,
        Some(&token),
        &[("kind", "hukou_page"), ("title", "户口簿首页")],
        "户口.pdf",
        &pdf(),
    )
    .await;
    let page = c.get(&format!("/families/{family}")).await;
    let doc = document_ids(&page.body).pop().expect("a document");
    let withdraw = format!("/families/{family}/documents/{doc}/withdraw");
    let r = c.post(&withdraw, &[("reason", "")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!element(&r.body, &format!("error-withdraw-{doc}")).is_empty());
    let r = c.post(&withdraw, &[("reason", "传成了别家的户口簿")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get(&format!("/families/{family}")).await;
    let listed = section(&page.body);
    assert!(listed.contains("id=\"no-documents\""), "{listed}");
    assert!(listed.contains("id=\"withdrawn-documents\""));
    assert!(listed.contains("传成了别家的户口簿"));
    assert!(
        !listed.contains(&format!("{doc}/withdraw")),
        "no second withdrawal"
    );
    w.cleanup().await;
}

#[tokio::test]
async fn each_role_gets_the_part_of_the_section_its_rules_allow() {
    let w = support::sqlite().await;
    let family = w.family_a.to_string();
    let (mut c, token) = signed_in(&w, "village").await;
    upload(
        &mut c,
        &family,
        Some(&token),
        &[("kind", "funeral_invoice")],
        "发票.jpg",
        &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'],
    )
    .await;
    let page = c.get(&format!("/families/{family}")).await;
    let doc = document_ids(&page.body).pop().expect("a document");
    let open = format!("/families/{family}/documents/{doc}/open");
    // The inspector lists, opens nothing, attaches nothing.
    let (mut inspector, _) = signed_in(&w, "inspector").await;
    let page = inspector.get(&format!("/families/{family}")).await;
    let listed = section(&page.body);
    assert!(
        listed.contains(&doc) && listed.contains("发票.jpg"),
        "{listed}"
    );
    assert!(
        !listed.contains("/open\"") && !listed.contains("form-document"),
        "{listed}"
    );
    let r = inspector.post(&open, &[("reason", "抽查核对")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The finance officer of the county opens (the invoice backs a reimbursement), attaches nothing.
    let (mut finance, finance_token) = signed_in(&w, "finance").await;
    let page = finance.get(&format!("/families/{family}")).await;
    let listed = section(&page.body);
    assert!(
        listed.contains("/open\"") && !listed.contains("form-document"),
        "{listed}"
    );
    let r = finance.post(&open, &[("reason", "审核丧葬费报销")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("image/jpeg")
    );
    let r = upload(
        &mut finance,
        &family,
        Some(&finance_token),
        &[("kind", "bank_card")],
        "卡.pdf",
        &pdf(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The paired volunteer's file has no documents section at all, and opens nothing.
    let (mut volunteer, _) = signed_in(&w, "volunteer").await;
    let page = volunteer.get(&format!("/families/{family}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(section(&page.body).is_empty() && !page.body.contains(&doc));
    let r = volunteer.post(&open, &[("reason", "走访需要")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    w.cleanup().await;
}
