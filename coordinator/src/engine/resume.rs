//! Carrying a query on after rows were sent: a run remembers a fingerprint of every row it
//! handed out ([`SentRows`]); a rerun on the executors left ([`Resume`]) hands out only what
//! the client has not seen.
//!
//! A rerun reads the same pinned snapshots, so for a deterministic query its rows are the same
//! multiset as the first run's, in whatever order the executors produce them. The rerun's rows
//! are matched against the fingerprints of those sent, one for one; unmatched rows are held back
//! until every sent row was found again. Only then is the rest handed out: the client ends with
//! exactly the rerun's answer (the rows sent first, the others after). A rerun that cannot
//! account for every sent row (a `LIMIT` without `ORDER BY`, `random()`, floating sums added in
//! another order) hands out nothing more and fails with [`ResumeError`]: an error, never a
//! wrong answer. For `ORDER BY`, the rows sent are the first of the order and those left all
//! sort after them, so the client still reads them in order.
//!
//! Fingerprints are 128-bit hashes of arrow's row encoding (every value and null exactly), 16
//! bytes and a count per distinct row, kept up to `query.resume_max_rows` rows; a query that
//! sent more cannot resume.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::{concat_batches, filter_record_batch};
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, SortField};
use twox_hash::XxHash3_128;

/// Why a rerun could not carry on after the rows already sent.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error(
        "the rerun after a lost executor did not give back {missing} of the {sent} rows already \
         sent (the query's answer is not deterministic)"
    )]
    Diverged { missing: usize, sent: usize },
    #[error(
        "the rerun after a lost executor held more than query.resume_max_rows ({limit}) rows \
         while finding the {missing} rows already sent"
    )]
    TooManyHeld { limit: usize, missing: usize },
    #[error("fingerprinting the query's rows failed: {0}")]
    Rows(#[from] arrow::error::ArrowError),
}

/// Row fingerprints of batches with one schema.
struct Fingerprints(RowConverter);

impl Fingerprints {
    /// `None` for a schema arrow cannot encode as rows (then a query resumes only before its
    /// first row).
    fn of(schema: &SchemaRef) -> Option<Self> {
        let fields: Vec<SortField> = schema
            .fields()
            .iter()
            .map(|f| SortField::new(f.data_type().clone()))
            .collect();
        if !RowConverter::supports_fields(&fields) {
            return None;
        }
        RowConverter::new(fields).ok().map(Fingerprints)
    }

    fn rows(&self, batch: &RecordBatch) -> Result<Vec<u128>, ResumeError> {
        let rows = self.0.convert_columns(batch.columns())?;
        Ok(rows
            .iter()
            .map(|row| XxHash3_128::oneshot(row.as_ref()))
            .collect())
    }
}

/// What a run handed out so far.
pub(super) struct SentRows {
    fingerprints: Option<Arc<Fingerprints>>,
    /// How many times each row was sent; `None` once the rows cannot be accounted for (past
    /// the limit, or a schema with no row encoding).
    counts: Option<HashMap<u128, u32>>,
    rows: usize,
    max_rows: usize,
}

impl SentRows {
    /// Nothing sent yet, remembering up to `max_rows` rows (0: none).
    pub(super) fn new(schema: &SchemaRef, max_rows: usize) -> Self {
        let fingerprints = (max_rows > 0)
            .then(|| Fingerprints::of(schema))
            .flatten()
            .map(Arc::new);
        SentRows {
            counts: fingerprints.as_ref().map(|_| HashMap::new()),
            fingerprints,
            rows: 0,
            max_rows,
        }
    }

    pub(super) fn any(&self) -> bool {
        self.rows > 0
    }

    /// Whether a rerun could carry on after what was sent.
    pub(super) fn resumable(&self) -> bool {
        self.rows == 0 || self.counts.is_some()
    }

    /// Notes `batch` as sent.
    pub(super) fn record(&mut self, batch: &RecordBatch) {
        self.rows += batch.num_rows();
        let (Some(fingerprints), Some(counts)) = (&self.fingerprints, &mut self.counts) else {
            return;
        };
        if self.rows > self.max_rows {
            self.counts = None;
            return;
        }
        match fingerprints.rows(batch) {
            Ok(rows) => {
                for row in rows {
                    *counts.entry(row).or_default() += 1;
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "rows not fingerprinted; no resume after them");
                self.counts = None;
            }
        }
    }

    /// What a rerun owes: every row sent so far, to be found again and left out. `None` when
    /// rows were sent that cannot be accounted for.
    pub(super) fn resume(&self) -> Option<Resume> {
        let owed = if self.rows == 0 {
            HashMap::new()
        } else {
            self.counts.clone()?
        };
        Some(Resume {
            fingerprints: self.fingerprints.clone(),
            owed,
            missing: self.rows,
            sent: self.rows,
            held: Vec::new(),
            held_rows: 0,
            max_rows: self.max_rows,
        })
    }
}

/// A rerun's rows, less those the client already has.
pub(super) struct Resume {
    /// `None` only when nothing is owed.
    fingerprints: Option<Arc<Fingerprints>>,
    owed: HashMap<u128, u32>,
    /// Sent rows not yet found in the rerun.
    missing: usize,
    sent: usize,
    /// Rerun rows the client has not seen, held until every sent row was found.
    held: Vec<RecordBatch>,
    held_rows: usize,
    max_rows: usize,
}

impl Resume {
    /// Whether every sent row was found again: from here on the rerun's batches pass as they
    /// are.
    pub(super) fn settled(&self) -> bool {
        self.missing == 0 && self.held.is_empty()
    }

