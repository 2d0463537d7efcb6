//! DataFusion's own SQL: every hook of [`SqlDialect`] as it is by default.

use datafusion::sql::sqlparser::dialect::GenericDialect;

use super::SqlDialect;
use crate::session::SessionVars;
use crate::statement::{Classified, StatementError, classify};

#[derive(Debug, Default)]
pub struct Standard;

impl SqlDialect for Standard {
    fn parse(&self, sql: &str, _vars: &SessionVars) -> Result<Classified, StatementError> {
        classify(sql, &GenericDialect {})
    }
}
