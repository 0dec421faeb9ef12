//! `weirdgen jobs --cancel PREFIX`: asks the provider to stop unfinished fine-tunes and
//! records their state.

use super::args::Cli;
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::ExitCode;
use weirdgen::model::registry::Providers;
use weirdgen::model::{JobState, ModelRef};
use weirdgen::store::{Store, now};
use weirdgen::terminal::printable;

/// Cancels the unfinished jobs whose key or provider id starts with `prefix`.
pub async fn cancel_jobs(cli: &Cli, prefix: &str) -> Result<ExitCode> {
    if prefix.len() < 4 {
        bail!("give at least 4 characters of the job's key or id");
    }
    let store = Store::open(&cli.store)?;
    let store_dir = cli.store.parent().unwrap_or(Path::new(""));
    let providers = Providers::new(store_dir, &cli.suites);
    let jobs: Vec<_> = store
        .jobs()?
        .into_iter()
        .filter(|j| {
            j.key.starts_with(prefix)
                || j.job_id.as_deref().is_some_and(|id| id.starts_with(prefix))
        })
        .collect();
    if jobs.is_empty() {
        bail!("no job whose key or id starts with `{prefix}`");
    }
    for mut j in jobs {
        let Some(id) = j.job_id.clone() else {
            println!(
                "{}  has no provider job yet: nothing to cancel",
                &j.key[..12]
            );
            continue;
        };
        if JobState::parse(&j.state).is_final() {
            println!(
                "{}  {} is already {}",
                &j.key[..12],
                printable(&id),
                j.state
            );
            continue;
        }
        let base: ModelRef = j.base_model.parse()?;
        let finetuner = providers.finetuner(&base)?;
        finetuner
            .cancel(&id)
            .await
            .with_context(|| format!("cancelling {id}"))?;
        let st = finetuner.status(&id).await?;
        j.state = st.state.as_str().to_string();
        j.error = st
            .error
            .or(Some("cancelled with `weirdgen jobs --cancel`".into()));
        j.updated_at = now();
        store.put_job(&j)?;
        println!("{}  {} is now {}", &j.key[..12], printable(&id), j.state);
    }
    providers.close().await;
    Ok(ExitCode::SUCCESS)
}
