//! What a run on OpenWeights will cost, before any account exists: GPU hours from the
//! model's size and the token counts, dollars from the hardware's hourly price.
//!
//! Every figure is an estimate. Hourly prices are OpenWeights' indicative table (openweights
//! 0.13.7, `cluster/start_runpod.py`; RunPod bills its actual rate). Throughputs are
//! assumptions of this file: LoRA training at [`TRAIN_TOKENS_PER_S_AT_1B`] and vLLM
//! generation at [`GENERATE_TOKENS_PER_S_AT_1B`] tokens per second for a 1B model on an
//! A100, inversely proportional to the parameter count, scaled by the GPU's speed; plus a
//! fixed start-up per job (pod, image, weights) and per deployment. Sampling is priced both
//! ways: one deployment per base model, or (`--batch`) one inference job per sampled model.

use std::collections::BTreeMap;

/// One GPU OpenWeights provisions by default (its `VERIFIED_GPUs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gpu {
    /// OpenWeights' name, as in `allowed_hardware = ["1x <name>"]`.
    pub name: &'static str,
    pub memory_gb: u32,
    /// Indicative USD per hour.
    pub usd_per_hour: f64,
    /// Assumed speed relative to an A100.
    pub speed: f64,
}

/// The GPUs OpenWeights picks from, with OpenWeights' indicative prices.
pub const GPUS: &[Gpu] = &[
    Gpu {
        name: "A4500",
        memory_gb: 20,
        usd_per_hour: 0.32,
        speed: 0.35,
    },
    Gpu {
        name: "RTX3090",
        memory_gb: 24,
        usd_per_hour: 0.46,
        speed: 0.5,
    },
    Gpu {
        name: "A40",
        memory_gb: 48,
        usd_per_hour: 0.44,
        speed: 0.5,
    },
    Gpu {
        name: "6000Ada",
        memory_gb: 48,
        usd_per_hour: 0.77,
        speed: 0.9,
    },
    Gpu {
        name: "A100",
        memory_gb: 80,
        usd_per_hour: 1.39,
        speed: 1.0,
    },
    Gpu {
        name: "A100S",
        memory_gb: 80,
        usd_per_hour: 1.49,
        speed: 1.1,
    },
    Gpu {
        name: "H100S",
        memory_gb: 80,
        usd_per_hour: 2.69,
        speed: 2.0,
    },
    Gpu {
        name: "H100N",
        memory_gb: 94,
        usd_per_hour: 3.07,
        speed: 2.0,
    },
    Gpu {
        name: "H200",
        memory_gb: 141,
        usd_per_hour: 3.59,
        speed: 2.2,
    },
];

/// The environment variable choosing a GPU by name instead of the cheapest that fits (see
/// [`super::settings`]).
pub const GPU_ENV: &str = "WEIRDGEN_OW_GPU";
/// Assumed LoRA training throughput of a 1B model on an A100, tokens per second.
pub const TRAIN_TOKENS_PER_S_AT_1B: f64 = 30_000.0;
/// Assumed vLLM generation throughput of a 1B model on an A100 (batched), tokens per second.
pub const GENERATE_TOKENS_PER_S_AT_1B: f64 = 60_000.0;
/// Assumed start-up of a fine-tuning job (pod, image, weights, adapter push), hours.
pub const JOB_STARTUP_HOURS: f64 = 10.0 / 60.0;
/// Assumed start-up of a deployment (pod, image, weights, adapters), hours.
pub const DEPLOY_STARTUP_HOURS: f64 = 15.0 / 60.0;
/// The size assumed for a model whose name states none (OpenWeights' own guess).
pub const UNKNOWN_SIZE_B: f64 = 32.0;

