//! What the server says of itself to drivers: `GetSqlInfo` (name, version, read-only, SQL
//! dialect facts) and `GetXdbcTypeInfo` (the SQL types it returns, as JDBC/ODBC name them).
//! JDBC's `DatabaseMetaData` and ADBC's `get_info` are answered from here; both are built once.

use std::sync::OnceLock;

use arrow_flight::sql::metadata::{
    SqlInfoData, SqlInfoDataBuilder, XdbcTypeInfo, XdbcTypeInfoData, XdbcTypeInfoDataBuilder,
};
use arrow_flight::sql::{
    Nullable, Searchable, SqlInfo, SqlNullOrdering, SqlSupportedCaseSensitivity,
    SqlSupportedTransaction, XdbcDataType, XdbcDatetimeSubcode,
};

/// Server facts for `GetSqlInfo`.
pub fn sql_info() -> &'static SqlInfoData {
    static INFO: OnceLock<SqlInfoData> = OnceLock::new();
    INFO.get_or_init(build_sql_info)
}

/// Type facts for `GetXdbcTypeInfo`.
pub fn xdbc_type_info() -> &'static XdbcTypeInfoData {
    static INFO: OnceLock<XdbcTypeInfoData> = OnceLock::new();
    INFO.get_or_init(build_xdbc_type_info)
}

fn build_sql_info() -> SqlInfoData {
    let mut info = SqlInfoDataBuilder::new();
    info.append(SqlInfo::FlightSqlServerName, "lakegate");
    info.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    info.append(SqlInfo::FlightSqlServerArrowVersion, "58");
    info.append(SqlInfo::FlightSqlServerReadOnly, true);
    info.append(SqlInfo::FlightSqlServerSql, true);
    info.append(SqlInfo::FlightSqlServerSubstrait, false);
    info.append(
        SqlInfo::FlightSqlServerTransaction,
        SqlSupportedTransaction::None as i32,
    );
    info.append(SqlInfo::FlightSqlServerCancel, true);
    info.append(SqlInfo::FlightSqlServerBulkIngestion, false);
    info.append(SqlInfo::FlightSqlServerStatementTimeout, 0_i32);
    info.append(SqlInfo::FlightSqlServerTransactionTimeout, 0_i32);
    info.append(SqlInfo::SqlDdlCatalog, false);
    info.append(SqlInfo::SqlDdlSchema, false);
    info.append(SqlInfo::SqlDdlTable, false);
    // DataFusion folds unquoted identifiers to lower case and keeps quoted ones as written.
    info.append(
        SqlInfo::SqlIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityLowercase as i32,
    );
    info.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    info.append(
        SqlInfo::SqlQuotedIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityCaseInsensitive as i32,
    );
    info.append(SqlInfo::SqlAllTablesAreSelectable, true);
    // NULLS LAST ascending, NULLS FIRST descending: nulls sort as the highest value.
    info.append(
        SqlInfo::SqlNullOrdering,
        SqlNullOrdering::SqlNullsSortedHigh as i32,
    );
    info.append(SqlInfo::SqlKeywords, KEYWORDS);
    info.append(SqlInfo::SqlNumericFunctions, NUMERIC_FUNCTIONS);
    info.append(SqlInfo::SqlStringFunctions, STRING_FUNCTIONS);
    info.append(SqlInfo::SqlSystemFunctions, &[] as &[&str]);
    info.append(SqlInfo::SqlDatetimeFunctions, DATETIME_FUNCTIONS);
    info.append(SqlInfo::SqlSearchStringEscape, "\\");
    info.append(SqlInfo::SqlExtraNameCharacters, "");
    info.append(SqlInfo::SqlSupportsColumnAliasing, true);
    info.append(SqlInfo::SqlNullPlusNullIsNull, true);
    info.append(SqlInfo::SqlSupportsTableCorrelationNames, true);
    info.append(SqlInfo::SqlSupportsDifferentTableCorrelationNames, false);
    info.append(SqlInfo::SqlSupportsExpressionsInOrderBy, true);
    info.append(SqlInfo::SqlSupportsOrderByUnrelated, true);
    info.append(SqlInfo::SqlSupportsLikeEscapeClause, true);
    info.append(SqlInfo::SqlSupportsNonNullableColumns, true);
    info.append(SqlInfo::SqlSchemaTerm, "schema");
    info.append(SqlInfo::SqlCatalogTerm, "catalog");
    info.append(SqlInfo::SqlProcedureTerm, "procedure");
    info.append(SqlInfo::SqlCatalogAtStart, true);
    info.append(SqlInfo::SqlSelectForUpdateSupported, false);
    info.append(SqlInfo::SqlStoredProceduresSupported, false);
    info.append(SqlInfo::SqlCorrelatedSubqueriesSupported, true);
    info.append(SqlInfo::SqlTransactionsSupported, false);
    info.append(SqlInfo::SqlBatchUpdatesSupported, false);
    info.append(SqlInfo::SqlSavepointsSupported, false);
    info.append(SqlInfo::SqlNamedParametersSupported, false);
    info.append(SqlInfo::SqlLocatorsUpdateCopy, false);
    info.append(SqlInfo::SqlStoredFunctionsUsingCallSyntaxSupported, false);
    // A build error here is a bug in the table above, found by the unit test below.
    info.build()
        .unwrap_or_else(|e| panic!("lakegate's SqlInfo table is invalid: {e}"))
}

