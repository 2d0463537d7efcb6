//! Trino's file-based system access control, as its JSON file states it: `catalogs`, `schemas`
//! and `tables` rules matched by `user` and `group` regular expressions, the first match
//! deciding. A section left out allows everything it would govern; a section present denies
//! what no rule in it matches.
//!
//! Everything is checked when the file is read (regexes compile, privileges are known names,
//! filters and masks parse as SQL expressions), so a rule never fails at query time for a
//! reason the file already showed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::sql::sqlparser::ast::Expr as SqlExpr;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;
use regex::Regex;
use serde::Deserialize;

use super::AccessError;

/// Who is asking: the user and the groups they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub user: String,
    pub groups: Vec<String>,
}

/// The parsed rules of one access control file.
#[derive(Debug, Default)]
pub struct Rules {
    catalogs: Option<Vec<CatalogRule>>,
    /// Ownership: an owned schema is listed even when none of its tables is readable (a
    /// read-only gateway grants nothing else by it).
    schemas: Option<Vec<SchemaRule>>,
    tables: Option<Vec<TableRule>>,
    /// Tells readings of the file apart: a policy's key names the reading it came from.
    generation: u64,
}

/// Readings of access control files so far, in this process.
static READINGS: AtomicU64 = AtomicU64::new(1);

/// A table-rule privilege. The lake is read-only here, so only `SELECT` (and Trino's
/// `GRANT_SELECT`, which implies it) let a user read; the others are accepted so that a
/// Trino file loads unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Privilege {
    Select,
    Insert,
    Delete,
    Update,
    Ownership,
    GrantSelect,
}

/// What a catalog rule grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CatalogAccess {
    All,
    ReadOnly,
    None,
}

/// What a user may do with a table: not see it at all, or read it through a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableAccess {
    Denied,
    Read(TablePolicy),
}

/// The rows and columns a user reads of a table: a row filter, masked columns and columns
/// taken away. The default (no filter, no column rule) reads the table as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TablePolicy {
    pub filter: Option<PolicyExpr>,
    /// Columns by name: masked with an expression, or not readable at all.
    pub columns: BTreeMap<String, ColumnPolicy>,
    /// Equal for two readers exactly when they read the same rows and values: the reading of
    /// the file, the rule, and the users its filter and masks are evaluated as. Cheap to
    /// make on every cache hit, unlike printing the expressions.
    pub key: String,
}

