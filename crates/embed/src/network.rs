//! The network: a deep averaging network over convolutional n-gram features (Universal Sentence
//! Encoder multilingual v3), as the reference's numpy pass computes it, one text at a time.
//!
//! Tokens are looked up in an 8-bit embedding table (17 blocks by id modulo 17, each with its own
//! scale and offset), projected to three 256-wide branches, each of which runs two residual
//! convolutions over n-grams (2, 3 and 5 tokens wide) inside the text; the layer-normalised token
//! features are averaged (divided by the square root of their count, as the model was trained) and
//! pass four dense layers to a unit vector.
//!
//! What a token gives whatever its neighbours (its branch inputs, and its term in each first
//! convolution for each place of the window) is computed once per token id and kept ([`Terms`]);
//! only the second convolutions and the layers after them run for every text.

use crate::{DIMENSIONS, Error};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Slice};
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

const BLOCKS: usize = 17;
const EMBEDDING: usize = 512;
const BRANCH: usize = 256;
/// (n-gram width, tokens of left context) of the three branches.
const ORDERS: [(usize, usize); 3] = [(2, 0), (3, 1), (5, 2)];
const FEATURES: usize = EMBEDDING + ORDERS.len() * BRANCH;
/// The length of a token's [`Terms`]: the three branches' inputs, then each branch's terms, one
/// block of [`BRANCH`] for each place of its window.
const TERMS: usize = 3 * BRANCH + (2 + 3 + 5) * BRANCH;
/// Token ids whose [`Terms`] are kept (13 KB each, 54 MB in all): the ids of the workspace's
/// common words, which make most of any text's tokens.
const TERMS_KEPT: usize = 4096;

/// What a token gives on its own, whatever its neighbours: its projected, normalised features
/// (the three branches' inputs) and, for each branch and each place in that branch's window, its
/// term of the branch's first convolution. About 60 % of a token's arithmetic, done once per id
/// and kept; the second convolutions, which read each token's neighbours, are computed every time.
type Terms = Arc<[f32]>;

struct Branch {
    width: usize,
    left: usize,
    /// The first convolution's weights with its `width` blocks of rows side by side (256 x
    /// width*256): one input row times it gives that row's term for each place in a window.
    w1: Array2<f32>,
    b1: Array1<f32>,
    w2: Array2<f32>,
    b2: Array1<f32>,
}

pub(crate) struct Network {
    /// The 8-bit embedding of each token id, row by row.
    table: Vec<u8>,
    rows: usize,
    scale: Vec<f32>,
    low: Vec<f32>,
    projection: Array2<f32>,
    projection_bias: Array1<f32>,
    projection_gain: Array1<f32>,
    projection_shift: Array1<f32>,
    branches: Vec<Branch>,
    gain: Array1<f32>,
    shift: Array1<f32>,
    /// The pooling and dense layers' weights, one row per output (see [`dense`]).
    pool: Array2<f32>,
    pool_bias: Array1<f32>,
    d0: Array2<f32>,
    d1: Array2<f32>,
    d2: Array2<f32>,
    d3: Array2<f32>,
    p1: Array2<f32>,
    p3: Array2<f32>,
    eps: f32,
    /// The [`Terms`] of the ids met lately.
    kept: quick_cache::sync::Cache<u32, Terms>,
}

