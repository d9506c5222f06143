//! The annual re-confirmation (年度资格确认, issue 6): the `/confirm` page of a year — the
//! campaign's figures city-wide and in the user's area, the city caseworker's form opening the
//! year (with the deadline the policy pack gives), the parents of the area on the list,
//! unconfirmed first, each with its confirm form — and confirming a parent, from that list or
//! from the family file. A parent not confirmed by the deadline is paid nothing for the months
//! after it until confirmed, then the arrears (the payment build reads the list).

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_store::StoreError;
use guanai_store::access::Role;
use jiff::civil::Date;
use serde::Deserialize;

use super::cases::{date_field, may_write_family, sees_cases};
use super::families::{FormErrors, family_id, family_page};
use super::{Chrome, render, this_month, today, village_path};
use crate::state::{Post, Signed, WebError};

/// Parents per page of the list.
const PAGE_ROWS: i64 = 50;

/// A year's figures: persons on the list, confirmed, the share done.
struct Figures {
    persons: i64,
    confirmed: i64,
    done: String,
}

impl Figures {
    fn of(persons: i64, confirmed: i64) -> Figures {
        Figures {
            persons,
            confirmed,
            // Rounded down, so 99.9 % never shows as 100 %.
            done: if persons > 0 {
                format!("{}%", confirmed * 100 / persons)
            } else {
                "—".to_owned()
            },
        }
    }
}

/// One parent on the list.
struct RosterRow {
    person_id: String,
    family_id: String,
    family_no: String,
    village: String,
    name: String,
    confirmed_on: String,
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    c: Chrome,
    year: i16,
    /// This year and the next, and whether each is opened.
    years: Vec<(i16, bool)>,
    deadline: Option<String>,
    deadline_passed: bool,
    city: Option<Figures>,
    area: Option<Figures>,
    can_open: bool,
    open_year: String,
    /// The deadline the pack gives each year of the open form's choice.
    open_deadlines: Vec<(i16, String)>,
    open_only: bool,
    page: i64,
    more: bool,
    rows: Vec<RosterRow>,
    can_confirm: bool,
    today: String,
    errors: FormErrors,
    /// The refused confirm form's date and note.
    kept: (String, String),
}

impl ConfirmPage {
    fn err(&self, form: &str, field: &str) -> String {
        if self.errors.form != form {
            return String::new();
        }
        self.errors
            .fields
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A confirm form's date: as typed after its refusal, else today.
    fn date_of(&self, person: &str) -> &str {
        if self.errors.form == format!("confirm-{person}") {
            &self.kept.0
        } else {
            &self.today
        }
    }

    fn note_of(&self, person: &str) -> &str {
        if self.errors.form == format!("confirm-{person}") {
            &self.kept.1
        } else {
            ""
        }
    }
}

/// The deadline the pack gives a year's re-confirmation.
fn deadline_of(signed: &Signed, year: i16) -> Option<Date> {
    let (m, d) = signed.state().policy().casework.reconfirm_deadline;
    Date::new(year, m, d).ok()
}

#[derive(Deserialize, Default)]
pub struct ConfirmParams {
    year: Option<i16>,
    open: Option<String>,
    page: Option<i64>,
    done: Option<String>,
}

/// What the list shows: year, unconfirmed only, page.
struct Shown {
    year: Option<i16>,
    open_only: bool,
    page: i64,
}

async fn confirm_page(
    signed: &Signed,
    shown: Shown,
    errors: FormErrors,
    kept: (String, String),
    open_year: Option<String>,
    flash: Option<String>,
) -> Result<ConfirmPage, WebError> {
    let today = today();
    let gate = signed.state().gate();
    let (this_year, next_year) = (today.year(), today.year().saturating_add(1));
    let this_campaign = gate.reconfirmation(this_year).await?;
    let next_campaign = gate.reconfirmation(next_year).await?;
    // This year, or the next once it is opened.
    let year = shown
        .year
        .unwrap_or(if next_campaign.is_some() {
            next_year
        } else {
            this_year
        })
        .clamp(2000, 9999);
    let campaign = if year == this_year {
        this_campaign.clone()
    } else if year == next_year {
        next_campaign.clone()
    } else {
        gate.reconfirmation(year).await?
    };
    let scoped = signed.scoped();
    let (area, rows, more) = match &campaign {
        None => (None, Vec::new(), false),
        Some(_) => {
            let (persons, confirmed) = scoped.roster_counts(year).await?;
            let found = scoped
                .roster(
                    year,
                    shown.open_only,
                    (shown.page - 1) * PAGE_ROWS,
                    PAGE_ROWS,
                )
                .await?;
            let rows = found
                .rows
                .into_iter()
                .map(|r| RosterRow {
                    village: village_path(&r.village_code),
                    family_id: r.family_id.to_string(),
                    confirmed_on: r.confirmed_on.map(|d| d.to_string()).unwrap_or_default(),
                    person_id: r.person_id,
                    family_no: r.family_no,
                    name: r.name,
                })
                .collect();
            (Some(Figures::of(persons, confirmed)), rows, found.more)
        }
    };
    // The open form offers this year while its deadline is ahead, and the next.
    let open_deadlines: Vec<(i16, String)> = [this_year, next_year]
        .into_iter()
        .filter_map(|y| deadline_of(signed, y).map(|d| (y, d)))
        .filter(|(_, d)| *d >= today)
        .map(|(y, d)| (y, d.to_string()))
        .collect();
    let default_open =
        if this_campaign.is_none() && open_deadlines.iter().any(|(y, _)| *y == this_year) {
            this_year
        } else {
            next_year
        };
    let path = format!(
        "/confirm?year={year}&open={}&page={}",
        u8::from(shown.open_only),
        shown.page
    );
    let role = signed.user.role;
    Ok(ConfirmPage {
        c: Chrome::new(signed, "confirm", &path).with_flash(flash),
        year,
        years: vec![
            (this_year, this_campaign.is_some()),
            (next_year, next_campaign.is_some()),
        ],
        deadline: campaign.as_ref().map(|c| c.deadline.to_string()),
        deadline_passed: campaign.as_ref().is_some_and(|c| c.deadline < today),
        city: campaign
            .as_ref()
            .map(|c| Figures::of(c.persons, c.confirmed)),
        area,
        can_open: role == Role::City,
        open_year: open_year.unwrap_or_else(|| default_open.to_string()),
        open_deadlines,
        open_only: shown.open_only,
        page: shown.page,
        more,
        rows,
        can_confirm: role.can_record(),
        today: today.to_string(),
        errors,
        kept,
    })
}

/// `GET /confirm`: a year's re-confirmation (`?year=`, `?open=1` for the unconfirmed only).
pub async fn confirm(signed: Signed, Query(p): Query<ConfirmParams>) -> Result<Response, WebError> {
    signed.require(sees_cases(signed.user.role))?;
    let flash = p.done.map(|d| {
        if d == "open" {
            signed
                .lang
                .pick(
                    "已开始本年度资格确认",
                    "The year's re-confirmation is opened",
                )
                .to_owned()
        } else {
            signed.t().saved.to_owned()
        }
    });
    let shown = Shown {
        year: p.year,
        open_only: p.open.as_deref() != Some("0"),
        page: p.page.unwrap_or(1).clamp(1, 100_000),
    };
    let page = confirm_page(
        &signed,
        shown,
        FormErrors::default(),
        Default::default(),
        None,
        flash,
    )
    .await?;
    render(&page)
}

#[derive(Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    year: String,
}

