//! Signing in and out, the language switch and the user's own account (password change ends
//! every session of the user).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use guanai_store::StoreError;
use guanai_store::access::{SESSION_MAX, SignIn};
use serde::Deserialize;

use super::{Chrome, beijing_micros, render};
use crate::i18n::{Lang, Texts};
use crate::state::{
    AppState, LANG_COOKIE, Post, SESSION_COOKIE, Signed, WebError, check_same_origin, cookie_value,
    lang_of,
};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: &'static Texts,
    lang: Lang,
    next: String,
    login: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a path on this site is followed after sign-in (no open redirect).
fn local(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

pub async fn login_page(
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let lang = lang_of(&headers);
    render(&LoginPage {
        t: lang.texts(),
        lang,
        next: local(q.next.as_deref()),
        login: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    check_same_origin(&headers)?;
    let lang = lang_of(&headers);
    let t = lang.texts();
    let next = local(form.next.as_deref());
    let error = match state.gate().sign_in(&form.login, &form.password).await? {
        SignIn::Accepted { token, .. } => {
            let cookie = state.cookie(SESSION_COOKIE, &token, Some(SESSION_MAX.as_secs()));
            return Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response());
        }
        SignIn::Refused => t.sign_in_refused.to_owned(),
        SignIn::Locked { until_micros } => {
            format!("{} {}", t.sign_in_locked, beijing_micros(until_micros))
        }
    };
    let page = render(&LoginPage {
        t,
        lang,
        next,
        login: form.login,
        error: Some(error),
    })?;
    Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response())
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    _post: Post<Empty>,
) -> Result<Response, WebError> {
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        state.gate().sign_out(token).await?;
    }
    let cookie = state.cookie(SESSION_COOKIE, "", Some(0));
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

#[derive(Deserialize)]
pub struct BackQuery {
    back: Option<String>,
}

pub async fn switch_lang(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<BackQuery>,
) -> Result<Response, WebError> {
    let lang = Lang::parse(&code).ok_or(WebError::NotFound)?;
    let code = if lang == Lang::En { "en" } else { "zh" };
    let cookie = state.cookie(LANG_COOKIE, code, Some(365 * 24 * 3600));
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&local(q.back.as_deref())),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    current_error: Option<String>,
    new_error: Option<String>,
}

pub async fn account(signed: Signed) -> Result<Response, WebError> {
    render(&AccountPage {
        c: Chrome::new(&signed, "account", "/account"),
        current_error: None,
        new_error: None,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    post: Post<PasswordForm>,
) -> Result<Response, WebError> {
    let Post { signed, form } = post;
    let archive = state.gate();
    let mut page = AccountPage {
        c: Chrome::new(&signed, "account", "/account"),
        current_error: None,
        new_error: None,
    };
    if !archive
        .check_password(&signed.user.user_id, &form.current)
        .await?
    {
        page.current_error = Some(
            signed
                .lang
                .pick("当前密码不正确", "the current password is wrong")
                .to_owned(),
        );
        return render(&page);
    }
    match archive
        .set_password(&signed.user.user_id, &form.new, &signed.user.actor())
        .await
    {
        Ok(()) => {
            // Every session ended, this one too: sign in again with the new password.
            let cookie = state.cookie(SESSION_COOKIE, "", Some(0));
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
        }
        Err(StoreError::Invalid { problem, .. }) => {
            page.new_error = Some(problem);
            render(&page)
        }
        Err(e) => Err(e.into()),
    }
}
