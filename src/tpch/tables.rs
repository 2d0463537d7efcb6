//! The eight TPC-H tables: their Iceberg schemas and partitioning, and tpchgen's rows turned
//! into Arrow batches (tpchgen-arrow targets another arrow major, so the conversion is ours).

use std::fmt::{Display, Write as _};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Builder, Decimal128Builder, Int32Builder, Int64Builder, StringBuilder,
};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use iceberg::spec::{NestedField, PrimitiveType, Schema, Transform, Type, UnboundPartitionSpec};
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator,
    PartSuppGenerator, RegionGenerator, SupplierGenerator,
};

/// Money and quantities are `decimal(15,2)`, as the TPC-H specification defines them.
const MONEY: Kind = Kind::Decimal;

/// One of the eight TPC-H tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TpchTable {
    Region,
    Nation,
    Part,
    Supplier,
    PartSupp,
    Customer,
    Orders,
    LineItem,
}

/// Column types used by TPC-H.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Long,
    Int,
    Decimal,
    Date,
    Text,
}

impl TpchTable {
    pub const ALL: [TpchTable; 8] = [
        TpchTable::Region,
        TpchTable::Nation,
        TpchTable::Part,
        TpchTable::Supplier,
        TpchTable::PartSupp,
        TpchTable::Customer,
        TpchTable::Orders,
        TpchTable::LineItem,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TpchTable::Region => "region",
            TpchTable::Nation => "nation",
            TpchTable::Part => "part",
            TpchTable::Supplier => "supplier",
            TpchTable::PartSupp => "partsupp",
            TpchTable::Customer => "customer",
            TpchTable::Orders => "orders",
            TpchTable::LineItem => "lineitem",
        }
    }

    fn columns(self) -> &'static [(&'static str, Kind)] {
        use Kind::*;
        match self {
            TpchTable::Region => &[("r_regionkey", Long), ("r_name", Text), ("r_comment", Text)],
            TpchTable::Nation => &[
                ("n_nationkey", Long),
                ("n_name", Text),
                ("n_regionkey", Long),
                ("n_comment", Text),
            ],
            TpchTable::Part => &[
                ("p_partkey", Long),
                ("p_name", Text),
                ("p_mfgr", Text),
                ("p_brand", Text),
                ("p_type", Text),
                ("p_size", Int),
                ("p_container", Text),
                ("p_retailprice", MONEY),
                ("p_comment", Text),
            ],
            TpchTable::Supplier => &[
                ("s_suppkey", Long),
                ("s_name", Text),
                ("s_address", Text),
                ("s_nationkey", Long),
                ("s_phone", Text),
                ("s_acctbal", MONEY),
                ("s_comment", Text),
            ],
            TpchTable::PartSupp => &[
                ("ps_partkey", Long),
                ("ps_suppkey", Long),
                ("ps_availqty", Int),
                ("ps_supplycost", MONEY),
                ("ps_comment", Text),
            ],
            TpchTable::Customer => &[
                ("c_custkey", Long),
                ("c_name", Text),
                ("c_address", Text),
                ("c_nationkey", Long),
                ("c_phone", Text),
                ("c_acctbal", MONEY),
                ("c_mktsegment", Text),
                ("c_comment", Text),
            ],
            TpchTable::Orders => &[
                ("o_orderkey", Long),
                ("o_custkey", Long),
                ("o_orderstatus", Text),
                ("o_totalprice", MONEY),
                ("o_orderdate", Date),
                ("o_orderpriority", Text),
                ("o_clerk", Text),
                ("o_shippriority", Int),
                ("o_comment", Text),
            ],
            TpchTable::LineItem => &[
                ("l_orderkey", Long),
                ("l_partkey", Long),
                ("l_suppkey", Long),
                ("l_linenumber", Int),
                ("l_quantity", MONEY),
                ("l_extendedprice", MONEY),
                ("l_discount", MONEY),
                ("l_tax", MONEY),
                ("l_returnflag", Text),
                ("l_linestatus", Text),
                ("l_shipdate", Date),
                ("l_commitdate", Date),
                ("l_receiptdate", Date),
                ("l_shipinstruct", Text),
                ("l_shipmode", Text),
                ("l_comment", Text),
            ],
        }
    }

    /// The Iceberg schema: every column required, field ids from 1 in column order.
    pub fn schema(self) -> iceberg::Result<Schema> {
        let fields = self.columns().iter().enumerate().map(|(i, (name, kind))| {
            let primitive = match kind {
                Kind::Long => PrimitiveType::Long,
                Kind::Int => PrimitiveType::Int,
                Kind::Decimal => PrimitiveType::Decimal {
                    precision: 15,
                    scale: 2,
                },
                Kind::Date => PrimitiveType::Date,
                Kind::Text => PrimitiveType::String,
            };
            Arc::new(NestedField::required(
                i as i32 + 1,
                *name,
                Type::Primitive(primitive),
            ))
        });
        Schema::builder().with_fields(fields).build()
    }

    /// `orders` and `lineitem` are partitioned by the year of their date column.
    pub fn partition_spec(self) -> iceberg::Result<UnboundPartitionSpec> {
        let by_year = |column: &str| -> iceberg::Result<UnboundPartitionSpec> {
            let schema = self.schema()?;
            let source = schema.field_by_name(column).map(|f| f.id).ok_or_else(|| {
                iceberg::Error::new(
                    iceberg::ErrorKind::DataInvalid,
                    format!("no column {column}"),
                )
            })?;
            Ok(UnboundPartitionSpec::builder()
                .add_partition_field(source, format!("{column}_year"), Transform::Year)?
                .build())
        };
        match self {
            TpchTable::Orders => by_year("o_orderdate"),
            TpchTable::LineItem => by_year("l_shipdate"),
            _ => Ok(UnboundPartitionSpec::builder().build()),
        }
    }

    /// How many appends (snapshots) the table is written in: big tables get several, so they
    /// have several data files, manifests and snapshots; more parts at bigger scales keep each
    /// part's rows in memory bounded.
    pub fn parts(self, scale: f64) -> i32 {
        match self {
            TpchTable::Region | TpchTable::Nation | TpchTable::Supplier => 1,
            TpchTable::LineItem | TpchTable::Orders => 4.max((scale * 8.0).ceil() as i32),
            _ => 4.max((scale * 2.0).ceil() as i32),
        }
    }

    /// Generates part `part` (1-based) of `parts` as batches of at most `batch_rows` rows in
    /// `schema` (the table's Arrow schema with field ids).
    pub fn generate(
        self,
        scale: f64,
        part: i32,
        parts: i32,
        schema: SchemaRef,
        batch_rows: usize,
    ) -> Result<Vec<RecordBatch>, arrow::error::ArrowError> {
        let mut sink = BatchSink::new(self.columns(), schema, batch_rows);
        match self {
            TpchTable::Region => {
                for r in RegionGenerator::new(scale, part, parts).iter() {
                    sink.row(|w| {
                        w.long(r.r_regionkey);
                        w.text(r.r_name);
                        w.text(r.r_comment);
                    })?;
                }
            }
            TpchTable::Nation => {
                for r in NationGenerator::new(scale, part, parts).iter() {
                    sink.row(|w| {
                        w.long(r.n_nationkey);
                        w.text(r.n_name);
                        w.long(r.n_regionkey);
                        w.text(r.n_comment);
                    })?;
                }
            }
            TpchTable::Part => {
                for r in PartGenerator::new(scale, part, parts).iter() {
                    sink.row(|w| {
                        w.long(r.p_partkey);
                        w.text(&r.p_name);
                        w.text(r.p_mfgr);
                        w.text(r.p_brand);
                        w.text(r.p_type);
                        w.int(r.p_size);
                        w.text(r.p_container);
                        w.decimal(r.p_retailprice.0);
                        w.text(r.p_comment);
                    })?;
                }
            }
            TpchTable::Supplier => {
                for r in SupplierGenerator::new(scale, part, parts).iter() {
                    sink.row(|w| {
                        w.long(r.s_suppkey);
                        w.text(r.s_name);
                        w.text(&r.s_address);
                        w.long(r.s_nationkey);
                        w.text(&r.s_phone);
                        w.decimal(r.s_acctbal.0);
                        w.text(&r.s_comment);
                    })?;
                }
            }
            TpchTable::PartSupp => {
                for r in PartSuppGenerator::new(scale, part, parts).iter() {
                    sink.row(|w| {
                        w.long(r.ps_partkey);
                        w.long(r.ps_suppkey);
                        w.int(r.ps_availqty);
                        w.decimal(r.ps_supplycost.0);
                        w.text(r.ps_comment);
                    })?;
                }
            }
            TpchTable::Customer => {
                for r in CustomerGenerator::new(scale, part, parts).iter() {
                    sink.row(|w| {
                        w.long(r.c_custkey);
                        w.text(r.c_name);
                        w.text(&r.c_address);
                        w.long(r.c_nationkey);
                        w.text(&r.c_phone);
                        w.decimal(r.c_acctbal.0);
                        w.text(r.c_mktsegment);
                        w.text(r.c_comment);
                    })?;
                }
            }
            TpchTable::Orders => {
                for r in OrderGenerator::new(scale, part, parts).iter() {
                    sink.row(|w| {
                        w.long(r.o_orderkey);
                        w.long(r.o_custkey);
                        w.text(r.o_orderstatus);
                        w.decimal(r.o_totalprice.0);
                        w.date(r.o_orderdate.to_unix_epoch());
                        w.text(r.o_orderpriority);
                        w.text(r.o_clerk);
                        w.int(r.o_shippriority);
                        w.text(r.o_comment);
                    })?;
                }
            }
            TpchTable::LineItem => {
                for r in LineItemGenerator::new(scale, part, parts).iter() {
                    sink.row(|w| {
                        w.long(r.l_orderkey);
                        w.long(r.l_partkey);
                        w.long(r.l_suppkey);
                        w.int(r.l_linenumber);
                        // tpchgen counts whole units; the column is decimal(15,2).
                        w.decimal(r.l_quantity * 100);
                        w.decimal(r.l_extendedprice.0);
                        w.decimal(r.l_discount.0);
                        w.decimal(r.l_tax.0);
                        w.text(r.l_returnflag);
                        w.text(r.l_linestatus);
                        w.date(r.l_shipdate.to_unix_epoch());
                        w.date(r.l_commitdate.to_unix_epoch());
                        w.date(r.l_receiptdate.to_unix_epoch());
                        w.text(r.l_shipinstruct);
                        w.text(r.l_shipmode);
                        w.text(r.l_comment);
                    })?;
                }
            }
        }
        sink.finish()
    }
}

