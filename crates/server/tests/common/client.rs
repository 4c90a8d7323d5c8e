//! A browser in miniature for the dashboard tests: keeps cookies between requests, sends forms,
//! reads hidden fields. One copy, shared by every test file that signs in.
#![allow(dead_code)] // not every test file uses every method

use std::collections::BTreeMap;

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode, header},
};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A browser in miniature: keeps cookies between requests.
pub struct Client {
    pub app: Router,
    pub cookies: BTreeMap<String, String>,
    /// A `Host` header for every request (pages that print absolute links need one).
    pub host: Option<String>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of the first hidden field called `name`.
    pub fn field(&self, name: &str) -> String {
        let needle = format!("name=\"{name}\" value=\"");
        let at = self
            .body
            .find(&needle)
            .unwrap_or_else(|| panic!("no {name} field in {}", self.body));
        let rest = &self.body[at + needle.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf field in {}", self.body));
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    /// This page, after checking its status (the body is shown if it is another).
    pub fn want(self, status: StatusCode) -> Page {
        assert_eq!(self.status, status, "{}", self.body);
        self
    }

    /// The value of the `Set-Cookie` header that sets `name`.
    pub fn set_cookie(&self, name: &str) -> String {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|v| v.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie set"))
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Client {
    pub fn new(app: &Router) -> Client {
        Client {
            app: app.clone(),
            cookies: BTreeMap::new(),
            host: None,
        }
    }

    pub async fn send(&mut self, method: &str, uri: &str, form: Option<&[(&str, &str)]>) -> Page {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(h) = &self.host {
            req = req.header(header::HOST, h.as_str());
        }
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header(header::COOKIE, c.join("; "));
        }
        let body = match form {
            Some(f) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(super::form_body(f))
            }
            None => Body::empty(),
        };
        let res = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        for v in res.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (kv, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if val.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&mut self, uri: &str) -> Page {
        self.send("GET", uri, None).await
    }

    pub async fn post(&mut self, uri: &str, form: &[(&str, &str)]) -> Page {
        self.send("POST", uri, Some(form)).await
    }

    /// Post a dashboard form: the page's CSRF token `csrf`, then `fields`.
    pub async fn form(&mut self, uri: &str, csrf: &str, fields: &[(&str, &str)]) -> Page {
        let mut all = vec![("csrf", csrf)];
        all.extend_from_slice(fields);
        self.post(uri, &all).await
    }

    /// Is this browser signed in? (The dashboard answers, or sends it to the sign-in page.)
    pub async fn signed_in(&mut self) -> bool {
        let p = self.get("/dashboard").await;
        match p.status {
            StatusCode::OK => true,
            StatusCode::SEE_OTHER => {
                assert_eq!(p.location(), "/dashboard/login");
                false
            }
            s => panic!("unexpected {s}: {}", p.body),
        }
    }

    /// A page's CSRF token (any signed-in page carries it).
    pub async fn token(&mut self) -> String {
        self.get("/dashboard/account").await.csrf()
    }

    /// Open the sign-in page and send the form.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let page = self.get("/dashboard/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.csrf();
        self.post(
            "/dashboard/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }
}
