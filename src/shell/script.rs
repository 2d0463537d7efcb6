//! Splits what an analyst types or a script holds into the units the shell runs: SQL
//! statements ended by `;` (which may span lines; a `;` inside quotes, identifiers or
//! comments does not end one) and backslash meta-commands, which end at their line.

/// One thing to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    Sql(String),
    /// A meta-command: its name without the backslash, and its arguments.
    Meta {
        name: String,
        args: Vec<String>,
    },
}

/// Accumulates input line by line and hands out complete units.
#[derive(Debug, Default)]
pub struct Splitter {
    pending: String,
}

impl Splitter {
    /// Feeds one line; returns the units it completed.
    pub fn line(&mut self, line: &str) -> Vec<Unit> {
        let trimmed = line.trim();
        if self.pending.trim().is_empty() && trimmed.starts_with('\\') {
            self.pending.clear();
            return vec![meta(trimmed)];
        }
        self.pending.push_str(line);
        self.pending.push('\n');
        let mut units = Vec::new();
        while let Some(end) = statement_end(&self.pending) {
            let statement = self.pending[..end].trim().to_string();
            self.pending = self.pending[end + 1..].to_string();
            if !statement.is_empty() {
                units.push(Unit::Sql(statement));
            }
        }
        units
    }

    /// Whether a statement is started and not yet ended (the prompt shows it).
    pub fn is_pending(&self) -> bool {
        !self.pending.trim().is_empty()
    }

    /// What is left at the end of input: a last statement without its `;` still runs.
    pub fn finish(&mut self) -> Option<Unit> {
        let rest = std::mem::take(&mut self.pending);
        let rest = rest.trim();
        (!rest.is_empty()).then(|| Unit::Sql(rest.to_string()))
    }
}

/// Every unit of a whole text (a `-c` argument or a `-f` file).
pub fn split(text: &str) -> Vec<Unit> {
    let mut splitter = Splitter::default();
    let mut units: Vec<Unit> = text.lines().flat_map(|l| splitter.line(l)).collect();
    units.extend(splitter.finish());
    units
}

fn meta(line: &str) -> Unit {
    let mut words = line.trim_start_matches('\\').split_whitespace();
    let name = words.next().unwrap_or("").to_string();
    Unit::Meta {
        name,
        args: words.map(str::to_string).collect(),
    }
}

/// The byte offset of the first `;` that ends a statement, outside quotes and comments.
fn statement_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == quote {
                        if bytes.get(i + 1) == Some(&quote) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b';' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_semicolons_outside_quotes_and_comments() {
        let units =
            split("SELECT ';' AS a,\n  \"x;y\" -- not; here\nFROM t;\n/* ; */ SELECT 2;\nSELECT 3");
        assert_eq!(
            units,
            vec![
                Unit::Sql("SELECT ';' AS a,\n  \"x;y\" -- not; here\nFROM t".into()),
                Unit::Sql("/* ; */ SELECT 2".into()),
                Unit::Sql("SELECT 3".into()),
            ]
        );
        let units = split("\\dt\nSELECT 1;\n\\d lineitem\n");
        assert_eq!(
            units,
            vec![
                Unit::Meta {
                    name: "dt".into(),
                    args: vec![]
                },
                Unit::Sql("SELECT 1".into()),
                Unit::Meta {
                    name: "d".into(),
                    args: vec!["lineitem".into()]
                },
            ]
        );
    }
}