impl Network {
    pub(crate) fn parse(npz: &[u8]) -> Result<Self, Error> {
        let mut arrays = Arrays(read_npz(npz)?);
        let blocks: Vec<Npy> = (1..=BLOCKS)
            .map(|b| arrays.take(&format!("q{b}")))
            .collect::<Result<_, _>>()?;
        let per_block = blocks[0].shape.first().copied().unwrap_or(0);
        if blocks
            .iter()
            .any(|b| b.shape != [per_block, EMBEDDING] || b.bytes.len() != per_block * EMBEDDING)
        {
            return Err(Error::Weights(
                "the embedding blocks differ in shape".into(),
            ));
        }
        // Row `id` of the table is row `id / 17` of block `id % 17`.
        let rows = per_block * BLOCKS;
        let mut table = vec![0_u8; rows * EMBEDDING];
        for (id, row) in table.chunks_exact_mut(EMBEDDING).enumerate() {
            let (block, at) = (id % BLOCKS, id / BLOCKS);
            row.copy_from_slice(&blocks[block].bytes[at * EMBEDDING..(at + 1) * EMBEDDING]);
        }
        drop(blocks);
        let projections: Vec<Array2<f32>> = [2, 3, 5]
            .iter()
            .map(|n| arrays.matrix(&format!("proj{n}")))
            .collect::<Result<_, _>>()?;
        let views: Vec<ArrayView2<f32>> = projections.iter().map(|p| p.view()).collect();
        let projection =
            ndarray::concatenate(Axis(1), &views).map_err(|e| Error::Weights(e.to_string()))?;
        let mut branches = Vec::new();
        for (n, (width, left)) in [2, 3, 5].into_iter().zip(ORDERS) {
            branches.push(Branch {
                width,
                left,
                w1: side_by_side(arrays.matrix(&format!("w1_{n}"))?, width)?,
                b1: arrays.vector(&format!("b1_{n}"))?,
                w2: arrays.matrix(&format!("w2_{n}"))?,
                b2: arrays.vector(&format!("b2_{n}"))?,
            });
        }
        let network = Network {
            table,
            rows,
            scale: arrays.vector("scale")?.to_vec(),
            low: arrays.vector("lo")?.to_vec(),
            projection,
            projection_bias: arrays.joined("proj_b")?,
            projection_gain: arrays.joined("ln_g")?,
            projection_shift: arrays.joined("ln_b")?,
            branches,
            gain: arrays.vector("ln_g")?,
            shift: arrays.vector("ln_b")?,
            pool: by_output(arrays.matrix("cnn_W")?),
            pool_bias: arrays.vector("cnn_b")?,
            d0: by_output(arrays.matrix("d0")?),
            d1: by_output(arrays.matrix("d1")?),
            d2: by_output(arrays.matrix("d2")?),
            d3: by_output(arrays.matrix("d3")?),
            p1: by_output(arrays.matrix("p1")?),
            p3: by_output(arrays.matrix("p3")?),
            eps: arrays.vector("eps")?.first().copied().unwrap_or(1e-12),
            kept: quick_cache::sync::Cache::new(TERMS_KEPT),
        };
        network.check()?;
        Ok(network)
    }

    /// Every shape the pass relies on, so a wrong file fails at load and never in a request.
    fn check(&self) -> Result<(), Error> {
        let shape = |m: &Array2<f32>| (m.nrows(), m.ncols());
        let mut ok = self.scale.len() == BLOCKS
            && self.low.len() == BLOCKS
            && shape(&self.projection) == (EMBEDDING, 3 * BRANCH)
            && [
                &self.projection_bias,
                &self.projection_gain,
                &self.projection_shift,
            ]
            .iter()
            .all(|v| v.len() == 3 * BRANCH)
            && self.gain.len() == FEATURES
            && self.shift.len() == FEATURES
            && shape(&self.pool) == (EMBEDDING, FEATURES)
            && self.pool_bias.len() == EMBEDDING;
        let hidden = self.d0.nrows();
        ok &= shape(&self.d0) == (hidden, EMBEDDING)
            && shape(&self.p1) == (hidden, EMBEDDING)
            && shape(&self.d1) == (hidden, hidden)
            && shape(&self.d2) == (DIMENSIONS, hidden)
            && shape(&self.p3) == (DIMENSIONS, hidden)
            && shape(&self.d3) == (DIMENSIONS, DIMENSIONS);
        for b in &self.branches {
            ok &= shape(&b.w1) == (BRANCH, b.width * BRANCH)
                && shape(&b.w2) == (b.width * BRANCH, BRANCH)
                && b.b1.len() == BRANCH
                && b.b2.len() == BRANCH;
        }
        if ok {
            Ok(())
        } else {
            Err(Error::Weights("an array has an unexpected shape".into()))
        }
    }

