//! A loopback HTTP/1.1 server for tests: answers with a handler, and injects faults
//! (error statuses, truncated bodies, stalls, dropped connections) into chosen requests.
//! It logs every request it receives, so tests can count them and time them.

use serde_json::Value;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path without the query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The raw query string (percent-encoded), empty if none.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the request was fully read.
    pub at: Instant,
}

impl Request {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (panics if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }

    /// A decoded query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (decode(k) == name).then(|| decode(v))
        })
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, v: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: v.to_string().into_bytes(),
        }
    }

    /// A plain-text answer.
    pub fn text(status: u16, text: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: text.as_bytes().to_vec(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A fault injected in place of (or around) the handler's answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answers this instead of calling the handler.
    Answer(Reply),
    /// Calls the handler and sends the first half of its body as the whole body.
    TruncatedJson,
    /// Calls the handler, announces its full length, sends half and closes.
    CutBody,
    /// Reads the request, then says nothing for this long and closes.
    Stall(Duration),
    /// Reads the request and closes without an answer.
    Drop,
    /// Calls the handler (its effects happen) and closes without an answer.
    DropAfterHandling,
}

type Handler = Box<dyn Fn(&Request) -> Reply + Send + Sync>;

struct Shared {
    handler: Handler,
    faults: Mutex<Vec<(String, VecDeque<Fault>)>>,
    log: Mutex<Vec<(Request, Option<String>)>>,
    latency: Mutex<Duration>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// The running server; it stops when dropped (its tasks end with the test's runtime).
pub struct FaultServer {
    pub addr: std::net::SocketAddr,
    shared: Arc<Shared>,
}

impl FaultServer {
    /// Starts a server answering with `handler` on 127.0.0.1 (a free port).
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            latency: Mutex::new(Duration::ZERO),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let s = shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, s).await;
                });
            }
        });
        FaultServer { addr, shared }
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Makes the next requests whose `METHOD /path` starts with `prefix` meet `faults`, one
    /// fault per request, in order.
    pub fn inject(&self, prefix: &str, faults: impl IntoIterator<Item = Fault>) {
        let mut f = self.shared.faults.lock().unwrap();
        f.push((prefix.to_string(), faults.into_iter().collect()));
    }

    /// Delays every handled answer by `d` (a simulated model latency).
    pub fn set_latency(&self, d: Duration) {
        *self.shared.latency.lock().unwrap() = d;
    }

    /// Every request received, with the name of the fault it met.
    pub fn log(&self) -> Vec<(Request, Option<String>)> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Requests whose `METHOD /path` starts with `prefix`.
    pub fn requests(&self, prefix: &str) -> Vec<Request> {
        self.log()
            .into_iter()
            .map(|(r, _)| r)
            .filter(|r| format!("{} {}", r.method, r.path).starts_with(prefix))
            .collect()
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

fn next_fault(shared: &Shared, req: &Request) -> Option<Fault> {
    let line = format!("{} {}", req.method, req.path);
    let mut faults = shared.faults.lock().unwrap();
    faults
        .iter_mut()
        .find(|(prefix, q)| line.starts_with(prefix.as_str()) && !q.is_empty())
        .and_then(|(_, q)| q.pop_front())
}

async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    buf.drain(..head_end + 4);
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(p) = buf.windows(2).position(|w| w == b"\r\n") {
                    break p;
                }
                fill(stream, buf).await?;
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            buf.drain(..line_end + 2);
            while buf.len() < size + 2 {
                fill(stream, buf).await?;
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
            if size == 0 {
                break body;
            }
        }
    } else {
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < len {
            fill(stream, buf).await?;
        }
        buf.drain(..len).collect()
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some(Request {
        method,
        path,
        query,
        headers,
        body,
        at: Instant::now(),
    })
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await.ok()?;
    if n == 0 {
        return None;
    }
    buf.extend_from_slice(&chunk[..n]);
    Some(())
}

fn head(status: u16, headers: &[(String, String)], len: usize) -> Vec<u8> {
    let mut h = format!("HTTP/1.1 {status} X\r\ncontent-length: {len}\r\n");
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut stream, &mut buf).await {
        let fault = next_fault(&shared, &req);
        let name = fault.as_ref().map(|f| format!("{f:?}"));
        shared.log.lock().unwrap().push((req.clone(), name));
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let latency = *shared.latency.lock().unwrap();
        let result = answer(&mut stream, &shared, &req, fault, latency).await;
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !result? {
            return Ok(());
        }
    }
    Ok(())
}

/// Answers one request; `false` when the connection is to be closed.
async fn answer(
    stream: &mut TcpStream,
    shared: &Shared,
    req: &Request,
    fault: Option<Fault>,
    latency: Duration,
) -> std::io::Result<bool> {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let reply = match fault {
        None => (shared.handler)(req),
        Some(Fault::Answer(r)) => r,
        Some(Fault::TruncatedJson) => {
            let mut r = (shared.handler)(req);
            r.body.truncate(r.body.len() / 2);
            r
        }
        Some(Fault::CutBody) => {
            let r = (shared.handler)(req);
            stream
                .write_all(&head(r.status, &r.headers, r.body.len()))
                .await?;
            stream.write_all(&r.body[..r.body.len() / 2]).await?;
            stream.flush().await?;
            return Ok(false);
        }
        Some(Fault::Stall(d)) => {
            tokio::time::sleep(d).await;
            return Ok(false);
        }
        Some(Fault::Drop) => return Ok(false),
        Some(Fault::DropAfterHandling) => {
            let _ = (shared.handler)(req);
            return Ok(false);
        }
    };
    stream
        .write_all(&head(reply.status, &reply.headers, reply.body.len()))
        .await?;
    stream.write_all(&reply.body).await?;
    stream.flush().await?;
    Ok(true)
}
