//! Users and areas administration (administrators only): create users in a role and area,
//! deactivate and activate them, set passwords (ending their sessions) and issue API tokens;
//! register a volunteer's organisation and skills (二(一)). Administrators see no family data.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanai_store::StoreError;
use guanai_store::access::{ALL_ROLES, NewUser, Role, User};
use serde::Deserialize;

use super::{Chrome, area_name, render};
use crate::state::{Post, Signed, WebError};

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<(User, String)>,
    roles: Vec<(&'static str, &'static str)>,
    form: NewUserForm,
    errors: Vec<(String, String)>,
    token: Option<(String, String)>,
    /// Volunteers' organisation and skills, by login (二(一)).
    profiles: Vec<(String, String, String)>,
}

impl UsersPage {
    fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }
    fn role_label(&self, role: &Role) -> &'static str {
        self.c.lang.pick(role.label_zh(), role.label_en())
    }
    /// A volunteer's registered organisation and skills.
    fn profile(&self, login: &str) -> Option<(&str, &str)> {
        self.profiles
            .iter()
            .find(|(l, _, _)| l == login)
            .map(|(_, o, s)| (o.as_str(), s.as_str()))
    }
}

#[derive(Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    area_code: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize, Default)]
pub struct Flash {
    saved: Option<String>,
}

async fn page(
    signed: &Signed,
    form: NewUserForm,
    errors: Vec<(String, String)>,
    token: Option<(String, String)>,
    flash: Option<String>,
) -> Result<UsersPage, WebError> {
    let users: Vec<(User, String)> = signed
        .state()
        .gate()
        .users()
        .await?
        .into_iter()
        .map(|u| {
            let area = area_name(&u.area_code);
            (u, area)
        })
        .collect();
    let mut profiles = Vec::new();
    for (u, _) in users.iter().filter(|(u, _)| u.role == Role::Volunteer) {
        if let Some((organisation, skills)) = signed.state().gate().volunteer_profile(u).await? {
            profiles.push((u.login.clone(), organisation, skills));
        }
    }
    Ok(UsersPage {
        c: Chrome::new(signed, "users", "/admin/users").with_flash(flash),
        users,
        roles: ALL_ROLES
            .iter()
            .map(|r| (r.as_str(), signed.lang.pick(r.label_zh(), r.label_en())))
            .collect(),
        form: NewUserForm {
            password: String::new(),
            ..form
        },
        errors,
        token,
        profiles,
    })
}

pub async fn users(signed: Signed, Query(flash): Query<Flash>) -> Result<Response, WebError> {
    signed.require(signed.user.role.can_admin())?;
    let flash = flash.saved.map(|_| signed.t().saved.to_owned());
    render(&page(&signed, NewUserForm::default(), Vec::new(), None, flash).await?)
}

pub async fn add_user(post: Post<NewUserForm>) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    signed.require(signed.user.role.can_admin())?;
    let Some(role) = Role::parse(&form.role) else {
        let errors = vec![(
            "role".to_owned(),
            signed.lang.pick("请选择角色", "choose a role").to_owned(),
        )];
        let p = page(&signed, form, errors, None, None).await?;
        return Ok((StatusCode::BAD_REQUEST, render(&p)?).into_response());
    };
    let new = NewUser {
        login: form.login.clone(),
        display_name: form.display_name.clone(),
        role,
        area_code: form.area_code.trim().to_owned(),
        password: form.password.clone(),
    };
    match signed
        .state()
        .gate()
        .create_user(&new, &signed.user.actor())
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/users?saved=1").into_response()),
        Err(StoreError::Invalid { field, problem }) => {
            let p = page(&signed, form, vec![(field, problem)], None, None).await?;
            Ok((StatusCode::BAD_REQUEST, render(&p)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct UserAction {
    action: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    skills: String,
}

pub async fn user_action(
    Path(login): Path<String>,
    post: Post<UserAction>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    signed.require(signed.user.role.can_admin())?;
    let gate = signed.state().gate();
    let user = gate
        .user_by_login(&login)
        .await?
        .ok_or(WebError::NotFound)?;
    let actor = signed.user.actor();
    match form.action.as_str() {
        "deactivate" if user.user_id == signed.user.user_id => Err(WebError::BadRequest(
            "不能停用自己的账户 / you cannot deactivate yourself".into(),
        )),
        "deactivate" => {
            gate.set_user_active(&user.user_id, false, &actor).await?;
            Ok(Redirect::to("/admin/users?saved=1").into_response())
        }
        "activate" => {
            gate.set_user_active(&user.user_id, true, &actor).await?;
            Ok(Redirect::to("/admin/users?saved=1").into_response())
        }
        "password" => match gate
            .set_password(&user.user_id, &form.password, &actor)
            .await
        {
            Ok(()) => Ok(Redirect::to("/admin/users?saved=1").into_response()),
            Err(StoreError::Invalid { problem, .. }) => {
                let p = page(
                    &signed,
                    NewUserForm::default(),
                    vec![(format!("password-{login}"), problem)],
                    None,
                    None,
                )
                .await?;
                Ok((StatusCode::BAD_REQUEST, render(&p)?).into_response())
            }
            Err(e) => Err(e.into()),
        },
        "token" => {
            let label = if form.label.trim().is_empty() {
                "web"
            } else {
                form.label.trim()
            };
            let token = gate.create_api_token(&user.user_id, label, &actor).await?;
            // Shown once, in this response only.
            render(
                &page(
                    &signed,
                    NewUserForm::default(),
                    Vec::new(),
                    Some((login, token)),
                    None,
                )
                .await?,
            )
        }
        "volunteer" if user.role != Role::Volunteer => Err(WebError::BadRequest(
            "只有志愿者账号登记所属组织 / only volunteers have an organisation".into(),
        )),
        "volunteer" => match gate
            .register_volunteer(&user, &form.organisation, &form.skills, &actor)
            .await
        {
            Ok(()) => Ok(Redirect::to("/admin/users?saved=1").into_response()),
            Err(StoreError::Invalid { problem, .. }) => {
                let p = page(
                    &signed,
                    NewUserForm::default(),
                    vec![(format!("volunteer-{login}"), problem)],
                    None,
                    None,
                )
                .await?;
                Ok((StatusCode::BAD_REQUEST, render(&p)?).into_response())
            }
            Err(e) => Err(e.into()),
        },
        _ => Err(WebError::BadRequest("unknown action".into())),
    }
}
