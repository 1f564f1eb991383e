//! Reading a body without trusting it: chunk by chunk up to a byte cap
//! (counted after gzip/brotli decompression, so a small bomb cannot grow
//! past it) and against the fetch's deadline (a server trickling bytes).

use tokio::time::Instant;

/// What was read, and why reading stopped early (if it did).
#[derive(Debug, Default)]
pub struct Body {
    pub bytes: Vec<u8>,
    /// Stopped at the byte cap: the page is longer.
    pub capped: bool,
    /// Stopped at the deadline with part of the page read.
    pub timed_out: bool,
}

/// Read `response` until it ends, `cap` bytes are read or `deadline` passes.
/// Dropping the response afterwards closes the connection, so an endless
/// body is not drained.
pub async fn read(
    mut response: reqwest::Response,
    cap: usize,
    deadline: Instant,
) -> Result<Body, String> {
    let mut body = Body::default();
    // Sized once from Content-Length when it is given (never past the cap),
    // else grown without overshooting the cap: the buffer is the fetch's
    // main cost in memory.
    let expected = response
        .content_length()
        .and_then(|n| usize::try_from(n).ok());
    body.bytes
        .reserve_exact(expected.unwrap_or(64 * 1024).min(cap));
    loop {
        let chunk = match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) if body.bytes.is_empty() => {
                return Err("the server sent no body before the timeout".to_string());
            }
            Err(_) => {
                body.timed_out = true;
                return Ok(body);
            }
            Ok(Err(e)) if body.bytes.is_empty() => {
                return Err(format!("reading the page failed: {}", super::describe(&e)));
            }
            // A connection cut mid-body: keep what arrived, say it is partial.
            Ok(Err(_)) => {
                body.timed_out = true;
                return Ok(body);
            }
            Ok(Ok(None)) => return Ok(body),
            Ok(Ok(Some(chunk))) => chunk,
        };
        let room = cap.saturating_sub(body.bytes.len());
        let needed = body.bytes.len() + chunk.len().min(room);
        if needed > body.bytes.capacity() {
            let target = (body.bytes.capacity() * 2).max(needed).min(cap);
            body.bytes.reserve_exact(target - body.bytes.len());
        }
        if chunk.len() > room {
            body.bytes.extend_from_slice(&chunk[..room]);
            body.capped = true;
            return Ok(body);
        }
        body.bytes.extend_from_slice(&chunk);
    }
}
