//! Accounts as tests use them. A [`Browser`] is a signed-in person (the account and
//! its session cookie); an [`ApiClient`] is a program (the account and its token).

use backend::users::{Role, User};

use super::{PASSWORD, TestApp};

/// A signed-in browser session. It derefs to the `Cookie` header value, which every
/// request helper takes.
#[derive(Clone)]
pub struct Browser {
    pub user: User,
    pub cookie: String,
}

impl std::ops::Deref for Browser {
    type Target = str;

    fn deref(&self) -> &str {
        &self.cookie
    }
}

impl std::fmt::Display for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.cookie)
    }
}

/// A program with a personal API token.
pub struct ApiClient {
    pub user: User,
    pub token: String,
}

impl TestApp {
    /// Creates an account with [`PASSWORD`] and signs it in.
    pub async fn signed_in(&self, email: &str, role: Role) -> Browser {
        let user = backend::accounts::create_user(
            self.store(),
            email,
            "Someone",
            role,
            Some(PASSWORD.into()),
        )
        .await
        .unwrap();
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status(), 200);
        let set_cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        Browser {
            user,
            cookie: set_cookie.split(';').next().unwrap().to_owned(),
        }
    }

    /// Posts the sign-in form without a cookie.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/auth/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .expect("sign-in POST")
    }

    /// An agent account that has not signed in.
    pub async fn agent(&self, email: &str, name: &str) -> User {
        backend::users::create(self.store(), email, name, Role::Agent)
            .await
            .unwrap()
    }
}

/// A fresh account with a personal API token.
pub async fn token(app: &TestApp, email: &str, role: Role) -> ApiClient {
    let user = backend::accounts::create_user(app.store(), email, email, role, None)
        .await
        .unwrap();
    let (_, token) = backend::accounts::create_token(app.store(), user.id, "rest")
        .await
        .unwrap();
    ApiClient { user, token }
}

/// The account `user` acting on tickets, as the inbox does (without an address).
pub async fn by(app: &TestApp, user: i64) -> backend::tickets::By {
    let user = backend::users::get(app.store(), user).await.unwrap();
    backend::tickets::By::new(&user, None)
}
