//! Trino's binary functions DataFusion lacks: `from_utf8` (invalid UTF-8 replaced, not an
//! error), `from_base64` (padding optional, as Java's decoder reads it) and `murmur3`
//! (MurmurHash3 x64 128-bit, seed 0, as Trino's `Murmur3Hash128`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use crate::args::strings;
use crate::udf::{ArrayFunction, text};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf("from_utf8", &[1, 2], text, from_utf8),
        ArrayFunction::udf("murmur3", &[1], varbinary, murmur3),
        ArrayFunction::udf("from_base64", &[1], varbinary, from_base64),
    ]
}

fn varbinary(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Binary)
}

fn binaries(array: &ArrayRef, function: &str) -> Result<arrow::array::BinaryArray> {
    match array.data_type() {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Null => {
            Ok(cast(array, &DataType::Binary)?.as_binary::<i32>().clone())
        }
        other => exec_err!("{function} takes varbinary, got {other}"),
    }
}

/// Bytes as text; each invalid sequence becomes the replacement (U+FFFD unless one given,
/// which must be one character or empty).
fn from_utf8(args: &[ArrayRef]) -> Result<ArrayRef> {
    let bytes = binaries(&args[0], "from_utf8")?;
    let replacements = args.get(1).map(strings).transpose()?;
    let mut out = StringBuilder::new();
    for i in 0..bytes.len() {
        if bytes.is_null(i) || replacements.as_ref().is_some_and(|r| r.is_null(i)) {
            out.append_null();
            continue;
        }
        let replacement = replacements.as_ref().map_or("\u{FFFD}", |r| r.value(i));
        if replacement.chars().count() > 1 {
            return exec_err!(
                "from_utf8: the replacement {replacement:?} must be one character or empty"
            );
        }
        let mut text = String::new();
        for chunk in bytes.value(i).utf8_chunks() {
            text.push_str(chunk.valid());
            if !chunk.invalid().is_empty() {
                text.push_str(replacement);
            }
        }
        out.append_value(text);
    }
    Ok(Arc::new(out.finish()))
}

/// Base64 text (standard alphabet, `=` padding optional) as its bytes; bits left over after
/// the last whole byte are dropped.
fn base64_bytes(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

fn from_base64(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let mut out = BinaryBuilder::new();
    for i in 0..texts.len() {
        if texts.is_null(i) {
            out.append_null();
            continue;
        }
        match base64_bytes(texts.value(i)) {
            Some(bytes) => out.append_value(bytes),
            None => return exec_err!("from_base64: {:?} is not base64", texts.value(i)),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn murmur3(args: &[ArrayRef]) -> Result<ArrayRef> {
    let bytes = binaries(&args[0], "murmur3")?;
    let mut out = BinaryBuilder::new();
    for i in 0..bytes.len() {
        if bytes.is_null(i) {
            out.append_null();
        } else {
            out.append_value(murmur3_x64_128(bytes.value(i)));
        }
    }
    Ok(Arc::new(out.finish()))
}

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

fn mix_k1(k: u64) -> u64 {
    k.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

fn mix_k2(k: u64) -> u64 {
    k.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// MurmurHash3 x64 128 with seed 0: `h1` then `h2`, each little-endian.
fn murmur3_x64_128(data: &[u8]) -> [u8; 16] {
    let (mut h1, mut h2) = (0u64, 0u64);
    let blocks = data.chunks_exact(16);
    let tail = blocks.remainder();
    for block in blocks {
        let mut word = [0u8; 8];
        word.copy_from_slice(&block[..8]);
        let k1 = u64::from_le_bytes(word);
        word.copy_from_slice(&block[8..]);
        let k2 = u64::from_le_bytes(word);
        h1 ^= mix_k1(k1);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(k2);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let (mut k1, mut k2) = (0u64, 0u64);
    for (i, &b) in tail.iter().enumerate() {
        if i >= 8 {
            k2 ^= u64::from(b) << ((i - 8) * 8);
        } else {
            k1 ^= u64::from(b) << (i * 8);
        }
    }
    if tail.len() > 8 {
        h2 ^= mix_k2(k2);
    }
    if !tail.is_empty() {
        h1 ^= mix_k1(k1);
    }
    let length = data.len() as u64;
    h1 ^= length;
    h2 ^= length;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&h1.to_le_bytes());
    out[8..].copy_from_slice(&h2.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_trinos_documented_hash() {
        let bytes = base64_bytes("aaaaaa").unwrap_or_default();
        assert_eq!(bytes, [0x69, 0xa6, 0x9a, 0x69]);
        let hash = murmur3_x64_128(&bytes);
        let expected = [
            0xba, 0x58, 0x55, 0x63, 0x55, 0x69, 0xb4, 0x2f, 0x49, 0x20, 0x37, 0x2c, 0xa0, 0xe3,
            0x96, 0xef,
        ];
        assert_eq!(hash, expected);
    }
}
