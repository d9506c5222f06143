//! Payment runs through the real router: a county's month from build to close with four eyes,
//! bank files downloaded and audited, the bank's return file (a mismatch changes nothing);
//! scope (another county's finance officer finds nothing), read-only roles (every action
//! forbidden) and forms without their CSRF token.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guanai_rules::Fen;
use guanai_store::pay::RunId;
use support::{Client, Reply, World, all_paid, both};

const RUN: &str = "202610-371321-1";

/// Posts an upload form (multipart): the CSRF token first unless `csrf` is `None`, then the file.
async fn upload(
    c: &mut Client,
    path: &str,
    csrf: Option<&str>,
    file_name: &str,
    bytes: &[u8],
) -> Reply {
    let boundary = "guanai-test-7d1f";
    let mut body: Vec<u8> = Vec::new();
    if let Some(token) = csrf {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = Request::builder()
        .method("POST")
        .uri(path)
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

/// The session's CSRF token (read from a page).
async fn token(c: &mut Client) -> String {
    if c.csrf.is_none() {
        c.get("/account").await;
    }
    c.csrf.clone().expect("csrf token")
}

/// Finance officer `finance` sets 沂南县's paying account and builds October 2026.
async fn built(w: &World) -> Client {
    let mut f = w.client("finance").await;
    let r = f
        .post(
            "/payments/payer",
            &[
                ("county", "371321"),
                ("name", "沂南县财政局"),
                ("account", "37001626800050123456"),
                ("bank", "中国农业银行沂南支行"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/payments?done=payer"));
    let r = f
        .post(
            "/payments",
            &[
                ("month", "2026-10"),
                ("county", "371321"),
                ("ledger_start", "2026-10"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(&*format!("/payments/{RUN}?done=built"))
    );
    f
}

/// The links of a page whose address starts with `prefix`.
fn links<'a>(body: &'a str, prefix: &str) -> Vec<&'a str> {
    body.match_indices(&format!("href=\"{prefix}"))
        .map(|(i, _)| {
            let start = i + "href=\"".len();
            let end = start + body[start..].find('"').expect("end of link");
            &body[start..end]
        })
        .collect()
}

#[tokio::test]
async fn a_county_month_from_build_to_close_with_four_eyes_bank_files_and_the_return_file() {
    both(async |w: &World| {
        let mut f = built(w).await;
        let run_path = format!("/payments/{RUN}");
        let r = f.get(&format!("{run_path}?done=built")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("批次已生成") && r.body.contains("草稿"), "{}", r.body);
        // The fathers have no account: blocking problems, listed; the run cannot be checked
        // until their transfers are held.
        assert!(r.body.contains("id=\"blocking-problems\"") && r.body.contains("没有银行账户"), "{}", r.body);
        assert!(r.body.contains(&w.family_a.to_string()), "lines link to the families");
        let r = f.get("/payments").await;
        assert!(r.body.contains(RUN) && r.body.contains("草稿") && r.body.contains("沂南县"), "{}", r.body);
        let r = f.post(&format!("{run_path}/check"), &[("hold", "")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("id=\"check-error\"") && r.body.contains("存在未解决的阻断问题"), "{}", r.body);
        let r = f.post(&format!("{run_path}/check"), &[("hold", "父亲账户待补录")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // Four eyes: the builder's approval is refused with the library's reason.
        let r = f.post(&format!("{run_path}/approve"), &[]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("id=\"approve-error\"") && r.body.contains("制单人不能批准自己生成的批次"), "{}", r.body);
        let mut f2 = w.client("finance2").await;
        let r = f2.post(&format!("{run_path}/approve"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = f2.post(&format!("{run_path}/export"), &[("execution_date", "")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = f2.get(&format!("{run_path}?done=export")).await;
        assert!(r.body.contains("已报送银行"), "{}", r.body);
        let files = links(&r.body, &format!("{run_path}/files/"));
        assert_eq!(files.len(), 3, "XLSX, CSV and pain.001 for the one county and bank: {files:?}");
        let csv_link = files.iter().find(|l| l.ends_with(".csv")).expect("csv link");
        // The county's total as sent.
        let run = RunId::parse(RUN).expect("run");
        let transfers = w.archive.run_transfers(&run).await.expect("transfers");
        let sent = transfers.iter().filter(|t| t.status == "sent").fold(Fen::ZERO, |s, t| s + t.amount);
        assert!(sent > Fen::ZERO);
        let csv = f2.get(csv_link).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!(csv.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("text/csv; charset=utf-8"));
        let disposition = csv.headers.get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).expect("disposition");
        assert!(disposition.starts_with("attachment; filename=\"") && disposition.contains("filename*=UTF-8''"), "{disposition}");
        assert!(csv.body.contains(&format!(",{sent},")), "total {sent} in {}", csv.body);
        let xlsx = f2.get(files.iter().find(|l| l.ends_with(".xlsx")).expect("xlsx link")).await;
        assert_eq!(
            xlsx.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        );
        let xml = f2.get(files.iter().find(|l| l.ends_with(".pain001.xml")).expect("xml link")).await;
        assert!(xml.body.contains("pain.001"), "{}", xml.body);
        let log = w.archive.audit_log().await.expect("audit");
        assert_eq!(log.iter().filter(|e| e.2 == "pay.download" && e.3 == RUN).count(), 3, "every download is audited");
        // A file that is not the run's is not served.
        let r = f2.get(&format!("{run_path}/files/..%2F..%2Fguanai.db")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // A return file that does not match the run changes nothing.
        let token2 = token(&mut f2).await;
        let wrong = "业务参考号,户名,账号,金额(元),状态,失败原因\n202610-371321-1-999999,王秀英,6222021234567890123,1.00,成功,\n";
        let r = upload(&mut f2, &format!("{run_path}/results"), Some(&token2), "回盘.csv", wrong.as_bytes()).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains("id=\"results-error\"") && r.body.contains("回盘文件与本批次不符"), "{}", r.body);
        let after = w.archive.run_transfers(&run).await.expect("transfers");
        assert_eq!(after, transfers, "nothing changed");
        // Without the token the upload is refused.
        let answer = all_paid(&csv.body);
        let r = upload(&mut f2, &format!("{run_path}/results"), None, "回盘.csv", answer.as_bytes()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = upload(&mut f2, &format!("{run_path}/results"), Some(&token2), "回盘.csv", answer.as_bytes()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("id=\"return-report\"") && r.body.contains("本批次已全部回盘"), "{}", r.body);
        let r = f2.post(&format!("{run_path}/close"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = f.get(&run_path).await;
        assert!(r.body.contains("已关闭") && !r.body.contains("id=\"form-close\""), "{}", r.body);
        // On PostgreSQL the bank files are kept under the temporary directory (see
        // `bank_files::folder`): remove this run's.
        let known_at = w.archive.run_summary(&run).await.expect("run").known_at;
        let folder = std::env::temp_dir()
            .join("guanai-bank-files")
            .join(format!("{RUN}-{}", known_at.as_microsecond()));
        if folder.exists() {
            std::fs::remove_dir_all(&folder).expect("remove the bank files");
        }
    })
    .await;
}

#[tokio::test]
async fn another_countys_finance_officer_finds_no_run_and_builds_only_their_own() {
    let w = support::sqlite().await;
    let _ = built(&w).await;
    let mut b = w.client("finance_b").await;
    let run_path = format!("/payments/{RUN}");
    let r = b.get(&run_path).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains("沂南县财政局"));
    let r = b.get("/payments").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains(RUN));
    for action in ["check", "approve", "discard", "export", "close"] {
        let r = b
            .post(
                &format!("{run_path}/{action}"),
                &[("hold", "x"), ("reason", "x")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
    }
    let t = token(&mut b).await;
    let r = upload(
        &mut b,
        &format!("{run_path}/results"),
        Some(&t),
        "回盘.csv",
        b"x",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = b.get(&format!("{run_path}/files/{RUN}-371321-x.csv")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A county finance officer builds for their own county only, not another's or the city's.
    for county in ["371321", "all"] {
        let r = b
            .post("/payments", &[("month", "2026-10"), ("county", county)])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{county}");
        assert!(
            r.body.contains("id=\"build-error\"")
                && r.body.contains("只能为本人工作区域内的县区生成批次"),
            "{}",
            r.body
        );
    }
    let r = b
        .post(
            "/payments/payer",
            &[
                ("county", "371321"),
                ("name", "x"),
                ("account", "37001626800050123456"),
                ("bank", "中国银行"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Building the same county again while its run is open is a message, not a failure.
    let mut f = w.client("finance").await;
    let r = f
        .post("/payments", &[("month", "2026-10"), ("county", "371321")])
        .await;
    assert!(
        r.status == StatusCode::OK || r.status == StatusCode::CONFLICT,
        "{}",
        r.status
    );
    assert!(
        r.body.contains("id=\"build-notice\"") || r.body.contains("id=\"build-error\""),
        "{}",
        r.body
    );
    w.cleanup().await;
}

#[tokio::test]
async fn inspectors_and_caseworkers_read_runs_but_every_action_is_forbidden() {
    let w = support::sqlite().await;
    let _ = built(&w).await;
    let run_path = format!("/payments/{RUN}");
    for login in ["inspector", "county", "city"] {
        let mut c = w.client(login).await;
        let r = c.get(&run_path).await;
        assert_eq!(r.status, StatusCode::OK, "{login}");
        assert!(r.body.contains("没有银行账户"), "{login} sees the problems");
        assert!(
            !r.body.contains(&format!("action=\"{run_path}/")),
            "{login}: no action forms"
        );
        let r = c.get("/payments").await;
        assert!(
            r.body.contains(RUN) && !r.body.contains("id=\"build\""),
            "{login}"
        );
        for action in ["check", "approve", "discard", "export", "close"] {
            let r = c
                .post(
                    &format!("{run_path}/{action}"),
                    &[("hold", "x"), ("reason", "x")],
                )
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{login} {action}");
        }
        let t = token(&mut c).await;
        let r = upload(
            &mut c,
            &format!("{run_path}/results"),
            Some(&t),
            "回盘.csv",
            b"x",
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{login} results");
        let r = c.get(&format!("{run_path}/files/{RUN}-371321-x.csv")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{login} download");
        let r = c
            .post("/payments", &[("month", "2026-11"), ("county", "371321")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{login} build");
    }
    // Roles that see no payments at all.
    let mut v = w.client("village").await;
    assert_eq!(v.get(&run_path).await.status, StatusCode::FORBIDDEN);
    assert_eq!(v.get("/payments").await.status, StatusCode::FORBIDDEN);
    let status = w
        .archive
        .run_summary(&RunId::parse(RUN).expect("run"))
        .await
        .expect("run")
        .status;
    assert_eq!(status.as_str(), "draft", "nothing changed");
    w.cleanup().await;
}

#[tokio::test]
async fn payment_forms_without_their_csrf_token_are_refused_and_change_nothing() {
    let w = support::sqlite().await;
    let mut f = w.client("finance").await;
    let r = f
        .post_raw("/payments", &[("month", "2026-10"), ("county", "371321")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(w.archive.list_runs().await.expect("runs").is_empty());
    let _ = built(&w).await;
    let run_path = format!("/payments/{RUN}");
    let r = f
        .post_raw(
            &format!("{run_path}/check"),
            &[("hold", "父亲账户待补录"), ("_csrf", "forged")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = f
        .post_raw(&format!("{run_path}/discard"), &[("reason", "测试")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let status = w
        .archive
        .run_summary(&RunId::parse(RUN).expect("run"))
        .await
        .expect("run")
        .status;
    assert_eq!(status.as_str(), "draft");
    // Discarding needs a reason, shown next to the button.
    let r = f
        .post(&format!("{run_path}/discard"), &[("reason", " ")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("id=\"discard-error\""), "{}", r.body);
    let r = f
        .post(&format!("{run_path}/discard"), &[("reason", "测试作废")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = f.get(&run_path).await;
    assert!(r.body.contains("已作废"), "{}", r.body);
    // An action the run's state no longer allows: the library's refusal, above the actions.
    let r = f.post(&format!("{run_path}/check"), &[("hold", "")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.body.contains("id=\"action-error\"") && r.body.contains("当前状态为 已作废"),
        "{}",
        r.body
    );
    w.cleanup().await;
}

#[tokio::test]
async fn the_run_list_pages_and_sorts_and_speaks_english() {
    let w = support::sqlite().await;
    let _ = built(&w).await;
    let mut city = w.client("city").await;
    for sort in ["newest", "month", "status"] {
        let r = city.get(&format!("/payments?sort={sort}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains(RUN), "{sort}");
        assert!(!r.body.contains("id=\"next-page\""));
    }
    let r = city.get("/payments?page=2").await;
    assert!(!r.body.contains(RUN), "20 runs a page");
    let mut en = Client::new(w.router.clone());
    en.sign_in("inspector", support::PASSWORD).await;
    let request = Request::builder()
        .uri(format!("/payments/{RUN}"))
        .header(header::HOST, "localhost")
        .header(
            header::COOKIE,
            format!(
                "guanai_session={}; guanai_lang=en",
                en.cookie.clone().expect("cookie")
            ),
        )
        .body(Body::empty())
        .expect("request");
    let r = en.send(request).await;
    assert!(
        r.body.contains("Funding source")
            && r.body.contains("draft")
            && r.body.contains("Higher-level funds"),
        "{}",
        r.body
    );
    w.cleanup().await;
}