enum Column {
    Long(Int64Builder),
    Int(Int32Builder),
    Decimal(Decimal128Builder),
    Date(Date32Builder),
    Text(StringBuilder),
}

/// Writes one row's values, in column order.
struct RowWriter<'a> {
    columns: &'a mut [Column],
    next: usize,
}

impl RowWriter<'_> {
    fn column(&mut self) -> &mut Column {
        let i = self.next;
        self.next += 1;
        &mut self.columns[i]
    }

    fn long(&mut self, v: i64) {
        if let Column::Long(b) = self.column() {
            b.append_value(v);
        }
    }

    fn int(&mut self, v: i32) {
        if let Column::Int(b) = self.column() {
            b.append_value(v);
        }
    }

    /// `cents` is the value times 100 (scale 2).
    fn decimal(&mut self, cents: i64) {
        if let Column::Decimal(b) = self.column() {
            b.append_value(i128::from(cents));
        }
    }

    /// Days since 1970-01-01.
    fn date(&mut self, days: i32) {
        if let Column::Date(b) = self.column() {
            b.append_value(days);
        }
    }

    fn text(&mut self, v: impl Display) {
        if let Column::Text(b) = self.column() {
            // Writing into a StringBuilder cannot fail.
            let _ = write!(b, "{v}");
            b.append_value("");
        }
    }
}

