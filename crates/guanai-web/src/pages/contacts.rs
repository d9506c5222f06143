//! Contact persons per area and level (联系人, 二(一)): every family has a contact at city,
//! county, township and village level. Caseworkers name them for areas inside their own; the
//! family file shows the four that serve it.

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_store::StoreError;
use guanai_store::contacts::Contact;
use serde::Deserialize;

use super::{Chrome, area_name, render};
use crate::state::{Post, Signed, WebError};

#[derive(Deserialize, Default)]
pub struct AreaParams {
    area: Option<String>,
    saved: Option<String>,
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    c: Chrome,
    area: String,
    area_label: String,
    contacts: Vec<Contact>,
    can_edit: bool,
    form: ContactForm,
    errors: Vec<(String, String)>,
}

impl ContactsPage {
    fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
pub struct ContactForm {
    #[serde(default)]
    area: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    duty: String,
    #[serde(default)]
    phone: String,
}

async fn page(
    signed: &Signed,
    area: &str,
    form: ContactForm,
    errors: Vec<(String, String)>,
    flash: Option<String>,
) -> Result<ContactsPage, WebError> {
    let contacts = signed.scoped().contacts_of(area).await?;
    Ok(ContactsPage {
        c: Chrome::new(signed, "contacts", &format!("/contacts?area={area}")).with_flash(flash),
        area: area.to_owned(),
        area_label: area_name(area),
        contacts,
        can_edit: signed.user.role.can_record(),
        form,
        errors,
    })
}

pub async fn contacts(signed: Signed, Query(p): Query<AreaParams>) -> Result<Response, WebError> {
    let area = p
        .area
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| signed.user.area_code.clone());
    let flash = p.saved.map(|_| signed.t().saved.to_owned());
    let form = ContactForm {
        area: area.clone(),
        duty: "联系人".into(),
        ..ContactForm::default()
    };
    render(&page(&signed, &area, form, Vec::new(), flash).await?)
}

pub async fn set_contact(post: Post<ContactForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let area = form.area.trim().to_owned();
    let phone = form.phone.trim();
    let mut errors = Vec::new();
    if !phone.is_empty()
        && (phone.len() > 20 || !phone.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
    {
        errors.push((
            "phone".to_owned(),
            signed
                .lang
                .pick(
                    "电话号码只能包含数字和 -",
                    "a phone number has digits and - only",
                )
                .to_owned(),
        ));
    }
    if form.duty.trim().is_empty() || form.duty.chars().count() > 40 {
        errors.push((
            "duty".to_owned(),
            signed
                .lang
                .pick(
                    "请填写职责(最多40字)",
                    "name the duty (40 characters at most)",
                )
                .to_owned(),
        ));
    }
    if form.name.chars().count() > 40 {
        errors.push((
            "name".to_owned(),
            signed
                .lang
                .pick("姓名最多40字", "40 characters at most")
                .to_owned(),
        ));
    }
    if errors.is_empty() {
        let phone = (!phone.is_empty()).then_some(phone);
        match signed
            .scoped()
            .set_contact(&area, &form.name, form.duty.trim(), phone)
            .await
        {
            Ok(()) => {
                return Ok(Redirect::to(&format!("/contacts?area={area}&saved=1")).into_response());
            }
            Err(StoreError::Invalid { field, problem }) => errors.push((field, problem)),
            Err(e) => return Err(e.into()),
        }
    }
    let shown = if signed.scoped().covers_area(&area) {
        area.clone()
    } else {
        signed.user.area_code.clone()
    };
    let p = page(&signed, &shown, form, errors, None).await?;
    Ok((StatusCode::BAD_REQUEST, render(&p)?).into_response())
}
