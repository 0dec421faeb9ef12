//! The bridge process: `python/weirdgen_ow_bridge.py` (or the command in
//! `WEIRDGEN_OW_BRIDGE`) speaking JSON lines on stdin/stdout, one request at a time.
//!
//! The first line the bridge prints says whether it is ready; every later line answers one
//! request: `{"id": N, "ok": true, "result": ...}` or `{"id": N, "ok": false, "kind": ...,
//! "error": ...}`. A bridge that dies is started again on the next request. [`Bridge::close`]
//! ends it the way it expects: its stdin closes, it takes down the deployments it started and
//! exits; it is killed only if it has not exited after [`CLOSE_WAIT`]. It runs in its own
//! process group, so a Ctrl-C at the terminal reaches weirdgen, which then closes it, and not
//! the bridge in the middle of a request.

use crate::model::redact::scrub;
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::Mutex;

/// The bridge protocol this weirdgen speaks.
pub const PROTOCOL: u64 = 1;
/// The environment variable naming a bridge command to run instead of the embedded script.
pub const BRIDGE_ENV: &str = "WEIRDGEN_OW_BRIDGE";
/// The environment variable holding the OpenWeights key (read by the bridge, never by weirdgen).
pub const KEY_ENV: &str = "OPENWEIGHTS_API_KEY";

/// How long a closing bridge may take to take its deployments down and exit.
pub const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

const SCRIPT: &str = include_str!("../../../python/weirdgen_ow_bridge.py");

/// Why the OpenWeights side refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The API key's spending limit is reached.
    SpendingLimit,
    /// No such job (deleted, or never created in this organization).
    NotFound,
    /// The key was revoked, expired or is unknown.
    Auth,
    /// Any other failure.
    Other,
}

/// A request the OpenWeights side answered with an error.
#[derive(Debug, Clone)]
pub struct BridgeError {
    pub refusal: Refusal,
    pub message: String,
}

impl std::fmt::Display for BridgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.refusal {
            Refusal::SpendingLimit => write!(
                f,
                "OpenWeights refused the job: the spending limit of this API key is reached ({}). \
                 An organization admin can raise it in the OpenWeights dashboard, or use a key with \
                 budget left; jobs canceled by the limit start again on the next run",
                self.message
            ),
            Refusal::Auth => write!(
                f,
                "OpenWeights does not accept the key in {KEY_ENV} ({})",
                self.message
            ),
            Refusal::NotFound | Refusal::Other => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for BridgeError {}

fn refusal(kind: &str) -> Refusal {
    match kind {
        "spending_limit" => Refusal::SpendingLimit,
        "not_found" => Refusal::NotFound,
        "auth" => Refusal::Auth,
        _ => Refusal::Other,
    }
}

struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

/// A bridge, started on first use.
pub struct Bridge {
    command: Vec<String>,
    work_dir: PathBuf,
    process: Mutex<Option<Process>>,
}

impl Bridge {
    /// The bridge of `WEIRDGEN_OW_BRIDGE` if set, else the embedded script run by `python`
    /// (default `python3`); it writes its files under `work_dir`.
    pub fn from_env(work_dir: &Path, python: Option<&str>) -> Bridge {
        let command = match std::env::var(BRIDGE_ENV) {
            Ok(c) if !c.trim().is_empty() => c.split_whitespace().map(String::from).collect(),
            _ => {
                let python = python.unwrap_or("python3").to_string();
                let script = work_dir.join("weirdgen_ow_bridge.py");
                vec![python, script.display().to_string()]
            }
        };
        Bridge {
            command,
            work_dir: work_dir.to_path_buf(),
            process: Mutex::new(None),
        }
    }

