//! Unannounced spot checks (不定期抽查, 三(三); issue 7): the list of a county's (or the city's)
//! checks, drawing one (the city's caseworkers and inspectors, never the county inspected), a
//! check's page with its seed, population and digest so anyone can draw it again, verifying the
//! draw, the families drawn and the findings per checklist item. Every change goes through a
//! CSRF-checked form, and the store audits it.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_report::scorecard::CHECKLIST;
use guanai_store::StoreError;
use guanai_store::assessment::{NewFinding, SpotCheck};
use serde::Deserialize;

use super::payments::NoFields;
use super::reports::{FieldErrors, date_field, field_error, month_field};
use super::{Chrome, area_name, beijing_micros, render, this_month, today, village_path};
use crate::i18n::Lang;
use crate::state::{Post, Signed, WebError};

/// A refusal naming the spot check means there is no such check in the user's area: 404.
fn not_found_check(e: StoreError) -> WebError {
    match e {
        StoreError::Invalid { field, .. } if field == "check" => WebError::NotFound,
        e => e.into(),
    }
}

/// A row of the list.
pub(crate) struct CheckLine {
    pub(crate) check_id: String,
    pub(crate) county: String,
    pub(crate) month: String,
    pub(crate) sample_size: i64,
    pub(crate) population: i64,
    pub(crate) drawn_at: String,
    pub(crate) drawn_by: String,
    pub(crate) checked: i64,
    pub(crate) failed: i64,
}

/// The draw form's fields, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct DrawForm {
    #[serde(default)]
    pub county: String,
    #[serde(default)]
    pub month: String,
    #[serde(default)]
    pub size: String,
    #[serde(default)]
    pub seed: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Template)]
#[template(path = "spot_checks.html")]
struct SpotChecksPage {
    c: Chrome,
    checks: Vec<CheckLine>,
    can_draw: bool,
    /// (code, name) of the counties that may be drawn from.
    counties: Vec<(String, String)>,
    form: DrawForm,
    errors: FieldErrors,
}

impl SpotChecksPage {
    fn err(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

/// The counties in the user's area.
fn counties_of(prefix: &str) -> Vec<(String, String)> {
    let county = prefix.get(..6.min(prefix.len())).unwrap_or(prefix);
    guanai_rules::area::all_areas()
        .into_iter()
        .filter(|a| a.level == "county" && a.code.starts_with(county))
        .map(|a| (a.code, a.name.to_owned()))
        .collect()
}

async fn list_page(
    signed: &Signed,
    form: DrawForm,
    errors: FieldErrors,
) -> Result<SpotChecksPage, WebError> {
    let checks = signed
        .scoped()
        .spot_checks()
        .await?
        .into_iter()
        .map(|s| CheckLine {
            county: area_name(&s.county_code),
            month: s.month.to_string(),
            drawn_at: beijing_micros(s.drawn_at),
            check_id: s.check_id,
            sample_size: s.sample_size,
            population: s.population,
            drawn_by: s.drawn_by,
            checked: s.checked,
            failed: s.failed,
        })
        .collect();
    Ok(SpotChecksPage {
        c: Chrome::new(signed, "spot_checks", "/spot-checks"),
        checks,
        can_draw: signed.user.role.can_spot_check(),
        counties: counties_of(signed.user.area_prefix()),
        form,
        errors,
    })
}

/// `GET /spot-checks`: the checks of the user's county or the city, newest first, and (for
/// the city's caseworkers and inspectors) the form to draw one.
pub async fn spot_checks(signed: Signed) -> Result<Response, WebError> {
    signed.require(signed.user.role.sees_assessment())?;
    let form = DrawForm {
        month: this_month().to_string(),
        size: signed
            .state()
            .policy()
            .assessment
            .spot_check_size
            .to_string(),
        ..DrawForm::default()
    };
    render(&list_page(&signed, form, Vec::new()).await?)
}

/// `POST /spot-checks`: draws a spot check (city caseworkers and inspectors).
pub async fn draw(post: Post<DrawForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    signed.require(signed.user.role.can_spot_check())?;
    let lang = signed.lang;
    let mut errors = Vec::new();
    let month = month_field(lang, "month", &form.month, &mut errors);
    let size = match form.size.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push((
                "size".to_owned(),
                lang.pick("样本量应为整数", "the sample size is a whole number")
                    .to_owned(),
            ));
            None
        }
    };
    let seed = match form.seed.trim() {
        "" => Some(None),
        text => match text.parse::<u64>() {
            Ok(n) => Some(Some(n)),
            Err(_) => {
                errors.push((
                    "seed".to_owned(),
                    lang.pick(
                        "种子应为 0 至 18446744073709551615 的整数，或留空随机生成",
                        "the seed is a whole number from 0 to 18446744073709551615, or empty for a random one",
                    )
                    .to_owned(),
                ));
                None
            }
        },
    };
    if let (Some(month), Some(size), Some(seed)) = (month, size, seed) {
        // The draw reads the statistical register as it is: bring it up to date first, so the
        // population is the month's families as the files say now.
        let state = signed.state();
        state.gate().refresh_register(state.policy()).await?;
        match signed
            .scoped()
            .draw_spot_check(form.county.trim(), month, size, seed, &form.note)
            .await
        {
            Ok(check) => {
                return Ok(
                    Redirect::to(&format!("/spot-checks/{}?drawn=1", check.check_id))
                        .into_response(),
                );
            }
            Err(StoreError::Invalid { field, problem }) => errors.push((field, problem)),
            Err(e) => return Err(e.into()),
        }
    }
    let page = list_page(&signed, form, errors).await?;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

/// The latest finding of an item, on screen.
pub(crate) struct FindingView {
    pub(crate) passed: bool,
    pub(crate) note: String,
    pub(crate) checked_on: String,
    pub(crate) recorded_by: String,
}

pub(crate) struct ItemLine {
    pub(crate) key: &'static str,
    pub(crate) label: &'static str,
    pub(crate) finding: Option<FindingView>,
    /// The id of the item's form (`finding-<family>-<item>`).
    pub(crate) form_id: String,
}

pub(crate) struct FamilyLine {
    pub(crate) draw_no: i64,
    pub(crate) family_id: String,
    pub(crate) family_no: String,
    pub(crate) village: String,
    pub(crate) items: Vec<ItemLine>,
    /// Items checked and of those failed.
    pub(crate) checked: usize,
    pub(crate) failed: usize,
}

/// The finding form's fields, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct FindingForm {
    #[serde(default)]
    pub family: String,
    #[serde(default)]
    pub item: String,
    /// `passed` | `failed`
    #[serde(default)]
    pub result: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub checked_on: String,
}

