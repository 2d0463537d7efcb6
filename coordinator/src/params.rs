//! Statement parameters: `?` placeholders numbered so DataFusion binds them by position, and
//! values taken from the one-row Arrow batch that Flight SQL (and ADBC, JDBC) bind with.
//!
//! DataFusion binds `$1`, `$2`, ... by position but reads every `?` as one placeholder named
//! `?`, so the `?`s are renumbered in order of appearance before planning.

use std::ops::ControlFlow;

use arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Expr, Value, visit_expressions_mut};

/// Parameter values that cannot be bound, naming the parameter.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamError {
    #[error("parameters come as one row per execution, got {rows} rows")]
    Rows { rows: usize },
    #[error("parameter {index} ({name}): {message}")]
    Value {
        index: usize,
        name: String,
        message: String,
    },
}

/// Rewrites each `?` in `statement` to `$1`, `$2`, ... in order of appearance; returns how many
/// there were.
pub fn number_placeholders(statement: &mut DfStatement) -> usize {
    let mut count = 0;
    let mut renumber = |expr: &mut Expr| {
        if let Expr::Value(value) = expr
            && let Value::Placeholder(name) = &mut value.value
            && name == "?"
        {
            count += 1;
            *name = format!("${count}");
        }
        ControlFlow::<()>::Continue(())
    };
    let _ = match statement {
        DfStatement::Statement(s) => visit_expressions_mut(s.as_mut(), &mut renumber),
        DfStatement::Explain(explain) => {
            count = number_placeholders(&mut explain.statement);
            ControlFlow::Continue(())
        }
        _ => ControlFlow::Continue(()),
    };
    count
}

/// The values of a parameter batch, column by column; no batch or no columns is no values.
pub fn values_of(batch: &RecordBatch) -> Result<Vec<ScalarValue>, ParamError> {
    if batch.num_columns() == 0 {
        return Ok(Vec::new());
    }
    if batch.num_rows() != 1 {
        return Err(ParamError::Rows {
            rows: batch.num_rows(),
        });
    }
    batch
        .columns()
        .iter()
        .zip(batch.schema().fields())
        .enumerate()
        .map(|(i, (column, field))| {
            ScalarValue::try_from_array(column, 0).map_err(|e| ParamError::Value {
                index: i + 1,
                name: field.name().clone(),
                message: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::sql::parser::DFParser;

    use super::*;

    fn parse(sql: &str) -> DfStatement {
        DFParser::parse_sql(sql).unwrap().pop_front().unwrap()
    }

    #[test]
    fn question_marks_become_positions_in_order() {
        let mut statement =
            parse("SELECT a FROM t WHERE b = ? AND c IN (SELECT d FROM u WHERE e > ?) LIMIT ?");
        assert_eq!(number_placeholders(&mut statement), 3);
        assert_eq!(
            statement.to_string(),
            "SELECT a FROM t WHERE b = $1 AND c IN (SELECT d FROM u WHERE e > $2) LIMIT $3"
        );
    }

    #[test]
    fn numbered_placeholders_are_left_alone() {
        let mut statement = parse("SELECT $2, $1");
        assert_eq!(number_placeholders(&mut statement), 0);
        assert_eq!(statement.to_string(), "SELECT $2, $1");
    }

    #[test]
    fn a_batch_row_gives_the_values() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("0", DataType::Int64, true),
            Field::new("1", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![7])),
                Arc::new(StringArray::from(vec!["x"])),
            ],
        )
        .unwrap();
        assert_eq!(
            values_of(&batch).unwrap(),
            vec![ScalarValue::Int64(Some(7)), ScalarValue::from("x")]
        );
        let two_rows = batch.slice(0, 1);
        let two_rows =
            arrow::compute::concat_batches(&two_rows.schema(), [&two_rows, &two_rows]).unwrap();
        assert_eq!(values_of(&two_rows), Err(ParamError::Rows { rows: 2 }));
    }
}
