//! `cosine_distance` of sparse vectors: Trino also takes two `map(varchar, double)`, the
//! entries a map lacks being zeros. Arrays stay DataFusion's `cosine_distance`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Builder, MapArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::functions_nested::cosine_distance::cosine_distance_udf;
use datafusion::logical_expr::ScalarUDF;

use crate::args::{doubles, strings};
use crate::udf::{Overloaded, double};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Overloaded::udf(
        "cosine_distance",
        cosine_distance_udf(),
        map_arguments,
        double,
        sparse_cosine_distance,
    )]
}

fn map_arguments(types: &[DataType]) -> Option<Vec<DataType>> {
    match types {
        [a @ DataType::Map(..), b @ DataType::Map(..)] => Some(vec![a.clone(), b.clone()]),
        _ => None,
    }
}

/// Row `row` of a map as (key text, value) pairs.
fn entries(map: &MapArray, row: usize) -> Result<Vec<(String, Option<f64>)>> {
    let entries = map.value(row);
    let keys = strings(&cast(entries.column(0), &DataType::Utf8)?)?;
    let values = doubles(entries.column(1))?;
    Ok((0..keys.len())
        .map(|i| {
            (
                keys.value(i).to_string(),
                (!values.is_null(i)).then(|| values.value(i)),
            )
        })
        .collect())
}

fn sparse_cosine_distance(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (Some(a), Some(b)) = (args[0].as_map_opt(), args[1].as_map_opt()) else {
        return exec_err!("cosine_distance takes two maps or two arrays");
    };
    let mut out = Float64Builder::new();
    for row in 0..a.len() {
        if a.is_null(row) || b.is_null(row) {
            out.append_null();
            continue;
        }
        let (x, y) = (entries(a, row)?, entries(b, row)?);
        if x.iter().chain(&y).any(|(_, v)| v.is_none()) {
            return exec_err!("cosine_distance: a map value is NULL");
        }
        let norm = |v: &[(String, Option<f64>)]| {
            v.iter()
                .map(|(_, e)| e.unwrap_or(0.0).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let in_y: HashMap<&str, f64> = y
            .iter()
            .map(|(k, v)| (k.as_str(), v.unwrap_or(0.0)))
            .collect();
        let dot: f64 = x
            .iter()
            .filter_map(|(k, v)| in_y.get(k.as_str()).map(|w| v.unwrap_or(0.0) * w))
            .sum();
        let (nx, ny) = (norm(&x), norm(&y));
        out.append_option((nx > 0.0 && ny > 0.0).then(|| 1.0 - dot / (nx * ny)));
    }
    Ok(Arc::new(out.finish()))
}
