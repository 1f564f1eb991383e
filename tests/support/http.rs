//! What every HTTP test of the gateway needs on the client side: a client
//! that talks to 127.0.0.1 directly (with TLS available) and readers of the
//! gateway's JSON answers.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};

/// A client builder with the process-wide rustls provider in place (reqwest
/// is built without one), no proxy and a `timeout` per request.
pub fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    zeroclaw::tls::install_crypto_provider();
    reqwest::Client::builder().timeout(timeout).no_proxy()
}

/// A client from [`client_builder`].
pub fn client(timeout: Duration) -> reqwest::Client {
    client_builder(timeout).build().expect("client")
}

/// The status and the JSON body of a reply.
pub async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body = resp.json::<Value>().await.expect("JSON body");
    (status, body)
}

/// The gateway's error shape: `error.code` is `code`, with a message.
pub fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// POSTs a chunked body (no Content-Length) of 8 chunks of 512 bytes to
/// `/webhook` with `token`; what the server answered within `wait`.
pub async fn chunked_webhook(addr: impl ToSocketAddrs, token: &str, wait: Duration) -> String {
    let mut sock = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..8 {
        let chunk = format!("200\r\n{}\r\n", " ".repeat(512));
        if sock.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = sock.write_all(b"0\r\n\r\n").await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(wait, sock.read_to_end(&mut got)).await;
    String::from_utf8_lossy(&got).into_owned()
}

/// A self-signed certificate for `names`, written as `cert.pem` and
/// `key.pem` in a directory that lives as long as the value.
pub struct SelfSigned {
    _dir: tempfile::TempDir,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub pem: String,
}

impl SelfSigned {
    pub fn new(names: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let ck = rcgen::generate_simple_self_signed(names).unwrap();
        let pem = ck.cert.pem();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, &pem).unwrap();
        std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
        SelfSigned {
            _dir: dir,
            cert,
            key,
            pem,
        }
    }

    /// A client that trusts this certificate and no other.
    pub fn client(&self, timeout: Duration) -> reqwest::Client {
        client_builder(timeout)
            .tls_certs_only([reqwest::Certificate::from_pem(self.pem.as_bytes()).unwrap()])
            .build()
            .unwrap()
    }
}

/// `/health` answers ok and `/webhook` (with `token`) echoes "over tls".
pub async fn assert_serves_over_tls(c: &reqwest::Client, url: &str, token: &str) {
    let (s, b) = json_of(c.get(format!("{url}/health")).send().await.unwrap()).await;
    assert_eq!((s, &b["status"]), (200, &json!("ok")));
    let resp = c
        .post(format!("{url}/webhook"))
        .bearer_auth(token)
        .json(&json!({"message": "over tls"}))
        .send()
        .await
        .unwrap();
    let (s, b) = json_of(resp).await;
    assert_eq!((s, &b["response"]), (200, &json!("echo: over tls")));
}