    /// The part of the rerun's `batch` to send now: its rows the client has not seen, once
    /// every row it has seen was found again (with what was held until then).
    pub(super) fn admit(&mut self, batch: RecordBatch) -> Result<Option<RecordBatch>, ResumeError> {
        if self.settled() {
            return Ok(Some(batch));
        }
        let fresh = if let (true, Some(fingerprints)) = (self.missing > 0, &self.fingerprints) {
            let keep: BooleanArray = fingerprints
                .rows(&batch)?
                .into_iter()
                .map(|row| match self.owed.get_mut(&row) {
                    Some(count) if *count > 0 => {
                        *count -= 1;
                        self.missing -= 1;
                        Some(false)
                    }
                    _ => Some(true),
                })
                .collect();
            filter_record_batch(&batch, &keep)?
        } else {
            batch
        };
        if fresh.num_rows() > 0 {
            self.held_rows += fresh.num_rows();
            self.held.push(fresh);
        }
        if self.missing > 0 {
            if self.held_rows > self.max_rows {
                return Err(ResumeError::TooManyHeld {
                    limit: self.max_rows,
                    missing: self.missing,
                });
            }
            return Ok(None);
        }
        self.owed = HashMap::new();
        let held = std::mem::take(&mut self.held);
        self.held_rows = 0;
        match held.first() {
            None => Ok(None),
            Some(first) => Ok(Some(concat_batches(&first.schema(), &held)?)),
        }
    }

    /// At the rerun's end: an error if some sent row never came back.
    pub(super) fn finish(&self) -> Result<(), ResumeError> {
        if self.missing > 0 {
            return Err(ResumeError::Diverged {
                missing: self.missing,
                sent: self.sent,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]))
    }

    fn batch(rows: &[(Option<i64>, Option<&str>)]) -> RecordBatch {
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(rows.iter().map(|r| r.0).collect::<Int64Array>()),
                Arc::new(rows.iter().map(|r| r.1).collect::<StringArray>()),
            ],
        )
        .expect("a batch")
    }

    fn rows_of(batches: &[RecordBatch]) -> Vec<(Option<i64>, Option<String>)> {
        let mut rows = Vec::new();
        for b in batches {
            let k = b
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("k");
            let s = b
                .column(1)
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("s");
            for i in 0..b.num_rows() {
                rows.push((
                    k.is_valid(i).then(|| k.value(i)),
                    s.is_valid(i).then(|| s.value(i).to_string()),
                ));
            }
        }
        rows
    }

    #[test]
    fn a_rerun_hands_out_only_the_rows_not_sent_and_only_once_all_sent_were_found() {
        let mut sent = SentRows::new(&schema(), 100);
        // Duplicates and NULLs in either column are told apart.
        let first = batch(&[(Some(1), None), (None, Some("1")), (Some(2), Some("b"))]);
        sent.record(&first);
        let mut resume = sent.resume().expect("resumable");
        // The rerun's rows come in another order and batching.
        let out = resume
            .admit(batch(&[
                (Some(3), Some("c")),
                (Some(2), Some("b")),
                (Some(2), Some("b")),
            ]))
            .expect("admit");
        assert!(out.is_none(), "held until every sent row is found");
        let out = resume
            .admit(batch(&[(None, Some("1")), (Some(1), None), (None, None)]))
            .expect("admit")
            .expect("released");
        let mut got = rows_of(&[out]);
        got.sort();
        assert_eq!(
            got,
            vec![
                (None, None),
                (Some(2), Some("b".into())),
                (Some(3), Some("c".into()))
            ]
        );
        assert!(resume.settled());
        let passed = resume
            .admit(batch(&[(Some(1), None)]))
            .expect("admit")
            .expect("passes");
        assert_eq!(passed.num_rows(), 1);
        resume.finish().expect("every sent row found");
    }

    #[test]
    fn a_rerun_missing_a_sent_row_fails_instead_of_answering_wrong() {
        let mut sent = SentRows::new(&schema(), 100);
        sent.record(&batch(&[(Some(1), Some("a")), (Some(2), Some("b"))]));
        let mut resume = sent.resume().expect("resumable");
        assert!(
            resume
                .admit(batch(&[(Some(1), Some("a")), (Some(9), Some("z"))]))
                .expect("admit")
                .is_none()
        );
        assert!(matches!(
            resume.finish(),
            Err(ResumeError::Diverged {
                missing: 1,
                sent: 2
            })
        ));
    }

    #[test]
    fn past_the_limit_nothing_resumes_once_rows_were_sent() {
        let mut sent = SentRows::new(&schema(), 2);
        assert!(sent.resume().is_some(), "nothing sent: a plain rerun");
        sent.record(&batch(&[(Some(1), None), (Some(2), None), (Some(3), None)]));
        assert!(!sent.resumable());
        assert!(sent.resume().is_none());

        let mut off = SentRows::new(&schema(), 0);
        off.record(&batch(&[(Some(1), None)]));
        assert!(!off.resumable());

        let mut holding = SentRows::new(&schema(), 2);
        holding.record(&batch(&[(Some(1), None)]));
        let mut resume = holding.resume().expect("resumable");
        assert!(matches!(
            resume.admit(batch(&[(Some(7), None), (Some(8), None), (Some(9), None)])),
            Err(ResumeError::TooManyHeld {
                limit: 2,
                missing: 1
            })
        ));
    }

    #[test]
    fn floats_are_matched_by_their_exact_value() {
        let schema: SchemaRef =
            Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, false)]));
        let of = |v: f64| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Float64Array::from(vec![v]))])
                .expect("batch")
        };
        let mut sent = SentRows::new(&schema, 10);
        sent.record(&of(0.1 + 0.2));
        let mut resume = sent.resume().expect("resumable");
        assert!(resume.admit(of(0.3)).expect("admit").is_none());
        assert!(
            resume.finish().is_err(),
            "0.3 is not the 0.30000000000000004 sent"
        );
    }
}