    async fn spawn(&self) -> Result<Process> {
        std::fs::create_dir_all(&self.work_dir)
            .with_context(|| format!("cannot create {}", self.work_dir.display()))?;
        let script = self.work_dir.join("weirdgen_ow_bridge.py");
        if std::fs::read_to_string(&script).ok().as_deref() != Some(SCRIPT) {
            std::fs::write(&script, SCRIPT)
                .with_context(|| format!("cannot write {}", script.display()))?;
        }
        let log = std::fs::File::create(self.work_dir.join("bridge.log"))?;
        let mut child = tokio::process::Command::new(&self.command[0])
            .args(&self.command[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start the OpenWeights bridge `{}` (install Python 3 and \
                     `pip install openweights==0.13.7`, see the README)",
                    self.command.join(" ")
                )
            })?;
        let stdin = child.stdin.take().context("the bridge has no stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().context("the bridge has no stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line).await?;
        let ready: Value = serde_json::from_str(line.trim()).map_err(|_| {
            anyhow!(
                "the OpenWeights bridge did not start (see {})",
                self.work_dir.join("bridge.log").display()
            )
        })?;
        if ready["ready"] != json!(true) {
            let err = BridgeError {
                refusal: refusal(ready["kind"].as_str().unwrap_or("")),
                message: clean(ready["error"].as_str().unwrap_or("no reason given")),
            };
            return Err(anyhow::Error::new(err).context("the OpenWeights bridge did not start"));
        }
        if ready["protocol"].as_u64() != Some(PROTOCOL) {
            bail!(
                "the OpenWeights bridge speaks protocol {}, weirdgen {PROTOCOL}",
                ready["protocol"]
            );
        }
        Ok(Process {
            child,
            stdin,
            stdout,
            next_id: 1,
        })
    }

    /// Ends the bridge, if it runs: closes its stdin and waits for it to exit (it takes its
    /// deployments down first), killing it after [`CLOSE_WAIT`].
    pub async fn close(&self) {
        let Some(Process {
            mut child, stdin, ..
        }) = self.process.lock().await.take()
        else {
            return;
        };
        drop(stdin);
        match tokio::time::timeout(CLOSE_WAIT, child.wait()).await {
            Ok(_) => {}
            Err(_) => {
                eprintln!(
                    "the OpenWeights bridge did not exit within {}s of being closed: killed (see {})",
                    CLOSE_WAIT.as_secs(),
                    self.work_dir.join("bridge.log").display()
                );
                let _ = child.kill().await;
            }
        }
    }

    /// Sends `op` with `args` and returns the result; a refusal is a [`BridgeError`].
    pub async fn call(&self, op: &str, args: Value) -> Result<Value> {
        let mut guard = self.process.lock().await;
        if guard.is_none() {
            *guard = Some(self.spawn().await?);
        }
        let p = guard.as_mut().expect("started above");
        let id = p.next_id;
        p.next_id += 1;
        let line = json!({"id": id, "op": op, "args": args}).to_string() + "\n";
        let reply = async {
            p.stdin.write_all(line.as_bytes()).await?;
            p.stdin.flush().await?;
            let mut text = String::new();
            if p.stdout.read_line(&mut text).await? == 0 {
                bail!("the OpenWeights bridge exited (see its log in bridge.log)");
            }
            let v: Value = serde_json::from_str(text.trim())
                .context("the OpenWeights bridge answered something that is not JSON")?;
            Ok(v)
        }
        .await;
        let v = match reply {
            Ok(v) if v["id"] == json!(id) => v,
            Ok(_) => {
                let _ = p.child.start_kill();
                *guard = None;
                bail!("the OpenWeights bridge answered out of turn");
            }
            Err(e) => {
                let _ = p.child.start_kill();
                *guard = None;
                return Err(e.context(format!("OpenWeights `{op}`")));
            }
        };
        if v["ok"] == json!(true) {
            return Ok(v["result"].clone());
        }
        Err(BridgeError {
            refusal: refusal(v["kind"].as_str().unwrap_or("")),
            message: clean(v["error"].as_str().unwrap_or("no message")),
        }
        .into())
    }
}

/// Text from the bridge without the key, should the SDK ever echo it.
fn clean(text: &str) -> String {
    let key = std::env::var(KEY_ENV).unwrap_or_default();
    scrub(text, &[key.trim()])
}

/// The refusal inside `e`, if the OpenWeights side refused.
pub fn refusal_of(e: &anyhow::Error) -> Option<Refusal> {
    e.chain()
        .find_map(|c| c.downcast_ref::<BridgeError>())
        .map(|b| b.refusal)
}
