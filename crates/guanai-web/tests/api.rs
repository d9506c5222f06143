//! The JSON API under `/api/v1` through the real router: tokens, the eval contract, scoped
//! families, recording facts, payment runs with four eyes, and the OpenAPI document.

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use guanai_batch::contract::{EvalSettings, Scratch, eval_line};
use guanai_store::Actor;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use support::{MOTHER_A, World};
use tower::ServiceExt;

/// The contract's example input line (docs/eval-contract.md).
const EXAMPLE: &str = r#"{"family_id":"F0001","county_code":"371321","hukou":"rural","parents":[{"id":"F0001-M","sex":"female","birth_date":"1960-04-12","death_date":null,"later_child_date":null},{"id":"F0001-F","sex":"male","birth_date":"1958-01-30"}],"child":{"id":"F0001-C","birth_date":"1984-06-01","death_date":"2009-08-17","disability_grade":null,"disability_date":null}}"#;

/// The contract's example of a rejected line.
const BAD: &str = r#"{"family_id":"F0007","county_code":"371321","hukou":"rural","parents":[{"id":"F0007-M","sex":"female","birth_date":"1960-02-30"}],"child":{"birth_date":"1984-06-01","death_date":"2009-08-17"}}"#;

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
    bytes: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The error message of an error reply.
    fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error: {}", self.text))
            .to_owned()
    }
}