const KEYWORDS: &[&str] = &[
    "ANALYZE", "DESCRIBE", "EXPLAIN", "ILIKE", "LIMIT", "OFFSET", "QUALIFY", "SHOW", "UNNEST",
];
const NUMERIC_FUNCTIONS: &[&str] = &[
    "ABS", "ACOS", "ASIN", "ATAN", "ATAN2", "CEIL", "COS", "EXP", "FLOOR", "LN", "LOG", "LOG10",
    "LOG2", "PI", "POWER", "RANDOM", "ROUND", "SIGNUM", "SIN", "SQRT", "TAN", "TRUNC",
];
const STRING_FUNCTIONS: &[&str] = &[
    "ASCII",
    "BTRIM",
    "CHAR_LENGTH",
    "CONCAT",
    "CONCAT_WS",
    "INITCAP",
    "LEFT",
    "LENGTH",
    "LOWER",
    "LPAD",
    "LTRIM",
    "REPEAT",
    "REPLACE",
    "REVERSE",
    "RIGHT",
    "RPAD",
    "RTRIM",
    "SPLIT_PART",
    "STARTS_WITH",
    "STRPOS",
    "SUBSTR",
    "SUBSTRING",
    "TRANSLATE",
    "TRIM",
    "UPPER",
];
const DATETIME_FUNCTIONS: &[&str] = &[
    "CURRENT_DATE",
    "CURRENT_TIME",
    "DATE_BIN",
    "DATE_PART",
    "DATE_TRUNC",
    "EXTRACT",
    "NOW",
    "TO_TIMESTAMP",
    "TO_DATE",
];

/// One row of the type table, for types with no precision or literal quoting to speak of.
fn simple(name: &str, data_type: XdbcDataType) -> XdbcTypeInfo {
    XdbcTypeInfo {
        type_name: name.into(),
        data_type,
        nullable: Nullable::NullabilityNullable,
        searchable: Searchable::Full,
        sql_data_type: data_type,
        local_type_name: Some(name.into()),
        ..XdbcTypeInfo::default()
    }
}

fn numeric(name: &str, data_type: XdbcDataType, column_size: i32) -> XdbcTypeInfo {
    XdbcTypeInfo {
        column_size: Some(column_size),
        unsigned_attribute: Some(false),
        num_prec_radix: Some(10),
        auto_increment: Some(false),
        ..simple(name, data_type)
    }
}

fn quoted(name: &str, data_type: XdbcDataType, prefix: &str) -> XdbcTypeInfo {
    XdbcTypeInfo {
        literal_prefix: Some(prefix.into()),
        literal_suffix: Some("'".into()),
        case_sensitive: true,
        ..simple(name, data_type)
    }
}

/// The SQL types lakegate returns (Iceberg's, read through Arrow).
fn build_xdbc_type_info() -> XdbcTypeInfoData {
    let mut types = XdbcTypeInfoDataBuilder::new();
    types.append(simple("BOOLEAN", XdbcDataType::XdbcBit));
    types.append(numeric("TINYINT", XdbcDataType::XdbcTinyint, 3));
    types.append(numeric("SMALLINT", XdbcDataType::XdbcSmallint, 5));
    types.append(numeric("INTEGER", XdbcDataType::XdbcInteger, 10));
    types.append(numeric("BIGINT", XdbcDataType::XdbcBigint, 19));
    types.append(numeric("REAL", XdbcDataType::XdbcReal, 7));
    types.append(numeric("DOUBLE", XdbcDataType::XdbcDouble, 15));
    types.append(XdbcTypeInfo {
        create_params: Some(vec!["precision".into(), "scale".into()]),
        minimum_scale: Some(0),
        maximum_scale: Some(38),
        fixed_prec_scale: true,
        ..numeric("DECIMAL", XdbcDataType::XdbcDecimal, 38)
    });
    types.append(quoted("VARCHAR", XdbcDataType::XdbcVarchar, "'"));
    types.append(quoted("VARBINARY", XdbcDataType::XdbcVarbinary, "X'"));
    types.append(XdbcTypeInfo {
        datetime_subcode: Some(XdbcDatetimeSubcode::XdbcSubcodeUnknown),
        ..quoted("DATE", XdbcDataType::XdbcDate, "DATE '")
    });
    types.append(quoted("TIME", XdbcDataType::XdbcTime, "TIME '"));
    types.append(quoted(
        "TIMESTAMP",
        XdbcDataType::XdbcTimestamp,
        "TIMESTAMP '",
    ));
    types
        .build()
        .unwrap_or_else(|e| panic!("lakegate's type table is invalid: {e}"))
}

#[cfg(test)]
mod tests {
    use arrow_flight::sql::{CommandGetSqlInfo, CommandGetXdbcTypeInfo};

    use super::*;

    #[test]
    fn the_tables_build_and_answer() {
        let all = CommandGetSqlInfo { info: vec![] };
        let batch = all.into_builder(sql_info()).build().unwrap();
        assert!(batch.num_rows() > 40);
        let types = CommandGetXdbcTypeInfo { data_type: None };
        let batch = types.into_builder(xdbc_type_info()).build().unwrap();
        assert_eq!(batch.num_rows(), 13);
    }
}