    /// The vectors of several texts' token ids, run as one batch: the tokens of all of them pass
    /// each layer together (one matrix product per layer streams each weight matrix once for the
    /// batch), and the n-gram windows stop at each text's edges.
    pub(crate) fn forward(&self, texts: &[Vec<u32>]) -> Vec<Vec<f32>> {
        // A text of no tokens reads as the unknown token (none comes from the tokenizer), and so
        // does an id past the table (none in this vocabulary).
        let texts: Vec<&[u32]> = texts
            .iter()
            .map(|ids| {
                if ids.is_empty() {
                    &[0][..]
                } else {
                    ids.as_slice()
                }
            })
            .collect();
        let ids: Vec<u32> = texts
            .iter()
            .flat_map(|ids| ids.iter())
            .map(|&id| if (id as usize) < self.rows { id } else { 0 })
            .collect();
        let mut segments = Vec::with_capacity(texts.len());
        let mut n = 0;
        for ids in &texts {
            segments.push((n, ids.len()));
            n += ids.len();
        }
        let terms = self.terms(&ids);
        let mut features = Array2::<f32>::zeros((n, FEATURES));
        for (t, &id) in ids.iter().enumerate() {
            features
                .row_mut(t)
                .slice_axis_mut(Axis(0), Slice::from(..EMBEDDING))
                .assign(&ArrayView1::from(&self.embedding(id)));
        }
        let mut at = 3 * BRANCH;
        for (i, branch) in self.branches.iter().enumerate() {
            // The first convolution, from each token's kept terms.
            let mut h = Array2::<f32>::zeros((n, BRANCH));
            for &(start, len) in &segments {
                for t in start..start + len {
                    let mut row = h.row_mut(t);
                    row.assign(&branch.b1);
                    for k in 0..branch.width {
                        let Some(source) = (t + k)
                            .checked_sub(branch.left)
                            .filter(|&s| s >= start && s < start + len)
                        else {
                            continue;
                        };
                        let term = &terms[source][at + k * BRANCH..at + (k + 1) * BRANCH];
                        row.iter_mut().zip(term).for_each(|(o, v)| *o += v);
                    }
                    let input = &terms[t][i * BRANCH..(i + 1) * BRANCH];
                    row.iter_mut()
                        .zip(input)
                        .for_each(|(o, v)| *o = o.max(0.0) + v);
                }
            }
            at += branch.width * BRANCH;
            let mut out = windows(h.view(), branch.width, branch.left, &segments).dot(&branch.w2);
            out += &branch.b2;
            out.mapv_inplace(|v| v.max(0.0));
            out += &h;
            let at = EMBEDDING + i * BRANCH;
            features
                .slice_axis_mut(Axis(1), Slice::from(at..at + BRANCH))
                .assign(&out);
        }
        layer_norm(&mut features, &self.gain, &self.shift, self.eps);
        // The sum commutes with the linear pooling layer: project each text's sum, not every
        // token.
        let mut sums = Array2::<f32>::zeros((segments.len(), FEATURES));
        for (row, &(start, len)) in sums.rows_mut().into_iter().zip(&segments) {
            let mut row = row;
            row.assign(
                &features
                    .slice_axis(Axis(0), Slice::from(start..start + len))
                    .sum_axis(Axis(0)),
            );
        }
        let mut mean = dense(&sums, &self.pool);
        for (mut row, &(_, len)) in mean.rows_mut().into_iter().zip(&segments) {
            let count = len as f32;
            row.scaled_add(count, &self.pool_bias);
            row /= count.sqrt();
        }
        let relu = |v: f32| v.max(0.0);
        let y0 = dense(&mean, &self.d0).mapv(relu);
        let y1 = (dense(&mean, &self.p1) + dense(&y0, &self.d1)).mapv(relu);
        let y2 = dense(&y1, &self.d2).mapv(relu);
        let z = (dense(&y1, &self.p3) + dense(&y2, &self.d3)).mapv(f32::tanh);
        z.rows()
            .into_iter()
            .map(|row| {
                let norm = row.dot(&row).max(self.eps).sqrt();
                row.iter().map(|v| v / norm).collect()
            })
            .collect()
    }

    /// The 8-bit embedding of a token id, as floats.
    fn embedding(&self, id: u32) -> [f32; EMBEDDING] {
        let id = id as usize;
        let (scale, low) = (self.scale[id % BLOCKS], self.low[id % BLOCKS]);
        let mut out = [0.0; EMBEDDING];
        for (out, &q) in out
            .iter_mut()
            .zip(&self.table[id * EMBEDDING..(id + 1) * EMBEDDING])
        {
            *out = f32::from(q) * scale + low;
        }
        out
    }

