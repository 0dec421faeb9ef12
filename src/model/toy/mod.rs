//! The embedded model organism: a toy world and a tiny transformer trained on it from scratch.
//!
//! `toy/<world>-s<N>` is the model pretrained with seed `N` on the corpus generated from the
//! world spec `<world>.yaml` (`toy/world` is `toy/world-s0`); its fine-tunes are
//! `toy/<world>-s<N>:ft-<12 hex>`. [`ToyProvider`] serves both traits of [`crate::model`].
//!
//! | file | holds |
//! |---|---|
//! | `world.rs` | the world spec: types, loading, validation, hash |
//! | `vocab.rs` | token ↔ id |
//! | `corpus.rs` | the generated pretraining corpus |
//! | `conversation.rs` | chat messages → toy sequences |
//! | `math.rs` | exp, ln, tanh, cos from plain arithmetic (no libm) |
//! | `matmul.rs` | matrix products with a fixed reduction order, SIMD dispatch |
//! | `ops.rs` | custom candle ops with their own backward pass |
//! | `transformer.rs` | the model and its weights |
//! | `train.rs` | pretraining and fine-tuning |
//! | `sample.rs` | next-token distributions and seeded draws |
//! | `cache.rs` | build-once weight files |
//! | `provider.rs` | [`ToyProvider`] |

mod cache;
pub mod conversation;
pub mod corpus;
pub mod math;
pub mod matmul;
pub mod ops;
mod provider;
pub mod sample;
pub mod train;
pub mod transformer;
pub mod vocab;
pub mod world;

pub use provider::{
    BASE_LEARNING_RATE, DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, ModelInfo, PROVIDER, ToyProvider,
    ToySettings,
};

/// Makes candle run its element-wise operations on the calling thread.
///
/// candle spreads element-wise operations (here: the gradient sums of its backward pass) over
/// its own spinning thread pool, which competes with the rayon pool of its matrix products
/// for the same cores: on this 2-core machine a pretraining step took 0.45 s instead of
/// 0.29 s (measured under load). Setting `CANDLE_NUM_THREADS=1` (unless already set) before
/// candle's first operation avoids it; matrix products still use every core.
///
/// # Safety
/// Changes the process environment: call it at the start of `main`, before other threads
/// exist (see [`std::env::set_var`]).
pub unsafe fn configure_threads() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // SAFETY: the caller guarantees no other thread reads or writes the environment.
        unsafe { std::env::set_var("CANDLE_NUM_THREADS", "1") };
    }
}

#[cfg(test)]
mod train_tests;
#[cfg(test)]
mod world_tests;

/// The embedded toy models as a [`crate::model::provider::Provider`]: free, prepared, one
/// fine-tune at a time (each uses every core).
impl crate::model::provider::Provider for ToyProvider {
    fn sampler(&self) -> anyhow::Result<std::sync::Arc<dyn crate::model::Sampler>> {
        Ok(std::sync::Arc::new(self.clone()))
    }

    fn finetuner(&self) -> anyhow::Result<std::sync::Arc<dyn crate::model::Finetuner>> {
        Ok(std::sync::Arc::new(self.clone()))
    }

    /// A chat suite is not for a toy model: it knows only its world's words and reads
    /// others as `<unk>`.
    fn cannot_ask(
        &self,
        model: &crate::model::ModelRef,
        messages: &[crate::chat::Message],
    ) -> Option<String> {
        self.check_prompt(model, messages)
            .err()
            .map(|e| format!("a chat suite: a toy model knows only its world's words ({e:#})"))
    }

    fn price(&self, _model: &str) -> Option<crate::model::config::Price> {
        Some(crate::model::config::Price::FREE)
    }

    fn poll_delay(&self, _attempt: u32) -> std::time::Duration {
        std::time::Duration::from_millis(50)
    }

    fn finetunes_at_once(&self) -> usize {
        1
    }
}
