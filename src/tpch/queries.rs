//! The 22 TPC-H queries with the specification's validation parameters (query 15 as a common
//! table expression: lakegate is read-only and cannot create its view). Tests and `benches/peers`
//! share them; the SQL lives in `src/tpch/queries/`.

/// `(name, sql)` for queries 1 to 22, in order.
pub const QUERIES: [(&str, &str); 22] = [
    ("q01", include_str!("queries/q01.sql")),
    ("q02", include_str!("queries/q02.sql")),
    ("q03", include_str!("queries/q03.sql")),
    ("q04", include_str!("queries/q04.sql")),
    ("q05", include_str!("queries/q05.sql")),
    ("q06", include_str!("queries/q06.sql")),
    ("q07", include_str!("queries/q07.sql")),
    ("q08", include_str!("queries/q08.sql")),
    ("q09", include_str!("queries/q09.sql")),
    ("q10", include_str!("queries/q10.sql")),
    ("q11", include_str!("queries/q11.sql")),
    ("q12", include_str!("queries/q12.sql")),
    ("q13", include_str!("queries/q13.sql")),
    ("q14", include_str!("queries/q14.sql")),
    ("q15", include_str!("queries/q15.sql")),
    ("q16", include_str!("queries/q16.sql")),
    ("q17", include_str!("queries/q17.sql")),
    ("q18", include_str!("queries/q18.sql")),
    ("q19", include_str!("queries/q19.sql")),
    ("q20", include_str!("queries/q20.sql")),
    ("q21", include_str!("queries/q21.sql")),
    ("q22", include_str!("queries/q22.sql")),
];