/// Billions of parameters from a model name (`Qwen3-8B`, `Llama-3.2-1B-Instruct`,
/// `Qwen2.5-0.5B`), or `None`.
pub fn size_b(model: &str) -> Option<f64> {
    let name = model.rsplit('/').next().unwrap_or(model);
    let re = regex::Regex::new(r"(?i)(?:^|[-_.])(\d+(?:\.\d+)?)b(?:$|[-_.])").expect("valid");
    re.captures(name)?.get(1)?.as_str().parse().ok()
}

/// The VRAM a job on `model` asks for: 2 GB per billion parameters (16-bit weights) + 15,
/// as OpenWeights guesses for inference.
pub fn vram_gb(model: &str) -> u32 {
    (2.0 * size_b(model).unwrap_or(UNKNOWN_SIZE_B) + 15.0).ceil() as u32
}

/// The GPU for `need_gb`: `chosen` if the user chose one, else the cheapest of the
/// smallest memory tier that fits (5 GB kept free, as OpenWeights does).
pub fn gpu_for(need_gb: u32, chosen: Option<Gpu>) -> Gpu {
    if let Some(g) = chosen {
        return g;
    }
    let fits = GPUS
        .iter()
        .filter(|g| g.memory_gb.saturating_sub(5) >= need_gb);
    let tier = fits.clone().map(|g| g.memory_gb).min();
    fits.filter(|g| Some(g.memory_gb) == tier)
        .min_by(|a, b| a.usd_per_hour.total_cmp(&b.usd_per_hour))
        .copied()
        .unwrap_or(GPUS[GPUS.len() - 1])
}

/// GPU time of one base model's work.
#[derive(Debug, Clone, Default, PartialEq)]
struct Work {
    jobs: u64,
    /// Models sampled (the base and adapters): one inference job each under `--batch`.
    sampled: u64,
    training_tokens: u64,
    input_tokens: u64,
    output_tokens: u64,
}

/// GPU work of a run, by base model, to sum up into hours and dollars.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GpuPlan {
    by_base: BTreeMap<String, Work>,
}

/// A [`GpuPlan`] summed up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GpuSummary {
    pub jobs: u64,
    pub deployments: u64,
    pub hours: f64,
    pub usd: f64,
    /// Inference jobs, GPU hours and dollars when sampling goes through batch inference
    /// (`--batch`) instead of deployments; fine-tunes included.
    pub batch_jobs: u64,
    pub batch_hours: f64,
    pub batch_usd: f64,
    /// One line per base model: hardware, hours, price.
    pub lines: Vec<String>,
}

impl GpuPlan {
    /// One fine-tune of `base` on `tokens` tokens (all epochs).
    pub fn add_finetune(&mut self, base: &str, tokens: u64) {
        let w = self.by_base.entry(base.to_string()).or_default();
        w.jobs += 1;
        w.training_tokens += tokens;
    }

    /// Sampling `base` or one of its adapters.
    pub fn add_sampling(&mut self, base: &str, input_tokens: u64, output_tokens: u64) {
        let w = self.by_base.entry(base.to_string()).or_default();
        w.input_tokens += input_tokens;
        w.output_tokens += output_tokens;
        w.sampled += 1;
    }

