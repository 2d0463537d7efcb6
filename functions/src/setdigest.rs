//! Trino's set digests: `make_set_digest(x)` (an aggregate) and `cardinality`,
//! `intersection_cardinality`, `jaccard_index` of digests. A digest here is the K smallest
//! 64-bit hashes of the distinct values (a K-minimum-values sketch, K = 4096, as varbinary):
//! exact up to K distinct values, an estimate beyond, as Trino's are estimates. Values hash
//! in Arrow's row format with xxh3, so partial digests made on executors merge on the
//! coordinator.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Builder, Int64Builder};
use arrow::datatypes::{DataType, Field, FieldRef};
use arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::functions_nested::cardinality::cardinality_udf;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ScalarUDF, Signature, TypeSignature, Volatility,
};
use twox_hash::XxHash3_64;

use crate::udf::{ArrayFunction, Overloaded, bigint, double};

/// The most hashes a digest keeps.
const K: usize = 4096;

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Overloaded::udf(
            "cardinality",
            cardinality_udf(),
            digest_arguments,
            bigint,
            cardinality,
        ),
        ArrayFunction::udf(
            "intersection_cardinality",
            &[2],
            bigint,
            intersection_cardinality,
        ),
        ArrayFunction::udf("jaccard_index", &[2], double, jaccard_index),
    ]
}

pub fn aggregates() -> Vec<Arc<AggregateUDF>> {
    vec![Arc::new(AggregateUDF::new_from_impl(MakeSetDigest {
        signature: Signature::new(TypeSignature::Any(1), Volatility::Immutable),
    }))]
}

/// `cardinality(digest)`: a varbinary argument is a digest; anything else an array or map.
fn digest_arguments(types: &[DataType]) -> Option<Vec<DataType>> {
    match types {
        [DataType::Binary | DataType::LargeBinary | DataType::BinaryView] => {
            Some(vec![DataType::Binary])
        }
        _ => None,
    }
}

/// A digest's hashes, ascending.
fn hashes(bytes: &[u8]) -> Result<BTreeSet<u64>> {
    if !bytes.len().is_multiple_of(8) {
        return exec_err!(
            "a set digest is whole 64-bit hashes, got {} bytes",
            bytes.len()
        );
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            u64::from_le_bytes(word)
        })
        .collect())
}

fn digest_bytes(hashes: &BTreeSet<u64>) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.to_le_bytes()).collect()
}

/// The number of distinct values a digest stands for: exact below K hashes; beyond, the
/// K-minimum-values estimate (K - 1) / (largest kept hash as a fraction of 2^64).
fn estimate(hashes: &BTreeSet<u64>) -> f64 {
    match hashes.last() {
        Some(&largest) if hashes.len() >= K => {
            (K as f64 - 1.0) / (largest as f64 / u64::MAX as f64)
        }
        _ => hashes.len() as f64,
    }
}

/// The union of two digests (its K smallest hashes) and how many of them both hold.
fn union_and_shared(a: &BTreeSet<u64>, b: &BTreeSet<u64>) -> (BTreeSet<u64>, usize) {
    let union: BTreeSet<u64> = a.union(b).copied().take(K).collect();
    let shared = union
        .iter()
        .filter(|h| a.contains(h) && b.contains(h))
        .count();
    (union, shared)
}

/// The share of the union's values both digests hold (Jaccard), and the union's size.
fn jaccard(a: &BTreeSet<u64>, b: &BTreeSet<u64>) -> Option<(f64, f64)> {
    let (union, shared) = union_and_shared(a, b);
    (!union.is_empty()).then(|| (shared as f64 / union.len() as f64, estimate(&union)))
}

fn digests(array: &ArrayRef) -> Result<Vec<Option<BTreeSet<u64>>>> {
    let Some(bytes) = array.as_binary_opt::<i32>() else {
        return exec_err!("expected a set digest, got {}", array.data_type());
    };
    bytes.iter().map(|b| b.map(hashes).transpose()).collect()
}

fn cardinality(args: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = Int64Builder::new();
    for digest in digests(&args[0])? {
        out.append_option(digest.map(|d| estimate(&d).round() as i64));
    }
    Ok(Arc::new(out.finish()))
}

/// A digest's hashes, ascending.
type Digest = BTreeSet<u64>;

/// Each row's two digests, `None` where either is NULL.
fn pairs(args: &[ArrayRef]) -> Result<Vec<Option<(Digest, Digest)>>> {
    let (a, b) = (digests(&args[0])?, digests(&args[1])?);
    Ok(a.into_iter().zip(b).map(|(a, b)| a.zip(b)).collect())
}

fn intersection_cardinality(args: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = Int64Builder::new();
    for pair in pairs(args)? {
        out.append_option(pair.map(|(a, b)| {
            jaccard(&a, &b).map_or(0, |(share, union)| (share * union).round() as i64)
        }));
    }
    Ok(Arc::new(out.finish()))
}

fn jaccard_index(args: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = Float64Builder::new();
    for pair in pairs(args)? {
        out.append_option(pair.and_then(|(a, b)| jaccard(&a, &b).map(|(share, _)| share)));
    }
    Ok(Arc::new(out.finish()))
}

#[derive(Debug)]
struct MakeSetDigest {
    signature: Signature,
}

impl PartialEq for MakeSetDigest {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for MakeSetDigest {}

impl Hash for MakeSetDigest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        "make_set_digest".hash(state);
    }
}

impl AggregateUDFImpl for MakeSetDigest {
    fn name(&self) -> &str {
        "make_set_digest"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let input = args.expr_fields[0].data_type().clone();
        Ok(Box::new(DigestAccumulator {
            converter: RowConverter::new(vec![SortField::new(input)])?,
            hashes: BTreeSet::new(),
        }))
    }

    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new("digest", DataType::Binary, true))])
    }
}

#[derive(Debug)]
struct DigestAccumulator {
    converter: RowConverter,
    hashes: BTreeSet<u64>,
}

impl DigestAccumulator {
    fn keep(&mut self, hash: u64) {
        self.hashes.insert(hash);
        if self.hashes.len() > K {
            self.hashes.pop_last();
        }
    }
}

impl Accumulator for DigestAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let rows = self.converter.convert_columns(&values[..1])?;
        let nulls = values[0].logical_nulls();
        for i in 0..values[0].len() {
            if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                continue;
            }
            self.keep(XxHash3_64::oneshot(rows.row(i).as_ref()));
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for digest in digests(&states[0])?.into_iter().flatten() {
            for hash in digest {
                self.keep(hash);
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Binary(Some(digest_bytes(&self.hashes))))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.hashes.len() * 24
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_count_and_compare_sets() {
        let a: BTreeSet<u64> = [1, 2, 3].into();
        let b: BTreeSet<u64> = [1, 2, 3, 4].into();
        assert_eq!(estimate(&a), 3.0);
        assert_eq!(jaccard(&a, &b), Some((0.75, 4.0)));
        assert_eq!(hashes(&digest_bytes(&a)).ok(), Some(a.clone()));
        assert!(hashes(&[0u8; 3]).is_err());
        // A full digest estimates from its largest hash: K hashes spread over a quarter of
        // the range stand for about 4K values.
        let spread: BTreeSet<u64> = (0..K as u64)
            .map(|i| i * (u64::MAX / 4 / K as u64))
            .collect();
        let guess = estimate(&spread);
        assert!((guess / (4.0 * K as f64) - 1.0).abs() < 0.01, "{guess}");
    }
}