/// Collects rows into batches of a fixed size.
struct BatchSink {
    kinds: &'static [(&'static str, Kind)],
    columns: Vec<Column>,
    schema: SchemaRef,
    batch_rows: usize,
    rows: usize,
    batches: Vec<RecordBatch>,
}

impl BatchSink {
    fn new(kinds: &'static [(&'static str, Kind)], schema: SchemaRef, batch_rows: usize) -> Self {
        Self {
            columns: new_columns(kinds),
            kinds,
            schema,
            batch_rows,
            rows: 0,
            batches: Vec::new(),
        }
    }

    fn row(&mut self, write: impl FnOnce(&mut RowWriter)) -> Result<(), arrow::error::ArrowError> {
        write(&mut RowWriter {
            columns: &mut self.columns,
            next: 0,
        });
        self.rows += 1;
        if self.rows == self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), arrow::error::ArrowError> {
        let columns = std::mem::replace(&mut self.columns, new_columns(self.kinds));
        let arrays: Vec<ArrayRef> = columns
            .into_iter()
            .map(|c| -> Result<ArrayRef, arrow::error::ArrowError> {
                Ok(match c {
                    Column::Long(mut b) => Arc::new(b.finish()),
                    Column::Int(mut b) => Arc::new(b.finish()),
                    Column::Decimal(mut b) => Arc::new(b.finish().with_precision_and_scale(15, 2)?),
                    Column::Date(mut b) => Arc::new(b.finish()),
                    Column::Text(mut b) => Arc::new(b.finish()),
                })
            })
            .collect::<Result<_, _>>()?;
        self.batches
            .push(RecordBatch::try_new(self.schema.clone(), arrays)?);
        self.rows = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<RecordBatch>, arrow::error::ArrowError> {
        if self.rows > 0 {
            self.flush()?;
        }
        Ok(self.batches)
    }
}

fn new_columns(kinds: &[(&str, Kind)]) -> Vec<Column> {
    kinds
        .iter()
        .map(|(_, kind)| match kind {
            Kind::Long => Column::Long(Int64Builder::new()),
            Kind::Int => Column::Int(Int32Builder::new()),
            Kind::Decimal => Column::Decimal(Decimal128Builder::new()),
            Kind::Date => Column::Date(Date32Builder::new()),
            Kind::Text => Column::Text(StringBuilder::new()),
        })
        .collect()
}
