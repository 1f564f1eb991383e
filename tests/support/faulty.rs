//! A server on 127.0.0.1 that fails every request the same way, whatever the
//! path or protocol: it stands in for an external API that is down, for
//! tests that only care about what the daemon makes of the failure.
#![allow(dead_code)]

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How every connection is failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The request is read, then the connection is closed without a byte.
    Drop,
    /// A bodiless answer with this status (`502`, `401`, ...).
    Status(u16),
}

pub struct Faulty {
    pub addr: SocketAddr,
}

impl Faulty {
    pub async fn start(failure: Failure) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    if let Failure::Status(code) = failure {
                        let head = format!(
                            "HTTP/1.1 {code} Failing\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        );
                        let _ = stream.write_all(head.as_bytes()).await;
                    }
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// An address nothing listens on (connections are refused).
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
