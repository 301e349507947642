//! Requests as tests make them: server functions the way the browser calls them, REST
//! calls with a token, pages with a session, and the `baton` CLI.

use serde_json::Value;

use super::TestApp;

impl TestApp {
    /// Calls a server function the way the browser does (form-encoded POST), with an
    /// optional session cookie.
    pub async fn call_server_fn(&self, endpoint: &str, cookie: Option<&str>) -> reqwest::Response {
        self.call_fn(endpoint, cookie, "").await
    }

    /// Calls a server function with form fields and returns the status and JSON body.
    pub async fn call_form(
        &self,
        endpoint: &str,
        cookie: &str,
        fields: &[(&str, &str)],
    ) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("cookie", cookie)
            .form(fields)
            .send()
            .await
            .expect("server fn POST");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// [`Self::call_server_fn`] with a form-encoded body (`a=1&b=2`).
    pub async fn call_fn(
        &self,
        endpoint: &str,
        cookie: Option<&str>,
        body: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("cookie", cookie.unwrap_or_default())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .expect("server fn POST")
    }

    /// GET with a session cookie.
    pub async fn get_as(&self, cookie: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("accept", "text/html,*/*")
            .header("cookie", cookie)
            .send()
            .await
            .expect("GET")
    }

    /// Runs the `baton` binary against this app's database (as an admin would while
    /// the server runs), feeding `stdin`. Returns (success, stdout, stderr).
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        use tokio::io::AsyncWriteExt;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_baton"))
            .args(args)
            .arg("--database-url")
            .arg(&self.database_url)
            .args(["--public-url", &self.address])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).await.unwrap();
        }
        drop(input);
        let out = child.wait_with_output().await.unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
}

/// A REST call with a bearer token; the status and the JSON body (null if none).
pub async fn call(
    app: &TestApp,
    token: &str,
    verb: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = app.url(path);
    let mut request = match verb {
        "GET" => app.client.get(url),
        "PATCH" => app.client.patch(url),
        "DELETE" => app.client.delete(url),
        _ => app.client.post(url),
    }
    .bearer_auth(token);
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