#[derive(Template)]
#[template(path = "spot_check.html")]
struct SpotCheckPage {
    c: Chrome,
    check_id: String,
    county: String,
    month: String,
    seed: String,
    sample_size: i64,
    population: i64,
    digest: String,
    drawn_at: String,
    drawn_by: String,
    note: String,
    families: Vec<FamilyLine>,
    can_record: bool,
    /// The repeated draw: (the list's digest matches, the same families).
    verification: Option<(bool, bool)>,
    /// The form refused (its id), its fields' errors and its values.
    error_form: String,
    /// The family whose section opens (the one just checked).
    opened: String,
    errors: FieldErrors,
    kept: FindingForm,
    today: String,
}

impl SpotCheckPage {
    /// The value a form shows: what was typed when it was refused, else the default.
    fn kept_note(&self, form: &str) -> &str {
        if self.error_form == form {
            &self.kept.note
        } else {
            ""
        }
    }

    fn kept_date(&self, form: &str) -> &str {
        if self.error_form == form && !self.kept.checked_on.is_empty() {
            &self.kept.checked_on
        } else {
            &self.today
        }
    }

    fn kept_failed(&self, form: &str) -> bool {
        self.error_form == form && self.kept.result == "failed"
    }

    /// Whether a family's section opens: it holds the refused form, or was just checked.
    fn open(&self, family: &FamilyLine) -> bool {
        family.family_id == self.opened || family.items.iter().any(|i| i.form_id == self.error_form)
    }
}

fn item_label(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    lang.pick(zh, en)
}

fn check_page(signed: &Signed, check: SpotCheck) -> SpotCheckPage {
    let lang = signed.lang;
    let families = check
        .families
        .iter()
        .map(|f| {
            let items: Vec<ItemLine> = CHECKLIST
                .iter()
                .map(|(key, zh, en)| ItemLine {
                    key,
                    label: item_label(lang, zh, en),
                    finding: check
                        .findings
                        .iter()
                        .find(|x| x.family_id == f.family_id && x.item == *key)
                        .map(|x| FindingView {
                            passed: x.passed,
                            note: x.note.clone(),
                            checked_on: x.checked_on.to_string(),
                            recorded_by: x.recorded_by.clone(),
                        }),
                    form_id: format!("finding-{}-{key}", f.family_id),
                })
                .collect();
            FamilyLine {
                checked: items.iter().filter(|i| i.finding.is_some()).count(),
                failed: items
                    .iter()
                    .filter(|i| i.finding.as_ref().is_some_and(|x| !x.passed))
                    .count(),
                draw_no: f.draw_no,
                family_id: f.family_id.to_string(),
                family_no: f.family_no.clone(),
                village: village_path(&f.village_code),
                items,
            }
        })
        .collect();
    let path = format!("/spot-checks/{}", check.check_id);
    SpotCheckPage {
        c: Chrome::new(signed, "spot_checks", &path),
        county: format!("{} ({})", area_name(&check.county_code), check.county_code),
        month: check.month.to_string(),
        seed: check.seed.to_string(),
        sample_size: check.sample_size,
        population: check.population,
        digest: check.population_digest,
        drawn_at: beijing_micros(check.drawn_at),
        drawn_by: check.drawn_by,
        note: check.note,
        check_id: check.check_id,
        families,
        can_record: signed.user.role.can_spot_check(),
        verification: None,
        error_form: String::new(),
        opened: String::new(),
        errors: Vec::new(),
        kept: FindingForm::default(),
        today: today().to_string(),
    }
}

