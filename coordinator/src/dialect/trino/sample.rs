//! `FROM t TABLESAMPLE BERNOULLI (p)`: each row of `t` kept with probability p percent, as
//! Trino samples. DataFusion 54 plans no `TABLESAMPLE`, so the table becomes
//! `(SELECT * FROM t WHERE random() * 100 < p) AS t`. `SYSTEM (p)`, which in Trino keeps or
//! drops whole splits, is sampled the same way, row by row: the answer is a sample of the
//! same expected size, only drawn at a finer grain.

use std::ops::ControlFlow;

use super::syntax::parse_table_factor;
use datafusion::sql::sqlparser::ast::{
    Statement, TableFactor, TableSample, TableSampleKind, TableSampleMethod, TableSampleUnit,
    VisitMut, VisitorMut,
};

pub fn rewrite(statement: &mut Statement) {
    let _ = statement.visit(&mut Samples);
}

struct Samples;

impl VisitorMut for Samples {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let Some(derived) = sampled(factor) {
            *factor = derived;
        }
        ControlFlow::Continue(())
    }
}

/// The derived table sampling `factor`; `None` where it has no sample this can write (a
/// method or unit Trino does not have is left for DataFusion to refuse).
fn sampled(factor: &TableFactor) -> Option<TableFactor> {
    let TableFactor::Table {
        name,
        alias,
        sample: Some(kind),
        args: None,
        ..
    } = factor
    else {
        return None;
    };
    let (TableSampleKind::BeforeTableAlias(sample) | TableSampleKind::AfterTableAlias(sample)) =
        kind;
    let TableSample {
        name: Some(TableSampleMethod::Bernoulli | TableSampleMethod::System),
        quantity: Some(quantity),
        seed: None,
        bucket: None,
        offset: None,
        ..
    } = sample.as_ref()
    else {
        return None;
    };
    if matches!(quantity.unit, Some(TableSampleUnit::Rows)) {
        return None;
    }
    let alias = match alias {
        Some(alias) if alias.columns.is_empty() => alias.name.to_string(),
        Some(alias) => {
            let columns: Vec<String> = alias.columns.iter().map(|c| c.to_string()).collect();
            format!("{}({})", alias.name, columns.join(", "))
        }
        None => name.0.last()?.to_string(),
    };
    let sql = format!(
        "(SELECT * FROM {name} WHERE random() * 100 < ({})) AS {alias}",
        quantity.value
    );
    parse_table_factor(&sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        super::super::rewritten_by(sql, rewrite)
    }

    #[test]
    fn samples_become_a_random_filter() {
        assert_eq!(
            rewritten("SELECT count(*) FROM tpch.orders AS o TABLESAMPLE BERNOULLI (10)"),
            "SELECT count(*) FROM (SELECT * FROM tpch.orders WHERE random() * 100 < (10)) AS o"
        );
        assert_eq!(
            rewritten("SELECT * FROM nation TABLESAMPLE SYSTEM (50) JOIN region ON true"),
            "SELECT * FROM (SELECT * FROM nation WHERE random() * 100 < (50)) AS nation \
             JOIN region ON true"
        );
    }
}