    /// Hours and dollars per base model and in total, on the `chosen` GPU if any; `None`
    /// when nothing runs on GPUs.
    pub fn summary(&self, chosen: Option<Gpu>) -> Option<GpuSummary> {
        if self.by_base.is_empty() {
            return None;
        }
        let mut s = GpuSummary::default();
        for (base, w) in &self.by_base {
            let size = size_b(base).unwrap_or(UNKNOWN_SIZE_B).max(0.1);
            let gpu = gpu_for(vram_gb(base), chosen);
            let train_rate = TRAIN_TOKENS_PER_S_AT_1B * gpu.speed / size;
            let train_h =
                w.jobs as f64 * JOB_STARTUP_HOURS + w.training_tokens as f64 / train_rate / 3600.0;
            let sampling = w.input_tokens + w.output_tokens > 0;
            let gen_rate = GENERATE_TOKENS_PER_S_AT_1B * gpu.speed / size;
            // Prompt tokens are read about ten times faster than answers are written.
            let generate_h =
                (w.output_tokens as f64 + w.input_tokens as f64 / 10.0) / gen_rate / 3600.0;
            let sample_h = if sampling {
                DEPLOY_STARTUP_HOURS + generate_h
            } else {
                0.0
            };
            let batch_h = w.sampled as f64 * JOB_STARTUP_HOURS + generate_h;
            let hours = train_h + sample_h;
            let usd = hours * gpu.usd_per_hour;
            s.batch_jobs += w.sampled;
            s.batch_hours += train_h + batch_h;
            s.batch_usd += (train_h + batch_h) * gpu.usd_per_hour;
            s.jobs += w.jobs;
            s.deployments += u64::from(sampling);
            s.hours += hours;
            s.usd += usd;
            s.lines.push(format!(
                "{base}: 1x {} ({} GB, ${:.2}/h): {} fine-tune(s) ~{train_h:.2} h, {} deployment ~{sample_h:.2} h -> ~${usd:.2}; with --batch {} inference job(s) ~{batch_h:.2} h -> ~${:.2}",
                gpu.name,
                gpu.memory_gb,
                gpu.usd_per_hour,
                w.jobs,
                u64::from(sampling),
                w.sampled,
                (train_h + batch_h) * gpu.usd_per_hour,
            ));
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_come_from_names() {
        assert_eq!(size_b("unsloth/Qwen3-8B"), Some(8.0));
        assert_eq!(size_b("meta-llama/Llama-3.2-1B-Instruct"), Some(1.0));
        assert_eq!(size_b("Qwen/Qwen2.5-0.5B-Instruct"), Some(0.5));
        assert_eq!(size_b("unsloth/Qwen3-32B"), Some(32.0));
        assert_eq!(size_b("org/mystery-model"), None);
        assert_eq!(vram_gb("unsloth/Qwen3-8B"), 31);
        assert_eq!(vram_gb("org/mystery-model"), 79);
    }

    #[test]
    fn the_cheapest_gpu_of_the_smallest_tier_that_fits() {
        assert_eq!(gpu_for(10, None).name, "A4500");
        assert_eq!(gpu_for(19, None).name, "RTX3090");
        assert_eq!(gpu_for(31, None).name, "A40");
        assert_eq!(gpu_for(79, None).name, "H100N");
        assert_eq!(gpu_for(60, None).name, "A100");
    }

    #[test]
    fn hours_and_dollars_follow_the_assumptions() {
        let mut p = GpuPlan::default();
        // An 8B model on an A40 (speed 0.5): 3 jobs of 1.8M tokens each at 1875 tokens/s.
        for _ in 0..3 {
            p.add_finetune("unsloth/Qwen3-8B", 1_800_000);
        }
        p.add_sampling("unsloth/Qwen3-8B", 1_000_000, 3_000_000);
        let s = p.summary(None).unwrap();
        let train = 3.0 * JOB_STARTUP_HOURS + 5_400_000.0 / 1875.0 / 3600.0;
        let sample = DEPLOY_STARTUP_HOURS + 3_100_000.0 / 3750.0 / 3600.0;
        assert!((s.hours - (train + sample)).abs() < 1e-9, "{s:?}");
        assert!((s.usd - s.hours * 0.44).abs() < 1e-9);
        assert_eq!((s.jobs, s.deployments), (3, 1));
        // Under --batch: one inference job (with its start-up) per sampled model instead.
        let batch = train + JOB_STARTUP_HOURS + 3_100_000.0 / 3750.0 / 3600.0;
        assert_eq!(s.batch_jobs, 1);
        assert!((s.batch_hours - batch).abs() < 1e-9, "{s:?}");
        assert!((s.batch_usd - batch * 0.44).abs() < 1e-9);
        assert!(s.lines[0].contains("1x A40"), "{:?}", s.lines);
        assert_eq!(GpuPlan::default().summary(None), None);
    }
}
