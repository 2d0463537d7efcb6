//! HTTP requests to a [`LocalServer`], through a library client.

use super::*;

impl LocalServer {
    /// `GET path` on the HTTP port: the status code and the body.
    pub async fn http_get(&self, path: &str) -> (u16, String) {
        self.http("GET", path).await
    }

    /// `METHOD path` (no body) on the HTTP port: the status code and the body.
    pub async fn http(&self, method: &str, path: &str) -> (u16, String) {
        let (status, body) = self.http_request(method, path, &[], b"").await;
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// An HTTP request with `headers` and `body`: the status and the body.
    pub async fn http_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let (status, _, body) = self.http_exchange(method, path, headers, body).await;
        (status, body)
    }

    /// [`LocalServer::http_request`] that also returns the response head (status line and
    /// headers), lower-cased.
    pub async fn http_exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String, Vec<u8>) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let url = format!("http://127.0.0.1:{}{path}", self.http_port);
        let mut request = reqwest::Client::new()
            .request(method, url)
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("an HTTP response");
        let status = response.status();
        let mut head = format!("http/1.1 {status}");
        for (name, value) in response.headers() {
            head.push_str(&format!(
                "\r\n{name}: {}",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        let head = head.to_ascii_lowercase();
        let body = response.bytes().await.expect("the response body").to_vec();
        (status.as_u16(), head, body)
    }
}