    /// The [`Terms`] of each token of `ids`, kept ones from memory, the others computed together
    /// (and kept).
    fn terms(&self, ids: &[u32]) -> Vec<Terms> {
        let mut known: HashMap<u32, Option<Terms>> = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for &id in ids {
            known.entry(id).or_insert_with(|| {
                let kept = self.kept.get(&id);
                if kept.is_none() {
                    missing.push(id);
                }
                kept
            });
        }
        if !missing.is_empty() {
            let mut embedded = Array2::<f32>::zeros((missing.len(), EMBEDDING));
            for (mut row, &id) in embedded.rows_mut().into_iter().zip(&missing) {
                row.assign(&ArrayView1::from(&self.embedding(id)));
            }
            let mut x = embedded.dot(&self.projection);
            x += &self.projection_bias;
            layer_norm(
                &mut x,
                &self.projection_gain,
                &self.projection_shift,
                self.eps,
            );
            let mut all = Array2::<f32>::zeros((missing.len(), TERMS));
            all.slice_axis_mut(Axis(1), Slice::from(..3 * BRANCH))
                .assign(&x);
            let mut at = 3 * BRANCH;
            for (i, branch) in self.branches.iter().enumerate() {
                let input = x.slice_axis(Axis(1), Slice::from(i * BRANCH..(i + 1) * BRANCH));
                let width = branch.width * BRANCH;
                all.slice_axis_mut(Axis(1), Slice::from(at..at + width))
                    .assign(&input.dot(&branch.w1));
                at += width;
            }
            for (row, id) in all.rows().into_iter().zip(missing) {
                let terms: Terms = row.to_vec().into();
                self.kept.insert(id, terms.clone());
                known.insert(id, Some(terms));
            }
        }
        ids.iter().filter_map(|id| known[id].clone()).collect()
    }
}

/// A layer's (inputs x outputs) weights as (outputs x inputs), for [`dense`].
fn by_output(w: Array2<f32>) -> Array2<f32> {
    w.reversed_axes().as_standard_layout().into_owned()
}

/// The rows of `x` through a layer whose weights are held one row per output. These layers run
/// once per text, not per token. A matrix product copies (packs) the whole matrix on every call:
/// for one text that copying was a third of its time, so a text alone takes a dot product per
/// output, which reads each weight once, in place. Three texts or more share one product.
fn dense(x: &Array2<f32>, w: &Array2<f32>) -> Array2<f32> {
    if x.nrows() >= 3 {
        return x.dot(&w.t());
    }
    let mut out = Array2::<f32>::zeros((x.nrows(), w.nrows()));
    for (x, mut out) in x.rows().into_iter().zip(out.rows_mut()) {
        out.assign(&w.dot(&x));
    }
    out
}

/// Rows k*256..(k+1)*256 of a convolution's (width*256 x 256) weights as columns k*256..(k+1)*256
/// of a (256 x width*256) matrix.
fn side_by_side(w: Array2<f32>, width: usize) -> Result<Array2<f32>, Error> {
    if w.dim() != (width * BRANCH, BRANCH) {
        return Err(Error::Weights(
            "a convolution has an unexpected shape".into(),
        ));
    }
    let blocks: Vec<ArrayView2<f32>> = (0..width)
        .map(|k| w.slice_axis(Axis(0), Slice::from(k * BRANCH..(k + 1) * BRANCH)))
        .collect();
    ndarray::concatenate(Axis(1), &blocks).map_err(|e| Error::Weights(e.to_string()))
}

/// Row t: the rows t - left .. t - left + width of `input`, side by side, zeros outside t's own
/// text (`segments`: each text's first row and length).
fn windows(
    input: ArrayView2<f32>,
    width: usize,
    left: usize,
    segments: &[(usize, usize)],
) -> Array2<f32> {
    let (n, d) = input.dim();
    let mut out = Array2::<f32>::zeros((n, width * d));
    for &(start, len) in segments {
        for t in start..start + len {
            for k in 0..width {
                let Some(source) = (t + k)
                    .checked_sub(left)
                    .filter(|&s| s >= start && s < start + len)
                else {
                    continue;
                };
                out.row_mut(t)
                    .slice_axis_mut(Axis(0), Slice::from(k * d..(k + 1) * d))
                    .assign(&input.row(source));
            }
        }
    }
    out
}

/// Normalises each row to mean 0 and variance 1, then scales and shifts it.
fn layer_norm(x: &mut Array2<f32>, gain: &Array1<f32>, shift: &Array1<f32>, eps: f32) {
    let width = x.ncols() as f32;
    for mut row in x.rows_mut() {
        let mean = row.sum() / width;
        row -= mean;
        let variance = row.dot(&row) / width;
        row *= 1.0 / (variance + eps).sqrt();
        row *= gain;
        row += shift;
    }
}

