//! Census import through the real router: a good file is imported (and again changes nothing),
//! a bad one lists its row errors with the report and imports nothing, a file with another
//! county's family is refused whole; only county and city caseworkers import, with the token.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guanai_rules::{ResidentId, parse_date};
use support::{Client, Reply, World};

const HEADER: &str = "家庭编号,成员关系,姓名,性别,公民身份号码,出生日期,户籍性质,所在村居代码,联系电话,开户银行,银行账号,低保,五保,慢性病,居住状况,独生子女父母光荣证号,死亡日期,死亡证明编号,再生育或收养日期,残疾等级,残疾评定日期,残疾证号,备注";

fn id(county: &str, birth: &str, seq: u16) -> String {
    ResidentId::build(county, parse_date(birth).expect("date"), seq)
        .expect("id")
        .as_str()
        .to_owned()
}

/// A bereaved couple's three rows (mother, father, the child who died).
fn family(no: &str, village: &str, mother_born: &str, father_born: &str) -> String {
    let county = &village[..6];
    format!(
        "{no},母亲,孙秀兰,女,{},{mother_born},农村,{village},,中国农业银行沂南支行,6228480001234567890,,,,,,,,,,,,\n\
         {no},父亲,周国强,男,{},{father_born},农村,{village},,,,,,,,,,,,,,,\n\
         {no},子女,周明,男,,1984-06-01,农村,{village},,,,,,,,,2009-08-17,,,,,,\n",
        id(county, mother_born, 2),
        id(county, father_born, 3),
    )
}

fn csv(families: &[String]) -> Vec<u8> {
    let mut text = format!("{HEADER}\n");
    for f in families {
        text.push_str(f);
    }
    text.into_bytes()
}

async fn upload(c: &mut Client, csrf: Option<&str>, file_name: &str, bytes: &[u8]) -> Reply {
    let boundary = "guanai-census-3a9c";
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
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = Request::builder()
        .method("POST")
        .uri("/import")
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

async fn signed_in(w: &World, login: &str) -> (Client, String) {
    let mut c = w.client(login).await;
    let r = c.get("/import").await;
    assert_eq!(r.status, StatusCode::OK, "{login}: {}", r.body);
    let token = c.csrf.clone().expect("token");
    (c, token)
}

/// Families of the archive with this census number (family_no), through the search page.
async fn on_file(c: &mut Client, no: &str) -> bool {
    let r = c.get(&format!("/families?no={no}")).await;
    r.body.contains(&format!("<td>{no}</td>"))
}

#[tokio::test]
async fn a_good_file_is_imported_and_importing_it_again_changes_nothing() {
    let w = support::sqlite().await;
    let (mut c, token) = signed_in(&w, "county").await;
    let file = csv(&[
        family("C-001", "371321001003", "1960-03-01", "1958-04-02"),
        family("C-002", "371321001010", "1961-05-03", "1959-06-04"),
    ]);
    let r = upload(&mut c, Some(&token), "普查.csv", &file).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("id=\"added\">2<") && r.body.contains("id=\"unchanged\">0<"),
        "{}",
        r.body
    );
    assert!(on_file(&mut c, "C-001").await && on_file(&mut c, "C-002").await);
    let r = upload(&mut c, Some(&token), "普查.csv", &file).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("id=\"added\">0<") && r.body.contains("id=\"unchanged\">2<"),
        "{}",
        r.body
    );
    let log = w.archive.audit_log().await.expect("audit");
    assert_eq!(log.iter().filter(|e| e.2 == "census.import").count(), 1);
    w.cleanup().await;
}

#[tokio::test]
async fn a_bad_file_lists_its_row_errors_with_the_report_and_imports_nothing() {
    let w = support::sqlite().await;
    let (mut c, token) = signed_in(&w, "county").await;
    let good = family("C-010", "371321001003", "1960-03-01", "1958-04-02");
    // The mother's ID number with a wrong check digit (row 5).
    let mother = id("371321", "1961-05-03", 2);
    let last = mother.chars().last().expect("digit");
    let wrong = format!("{}{}", &mother[..17], if last == '1' { '2' } else { '1' });
    let bad = family("C-011", "371321001003", "1961-05-03", "1959-06-04").replace(&mother, &wrong);
    let r = upload(&mut c, Some(&token), "普查.csv", &csv(&[good, bad])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("id=\"row-errors\"") && r.body.contains("未导入任何数据"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<td class=\"num\">5</td><td>公民身份号码</td>"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("download=\"普查.errors.csv\"")
            && r.body
                .contains("href=\"data:text/csv;charset=utf-8;base64,"),
        "{}",
        r.body
    );
    assert!(
        !on_file(&mut c, "C-010").await,
        "all or nothing: the good family is not imported either"
    );
    // Not a census file at all.
    let r = upload(&mut c, Some(&token), "普查.txt", b"hello").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("id=\"refused\"") && r.body.contains(".xlsx"),
        "{}",
        r.body
    );
    w.cleanup().await;
}

#[tokio::test]
async fn a_file_with_another_countys_family_is_refused_whole_with_the_rows_named() {
    let w = support::sqlite().await;
    let (mut c, token) = signed_in(&w, "county").await;
    let own = family("C-020", "371321001003", "1960-03-01", "1958-04-02");
    let other = family("B-020", "371302001001", "1961-05-03", "1959-06-04");
    let r = upload(
        &mut c,
        Some(&token),
        "普查.csv",
        &csv(&[own.clone(), other.clone()]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("<td class=\"num\">5</td><td>所在村居代码</td>")
            && r.body.contains("不在您的工作区域内"),
        "{}",
        r.body
    );
    assert!(!on_file(&mut c, "C-020").await, "nothing is imported");
    let mut b = w.client("county_b").await;
    assert!(!on_file(&mut b, "B-020").await);
    // The city's caseworker may import both counties.
    let (mut city, token) = signed_in(&w, "city").await;
    let r = upload(&mut city, Some(&token), "普查.csv", &csv(&[own, other])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"added\">2<"), "{}", r.body);
    w.cleanup().await;
}

#[tokio::test]
async fn only_county_and_city_caseworkers_import_and_only_with_the_token() {
    let w = support::sqlite().await;
    let file = csv(&[family("C-030", "371321001003", "1960-03-01", "1958-04-02")]);
    for login in ["village", "township", "finance", "inspector"] {
        let mut c = w.client(login).await;
        assert_eq!(
            c.get("/import").await.status,
            StatusCode::FORBIDDEN,
            "{login}"
        );
        assert_eq!(
            c.get("/import/template").await.status,
            StatusCode::FORBIDDEN,
            "{login}"
        );
        c.get("/account").await;
        let token = c.csrf.clone().expect("token");
        let r = upload(&mut c, Some(&token), "普查.csv", &file).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{login}");
    }
    let (mut c, _) = signed_in(&w, "county").await;
    let r = upload(&mut c, None, "普查.csv", &file).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = upload(&mut c, Some("forged"), "普查.csv", &file).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!on_file(&mut c, "C-030").await);
    let r = c.get("/import/template").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert!(r.body.starts_with("PK"), "an XLSX (zip) file");
    let disposition = r
        .headers
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .expect("disposition");
    assert!(disposition.contains("%E6%99%AE%E6%9F%A5"), "{disposition}");
    w.cleanup().await;
}
