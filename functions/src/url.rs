//! Trino's URL extraction functions over `[protocol:][//host[:port]][path][?query][#fragment]`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Builder, StringBuilder};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::args::strings;
use crate::udf::{ArrayFunction, bigint, text};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf("url_extract_protocol", &[1], text, |a| {
            part(a, |u| u.protocol)
        }),
        ArrayFunction::udf("url_extract_host", &[1], text, |a| part(a, |u| u.host)),
        ArrayFunction::udf("url_extract_path", &[1], text, |a| part(a, |u| u.path)),
        ArrayFunction::udf("url_extract_query", &[1], text, |a| part(a, |u| u.query)),
        ArrayFunction::udf("url_extract_fragment", &[1], text, |a| {
            part(a, |u| u.fragment)
        }),
        ArrayFunction::udf("url_extract_port", &[1], bigint, port),
        ArrayFunction::udf("url_extract_parameter", &[2], text, parameter),
    ]
}

/// The parts of a URL, each `None` when absent.
#[derive(Default)]
struct Url<'a> {
    protocol: Option<&'a str>,
    host: Option<&'a str>,
    port: Option<&'a str>,
    path: Option<&'a str>,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn parse(text: &str) -> Url<'_> {
    let mut url = Url::default();
    let (rest, fragment) = match text.split_once('#') {
        Some((rest, f)) => (rest, Some(f)),
        None => (text, None),
    };
    url.fragment = fragment;
    let (rest, query) = match rest.split_once('?') {
        Some((rest, q)) => (rest, Some(q)),
        None => (rest, None),
    };
    url.query = query;
    let mut rest = rest;
    if let Some((scheme, after)) = rest.split_once(':')
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        url.protocol = Some(scheme);
        rest = after;
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find('/').unwrap_or(after.len());
        let authority = &after[..end];
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        match host_port.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => {
                url.host = Some(host);
                url.port = Some(port);
            }
            _ => url.host = Some(host_port),
        }
        rest = &after[end..];
    }
    url.path = Some(rest);
    url
}

fn part(args: &[ArrayRef], pick: fn(Url<'_>) -> Option<&str>) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let mut out = StringBuilder::new();
    for i in 0..texts.len() {
        out.append_option(
            (!texts.is_null(i))
                .then(|| pick(parse(texts.value(i))))
                .flatten(),
        );
    }
    Ok(Arc::new(out.finish()))
}

fn port(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let mut out = Int64Builder::new();
    for i in 0..texts.len() {
        let port = (!texts.is_null(i))
            .then(|| parse(texts.value(i)).port.and_then(|p| p.parse().ok()))
            .flatten();
        out.append_option(port);
    }
    Ok(Arc::new(out.finish()))
}

fn parameter(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (texts, names) = (strings(&args[0])?, strings(&args[1])?);
    let mut out = StringBuilder::new();
    for i in 0..texts.len() {
        let value = (!texts.is_null(i) && !names.is_null(i))
            .then(|| {
                parse(texts.value(i)).query.and_then(|q| {
                    q.split('&').find_map(|pair| {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        (key == names.value(i)).then_some(value)
                    })
                })
            })
            .flatten();
        out.append_option(value);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_their_parts() {
        let url = parse("https://user@example.com:8080/a/b?x=1&y=2#top");
        assert_eq!(url.protocol, Some("https"));
        assert_eq!(url.host, Some("example.com"));
        assert_eq!(url.port, Some("8080"));
        assert_eq!(url.path, Some("/a/b"));
        assert_eq!(url.query, Some("x=1&y=2"));
        assert_eq!(url.fragment, Some("top"));
        assert_eq!(parse("ftp://path/file").host, Some("path"));
    }
}