async fn call(
    router: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> Reply {
    send(
        router,
        method,
        path,
        token,
        body.map(|b| ("application/json", b)),
    )
    .await
}

/// A request with a body of any type: (`Content-Type`, bytes).
async fn send(
    router: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> Reply {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "localhost");
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = match body {
        Some((content_type, bytes)) => {
            request = request.header(header::CONTENT_TYPE, content_type);
            Body::from(bytes.to_vec())
        }
        None => Body::empty(),
    };
    let response = router
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Reply {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

async fn get(w: &World, path: &str, token: Option<&str>) -> Reply {
    call(&w.router, "GET", path, token, None).await
}

async fn post(w: &World, path: &str, token: &str, body: &Value) -> Reply {
    call(
        &w.router,
        "POST",
        path,
        Some(token),
        Some(body.to_string().as_bytes()),
    )
    .await
}

async fn token(w: &World, login: &str) -> String {
    w.archive
        .create_api_token(&w.user(login).user_id, "test", &Actor::new("test"))
        .await
        .expect("token")
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401_in_json() {
    let w = support::sqlite().await;
    for path in [
        "/api/v1/families",
        "/api/v1/payments/runs",
        &format!("/api/v1/families/{}", w.family_a),
    ] {
        let r = get(&w, path, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(r.error().starts_with("Authorization:"), "{}", r.text);
        assert_eq!(
            r.headers
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
    }
    let r = get(&w, "/api/v1/families", Some("gat_not-a-token")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert_eq!(
        r.headers
            .get(header::X_CONTENT_TYPE_OPTIONS)
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    // A session cookie is no API credential.
    let c = w.client("county").await;
    let request = Request::builder()
        .uri("/api/v1/families")
        .header(
            header::COOKIE,
            format!("guanai_session={}", c.cookie.clone().unwrap_or_default()),
        )
        .body(Body::empty())
        .expect("request");
    let response = w.router.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let r = call(
        &w.router,
        "POST",
        "/api/v1/eval?month=2014-12",
        None,
        Some(EXAMPLE.as_bytes()),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Unknown paths and methods answer in JSON too.
    let t = token(&w, "county").await;
    let r = get(&w, "/api/v1/nothing", Some(&t)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.error().starts_with("path:"));
    let r = call(&w.router, "DELETE", "/api/v1/families", Some(&t), None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.error().starts_with("method:"));
    w.cleanup().await;
}

#[tokio::test]
async fn openapi_document_is_3_1_and_lists_every_endpoint_served() {
    let w = support::sqlite().await;
    let r = get(&w, "/api/v1/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let served = guanai_web::api::endpoint_list();
    assert!(served.len() >= 11);
    for (method, path) in &served {
        let operation = &doc["paths"][path.as_str()][*method];
        assert!(
            operation.is_object(),
            "{method} {path} is not in the document"
        );
        let secured = operation["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        assert_eq!(
            secured,
            !path.ends_with("/openapi.json"),
            "{method} {path}: bearer security"
        );
        // The document's path is really served: no route answers 404 "no such endpoint".
        let probe = call(
            &w.router,
            &method.to_uppercase(),
            &path
                .replace("{id}", "F0")
                .replace("{run}", "x")
                .replace("{name}", "f")
                .replace("{doc}", "D0"),
            None,
            None,
        )
        .await;
        assert!(
            probe.status != StatusCode::NOT_FOUND && probe.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {}",
            probe.status
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| {
            item.as_object()
                .map_or(0, |ops| ops.keys().filter(|k| *k != "parameters").count())
        })
        .sum();
    assert_eq!(
        documented,
        served.len(),
        "the document lists exactly the operations served"
    );
    for schema in [
        "RunDto",
        "FamilyDto",
        "DocumentDto",
        "RecordFact",
        "ErrorBody",
        "EvalOutput",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema}"
        );
    }
    w.cleanup().await;
}

#[tokio::test]
async fn eval_gives_the_contracts_numbers_by_the_same_code_path_and_names_a_bad_field() {
    let w = support::sqlite().await;
    let t = token(&w, "county").await;
    let r = call(
        &w.router,
        "POST",
        "/api/v1/eval?month=2014-12",
        Some(&t),
        Some(EXAMPLE.as_bytes()),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let out = r.json();
    let line = &out[0];
    assert_eq!(line["family_id"], "F0001");
    assert_eq!(line["month"], "2014-12");
    assert_eq!(line["category"], "bereaved");
    assert_eq!(
        line["monthly"],
        json!([
            {"person_id": "F0001-M", "kind": "bereaved_assistance", "amount_fen": 50000, "standard_fen": 17000, "county_fen": 33000},
            {"person_id": "F0001-F", "kind": "bereaved_assistance", "amount_fen": 50000, "standard_fen": 17000, "county_fen": 33000},
        ])
    );
    assert_eq!(line["one_time"][0]["kind"], "bereaved_grant");
    assert_eq!(line["one_time"][0]["amount_fen"], 1_000_000);
    assert_eq!(line["one_time"][0]["payer"], "county");
    assert!(line["services"].as_array().is_some_and(|s| s.contains(&json!({"person_id": "F0001-M", "kind": "medical_relief"}))));
    assert!(
        line["explanation"][0]
            .as_str()
            .is_some_and(|s| !s.is_ascii()),
        "Chinese by default"
    );

    // Exactly what `guanai eval` writes for the same lines.
    let array = format!("[{EXAMPLE},\n {BAD}, 42]");
    let r = call(
        &w.router,
        "POST",
        "/api/v1/eval?month=2014-12&lang=en",
        Some(&t),
        Some(array.as_bytes()),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let out = r.json();
    let settings = EvalSettings {
        month: guanai_rules::Month::parse("2014-12").expect("month"),
        lang: guanai_rules::explain::Lang::En,
        today: jiff::Zoned::now().date(),
    };
    let policy = guanai_rules::Policy::embedded("linyi-2014").expect("policy");
    for (i, input) in [EXAMPLE, BAD, "42"].iter().enumerate() {
        let mut expected = Vec::new();
        eval_line(
            i as u64 + 1,
            input.as_bytes(),
            &policy,
            &settings,
            &mut Scratch::default(),
            &mut expected,
        );
        let expected: Value = serde_json::from_slice(&expected).expect("contract line");
        assert_eq!(out[i], expected, "object {}", i + 1);
    }
    assert_eq!(
        out[1],
        json!({"line": 2, "family_id": "F0007", "error": "parents[0].birth_date: not a date: 1960-02-30"})
    );
    assert!(out[2]["error"].is_string());
    assert_ne!(
        out[0]["explanation"], line["explanation"],
        "English on request"
    );
    assert!(
        out[0]["explanation"][0]
            .as_str()
            .is_some_and(|s| s.contains(" ")),
        "{}",
        out[0]["explanation"][0]
    );

    // A repeated key is the contract's rejection, not silently merged.
    let repeated = EXAMPLE.replacen(
        "\"hukou\":\"rural\"",
        "\"hukou\":\"rural\",\"hukou\":\"urban\"",
        1,
    );
    let r = call(
        &w.router,
        "POST",
        "/api/v1/eval?month=2014-12",
        Some(&t),
        Some(repeated.as_bytes()),
    )
    .await;
    assert!(
        r.json()[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("hukou")),
        "{}",
        r.text
    );

    // Refusals of the request itself.
    for (path, field) in [
        ("/api/v1/eval?month=2014-13", "month:"),
        ("/api/v1/eval", "month:"),
        ("/api/v1/eval?month=2014-12&lang=fr", "lang:"),
        ("/api/v1/eval?month=2014-12&mnth=1", "query:"),
    ] {
        let r = call(&w.router, "POST", path, Some(&t), Some(EXAMPLE.as_bytes())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(r.error().starts_with(field), "{path}: {}", r.text);
    }
    let r = call(
        &w.router,
        "POST",
        "/api/v1/eval?month=2014-12",
        Some(&t),
        Some(b"[{\"family_id\":"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().starts_with("body: not valid JSON"), "{}", r.text);
    let r = call(
        &w.router,
        "POST",
        "/api/v1/eval?month=2014-12",
        Some(&t),
        Some(&[b'[', 0xff, b']']),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let huge = vec![b' '; guanai_web::BODY_LIMIT.min(17 * 1024 * 1024)];
    let r = call(
        &w.router,
        "POST",
        "/api/v1/eval?month=2014-12",
        Some(&t),
        Some(&huge),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert!(r.error().starts_with("body: larger than"));
    let r = call(
        &w.router,
        "POST",
        "/api/v1/eval?month=2014-12",
        Some(&t),
        Some(b"[]"),
    )
    .await;
    assert_eq!(r.json(), json!([]));
    w.cleanup().await;
}

#[tokio::test]
async fn a_search_returns_only_the_users_area_and_nothing_unmasked() {
    let w = support::sqlite().await;
    let county = token(&w, "county").await;
    let r = get(&w, "/api/v1/families", Some(&county)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let found = r.json();
    let numbers: Vec<&str> = found["families"]
        .as_array()
        .expect("families")
        .iter()
        .filter_map(|f| f["family_no"].as_str())
        .collect();
    assert_eq!(numbers, ["A-001", "A-002"]);
    assert_eq!(found["more"], false);
    for secret in [MOTHER_A, "13812345678", "6222021234567890123"] {
        assert!(!r.text.contains(secret), "{secret} leaked");
    }
    for path in [
        "/api/v1/families?name=%E8%B5%B5".to_owned(),
        format!("/api/v1/families?id_number={}", w.mother_b_id),
        "/api/v1/families?family_no=B-001".to_owned(),
        "/api/v1/families?area=371302".to_owned(),
    ] {
        let r = get(&w, &path, Some(&county)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(r.json()["families"], json!([]), "{path}");
    }
    let r = get(
        &w,
        &format!("/api/v1/families?id_number={MOTHER_A}"),
        Some(&county),
    )
    .await;
    assert_eq!(r.json()["families"][0]["family_no"], "A-001");
    let village = token(&w, "village").await;
    let r = get(
        &w,
        "/api/v1/families?sort=village&desc=true&limit=5",
        Some(&village),
    )
    .await;
    assert_eq!(
        r.json()["families"].as_array().map(Vec::len),
        Some(1),
        "the village sees its own village only"
    );
    for (path, field) in [
        ("/api/v1/families?sort=age", "sort:"),
        ("/api/v1/families?limit=500", "limit:"),
        ("/api/v1/families?id_number=123", "id_number:"),
        ("/api/v1/families?area=abc", "area:"),
        ("/api/v1/families?colour=red", "query:"),
    ] {
        let r = get(&w, path, Some(&county)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(r.error().starts_with(field), "{path}: {}", r.text);
    }
    let admin = token(&w, "admin").await;
    assert_eq!(
        get(&w, "/api/v1/families", Some(&admin)).await.status,
        StatusCode::FORBIDDEN
    );
    w.cleanup().await;
}

#[tokio::test]
async fn a_family_reads_masked_with_its_evaluation_and_another_area_is_404() {
    let w = support::sqlite().await;
    let county = token(&w, "county").await;
    let r = get(
        &w,
        &format!("/api/v1/families/{}", w.family_b),
        Some(&county),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.text.contains("赵玉梅"));
    assert_eq!(
        get(&w, "/api/v1/families/not-an-id", Some(&county))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = get(
        &w,
        &format!("/api/v1/families/{}?month=2026-11", w.family_a),
        Some(&county),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for secret in [MOTHER_A, "13812345678", "6222021234567890123"] {
        assert!(!r.text.contains(secret), "{secret} leaked");
    }
    let family = r.json();
    assert_eq!(family["family_no"], "A-001");
    assert_eq!(family["access"], "own");
    let mother = &family["members"][0];
    assert_eq!(mother["relation"], "mother");
    assert_eq!(mother["name"], "王秀英");
    assert_eq!(mother["birth_date"], "1968-07-05");
    assert_eq!(mother["id_number"], "372832********0242");
    assert!(
        family["facts"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["kind"] == "phone"))
    );
    let evaluation = &family["evaluation"];
    assert_eq!(evaluation["month"], "2026-11");
    assert_eq!(evaluation["category"], "bereaved");
    let monthly = evaluation["monthly"].as_array().expect("monthly");
    assert_eq!(monthly.len(), 2, "{evaluation}");
    for m in monthly {
        let amount = m["amount_fen"].as_i64().expect("integer fen");
        assert!(amount > 0);
        assert_eq!(
            amount,
            m["standard_fen"].as_i64().unwrap_or(-1) + m["county_fen"].as_i64().unwrap_or(-1)
        );
    }
    assert_eq!(monthly[0]["person_id"], mother["person_id"]);
    assert_eq!(evaluation["one_time"][0]["kind"], "bereaved_grant");
    assert!(evaluation["explanation"].as_array().is_some_and(|e| {
        e.iter()
            .any(|s| s.as_str().is_some_and(|s| s.contains("二(")))
    }));
    let r = get(
        &w,
        &format!("/api/v1/families/{}?month=2026-13", w.family_a),
        Some(&county),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().starts_with("month:"));
    // A volunteer sees the paired family, without ID numbers or the evaluation.
    let volunteer = token(&w, "volunteer").await;
    let r = get(
        &w,
        &format!("/api/v1/families/{}", w.family_a),
        Some(&volunteer),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let family = r.json();
    assert!(family["members"][0]["id_number"].is_null());
    assert!(family["evaluation"].is_null());
    assert!(
        family["facts"].as_array().is_some_and(|f| f
            .iter()
            .all(|f| ["identity", "phone", "living", "death"]
                .contains(&f["kind"].as_str().unwrap_or(""))))
    );
    assert_eq!(
        get(
            &w,
            &format!("/api/v1/families/{}", w.family_a2),
            Some(&volunteer)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    w.cleanup().await;
}

#[tokio::test]
async fn recording_a_fact_validates_like_the_form_and_a_stale_version_is_409() {
    let w = support::sqlite().await;
    let village = token(&w, "village").await;
    let file = w.archive.family_file(&w.family_a).await.expect("file");
    let mother = file.persons[0].person_id.to_string();
    let path = format!("/api/v1/families/{}/facts", w.family_a);
    // The form's own messages, named by the API's field names.
    let r = post(
        &w,
        &path,
        &village,
        &json!({"kind": "death", "version": 1, "person_id": mother, "date": "2999-01-01"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        r.json()["fields"][0],
        json!({"field": "date", "message": "日期不能晚于今天"})
    );
    let r = post(
        &w,
        &format!("{path}?lang=en"),
        &village,
        &json!({"kind": "phone", "version": 1, "person_id": "P1", "number": "12"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.json();
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["person_id", "number"], "{}", r.text);
    assert!(
        r.error()
            .contains("number: a phone number is 7 to 20 digits"),
        "{}",
        r.text
    );
    let r = post(&w, &path, &village, &json!({"kind": "disability", "version": 1, "person_id": mother, "date": "2020-01-01", "grade": 7})).await;
    assert!(r.error().starts_with("grade:"), "{}", r.text);
    // Malformed bodies: the field is named, never a panic.
    let r = post(
        &w,
        &path,
        &village,
        &json!({"kind": "note", "version": "1", "text": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error().starts_with("version:"), "{}", r.text);
    let r = post(
        &w,
        &path,
        &village,
        &json!({"kind": "note", "version": 1, "txt": "x"}),
    )
    .await;
    assert!(r.error().contains("unknown field `txt`"), "{}", r.text);
    let r = post(&w, &path, &village, &json!({"version": 1})).await;
    assert!(
        r.error().starts_with("body: missing field `kind`"),
        "{}",
        r.text
    );
    let r = call(
        &w.router,
        "POST",
        &path,
        Some(&village),
        Some(b"{\"kind\":"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let huge = json!({"kind": "note", "version": 1, "text": "x".repeat(100_000)});
    assert_eq!(
        post(&w, &path, &village, &huge).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        w.archive
            .family_file(&w.family_a)
            .await
            .expect("file")
            .version,
        1,
        "nothing was written"
    );

    // A death needs the township's approval: the village's is proposed (202), not recorded …
    let death = json!({"kind": "death", "version": 1, "person_id": mother, "date": "2026-01-10", "certificate_no": "D-1", "reason": "殡仪馆通报"});
    let r = post(&w, &path, &village, &death).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let body = r.json();
    assert_eq!(
        (body["status"].as_str(), body["approver"].as_str()),
        (Some("proposed"), Some("township"))
    );
    let change = body["change_id"].as_str().expect("change id").to_owned();
    let proposed = w
        .archive
        .change(&change)
        .await
        .expect("change")
        .expect("one");
    assert_eq!(proposed.kind, "death");
    assert_eq!(
        w.archive
            .family_file(&w.family_a)
            .await
            .expect("file")
            .version,
        1,
        "nothing recorded before the approval"
    );
    // … and the township's is recorded.
    let township = token(&w, "township").await;
    let r = post(&w, &path, &township, &death).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["version"], 2);
    let r = post(
        &w,
        &path,
        &village,
        &json!({"kind": "note", "version": 1, "text": "旧版本"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.error().contains("changed by someone else"));
    let r = get(
        &w,
        &format!("/api/v1/families/{}?month=2026-11", w.family_a),
        Some(&village),
    )
    .await;
    assert_eq!(
        r.json()["evaluation"]["monthly"].as_array().map(Vec::len),
        Some(1),
        "one parent left"
    );
    // Outside the area: not found; a role that may not record: forbidden.
    let r = post(
        &w,
        &format!("/api/v1/families/{}/facts", w.family_b),
        &village,
        &json!({"kind": "note", "version": 1, "text": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let inspector = token(&w, "inspector").await;
    let r = post(
        &w,
        &path,
        &inspector,
        &json!({"kind": "note", "version": 2, "text": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    w.cleanup().await;
}

#[tokio::test]
async fn payment_runs_are_built_checked_and_approved_by_two_finance_officers() {
    let w = support::sqlite().await;
    let finance = token(&w, "finance").await;
    let finance2 = token(&w, "finance2").await;
    let finance_b = token(&w, "finance_b").await;
    let county = token(&w, "county").await;
    let runs = "/api/v1/payments/runs";
    let r = post(
        &w,
        runs,
        &county,
        &json!({"month": "2026-10", "county": "371321"}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "caseworkers do not build runs"
    );
    let r = post(
        &w,
        runs,
        &finance,
        &json!({"month": "2026-13", "county": "371321"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error().starts_with("month:"));
    let r = post(
        &w,
        runs,
        &finance,
        &json!({"month": "2026-10", "county": "371302"}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another county: {}",
        r.text
    );
    // A draft discarded (finance only, with a reason) frees the county for a new build.
    let discard = |run: &str| format!("{runs}/{run}/discard");
    let r = post(
        &w,
        runs,
        &finance,
        &json!({"month": "2026-10", "county": "371321"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let draft = r.json()["run"]["run_id"]
        .as_str()
        .expect("run id")
        .to_owned();
    let r = post(&w, &discard(&draft), &county, &json!({"reason": "重复"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(&w, &discard(&draft), &finance_b, &json!({"reason": "重复"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post(&w, &discard(&draft), &finance, &json!({"reason": "  "})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error().starts_with("reason:"), "{}", r.text);
    let r = post(&w, &discard(&draft), &finance, &json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = post(
        &w,
        &discard(&draft),
        &finance,
        &json!({"reason": "重复", "x": 1}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = post(
        &w,
        &discard(&draft),
        &finance,
        &json!({"reason": "数据待更正"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "discarded");
    let r = post(
        &w,
        runs,
        &finance,
        &json!({"month": "2026-10", "county": "371321"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let built = r.json();
    assert_eq!(built["built"], true);
    let run = built["run"]["run_id"].as_str().expect("run id").to_owned();
    assert_eq!(built["run"]["status"], "draft");
    assert!(
        built["run"]["total_fen"].as_i64().is_some_and(|t| t > 0),
        "{built}"
    );

    let r = get(&w, runs, Some(&county)).await;
    assert_eq!(
        r.json()[0]["run_id"],
        run.as_str(),
        "the county caseworker reads its runs"
    );
    let r = get(&w, runs, Some(&finance_b)).await;
    assert_eq!(r.json(), json!([]));
    let r = get(&w, &format!("{runs}/{run}"), Some(&finance_b)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = get(&w, &format!("{runs}/{run}"), Some(&finance)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["problems"].is_array());
    let r = post(&w, &format!("{runs}/{run}/check"), &finance_b, &json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post(&w, &format!("{runs}/{run}/check"), &county, &json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = post(
        &w,
        &format!("{runs}/{run}/check"),
        &finance,
        &json!({"hold": "账户待核实"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "checked");
    let r = post(&w, &format!("{runs}/{run}/approve"), &finance, &json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "four eyes: {}", r.text);
    assert!(r.error().contains("four eyes"));
    let r = post(&w, &format!("{runs}/{run}/approve"), &finance2, &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let approved = r.json();
    assert_eq!(approved["status"], "approved");
    assert!(
        approved["approved_by"]
            .as_str()
            .is_some_and(|a| a.contains("finance2"))
    );
    let r = post(&w, &format!("{runs}/{run}/close"), &finance2, &json!({})).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "not exported yet: {}",
        r.text
    );
    let r = post(
        &w,
        &format!("{runs}/202610-371321-99/approve"),
        &finance2,
        &json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post(
        &w,
        &format!("{runs}/{run}/discard"),
        &finance2,
        &json!({"reason": "重复"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "approved: {}", r.text);
    w.cleanup().await;
}

#[tokio::test]
async fn a_sealed_record_is_revealed_only_for_a_reason_to_a_caseworker_and_audited() {
    let w = support::sqlite().await;
    let village = token(&w, "village").await;
    let file = get(
        &w,
        &format!("/api/v1/families/{}", w.family_a),
        Some(&village),
    )
    .await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.text);
    let facts = file.json()["facts"].clone();
    let id_number = facts
        .as_array()
        .expect("facts")
        .iter()
        .find(|f| f["kind"] == "id_number")
        .expect("an ID number on file")
        .clone();
    let fact = id_number["fact_id"].as_str().expect("fact id").to_owned();
    assert!(
        id_number["text"].as_str().is_some_and(|t| t.contains('*')),
        "masked in the file: {id_number}"
    );
    let path = format!("/api/v1/families/{}/reveal", w.family_a);
    let r = post(&w, &path, &village, &json!({"fact": fact, "reason": " "})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.error().starts_with("reason:"), "{}", r.text);
    let r = post(&w, &path, &village, &json!({"fact": fact})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = post(
        &w,
        &path,
        &village,
        &json!({"fact": "Xnot-a-fact", "reason": "核对身份"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    // Masked-only roles and other areas get nothing.
    let volunteer = token(&w, "volunteer").await;
    let r = post(
        &w,
        &path,
        &volunteer,
        &json!({"fact": fact, "reason": "核对身份"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let county_b = token(&w, "county_b").await;
    let r = post(
        &w,
        &path,
        &county_b,
        &json!({"fact": fact, "reason": "核对身份"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let before = w.archive.audit_log().await.expect("audit");
    assert!(
        before.iter().all(|e| e.2 != "reveal"),
        "nothing revealed yet"
    );

    let r = post(
        &w,
        &path,
        &village,
        &json!({"fact": fact, "reason": "核对身份信息", "lang": "en"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let revealed = r.json();
    assert_eq!(revealed["kind"], "id_number");
    assert_eq!(revealed["value"]["kind"], "id_number");
    let number = revealed["value"]["number"].as_str().expect("number");
    assert_eq!(number.len(), 18, "{revealed}");
    assert!(
        revealed["text"]
            .as_str()
            .is_some_and(|t| t.contains(number))
    );
    let log = w.archive.audit_log().await.expect("audit");
    let entry = log
        .iter()
        .find(|e| e.2 == "reveal")
        .expect("a reveal entry");
    assert!(
        entry.3.contains(&fact) && entry.4 == "核对身份信息",
        "{entry:?}"
    );
    w.cleanup().await;
}

const RUNS: &str = "/api/v1/payments/runs";

/// 沂南县's paying account for its bank files. The API has no endpoint for it (the run list page
/// and `guanai pay payer` set it), so the tests set it in the archive.
async fn set_payer(w: &World) {
    w.archive
        .set_payer(
            guanai_rules::CountyCode::parse("371321").expect("county"),
            &guanai_bank::Payer {
                name: "沂南县财政局".into(),
                account: "37001626800050123456".into(),
                bank: "中国农业银行沂南支行".into(),
            },
            &Actor::new("test"),
        )
        .await
        .expect("payer");
}

/// October 2026 of 沂南县 through the API: built and checked (the fathers' transfers, without an
/// account, held) by `finance`, approved by `finance2`. Returns the run id.
async fn approved_run(w: &World) -> String {
    let finance = token(w, "finance").await;
    let finance2 = token(w, "finance2").await;
    let r = post(
        w,
        RUNS,
        &finance,
        &json!({"month": "2026-10", "county": "371321"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let run = r.json()["run"]["run_id"]
        .as_str()
        .expect("run id")
        .to_owned();
    let r = post(
        w,
        &format!("{RUNS}/{run}/check"),
        &finance,
        &json!({"hold": "父亲账户待补录"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = post(w, &format!("{RUNS}/{run}/approve"), &finance2, &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "approved");
    run
}

/// The run's CSV bank file as downloaded by `token`.
async fn csv_file(w: &World, run: &str, token: &str) -> String {
    let r = get(w, &format!("{RUNS}/{run}/files"), Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let files = r.json();
    let url = files
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["format"] == "csv")
        .and_then(|f| f["url"].as_str())
        .expect("a CSV file")
        .to_owned();
    let r = get(w, &url, Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.text
}

/// Uploads a bank return file as the request body.
async fn upload_results(
    w: &World,
    run: &str,
    token: &str,
    query: &str,
    content_type: &str,
    bytes: &[u8],
) -> Reply {
    send(
        &w.router,
        "POST",
        &format!("{RUNS}/{run}/results{query}"),
        Some(token),
        Some((content_type, bytes)),
    )
    .await
}

/// The amounts (fen) of a 代发 CSV's transfer rows, and of its 合计 row.
fn csv_amounts(csv: &str) -> (Vec<i64>, i64) {
    let mut rows = Vec::new();
    let mut total = None;
    for line in csv.trim_start_matches('\u{feff}').lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        let amount = guanai_rules::Fen::parse_yuan(c[5])
            .unwrap_or_else(|| panic!("amount in {line}"))
            .get();
        if c[0] == "合计" {
            total = Some(amount);
        } else {
            rows.push(amount);
        }
    }
    (rows, total.expect("a 合计 row"))
}

/// The amount (fen) of the run's transfers in one status.
fn transfers_in(run: &Value, status: &str) -> i64 {
    run["transfers"]
        .as_array()
        .expect("transfers")
        .iter()
        .filter(|t| t["status"] == status)
        .map(|t| t["amount_fen"].as_i64().expect("amount"))
        .sum()
}

#[tokio::test]
async fn an_approved_run_is_exported_its_files_downloaded_and_the_banks_return_file_settles_it() {
    let w = support::sqlite().await;
    let finance = token(&w, "finance").await;
    let finance2 = token(&w, "finance2").await;
    let run = approved_run(&w).await;
    let at = |what: &str| format!("{RUNS}/{run}/{what}");
    // Without the county's paying account the export is refused, and nothing is written.
    let r = post(&w, &at("export"), &finance, &json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.error().contains("paying account"), "{}", r.text);
    let r = get(&w, &format!("{RUNS}/{run}"), Some(&finance)).await;
    assert_eq!(r.json()["run"]["status"], "approved");
    let r = get(&w, &at("files"), Some(&finance)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.error().starts_with("status:"), "{}", r.text);
    set_payer(&w).await;

    let r = post(
        &w,
        &at("export"),
        &finance,
        &json!({"execution_date": "2026-10-20"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let exported = r.json();
    let summary = exported["run"].clone();
    assert_eq!(summary["status"], "exported");
    assert!(
        summary["exported_by"]
            .as_str()
            .is_some_and(|b| b.contains("finance")),
        "{summary}"
    );
    let sent = transfers_in(&summary, "sent");
    assert!(sent > 0, "{summary}");
    assert_eq!(
        exported["total_fen"], sent,
        "the export sent the run's transfers"
    );
    // Every transfer is either sent or held, and the transfers carry the run's whole total.
    assert_eq!(
        sent + transfers_in(&summary, "held"),
        summary["total_fen"].as_i64().expect("total"),
        "{summary}"
    );
    let files = exported["files"].as_array().expect("files").clone();
    let formats: Vec<&str> = files.iter().filter_map(|f| f["format"].as_str()).collect();
    assert_eq!(
        formats,
        ["xlsx", "csv", "pain001"],
        "one county, one bank: {files:?}"
    );
    for f in &files {
        let name = f["name"].as_str().expect("name");
        assert!(name.starts_with(&format!("{run}-371321-")), "{name}");
        assert_eq!(f["county_code"], "371321");
        assert_eq!(f["bank"], "农村商业银行", "{f}");
        assert!(f["size_bytes"].as_u64().is_some_and(|s| s > 0), "{f}");
        assert!(
            f["url"]
                .as_str()
                .is_some_and(|u| u.starts_with(&format!("{RUNS}/{run}/files/"))),
            "{f}"
        );
    }
    // The list is the same for the other finance officer of the county.
    let r = get(&w, &at("files"), Some(&finance2)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), exported["files"]);

    let url = |format: &str| {
        files
            .iter()
            .find(|f| f["format"] == format)
            .and_then(|f| f["url"].as_str())
            .expect("url")
            .to_owned()
    };
    let csv = get(&w, &url("csv"), Some(&finance2)).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert_eq!(
        csv.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let disposition = csv
        .headers
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .expect("disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"")
            && disposition.contains("filename*=UTF-8''"),
        "{disposition}"
    );
    assert_eq!(
        Some(csv.text.len() as u64),
        files[1]["size_bytes"].as_u64(),
        "the size listed is the size sent"
    );
    let (rows, total) = csv_amounts(&csv.text);
    assert_eq!(total, rows.iter().sum::<i64>(), "the 合计 row adds up");
    assert_eq!(total, sent, "the file carries what the run sent");
    let xlsx = get(&w, &url("xlsx"), Some(&finance)).await;
    assert_eq!(
        xlsx.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let xml = get(&w, &url("pain001"), Some(&finance)).await;
    assert!(
        xml.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/xml")),
        "{:?}",
        xml.headers
    );
    assert!(xml.text.contains("pain.001"), "{}", xml.text);
    let log = w.archive.audit_log().await.expect("audit");
    assert_eq!(
        log.iter()
            .filter(|e| e.2 == "pay.download" && e.3 == run)
            .count(),
        3,
        "every download is audited"
    );
    // A second export is refused: the run is no longer approved.
    let r = post(&w, &at("export"), &finance, &json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // The bank pays every transfer of the exported CSV.
    let answer = support::all_paid(&csv.text);
    let r = upload_results(
        &w,
        &run,
        &finance2,
        "?name=%E5%9B%9E%E7%9B%98.csv",
        "text/csv",
        answer.as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let outcome = r.json();
    assert_eq!(outcome["paid"], rows.len());
    assert_eq!(outcome["paid_total_fen"], sent);
    assert_eq!(outcome["failed"], json!([]));
    assert_eq!(outcome["waiting"], 0);
    assert_eq!(outcome["settled"], true);
    assert_eq!(outcome["run"]["status"], "settled");
    assert_eq!(transfers_in(&outcome["run"], "paid"), sent);
    assert_eq!(transfers_in(&outcome["run"], "sent"), 0);
    let r = post(&w, &at("close"), &finance, &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "closed");
    // A closed run's files stay listed.
    let r = get(&w, &at("files"), Some(&finance)).await;
    assert_eq!(r.json(), exported["files"]);
    w.cleanup().await;
}

#[tokio::test]
async fn bank_steps_are_for_the_finance_officers_of_the_runs_area_on_an_approved_run_only() {
    let w = support::sqlite().await;
    set_payer(&w).await;
    let finance = token(&w, "finance").await;
    let finance_b = token(&w, "finance_b").await;
    let readers = [
        token(&w, "county").await,
        token(&w, "inspector").await,
        token(&w, "city").await,
    ];
    // A draft is not exported: the library's refusal, naming the status needed.
    let r = post(
        &w,
        RUNS,
        &finance,
        &json!({"month": "2026-10", "county": "371321"}),
    )
    .await;
    let draft = r.json()["run"]["run_id"]
        .as_str()
        .expect("run id")
        .to_owned();
    let r = post(&w, &format!("{RUNS}/{draft}/export"), &finance, &json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(
        r.error().contains("is draft") && r.error().contains("approved"),
        "{}",
        r.text
    );
    let r = post(
        &w,
        &format!("{RUNS}/{draft}/discard"),
        &finance,
        &json!({"reason": "重新生成"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let run = approved_run(&w).await;
    let at = |what: &str| format!("{RUNS}/{run}/{what}");
    // An approved run takes no return file yet.
    let r = upload_results(&w, &run, &finance, "?name=a.csv", "text/csv", b"x").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    // The execution date is checked as on the page, and named.
    for (body, named) in [
        (json!({"execution_date": "2026-02-30"}), "execution_date:"),
        (json!({"execution_date": "20.10.2026"}), "execution_date:"),
        (json!({"execution_date": 20261020}), "execution_date:"),
        (json!({"date": "2026-10-20"}), "unknown field `date`"),
    ] {
        let r = post(&w, &at("export"), &finance, &body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text
        );
        assert!(r.error().contains(named), "{body}: {}", r.text);
    }
    // Readers of runs may not export; another county's finance officer finds no run.
    for reader in &readers {
        let r = post(&w, &at("export"), reader, &json!({})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    }
    let r = post(&w, &at("export"), &finance_b, &json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = get(&w, &format!("{RUNS}/{run}"), Some(&finance)).await;
    assert_eq!(r.json()["run"]["status"], "approved", "nothing changed");

    let r = post(&w, &at("export"), &finance, &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let exported = r.json();
    let csv = exported["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["format"] == "csv")
        .expect("csv")
        .clone();
    let csv_url = csv["url"].as_str().expect("url");
    let csv_name = csv["name"].as_str().expect("name");
    // The bank files hold full ID numbers and accounts: finance officers of the area only.
    for reader in &readers {
        let r = get(&w, &at("files"), Some(reader)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        let r = get(&w, csv_url, Some(reader)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        let r = upload_results(&w, &run, reader, "?name=a.csv", "text/csv", b"x").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    }
    let r = get(&w, &at("files"), Some(&finance_b)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = get(&w, csv_url, Some(&finance_b)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert!(!r.text.contains("6222"), "no account leaks: {}", r.text);
    let r = upload_results(&w, &run, &finance_b, "?name=a.csv", "text/csv", b"x").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    // Only the run's own files are served: no other name, no way out of its folder.
    for name in [
        "..%2F..%2Fguanai.db".to_owned(),
        format!("{run}-..%2F..%2Fguanai.db.csv"),
        format!("..%2F{csv_name}"),
        format!("{run}-.hidden.csv"),
        "202610-371321-9-371321-%E4%B8%AD%E5%9B%BD%E9%93%B6%E8%A1%8C.csv".to_owned(),
        format!("{run}-371321-nothing.csv"),
    ] {
        let r = get(&w, &format!("{}/{name}", at("files")), Some(&finance)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}: {}", r.text);
        assert!(
            r.error().starts_with("name:") || r.error().starts_with("path:"),
            "{name}: {}",
            r.text
        );
    }
    let r = get(
        &w,
        &format!("{}/../../guanai.db", at("files")),
        Some(&finance),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let log = w.archive.audit_log().await.expect("audit");
    assert!(
        log.iter().all(|e| e.2 != "pay.download"),
        "nothing was downloaded"
    );
    w.cleanup().await;
}

#[tokio::test]
async fn a_return_file_that_does_not_match_the_run_is_refused_naming_the_problem_and_changes_nothing()
 {
    let w = support::sqlite().await;
    set_payer(&w).await;
    let finance = token(&w, "finance").await;
    let run = approved_run(&w).await;
    let r = post(&w, &format!("{RUNS}/{run}/export"), &finance, &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let csv = csv_file(&w, &run, &finance).await;
    let answer = support::all_paid(&csv);
    let run_now = async || {
        let r = get(&w, &format!("{RUNS}/{run}"), Some(&finance)).await;
        r.json()["run"].clone()
    };
    let before = run_now().await;
    assert_eq!(before["status"], "exported");

    // The request itself: the file's name is required, the body must be a file.
    for query in ["", "?name=", "?name=%20", "?name=dir%2F"] {
        let r = upload_results(&w, &run, &finance, query, "text/csv", answer.as_bytes()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text);
        assert!(r.error().starts_with("name:"), "{query}: {}", r.text);
    }
    let r = upload_results(
        &w,
        &run,
        &finance,
        "?name=a.csv&run=1",
        "text/csv",
        answer.as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.error().starts_with("query:"), "{}", r.text);
    let r = upload_results(
        &w,
        &run,
        &finance,
        "?name=a.csv",
        "application/json",
        answer.as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text);
    assert!(r.error().starts_with("Content-Type:"), "{}", r.text);
    let r = upload_results(&w, &run, &finance, "?name=a.csv", "text/csv", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.error().starts_with("body:"), "{}", r.text);

    // A line that is no transfer of the run.
    let unknown = format!("{answer}{run}-999999,王秀英,6222021234567890123,1.00,成功,\n");
    let r = upload_results(
        &w,
        &run,
        &finance,
        "?name=a.csv",
        "application/octet-stream",
        unknown.as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(
        r.error().starts_with("body:")
            && r.error()
                .contains(&format!("{run}-999999 is not a transfer of this run")),
        "{}",
        r.text
    );
    // An amount other than the one sent.
    let mut lines: Vec<String> = answer.lines().map(str::to_owned).collect();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    let amount = guanai_rules::Fen::parse_yuan(&cells[3]).expect("amount");
    cells[3] = (amount + guanai_rules::Fen(1)).to_string();
    lines[1] = cells.join(",");
    let changed = lines.join("\n") + "\n";
    let r = upload_results(
        &w,
        &run,
        &finance,
        "?name=a.csv",
        "text/csv",
        changed.as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(
        r.error().starts_with("body:") && r.error().contains("differs from the"),
        "{}",
        r.text
    );
    // A file that cannot be read.
    let r = upload_results(
        &w,
        &run,
        &finance,
        "?name=a.csv",
        "text/csv",
        "没有表头\n1,2\n".as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.error().starts_with("body:"), "{}", r.text);
    assert_eq!(run_now().await, before, "nothing changed");

    // The bank returns the first transfer and pays the others.
    let mut lines: Vec<String> = answer.lines().map(str::to_owned).collect();
    let first = lines[1].replace(",成功,", ",失败,账户已销户");
    let cells: Vec<&str> = first.split(',').collect();
    let returned_amount = guanai_rules::Fen::parse_yuan(cells[3])
        .expect("amount")
        .get();
    // 业务参考号 is `RUN-NNNNNN`, the transfer's number.
    let returned_no: i64 = cells[0]
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("transfer number");
    lines[1] = first;
    let mixed = lines.join("\n") + "\n";
    let r = upload_results(
        &w,
        &run,
        &finance,
        "?name=return.csv",
        "text/csv",
        mixed.as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let outcome = r.json();
    let sent = transfers_in(&before, "sent");
    assert_eq!(outcome["paid"], lines.len() - 2, "{outcome}");
    assert_eq!(outcome["paid_total_fen"], sent - returned_amount);
    let failed = outcome["failed"].as_array().expect("failed");
    assert_eq!(failed.len(), 1, "{outcome}");
    assert_eq!(failed[0]["amount_fen"], returned_amount);
    assert_eq!(failed[0]["reason"], "账户已销户");
    assert_eq!(failed[0]["transfer_no"], returned_no);
    assert_eq!(outcome["settled"], true);
    assert_eq!(outcome["run"]["status"], "settled");
    assert_eq!(transfers_in(&outcome["run"], "failed"), returned_amount);
    let settled = run_now().await;
    // The same file a second time changes nothing.
    let r = upload_results(
        &w,
        &run,
        &finance,
        "?name=return.csv",
        "text/csv",
        mixed.as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(
        r.error().starts_with("body:") && r.error().contains("already imported"),
        "{}",
        r.text
    );
    assert_eq!(run_now().await, settled, "nothing changed");
    w.cleanup().await;
}

/// A request with a raw body of any type (a document's bytes); the reply's status, headers and
/// bytes.
async fn send_raw(
    w: &World,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let r = send(
        &w.router,
        method,
        path,
        Some(token),
        Some((content_type, &body)),
    )
    .await;
    (r.status, r.headers, r.bytes)
}

fn error_of(bytes: &[u8]) -> String {
    let v: Value = serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)));
    v["error"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn documents_are_attached_listed_and_opened_for_a_reason_within_the_scope() {
    let w = support::sqlite().await;
    let village = token(&w, "village").await;
    let family = w.family_a.to_string();
    let list = format!("/api/v1/families/{family}/documents");
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".to_vec();
    let add = |query: &[(&str, &str)]| {
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        format!("{list}?{q}")
    };
    let attach = add(&[
        ("kind", "death_certificate"),
        ("title", "李明死亡证明"),
        ("name", "死亡证明.pdf"),
    ]);

    // Refusals name the parameter or the field.
    let (status, _, body) = send_raw(
        &w,
        "POST",
        &add(&[]),
        &village,
        "application/pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).starts_with("kind:"), "{}", error_of(&body));
    let (status, _, body) = send_raw(
        &w,
        "POST",
        &attach,
        &village,
        "application/pdf",
        b"plain text that claims to be a PDF".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(&body).starts_with("file:"), "{}", error_of(&body));
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(guanai_store::documents::MAX_DOCUMENT_BYTES + 1, b' ');
    let (status, _, body) = send_raw(&w, "POST", &attach, &village, "application/pdf", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(error_of(&body).starts_with("file:"), "{}", error_of(&body));
    // Other roles and areas.
    let county_b = token(&w, "county_b").await;
    let (status, _, _) = send_raw(
        &w,
        "POST",
        &attach,
        &county_b,
        "application/pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another county's family does not exist for them"
    );
    let inspector = token(&w, "inspector").await;
    let (status, _, _) = send_raw(
        &w,
        "POST",
        &attach,
        &inspector,
        "application/pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, headers, body) = send_raw(
        &w,
        "POST",
        &attach,
        &village,
        "application/octet-stream",
        pdf.clone(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let added: Value = serde_json::from_slice(&body).expect("json");
    let doc = added["document_id"].as_str().expect("id").to_owned();
    assert_eq!(added["kind"], "death_certificate");
    assert_eq!(added["content_type"], "application/pdf");
    assert_eq!(added["file_name"], "死亡证明.pdf");
    assert_eq!(added["size_bytes"], pdf.len() as i64);
    assert_eq!(added["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(
        headers.get(header::LOCATION).and_then(|v| v.to_str().ok()),
        Some(format!("{list}/{doc}").as_str())
    );

    // The list: metadata only, in scope, for the roles that read the file.
    let r = get(&w, &list, Some(&village)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let docs = r.json()["documents"].clone();
    assert_eq!(docs.as_array().map(Vec::len), Some(1));
    assert_eq!(docs[0]["title"], "李明死亡证明");
    assert!(docs[0].get("content").is_none());
    assert_eq!(
        get(&w, &list, Some(&inspector)).await.status,
        StatusCode::OK
    );
    let r = get(&w, &list, Some(&county_b)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let volunteer = token(&w, "volunteer").await;
    assert_eq!(
        get(&w, &list, Some(&volunteer)).await.status,
        StatusCode::FORBIDDEN
    );
    let r = get(&w, &format!("{list}?withdrawn=maybe"), Some(&village)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().starts_with("withdrawn:"));

    // The content: for a reason, audited, in scope, not for inspectors.
    let content = format!("{list}/{doc}");
    let r = get(&w, &content, Some(&village)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.error().starts_with("reason:"), "{}", r.text);
    let with_reason =
        format!("{content}?reason=%E6%A0%B8%E5%AF%B9%E6%AD%BB%E4%BA%A1%E6%97%A5%E6%9C%9F");
    assert_eq!(
        get(&w, &with_reason, Some(&county_b)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&w, &with_reason, Some(&inspector)).await.status,
        StatusCode::FORBIDDEN
    );
    let r = get(&w, &format!("{list}/D0?reason=x1"), Some(&village)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        w.archive
            .audit_log()
            .await
            .expect("audit")
            .iter()
            .all(|e| e.2 != "document.open"),
        "nothing opened yet"
    );
    let (status, headers, body) = send_raw(
        &w,
        "GET",
        &with_reason,
        &village,
        "application/json",
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, pdf, "the same bytes");
    let h = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(h(header::CONTENT_TYPE), "application/pdf");
    assert!(h(header::CONTENT_DISPOSITION).starts_with("attachment;"));
    assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let log = w.archive.audit_log().await.expect("audit");
    let entry = log
        .iter()
        .find(|e| e.2 == "document.open")
        .expect("an opening");
    assert!(
        entry.1.starts_with("village") && entry.3.contains(&doc),
        "{entry:?}"
    );
    assert_eq!(entry.4, "核对死亡日期");
    w.cleanup().await;
}
