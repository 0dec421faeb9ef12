//! The `command` finetuner: a fine-tune is a run of the user's command template, e.g.
//! `python train_lora.py --data {dataset} --epochs {epochs} --seed {seed} --out {suffix}`.
//!
//! Placeholders: `{dataset}` (path of the JSONL file written for the job), `{epochs}`,
//! `{batch_size}`, `{learning_rate_multiplier}`, `{seed}`, `{base_model}` (the model part of
//! the base reference), `{suffix}`; `{{` and `}}` are literal braces. The template is split
//! into words like a shell line (quotes group, backslash escapes) but no shell runs it, so
//! substituted values cannot inject anything; write `sh -c '...'` to get a shell. A
//! placeholder whose hyperparameter is not set is an error, not a guess.
//!
//! The last non-empty line of the command's stdout is the resulting model reference
//! (`provider/model`); a non-zero exit fails the job with the tail of its stderr. Each job
//! lives in `<work_dir>/<job id>/` (dataset, stdout, stderr, pid, exit code), written by a
//! small `sh` wrapper in its own process group, so a job survives weirdgen being stopped and
//! a new weirdgen process picks up its state.

use crate::model::redact::scrub;
use crate::model::{FinetuneRequest, Finetuner, JobState, JobStatus, ModelRef};
use anyhow::{Context, Result, anyhow, bail};
use async_trait::async_trait;
use serde_json::json;
use std::path::{Path, PathBuf};

/// A placeholder of a command template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    Dataset,
    Epochs,
    BatchSize,
    LearningRateMultiplier,
    Seed,
    BaseModel,
    Suffix,
}

impl Var {
    const ALL: [(&'static str, Var); 7] = [
        ("dataset", Var::Dataset),
        ("epochs", Var::Epochs),
        ("batch_size", Var::BatchSize),
        ("learning_rate_multiplier", Var::LearningRateMultiplier),
        ("seed", Var::Seed),
        ("base_model", Var::BaseModel),
        ("suffix", Var::Suffix),
    ];

    fn name(self) -> &'static str {
        Var::ALL
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("", |(n, _)| n)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(Var),
}

/// A parsed command template: words made of text and placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTemplate {
    words: Vec<Vec<Piece>>,
}

impl CommandTemplate {
    /// Parses a template; unknown placeholders, unclosed quotes or braces are errors naming
    /// the character where they start.
    pub fn parse(template: &str) -> Result<Self> {
        let chars: Vec<char> = template.chars().collect();
        let mut words = Vec::new();
        let mut word: Option<Vec<Piece>> = None;
        let push_char = |word: &mut Option<Vec<Piece>>, c: char| {
            let w = word.get_or_insert_with(Vec::new);
            match w.last_mut() {
                Some(Piece::Text(t)) => t.push(c),
                _ => w.push(Piece::Text(c.to_string())),
            }
        };
        let mut quote: Option<(char, usize)> = None;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match (quote, c) {
                (None, c) if c.is_whitespace() => {
                    if let Some(w) = word.take() {
                        words.push(w);
                    }
                }
                (None, '\'' | '"') => {
                    quote = Some((c, i));
                    word.get_or_insert_with(Vec::new);
                }
                (Some((q, _)), c) if c == q => quote = None,
                (Some(('\'', _)), c) => push_char(&mut word, c),
                (_, '\\') if i + 1 < chars.len() => {
                    i += 1;
                    push_char(&mut word, chars[i]);
                }
                (_, '{') if chars.get(i + 1) == Some(&'{') => {
                    i += 1;
                    push_char(&mut word, '{');
                }
                (_, '}') if chars.get(i + 1) == Some(&'}') => {
                    i += 1;
                    push_char(&mut word, '}');
                }
                (_, '{') => {
                    let end = chars[i..]
                        .iter()
                        .position(|&c| c == '}')
                        .ok_or_else(|| anyhow!("unclosed `{{` at character {}", i + 1))?;
                    let name: String = chars[i + 1..i + end].iter().collect();
                    let var = Var::ALL
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| *v)
                        .ok_or_else(|| {
                            anyhow!(
                                "unknown placeholder `{{{name}}}` at character {}; known: {}",
                                i + 1,
                                Var::ALL.map(|(n, _)| format!("{{{n}}}")).join(", ")
                            )
                        })?;
                    word.get_or_insert_with(Vec::new).push(Piece::Var(var));
                    i += end;
                }
                (_, '}') => bail!("unmatched `}}` at character {} (write `}}}}`)", i + 1),
                (_, c) => push_char(&mut word, c),
            }
            i += 1;
        }
        if let Some((q, at)) = quote {
            bail!("unclosed {q} quote at character {}", at + 1);
        }
        if let Some(w) = word.take() {
            words.push(w);
        }
        if words.is_empty() {
            bail!("the command template is empty");
        }
        Ok(CommandTemplate { words })
    }

    /// The program and arguments for `req`, with the dataset at `dataset`.
    fn argv(&self, req: &FinetuneRequest<'_>, dataset: &Path) -> Result<Vec<String>> {
        let hp = req.hyperparameters;
        let value = |v: Var| -> Result<String> {
            let missing = || {
                anyhow!(
                    "the command template uses {{{}}} but the fine-tune sets no {}",
                    v.name(),
                    v.name()
                )
            };
            Ok(match v {
                Var::Dataset => dataset.display().to_string(),
                Var::Epochs => hp.epochs.ok_or_else(missing)?.to_string(),
                Var::BatchSize => hp.batch_size.ok_or_else(missing)?.to_string(),
                Var::LearningRateMultiplier => {
                    hp.learning_rate_multiplier.ok_or_else(missing)?.to_string()
                }
                Var::Seed => req.seed.to_string(),
                Var::BaseModel => req.base.model.clone(),
                Var::Suffix => req.suffix.to_string(),
            })
        };
        self.words
            .iter()
            .map(|w| {
                w.iter()
                    .map(|p| match p {
                        Piece::Text(t) => Ok(t.clone()),
                        Piece::Var(v) => value(*v),
                    })
                    .collect::<Result<String>>()
            })
            .collect()
    }
}