/// `POST /confirm/open`: opens a year's re-confirmation (the city caseworker): every parent paid
/// monthly assistance this month goes on the list, with the pack's deadline.
pub async fn open(post: Post<OpenForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    signed.require(signed.user.role == Role::City)?;
    let lang = signed.lang;
    let problem = match form.year.trim().parse::<i16>() {
        Ok(year) if (2000..=9999).contains(&year) => {
            let state = signed.state();
            match signed
                .scoped()
                .open_reconfirmation(year, state.policy(), today())
                .await
            {
                Ok(_) => {
                    return Ok(
                        Redirect::to(&format!("/confirm?year={year}&done=open")).into_response()
                    );
                }
                Err(StoreError::Invalid { problem, .. }) => problem,
                Err(e) => return Err(e.into()),
            }
        }
        _ => lang
            .pick(
                "年份应为四位数字,如 2027",
                "a year is four digits, e.g. 2027",
            )
            .to_owned(),
    };
    let errors = FormErrors {
        form: "open".into(),
        fields: vec![("year".into(), problem)],
    };
    let shown = Shown {
        year: None,
        open_only: true,
        page: 1,
    };
    let page = confirm_page(
        &signed,
        shown,
        errors,
        Default::default(),
        Some(form.year),
        None,
    )
    .await?;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    year: i16,
    #[serde(default)]
    person: String,
    #[serde(default)]
    confirmed_on: String,
    #[serde(default)]
    note: String,
    /// `list` when sent from `/confirm` (whose list, `open` and `page`, it returns to).
    #[serde(default)]
    from: String,
    #[serde(default)]
    open: String,
    page: Option<i64>,
}

/// `POST /families/{id}/confirm`: confirms a parent of the family for a year (caseworkers of the
/// area: alive, no later child, still living here — otherwise record the change instead).
pub async fn confirm_parent(
    Path(id): Path<String>,
    post: Post<ConfirmForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let family = family_id(&id)?;
    may_write_family(&signed, &family, signed.user.role.can_record()).await?;
    let from_list = form.from == "list";
    let open_only = form.open != "0";
    let page_no = form.page.unwrap_or(1).clamp(1, 100_000);
    let fields = match date_field(signed.lang, &form.confirmed_on) {
        Err(e) => vec![("confirmed_on".to_owned(), e)],
        Ok(on) => match signed
            .scoped()
            .confirm_parent(
                form.year,
                &family,
                form.person.trim(),
                on,
                &form.note,
                today(),
            )
            .await
        {
            Ok(()) => {
                let target = if from_list {
                    format!(
                        "/confirm?year={}&open={}&page={page_no}&done=1",
                        form.year,
                        u8::from(open_only)
                    )
                } else {
                    format!("/families/{family}?saved=1#casework")
                };
                return Ok(Redirect::to(&target).into_response());
            }
            Err(StoreError::Invalid { field, problem }) => vec![(field, problem)],
            Err(e) => return Err(e.into()),
        },
    };
    let errors = FormErrors {
        form: format!("confirm-{}", form.person.trim()),
        fields,
    };
    let kept = (form.confirmed_on, form.note);
    if from_list {
        let shown = Shown {
            year: Some(form.year),
            open_only,
            page: page_no,
        };
        let page = confirm_page(&signed, shown, errors, kept, None, None).await?;
        return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
    }
    let mut page = family_page(
        &signed,
        &family,
        this_month(),
        &[],
        errors,
        None,
        today().year(),
    )
    .await?;
    page.casework.confirm_kept = kept;
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}
