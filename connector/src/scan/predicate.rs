//! DataFusion filters to Iceberg predicates, for manifest, partition and row-group pruning.
//!
//! The translation is best effort and never changes an answer: the table provider declares every
//! pushed filter inexact, so DataFusion still filters above the scan. A filter, or one side of an
//! `AND`, that has no Iceberg form is simply not pushed. An `OR` or `NOT` is pushed only when all
//! of it translates, since dropping part of those would prune rows that match.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use iceberg::expr::{Predicate, Reference};
use iceberg::spec::Datum;

/// The conjuncts of `filters` that have an Iceberg form. Callers bind each on its own so one that
/// does not bind (say, a type Iceberg will not compare) does not stop the others.
pub fn to_iceberg_predicate(filters: &[Expr]) -> Vec<Predicate> {
    let mut conjuncts = Vec::new();
    for filter in filters {
        collect_conjuncts(filter, &mut conjuncts);
    }
    conjuncts
}

fn collect_conjuncts(expr: &Expr, out: &mut Vec<Predicate>) {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => {
            collect_conjuncts(left, out);
            collect_conjuncts(right, out);
        }
        other => out.extend(convert(other)),
    }
}

/// The whole expression, or `None` when any part of it has no Iceberg form.
fn convert(expr: &Expr) -> Option<Predicate> {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And => Some(convert(left)?.and(convert(right)?)),
            Operator::Or => Some(convert(left)?.or(convert(right)?)),
            _ => comparison(left, *op, right),
        },
        Expr::Not(inner) => Some(!convert(inner)?),
        Expr::IsNull(inner) => Some(reference(inner)?.is_null()),
        Expr::IsNotNull(inner) => Some(reference(inner)?.is_not_null()),
        Expr::Between(between) => {
            let column = reference(&between.expr)?;
            let low = datum(&between.low)?;
            let high = datum(&between.high)?;
            let inside = column
                .clone()
                .greater_than_or_equal_to(low)
                .and(column.less_than_or_equal_to(high));
            Some(if between.negated { !inside } else { inside })
        }
        Expr::InList(list) => {
            let column = reference(&list.expr)?;
            let values = list.list.iter().map(datum).collect::<Option<Vec<_>>>()?;
            Some(if list.negated {
                column.is_not_in(values)
            } else {
                column.is_in(values)
            })
        }
        _ => None,
    }
}

fn comparison(left: &Expr, op: Operator, right: &Expr) -> Option<Predicate> {
    if let (Some(column), Some(value)) = (reference(left), datum(right)) {
        return compare(column, op, value);
    }
    let (column, value) = (reference(right)?, datum(left)?);
    compare(column, flip(op)?, value)
}

fn compare(column: Reference, op: Operator, value: Datum) -> Option<Predicate> {
    Some(match op {
        Operator::Eq => column.equal_to(value),
        Operator::NotEq => column.not_equal_to(value),
        Operator::Lt => column.less_than(value),
        Operator::LtEq => column.less_than_or_equal_to(value),
        Operator::Gt => column.greater_than(value),
        Operator::GtEq => column.greater_than_or_equal_to(value),
        _ => return None,
    })
}

/// `5 < a` is `a > 5`.
fn flip(op: Operator) -> Option<Operator> {
    Some(match op {
        Operator::Eq | Operator::NotEq => op,
        Operator::Lt => Operator::Gt,
        Operator::LtEq => Operator::GtEq,
        Operator::Gt => Operator::Lt,
        Operator::GtEq => Operator::LtEq,
        _ => return None,
    })
}

fn reference(expr: &Expr) -> Option<Reference> {
    match expr {
        Expr::Column(column) => Some(Reference::new(column.name.clone())),
        _ => None,
    }
}

fn datum(expr: &Expr) -> Option<Datum> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    Some(match value {
        ScalarValue::Boolean(Some(v)) => Datum::bool(*v),
        ScalarValue::Int8(Some(v)) => Datum::int(*v),
        ScalarValue::Int16(Some(v)) => Datum::int(*v),
        ScalarValue::Int32(Some(v)) => Datum::int(*v),
        ScalarValue::Int64(Some(v)) => Datum::long(*v),
        ScalarValue::Float32(Some(v)) => Datum::float(*v),
        ScalarValue::Float64(Some(v)) => Datum::double(*v),
        ScalarValue::Utf8(Some(v))
        | ScalarValue::LargeUtf8(Some(v))
        | ScalarValue::Utf8View(Some(v)) => Datum::string(v),
        ScalarValue::Date32(Some(v)) => Datum::date(*v),
        ScalarValue::Decimal128(Some(_), _, _) => {
            Datum::decimal_from_str(value.to_string()).ok()?
        }
        ScalarValue::TimestampMicrosecond(Some(v), None) => Datum::timestamp_micros(*v),
        ScalarValue::TimestampMicrosecond(Some(v), Some(_)) => Datum::timestamptz_micros(*v),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::{col, lit};

    use super::*;

    #[test]
    fn and_splits_into_conjuncts_and_drops_what_has_no_form() {
        let filter = col("a").gt(lit(5i64)).and(col("b").like(lit("x%")));
        let predicates = to_iceberg_predicate(&[filter]);
        assert_eq!(predicates.len(), 1);
        assert_eq!(predicates[0].to_string(), "a > 5");
    }

    #[test]
    fn or_with_an_untranslatable_side_is_not_pushed() {
        let filter = col("a").gt(lit(5i64)).or(col("b").like(lit("x%")));
        assert!(to_iceberg_predicate(&[filter]).is_empty());
    }

    #[test]
    fn literal_on_the_left_flips_the_comparison() {
        let filter = lit(5i64).lt(col("a"));
        assert_eq!(to_iceberg_predicate(&[filter])[0].to_string(), "a > 5");
    }
}