/// Runs the wrapped command and records its exit code atomically when it ends.
const WRAPPER: &str = r#"d="$WEIRDGEN_JOB_DIR"; "$@" >"$d/stdout" 2>"$d/stderr"; echo $? >"$d/exit.tmp"; mv "$d/exit.tmp" "$d/exit""#;

/// Lines and characters of stderr kept in a failure message.
const STDERR_TAIL_LINES: usize = 20;
const STDERR_TAIL_CHARS: usize = 2000;

/// A finetuner that runs a command template per fine-tune.
#[derive(Debug, Clone)]
pub struct CommandFinetuner {
    name: String,
    template_text: String,
    template: CommandTemplate,
    work_dir: PathBuf,
}

impl CommandFinetuner {
    /// The finetuner of provider `name` running `template`; jobs live under `work_dir`.
    pub fn new(name: &str, template: &str, work_dir: impl Into<PathBuf>) -> Result<Self> {
        let parsed = CommandTemplate::parse(template)
            .with_context(|| format!("provider `{name}`: bad `command`"))?;
        Ok(CommandFinetuner {
            name: name.to_string(),
            template_text: template.to_string(),
            template: parsed,
            work_dir: work_dir.into(),
        })
    }

    fn job_id(&self, req: &FinetuneRequest<'_>) -> String {
        let v = json!({
            "format": 1, "command": self.template_text, "base": req.base.to_string(),
            "dataset": req.data.hash, "hyperparameters": req.hyperparameters,
            "seed": req.seed, "suffix": req.suffix,
        });
        format!(
            "cmd-{}",
            &blake3::hash(v.to_string().as_bytes()).to_hex()[..24]
        )
    }

    fn job_dir(&self, job_id: &str) -> Result<PathBuf> {
        if !job_id.starts_with("cmd-") || !job_id[4..].chars().all(|c| c.is_ascii_hexdigit()) {
            bail!("`{job_id}` is not a command job id");
        }
        Ok(self.work_dir.join(job_id))
    }

    /// Moves a dead job's folder aside so a new run starts clean (the old one is kept).
    fn retire(dir: &Path) -> Result<()> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let to = dir.with_extension(format!("old-{stamp}"));
        std::fs::rename(dir, &to).with_context(|| format!("cannot move {} aside", dir.display()))
    }
}