#[derive(Deserialize, Default)]
pub struct CheckQuery {
    drawn: Option<String>,
    saved: Option<String>,
    /// The family just checked, whose section opens.
    family: Option<String>,
}

/// `GET /spot-checks/{id}`: a spot check of the user's county or the city.
pub async fn spot_check(
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<CheckQuery>,
) -> Result<Response, WebError> {
    let check = signed
        .scoped()
        .spot_check(&id)
        .await
        .map_err(not_found_check)?;
    let lang = signed.lang;
    let flash = if q.drawn.is_some() {
        Some(lang.pick(
            "已抽取样本并记入审计日志。",
            "Drawn, and written to the audit log.",
        ))
    } else if q.saved.is_some() {
        Some(lang.pick("已记录检查结果。", "The finding is recorded."))
    } else {
        None
    };
    let mut page = check_page(&signed, check);
    page.c = page.c.with_flash(flash.map(str::to_owned));
    page.opened = q.family.unwrap_or_default();
    render(&page)
}

/// `POST /spot-checks/{id}/verify`: draws again from the stored list with the stored seed and
/// shows whether the same families come out (anyone who may read the check).
pub async fn verify(Path(id): Path<String>, post: Post<NoFields>) -> Result<Response, WebError> {
    let Post { signed, .. } = post;
    let scoped = signed.scoped();
    let result = scoped
        .verify_spot_check(&id)
        .await
        .map_err(not_found_check)?;
    let check = scoped.spot_check(&id).await.map_err(not_found_check)?;
    let mut page = check_page(&signed, check);
    page.verification = Some((result.digest_matches, result.same_families));
    render(&page)
}

/// `POST /spot-checks/{id}/findings`: records a finding for a drawn family and checklist item
/// (city caseworkers and inspectors); a failed item needs a note.
pub async fn finding(
    Path(id): Path<String>,
    post: Post<FindingForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    signed.require(signed.user.role.can_spot_check())?;
    let scoped = signed.scoped();
    // Outside the user's area there is no such check, before the form is read.
    scoped.spot_check(&id).await.map_err(not_found_check)?;
    let lang = signed.lang;
    let mut errors = Vec::new();
    let family = match guanai_store::FamilyId::parse(form.family.trim()) {
        Some(f) => Some(f),
        None => {
            errors.push((
                "family".to_owned(),
                lang.pick("不是本次抽查的家庭", "not a family of this check")
                    .to_owned(),
            ));
            None
        }
    };
    let passed = match form.result.trim() {
        "passed" => Some(true),
        "failed" => Some(false),
        _ => {
            errors.push((
                "result".to_owned(),
                lang.pick("请选择合格或不合格", "choose passed or failed")
                    .to_owned(),
            ));
            None
        }
    };
    let checked_on = date_field(lang, "checked_on", &form.checked_on, &mut errors);
    if let (Some(family), Some(passed), Some(checked_on)) = (&family, passed, checked_on) {
        let finding = NewFinding {
            item: form.item.trim(),
            passed,
            note: &form.note,
            checked_on,
        };
        match scoped
            .record_spot_finding(&id, family, finding, today())
            .await
        {
            Ok(()) => {
                let family = family.to_string();
                return Ok(Redirect::to(&format!(
                    "/spot-checks/{id}?saved=1&family={family}#family-{family}"
                ))
                .into_response());
            }
            Err(StoreError::Invalid { field, problem }) if field != "check" => {
                errors.push((field, problem));
            }
            Err(e) => return Err(not_found_check(e)),
        }
    }
    let check = scoped.spot_check(&id).await.map_err(not_found_check)?;
    let mut page = check_page(&signed, check);
    page.error_form = format!("finding-{}-{}", form.family.trim(), form.item.trim());
    page.errors = errors;
    page.kept = form;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}
