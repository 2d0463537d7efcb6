//! What a statement names that the session does not have: DataFusion reports an unknown
//! table or function only in its message, so when planning fails the engine asks the catalog
//! and the function registries itself, and says which name is wrong, where, and what the
//! user may have meant.

use std::ops::ControlFlow;

use datafusion::execution::context::SessionState;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Expr, Visit, Visitor};

use crate::error::EngineError;
use crate::statement::Position;

/// Functions the SQL planner handles itself, which no registry lists.
const PLANNER_FUNCTIONS: &[&str] = &["unnest", "grouping", "exists"];

/// The functions a statement calls, by name, with where each call starts.
pub fn called_functions(statement: &DfStatement) -> Vec<(String, Option<Position>)> {
    struct Calls(Vec<(String, Option<Position>)>);
    impl Visitor for Calls {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if let Expr::Function(function) = expr
                && let Some(part) = function.name.0.last()
                && let Some(ident) = part.as_ident()
            {
                let name = match ident.quote_style {
                    Some(_) => ident.value.clone(),
                    None => ident.value.to_ascii_lowercase(),
                };
                let start = ident.span.start;
                let position = (start.line > 0).then_some(Position {
                    line: start.line,
                    column: start.column,
                });
                self.0.push((name, position));
            }
            ControlFlow::Continue(())
        }
    }
    let mut calls = Calls(Vec::new());
    let mut statement = statement;
    loop {
        match statement {
            DfStatement::Statement(inner) => {
                let _ = inner.visit(&mut calls);
                break;
            }
            DfStatement::Explain(explain) => statement = &explain.statement,
            _ => break,
        }
    }
    calls.0
}

/// The first called function no registry of `state` has, as the error to report.
pub fn unknown_function(
    state: &SessionState,
    calls: &[(String, Option<Position>)],
) -> Option<EngineError> {
    let known = |name: &str| {
        state.scalar_functions().contains_key(name)
            || state.aggregate_functions().contains_key(name)
            || state.window_functions().contains_key(name)
            || state.higher_order_functions().contains_key(name)
            || PLANNER_FUNCTIONS.contains(&name)
    };
    let (name, position) = calls.iter().find(|(name, _)| !known(name))?;
    let names = state
        .scalar_functions()
        .keys()
        .chain(state.aggregate_functions().keys())
        .chain(state.window_functions().keys())
        .chain(state.higher_order_functions().keys());
    let mut near: Vec<(usize, &String)> = names
        .map(|candidate| (distance(name, candidate), candidate))
        .filter(|(d, _)| *d <= (name.len() / 3).max(2))
        .collect();
    near.sort();
    near.dedup_by(|a, b| a.1 == b.1);
    Some(EngineError::UnknownFunction {
        name: name.clone(),
        candidates: near.into_iter().take(3).map(|(_, n)| n.clone()).collect(),
        position: *position,
    })
}

/// Levenshtein distance: edits between two names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::{Classified, classify};
    use datafusion::sql::sqlparser::dialect::GenericDialect;

    #[test]
    fn an_unknown_function_is_named_with_its_neighbours() {
        let Ok(Classified::Read(statement)) =
            classify("SELECT upper(a),\n  lenght(a) FROM t", &GenericDialect {})
        else {
            panic!("a read");
        };
        let calls = called_functions(&statement);
        let state = datafusion::prelude::SessionContext::new().state();
        let Some(EngineError::UnknownFunction {
            name,
            candidates,
            position,
        }) = unknown_function(&state, &calls)
        else {
            panic!("lenght is unknown");
        };
        assert_eq!(name, "lenght");
        assert!(candidates.contains(&"length".to_string()), "{candidates:?}");
        assert_eq!(position, Some(Position { line: 2, column: 3 }));
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