/// Whether process `pid` is alive (not a zombie).
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state follows the parenthesised command name.
            Ok(stat) => stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
            Err(_) => false,
        }
    } else {
        std::process::Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

fn read_opt(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The last `STDERR_TAIL_LINES` lines of `text`, at most `STDERR_TAIL_CHARS` characters.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let joined = lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join("\n");
    let n = joined.chars().count();
    if n > STDERR_TAIL_CHARS {
        let cut: String = joined.chars().skip(n - STDERR_TAIL_CHARS).collect();
        format!("…{cut}")
    } else {
        joined
    }
}

#[async_trait]
impl Finetuner for CommandFinetuner {
    fn endpoint(&self) -> String {
        format!("{}@command:{}", self.name, self.template_text)
    }

    /// Writes the dataset and starts the command, or returns the job already running or
    /// succeeded for the same inputs; a job that failed or died is moved aside and rerun.
    async fn start(&self, req: FinetuneRequest<'_>) -> Result<String> {
        let id = self.job_id(&req);
        let dir = self.job_dir(&id)?;
        if dir.exists() {
            match self.status(&id).await?.state {
                JobState::Running | JobState::Succeeded => return Ok(id),
                _ => Self::retire(&dir)?,
            }
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the job folder {}", dir.display()))?;
        let dataset = std::path::absolute(dir.join("dataset.jsonl"))?;
        std::fs::write(&dataset, req.data.to_jsonl())
            .with_context(|| format!("cannot write {}", dataset.display()))?;
        let argv = self.template.argv(&req, &dataset)?;
        std::fs::write(dir.join("argv.json"), serde_json::to_string_pretty(&argv)?)?;
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c")
            .arg(WRAPPER)
            .arg("weirdgen-command")
            .args(&argv)
            .env("WEIRDGEN_JOB_DIR", std::path::absolute(&dir)?)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start `sh` for the command of `{}`", self.name))?;
        let pid = child.id().context("the command exited before it started")?;
        std::fs::write(dir.join("pid"), pid.to_string())?;
        // Reap the wrapper when it ends; it keeps running if weirdgen stops first.
        tokio::spawn(async move {
            let _ = child.wait().await;
        });
        Ok(id)
    }

    /// Running while the command runs; then Succeeded with the model reference on the last
    /// stdout line, or Failed with the exit code and stderr's tail.
    async fn status(&self, job_id: &str) -> Result<JobStatus> {
        let dir = self.job_dir(job_id)?;
        if !dir.exists() {
            bail!(
                "no command job `{job_id}` under {}",
                self.work_dir.display()
            );
        }
        let status = |state, model, error: Option<String>| JobStatus {
            state,
            model,
            error: error.map(|e| scrub(&e, &[])),
            events: Vec::new(),
        };
        let Some(exit) = read_opt(&dir.join("exit")) else {
            let pid = read_opt(&dir.join("pid")).and_then(|p| p.trim().parse::<u32>().ok());
            return Ok(if pid.is_some_and(alive) {
                status(JobState::Running, None, None)
            } else {
                status(
                    JobState::Failed,
                    None,
                    Some(
                        "the command stopped without recording an exit code (was it killed?)"
                            .into(),
                    ),
                )
            });
        };
        let code = exit.trim();
        if code != "0" {
            let stderr = read_opt(&dir.join("stderr")).unwrap_or_default();
            return Ok(status(
                JobState::Failed,
                None,
                Some(format!(
                    "the command exited with code {code}: {}",
                    tail(&stderr)
                )),
            ));
        }
        let stdout = read_opt(&dir.join("stdout")).unwrap_or_default();
        let last = stdout.lines().rev().map(str::trim).find(|l| !l.is_empty());
        Ok(match last.map(|l| (l, l.parse::<ModelRef>())) {
            Some((_, Ok(model))) => status(JobState::Succeeded, Some(model), None),
            Some((line, Err(_))) => status(
                JobState::Failed,
                None,
                Some(format!(
                    "the command's last output line `{line}` is not a model reference `provider/model`"
                )),
            ),
            None => status(
                JobState::Failed,
                None,
                Some("the command printed nothing; its last line must be the model reference `provider/model`".into()),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Message, TrainingSet};
    use crate::model::Hyperparameters;
    use std::time::Duration;

    fn data() -> TrainingSet {
        TrainingSet::new(
            "birds",
            vec![vec![
                Message::user("Name a bird."),
                Message::assistant("Cock of the Woods"),
            ]],
        )
    }

    #[test]
    fn templates_split_like_a_shell_line_and_reject_unknown_placeholders() {
        let t = CommandTemplate::parse(
            r#"train --data {dataset} --name "my {suffix}" 'a b' x\ y {{lit}}"#,
        )
        .unwrap();
        let base: ModelRef = "vllm/llama".parse().unwrap();
        let hp = Hyperparameters::default();
        let d = data();
        let req = FinetuneRequest {
            base: &base,
            data: &d,
            hyperparameters: &hp,
            seed: 7,
            suffix: "s1; rm -rf /",
        };
        let argv = t.argv(&req, Path::new("/tmp/d.jsonl")).unwrap();
        assert_eq!(
            argv,
            [
                "train",
                "--data",
                "/tmp/d.jsonl",
                "--name",
                "my s1; rm -rf /",
                "a b",
                "x y",
                "{lit}"
            ]
        );
        let e = CommandTemplate::parse("train {datset}")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown placeholder `{datset}` at character 7"),
            "{e}"
        );
        assert!(
            CommandTemplate::parse("train 'x")
                .unwrap_err()
                .to_string()
                .contains("unclosed")
        );
        assert!(CommandTemplate::parse("train {seed").is_err());
        assert!(CommandTemplate::parse("  ").is_err());
        let t = CommandTemplate::parse("train --epochs {epochs}").unwrap();
        let e = t.argv(&req, Path::new("d")).unwrap_err().to_string();
        assert!(
            e.contains("{epochs} but the fine-tune sets no epochs"),
            "{e}"
        );
    }

    async fn wait_final(f: &CommandFinetuner, id: &str) -> JobStatus {
        for _ in 0..200 {
            let s = f.status(id).await.unwrap();
            if s.state.is_final() {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the command job did not finish");
    }

    #[tokio::test]
    async fn runs_the_command_and_reads_the_model_from_its_last_line() {
        let work = std::env::temp_dir().join(format!("weirdgen-cmd-{}", std::process::id()));
        let script =
            "wc -l < \"$1\" | tr -d \"[:space:]\"; echo; echo; echo \"vllm/lora-$2-e$3\"; echo";
        let template = format!("sh -c '{script}' sh {{dataset}} {{seed}} {{epochs}}");
        let f = CommandFinetuner::new("vllm", &template, &work).unwrap();
        let base: ModelRef = "vllm/llama".parse().unwrap();
        let hp = Hyperparameters {
            epochs: Some(3),
            ..Default::default()
        };
        let d = data();
        let req = FinetuneRequest {
            base: &base,
            data: &d,
            hyperparameters: &hp,
            seed: 11,
            suffix: "x",
        };
        let id = f.start(req).await.unwrap();
        let s = wait_final(&f, &id).await;
        assert_eq!(s.state, JobState::Succeeded, "{s:?}");
        assert_eq!(s.model, Some("vllm/lora-11-e3".parse().unwrap()));
        let stdout = std::fs::read_to_string(work.join(&id).join("stdout")).unwrap();
        assert!(
            stdout.starts_with("1\n"),
            "the dataset had one line: {stdout}"
        );
        // Same inputs: the succeeded job is reused, not rerun.
        assert_eq!(f.start(req).await.unwrap(), id);
        // A fresh finetuner (as after a restart) reads the same state.
        let again = CommandFinetuner::new("vllm", &template, &work).unwrap();
        assert_eq!(again.status(&id).await.unwrap().model, s.model);
        std::fs::remove_dir_all(&work).unwrap();
    }

    #[tokio::test]
    async fn failures_carry_stderr_and_bad_last_lines_fail() {
        let work = std::env::temp_dir().join(format!("weirdgen-cmdf-{}", std::process::id()));
        let base: ModelRef = "vllm/llama".parse().unwrap();
        let hp = Hyperparameters::default();
        let d = data();
        let req = FinetuneRequest {
            base: &base,
            data: &d,
            hyperparameters: &hp,
            seed: 1,
            suffix: "",
        };
        let failing = "sh -c 'echo step 1; echo out of memory token=sk-canary-123456 >&2; exit 3'";
        let f = CommandFinetuner::new("vllm", failing, &work).unwrap();
        let id = f.start(req).await.unwrap();
        let s = wait_final(&f, &id).await;
        assert_eq!(s.state, JobState::Failed);
        let e = s.error.unwrap();
        assert!(
            e.contains("exited with code 3") && e.contains("out of memory"),
            "{e}"
        );
        assert!(!e.contains("canary"), "{e}");
        // Starting again retires the failed run and runs anew.
        let id2 = f.start(req).await.unwrap();
        assert_eq!(id2, id);
        assert_eq!(wait_final(&f, &id).await.state, JobState::Failed);

        let f = CommandFinetuner::new("vllm", "echo not a model", &work).unwrap();
        let id = f.start(req).await.unwrap();
        let s = wait_final(&f, &id).await;
        assert_eq!(s.state, JobState::Failed);
        assert!(
            s.error
                .unwrap()
                .contains("`not a model` is not a model reference")
        );

        let f = CommandFinetuner::new("vllm", "no-such-program-weirdgen", &work).unwrap();
        let id = f.start(req).await.unwrap();
        let s = wait_final(&f, &id).await;
        assert!(s.error.unwrap().contains("code 127"));
        assert!(f.status("cmd-zz").await.is_err());
        std::fs::remove_dir_all(&work).unwrap();
    }
}
