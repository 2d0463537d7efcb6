//! [`ArrayFunction`]: a scalar function defined by one function over whole argument arrays.
//! Every Trino function here is one of these, so each is written as the loop over its rows
//! and nothing else: argument counts, scalar-or-array arguments and the result's type are
//! handled once.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{ArrayRef, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderSignature, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, ValueOrLambda, Volatility,
};

/// Computes a function's result for every row of its arguments (all the same length).
pub type Evaluate = fn(&[ArrayRef]) -> Result<ArrayRef>;
/// The result type for the given argument types.
pub type Output = fn(&[DataType]) -> Result<DataType>;

#[derive(Debug)]
pub struct ArrayFunction {
    name: &'static str,
    signature: Signature,
    output: Output,
    evaluate: Evaluate,
}

impl ArrayFunction {
    /// A function taking any of `arities` arguments of any type (each evaluator casts what it
    /// needs and says what it cannot use).
    pub fn udf(
        name: &'static str,
        arities: &[usize],
        output: Output,
        evaluate: Evaluate,
    ) -> Arc<ScalarUDF> {
        let signatures = arities
            .iter()
            .map(|&n| {
                if n == 0 {
                    TypeSignature::Nullary
                } else {
                    TypeSignature::Any(n)
                }
            })
            .collect();
        Arc::new(ScalarUDF::new_from_impl(ArrayFunction {
            name,
            signature: Signature::one_of(signatures, Volatility::Immutable),
            output,
            evaluate,
        }))
    }
}

/// Two functions are the same when they have the same name: names are unique in the library.
impl PartialEq for ArrayFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for ArrayFunction {}

impl Hash for ArrayFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for ArrayFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.output)(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if scalar { 1 } else { args.number_rows };
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let result = (self.evaluate)(&arrays)?;
        if result.len() != rows {
            return exec_err!(
                "{} returned {} rows for {rows} input rows",
                self.name,
                result.len()
            );
        }
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?)
        } else {
            ColumnarValue::Array(result)
        })
    }
}

/// A Trino function sharing its name with a DataFusion built-in for other argument types
/// (`contains` of a network, `cosine_distance` of maps): calls whose arguments `takes`
/// accepts (it names the types to coerce them to) run `evaluate`; every other call is the
/// built-in's, coerced and run as the built-in would be.
#[derive(Debug)]
pub struct Overloaded {
    name: &'static str,
    builtin: Arc<ScalarUDF>,
    signature: Signature,
    takes: fn(&[DataType]) -> Option<Vec<DataType>>,
    output: Output,
    evaluate: Evaluate,
}

impl Overloaded {
    pub fn udf(
        name: &'static str,
        builtin: Arc<ScalarUDF>,
        takes: fn(&[DataType]) -> Option<Vec<DataType>>,
        output: Output,
        evaluate: Evaluate,
    ) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::new_from_impl(Overloaded {
            name,
            builtin,
            signature: Signature::user_defined(Volatility::Immutable),
            takes,
            output,
            evaluate,
        }))
    }
}

impl PartialEq for Overloaded {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Overloaded {}

impl Hash for Overloaded {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for Overloaded {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if let Some(types) = (self.takes)(arg_types) {
            return Ok(types);
        }
        let fields: Vec<_> = arg_types
            .iter()
            .map(|t| Arc::new(arrow::datatypes::Field::new("arg", t.clone(), true)))
            .collect();
        Ok(fields_with_udf(&fields, self.builtin.as_ref())?
            .iter()
            .map(|f| f.data_type().clone())
            .collect())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match (self.takes)(arg_types) {
            Some(_) => (self.output)(arg_types),
            None => self.builtin.return_type(arg_types),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let types: Vec<DataType> = args.args.iter().map(ColumnarValue::data_type).collect();
        if (self.takes)(&types).is_none() {
            return self.builtin.invoke_with_args(args);
        }
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        Ok(ColumnarValue::Array((self.evaluate)(&arrays)?))
    }
}

/// Each non-null text of `array` through `f`, NULL stays NULL; `f`'s error ends the batch.
pub fn map_texts(array: &ArrayRef, f: impl Fn(&str) -> Result<String>) -> Result<ArrayRef> {
    let texts = crate::args::strings(array)?;
    let out: arrow::array::StringArray = texts
        .iter()
        .map(|t| t.map(&f).transpose())
        .collect::<Result<_>>()?;
    Ok(Arc::new(out))
}

/// The result type of functions returning text.
pub fn text(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Utf8)
}

/// The result type of functions returning a 64-bit integer.
pub fn bigint(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Int64)
}

pub fn double(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Float64)
}

pub fn boolean(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Boolean)
}

pub fn date(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Date32)
}

/// The result type of functions returning an array of text.
pub fn text_array(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::new_list(DataType::Utf8, true))
}

/// The type of the first argument (`trim_array`, `date_add`).
pub fn first(args: &[DataType]) -> Result<DataType> {
    match args.first() {
        Some(t) => Ok(t.clone()),
        None => exec_err!("the function takes at least one argument"),
    }
}

/// The signature of a function taking `values` values and then `lambdas` lambdas.
pub fn lambda_signature(values: usize, lambdas: usize) -> HigherOrderSignature {
    let mut args = vec![ValueOrLambda::Value(()); values];
    args.extend(std::iter::repeat_n(ValueOrLambda::Lambda(()), lambdas));
    HigherOrderSignature::exact(args, Volatility::Immutable)
}

/// A lambda's captured columns, one value per element: row `rows[i]`'s value for element `i`.
pub fn spread(captured: &[ArrayRef], rows: &UInt32Array) -> Result<Vec<ArrayRef>> {
    captured
        .iter()
        .map(|c| Ok(take(c.as_ref(), rows, None)?))
        .collect()
}