impl TablePolicy {
    pub fn is_unrestricted(&self) -> bool {
        self.filter.is_none() && self.columns.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnPolicy {
    Hidden,
    Masked(PolicyExpr),
}

/// A filter or mask: its SQL and the user `current_user` names while it is evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyExpr {
    pub sql: Arc<SqlExpr>,
    pub user: String,
}

impl Rules {
    /// Parses the JSON of an access control file; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Self, AccessError> {
        let file: RulesFile = serde_json::from_str(text).map_err(|e| AccessError::Rules {
            path: path.to_string(),
            rule: None,
            message: e.to_string(),
        })?;
        let error = |section: &'static str, index: usize, message: String| AccessError::Rules {
            path: path.to_string(),
            rule: Some(format!("{section}[{index}]")),
            message,
        };
        let catalogs = file
            .catalogs
            .map(|rules| {
                rules
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| CatalogRule::new(r).map_err(|m| error("catalogs", i, m)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let schemas = file
            .schemas
            .map(|rules| {
                rules
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| SchemaRule::new(r).map_err(|m| error("schemas", i, m)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let tables = file
            .tables
            .map(|rules| {
                rules
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| TableRule::new(r).map_err(|m| error("tables", i, m)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(Self {
            catalogs,
            schemas,
            tables,
            generation: READINGS.fetch_add(1, Ordering::Relaxed),
        })
    }

    pub fn restricts_tables(&self) -> bool {
        self.tables.is_some()
    }

    /// Whether `subject` owns schema `catalog.schema` (the first matching schema rule says).
    pub fn owns_schema(&self, subject: &Subject, catalog: &str, schema: &str) -> bool {
        self.can_read_catalog(subject, catalog)
            && self.schemas.as_ref().is_some_and(|rules| {
                rules
                    .iter()
                    .find(|r| {
                        r.who.matches(subject)
                            && r.catalog.is_match(catalog)
                            && r.schema.is_match(schema)
                    })
                    .is_some_and(|r| r.owner)
            })
    }

    /// Whether `subject` may read catalog `catalog` at all.
    pub fn can_read_catalog(&self, subject: &Subject, catalog: &str) -> bool {
        let Some(rules) = &self.catalogs else {
            return true;
        };
        rules
            .iter()
            .find(|r| r.who.matches(subject) && r.catalog.is_match(catalog))
            .is_some_and(|r| r.access != CatalogAccess::None)
    }

    /// What `subject` may do with table `catalog.schema.table`.
    pub fn table(
        &self,
        subject: &Subject,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> TableAccess {
        if !self.can_read_catalog(subject, catalog) {
            return TableAccess::Denied;
        }
        let Some(rules) = &self.tables else {
            return TableAccess::Read(TablePolicy::default());
        };
        let Some((index, rule)) = rules.iter().enumerate().find(|(_, r)| {
            r.who.matches(subject)
                && r.catalog.is_match(catalog)
                && r.schema.is_match(schema)
                && r.table.is_match(table)
        }) else {
            return TableAccess::Denied;
        };
        if !rule
            .privileges
            .iter()
            .any(|p| matches!(p, Privilege::Select | Privilege::GrantSelect))
        {
            return TableAccess::Denied;
        }
        let as_user = |environment: &Option<Environment>| {
            environment
                .as_ref()
                .and_then(|e| e.user.clone())
                .unwrap_or_else(|| subject.user.clone())
        };
        let filter = rule.filter.clone().map(|sql| PolicyExpr {
            sql,
            user: as_user(&rule.filter_environment),
        });
        let columns: BTreeMap<String, ColumnPolicy> = rule
            .columns
            .iter()
            .filter_map(|c| {
                let policy = if !c.allow {
                    ColumnPolicy::Hidden
                } else {
                    ColumnPolicy::Masked(PolicyExpr {
                        sql: c.mask.clone()?,
                        user: as_user(&c.mask_environment),
                    })
                };
                Some((c.name.clone(), policy))
            })
            .collect();
        let mut key = format!("{}#{index}", self.generation);
        if let Some(filter) = &filter {
            key.push_str(&format!("/f:{}", filter.user));
        }
        for (column, policy) in &columns {
            if let ColumnPolicy::Masked(mask) = policy {
                key.push_str(&format!("/m:{column}:{}", mask.user));
            }
        }
        TableAccess::Read(TablePolicy {
            filter,
            columns,
            key,
        })
    }
}

/// The file as Trino writes it. Unknown keys (a typo, or Trino's `role`s, which lakegate does
/// not have) are refused rather than silently ignored: an ignored condition widens access.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    catalogs: Option<Vec<CatalogRuleFile>>,
    schemas: Option<Vec<SchemaRuleFile>>,
    tables: Option<Vec<TableRuleFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogRuleFile {
    user: Option<String>,
    group: Option<String>,
    catalog: Option<String>,
    allow: AllowValue,
}

/// `allow` in a catalog rule: Trino takes `"all"`, `"read-only"`, `"none"` and the older
/// `true`/`false`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AllowValue {
    Flag(bool),
    Word(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaRuleFile {
    user: Option<String>,
    group: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    owner: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableRuleFile {
    user: Option<String>,
    group: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    table: Option<String>,
    privileges: Vec<Privilege>,
    #[serde(default)]
    columns: Vec<ColumnRuleFile>,
    filter: Option<String>,
    filter_environment: Option<Environment>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnRuleFile {
    name: String,
    #[serde(default = "yes")]
    allow: bool,
    mask: Option<String>,
    mask_environment: Option<Environment>,
}

fn yes() -> bool {
    true
}

/// The identity a filter or mask is evaluated as.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Environment {
    user: Option<String>,
}

/// The `user` and `group` conditions of a rule; an absent one matches everyone.
#[derive(Debug)]
struct Matcher {
    user: Regex,
    group: Option<Regex>,
}

impl Matcher {
    fn new(user: Option<String>, group: Option<String>) -> Result<Self, String> {
        Ok(Self {
            user: pattern(user.as_deref())?,
            group: group.as_deref().map(|g| pattern(Some(g))).transpose()?,
        })
    }

    fn matches(&self, subject: &Subject) -> bool {
        self.user.is_match(&subject.user)
            && self
                .group
                .as_ref()
                .is_none_or(|g| subject.groups.iter().any(|group| g.is_match(group)))
    }
}

#[derive(Debug)]
struct SchemaRule {
    who: Matcher,
    catalog: Regex,
    schema: Regex,
    owner: bool,
}

impl SchemaRule {
    fn new(rule: SchemaRuleFile) -> Result<Self, String> {
        Ok(Self {
            who: Matcher::new(rule.user, rule.group)?,
            catalog: pattern(rule.catalog.as_deref())?,
            schema: pattern(rule.schema.as_deref())?,
            owner: rule.owner,
        })
    }
}

#[derive(Debug)]
struct CatalogRule {
    who: Matcher,
    catalog: Regex,
    access: CatalogAccess,
}

impl CatalogRule {
    fn new(rule: CatalogRuleFile) -> Result<Self, String> {
        let access = match rule.allow {
            AllowValue::Flag(true) => CatalogAccess::All,
            AllowValue::Flag(false) => CatalogAccess::None,
            AllowValue::Word(word) => match word.as_str() {
                "all" => CatalogAccess::All,
                "read-only" => CatalogAccess::ReadOnly,
                "none" => CatalogAccess::None,
                other => {
                    return Err(format!(
                        "allow must be \"all\", \"read-only\", \"none\", true or false, not {other:?}"
                    ));
                }
            },
        };
        Ok(Self {
            who: Matcher::new(rule.user, rule.group)?,
            catalog: pattern(rule.catalog.as_deref())?,
            access,
        })
    }
}

#[derive(Debug)]
struct TableRule {
    who: Matcher,
    catalog: Regex,
    schema: Regex,
    table: Regex,
    privileges: Vec<Privilege>,
    filter: Option<Arc<SqlExpr>>,
    filter_environment: Option<Environment>,
    columns: Vec<ColumnRule>,
}

#[derive(Debug)]
struct ColumnRule {
    name: String,
    allow: bool,
    mask: Option<Arc<SqlExpr>>,
    mask_environment: Option<Environment>,
}

impl TableRule {
    fn new(rule: TableRuleFile) -> Result<Self, String> {
        let columns = rule
            .columns
            .into_iter()
            .map(|c| {
                let mask = c
                    .mask
                    .as_deref()
                    .map(|m| expression(m).map_err(|e| format!("mask of column {}: {e}", c.name)))
                    .transpose()?;
                Ok(ColumnRule {
                    name: c.name,
                    allow: c.allow,
                    mask,
                    mask_environment: c.mask_environment,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            who: Matcher::new(rule.user, rule.group)?,
            catalog: pattern(rule.catalog.as_deref())?,
            schema: pattern(rule.schema.as_deref())?,
            table: pattern(rule.table.as_deref())?,
            privileges: rule.privileges,
            filter: rule
                .filter
                .as_deref()
                .map(|f| expression(f).map_err(|e| format!("filter: {e}")))
                .transpose()?,
            filter_environment: rule.filter_environment,
            columns,
        })
    }
}

/// A rule's regular expression, matched against the whole name as Java's `matches()` does;
/// absent, it matches every name.
fn pattern(text: Option<&str>) -> Result<Regex, String> {
    let text = text.unwrap_or(".*");
    Regex::new(&format!("^(?:{text})$")).map_err(|e| format!("regex {text:?}: {e}"))
}

/// A filter or mask as one SQL expression, with nothing after it.
fn expression(text: &str) -> Result<Arc<SqlExpr>, String> {
    let mut parser = Parser::new(&GenericDialect {})
        .try_with_sql(text)
        .map_err(|e| format!("{text:?} does not parse: {e}"))?;
    let expr = parser
        .parse_expr()
        .map_err(|e| format!("{text:?} does not parse: {e}"))?;
    let rest = parser.peek_token();
    if rest.token != Token::EOF {
        return Err(format!(
            "{text:?} does not parse: unexpected {} after the expression",
            rest.token
        ));
    }
    Ok(Arc::new(expr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(user: &str, groups: &[&str]) -> Subject {
        Subject {
            user: user.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    const FILE: &str = r#"{
        "catalogs": [
            {"user": "banned", "allow": "none"},
            {"catalog": "lake", "allow": "read-only"}
        ],
        "tables": [
            {"user": "admin", "privileges": ["SELECT", "OWNERSHIP"]},
            {"group": "merchants", "schema": "sales", "table": "orders", "privileges": ["SELECT"],
             "filter": "merchant_id = CAST(current_user AS INT)",
             "columns": [{"name": "card", "mask": "'****'"}, {"name": "secret", "allow": false}]},
            {"user": "writer", "privileges": ["INSERT"]},
            {"schema": "public", "privileges": ["SELECT"]}
        ]
    }"#;

    #[test]
    fn the_first_matching_rule_decides() {
        let rules = Rules::parse("rules.json", FILE).unwrap();
        let admin = rules.table(&subject("admin", &[]), "lake", "sales", "orders");
        assert!(matches!(admin, TableAccess::Read(p) if p.is_unrestricted()));
        let TableAccess::Read(policy) =
            rules.table(&subject("7", &["merchants"]), "lake", "sales", "orders")
        else {
            panic!("a merchant reads orders");
        };
        assert_eq!(policy.filter.as_ref().map(|f| f.user.as_str()), Some("7"));
        assert!(matches!(
            policy.columns.get("card"),
            Some(ColumnPolicy::Masked(_))
        ));
        assert_eq!(policy.columns.get("secret"), Some(&ColumnPolicy::Hidden));
        // A rule without SELECT matches first and denies.
        let writer = rules.table(&subject("writer", &[]), "lake", "public", "t");
        assert_eq!(writer, TableAccess::Denied);
        let anyone = rules.table(&subject("x", &[]), "lake", "public", "t");
        assert!(matches!(anyone, TableAccess::Read(p) if p.is_unrestricted()));
        // Two merchants read through the same rule as different users: different keys.
        let key = |user: &str| match rules.table(
            &subject(user, &["merchants"]),
            "lake",
            "sales",
            "orders",
        ) {
            TableAccess::Read(policy) => policy.key,
            TableAccess::Denied => panic!("{user} reads orders"),
        };
        assert_ne!(key("7"), key("8"));
        assert_eq!(key("7"), key("7"));
        // No rule matches: denied.
        assert_eq!(
            rules.table(&subject("x", &[]), "lake", "sales", "orders"),
            TableAccess::Denied
        );
        assert!(!rules.can_read_catalog(&subject("banned", &[]), "lake"));
        assert!(!rules.can_read_catalog(&subject("x", &[]), "system"));
    }

    #[test]
    fn an_owned_schema_is_known_by_the_first_matching_rule() {
        let rules = Rules::parse(
            "rules.json",
            r#"{"schemas": [{"user": "ana", "schema": "scratch", "owner": true},
                            {"schema": ".*", "owner": false}],
                "tables": []}"#,
        )
        .unwrap();
        assert!(rules.owns_schema(&subject("ana", &[]), "lake", "scratch"));
        assert!(!rules.owns_schema(&subject("bo", &[]), "lake", "scratch"));
        assert!(!rules.owns_schema(&subject("ana", &[]), "lake", "sales"));
    }

    #[test]
    fn no_sections_allow_everything() {
        let rules = Rules::parse("rules.json", "{}").unwrap();
        let access = rules.table(&subject("x", &[]), "lake", "a", "b");
        assert!(matches!(access, TableAccess::Read(p) if p.is_unrestricted()));
    }

    #[test]
    fn a_broken_rule_is_named_with_its_index() {
        let cases = [
            (
                r#"{"tables": [{"privileges": []}, {"table": "(", "privileges": []}]}"#,
                "tables[1]",
                "regex",
            ),
            (
                r#"{"tables": [{"privileges": ["SELECT"], "filter": "a = = 1"}]}"#,
                "tables[0]",
                "filter",
            ),
            (
                r#"{"tables": [{"privileges": ["SELECT"], "filter": "a = 1 b"}]}"#,
                "tables[0]",
                "after",
            ),
            (r#"{"tables": [{"privileges": ["READ"]}]}"#, "", "READ"),
            (
                r#"{"catalogs": [{"allow": "maybe"}]}"#,
                "catalogs[0]",
                "maybe",
            ),
            (
                r#"{"tables": [{"role": "x", "privileges": []}]}"#,
                "",
                "role",
            ),
            (r#"{"tables": ["#, "", "rules.json"),
        ];
        for (text, rule, word) in cases {
            let error = Rules::parse("rules.json", text).unwrap_err().to_string();
            assert!(error.contains("rules.json"), "{error}");
            assert!(error.contains(rule), "{error} should name {rule}");
            assert!(error.contains(word), "{error} should say {word}");
        }
    }
}
