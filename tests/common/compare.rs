//! Comparing answers: rows as text, floats with a tolerance, sorted when the SQL has no
//! ORDER BY.

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// Every row as display strings.
pub fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
            .collect();
        for row in 0..batch.num_rows() {
            out.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    out
}

/// Two values equal as text, or as numbers within a relative tolerance (float sums differ in
/// the last digits with the order of addition).
fn values_match(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

/// Asserts two results hold the same rows: in order when the SQL orders them, else as sorted
/// multisets.
pub fn assert_same_rows(name: &str, sql: &str, expected: &[RecordBatch], actual: &[RecordBatch]) {
    assert_same_text_rows(name, sql, rows(expected), rows(actual));
}

/// [`assert_same_rows`] over rows already turned into text (by a client in another language).
pub fn assert_same_text_rows(
    name: &str,
    sql: &str,
    mut expected: Vec<Vec<String>>,
    mut actual: Vec<Vec<String>>,
) {
    if !sql.to_ascii_lowercase().contains("order by") {
        expected.sort();
        actual.sort();
    }
    assert_eq!(expected.len(), actual.len(), "{name}: row count differs");
    assert!(
        !expected.is_empty() || name.is_empty() || sql.contains("limit 0"),
        "{name}: baseline has no rows; the test would prove nothing"
    );
    for (i, (e, a)) in expected.iter().zip(&actual).enumerate() {
        let same = e.len() == a.len() && e.iter().zip(a).all(|(x, y)| values_match(x, y));
        assert!(
            same,
            "{name}: row {i} differs\nexpected {e:?}\nactual   {a:?}"
        );
    }
}