/// The arrays of the weights file, taken out one by one by name.
struct Arrays(HashMap<String, Npy>);

impl Arrays {
    fn take(&mut self, name: &str) -> Result<Npy, Error> {
        self.0
            .remove(name)
            .ok_or_else(|| Error::Weights(format!("{name} is missing")))
    }

    fn vector(&mut self, name: &str) -> Result<Array1<f32>, Error> {
        self.take(name)?.floats(name).map(Array1::from)
    }

    fn matrix(&mut self, name: &str) -> Result<Array2<f32>, Error> {
        self.take(name)?.matrix(name)
    }

    /// The vectors `{prefix}2`, `{prefix}3` and `{prefix}5` of the three branches, end to end.
    fn joined(&mut self, prefix: &str) -> Result<Array1<f32>, Error> {
        let mut out = Vec::new();
        for n in [2, 3, 5] {
            out.extend(self.vector(&format!("{prefix}{n}"))?);
        }
        Ok(Array1::from(out))
    }
}

/// One array of a `.npy` file: its shape and its little-endian bytes.
struct Npy {
    shape: Vec<usize>,
    descr: String,
    bytes: Vec<u8>,
}

impl Npy {
    fn floats(self, name: &str) -> Result<Vec<f32>, Error> {
        match self.descr.as_str() {
            "<f4" => Ok(self
                .bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()),
            "<f8" => Ok(self
                .bytes
                .chunks_exact(8)
                .map(|b| {
                    f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
                })
                .collect()),
            other => Err(Error::Weights(format!("{name} holds {other}, not floats"))),
        }
    }

    fn matrix(self, name: &str) -> Result<Array2<f32>, Error> {
        let [rows, cols] = self.shape[..] else {
            return Err(Error::Weights(format!("{name} is not a matrix")));
        };
        Array2::from_shape_vec((rows, cols), self.floats(name)?)
            .map_err(|e| Error::Weights(format!("{name}: {e}")))
    }
}

/// The arrays of an `.npz` file (a zip of `.npy` files), by name without `.npy`.
fn read_npz(npz: &[u8]) -> Result<HashMap<String, Npy>, Error> {
    let weights = |e: zip::result::ZipError| Error::Weights(e.to_string());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(npz)).map_err(weights)?;
    let mut arrays = HashMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(weights)?;
        let name = file
            .name()
            .map_err(weights)?
            .trim_end_matches(".npy")
            .to_owned();
        let mut bytes = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::Weights(format!("{name}: {e}")))?;
        arrays.insert(name.clone(), parse_npy(&name, bytes)?);
    }
    Ok(arrays)
}

/// A `.npy` file: a magic string, a version, a header (a Python dict literal naming the type, the
/// order and the shape), then the data. Only C-ordered little-endian arrays are accepted.
fn parse_npy(name: &str, mut bytes: Vec<u8>) -> Result<Npy, Error> {
    let bad = |why: &str| Error::Weights(format!("{name}: {why}"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy array"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad("unknown .npy version")),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or_else(|| bad("truncated header"))?;
    let header = String::from_utf8_lossy(header).into_owned();
    let value = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}':"))? + key.len() + 3;
        Some(header[at..].trim_start())
    };
    if value("fortran_order").is_none_or(|v| !v.starts_with("False")) {
        return Err(bad("not a C-ordered array"));
    }
    let descr = value("descr")
        .and_then(|v| v.strip_prefix('\''))
        .and_then(|v| v.split('\'').next());
    let descr = descr.ok_or_else(|| bad("no type"))?.to_owned();
    let shape = value("shape")
        .and_then(|v| v.strip_prefix('('))
        .and_then(|v| v.split(')').next())
        .ok_or_else(|| bad("no shape"))?;
    let shape: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("a dimension is not a number")))
        .collect::<Result<_, _>>()?;
    bytes.drain(..start + header_len);
    let item = match descr.as_str() {
        "|u1" | "|i1" => 1,
        "<f4" => 4,
        "<f8" => 8,
        other => return Err(bad(&format!("unsupported type {other}"))),
    };
    if bytes.len() != shape.iter().product::<usize>() * item {
        return Err(bad("data and shape disagree"));
    }
    Ok(Npy {
        shape,
        descr,
        bytes,
    })
}
