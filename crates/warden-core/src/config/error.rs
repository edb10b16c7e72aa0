//! Configuration errors, each with the key path and the line and column it came from.

use std::fmt;
use std::ops::Range;

/// One problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Dotted key path, e.g. `rule[2].require`.
    pub key: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, lowercase.
    pub message: String,
}

/// Every problem found in one configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    /// The problems, in file order.
    pub issues: Vec<ConfigIssue>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: `{}`: {}",
            self.line, self.column, self.key, self.message
        )
    }
}

/// Collects issues while the raw file is turned into a typed config.
pub(crate) struct Issues<'a> {
    source: &'a str,
    found: Vec<ConfigIssue>,
}

impl<'a> Issues<'a> {
    pub(crate) fn new(source: &'a str) -> Self {
        Self {
            source,
            found: Vec::new(),
        }
    }

    /// Records a problem at a byte span of the source.
    pub(crate) fn add(
        &mut self,
        key: impl Into<String>,
        span: Range<usize>,
        message: impl Into<String>,
    ) {
        let (line, column) = line_column(self.source, span.start);
        self.found.push(ConfigIssue {
            key: key.into(),
            line,
            column,
            message: message.into(),
        });
    }

    pub(crate) fn finish(mut self) -> Result<(), ConfigErrors> {
        if self.found.is_empty() {
            return Ok(());
        }
        self.found.sort_by_key(|i| (i.line, i.column));
        Err(ConfigErrors { issues: self.found })
    }
}

/// Converts a TOML syntax or shape error (unknown key, wrong type) into an issue.
pub(crate) fn from_toml_error(source: &str, err: &toml::de::Error) -> ConfigErrors {
    let start = err.span().map_or(0, |s| s.start);
    let (line, column) = line_column(source, start);
    ConfigErrors {
        issues: vec![ConfigIssue {
            key: enclosing_table(source, start),
            line,
            column,
            message: err.message().trim().to_owned(),
        }],
    }
}

fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset.min(source.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The dotted key an offset falls in: its `[table]` (with the index of an `[[array]]`
/// table) and the `key =` on its line, so shape errors name where they are.
fn enclosing_table(source: &str, offset: usize) -> String {
    let before = source.get(..offset.min(source.len())).unwrap_or("");
    let mut table = String::new();
    let mut arrays: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for line in before.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
            let name = name.trim().to_owned();
            let index = arrays
                .entry(name.clone())
                .and_modify(|n| *n += 1)
                .or_insert(0);
            table = format!("{name}[{index}]");
        } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            table = name.trim().to_owned();
        }
    }
    let line = source.get(offset.min(source.len())..).unwrap_or("");
    let line_start = before.rsplit('\n').next().unwrap_or("");
    let text = format!("{line_start}{}", line.split('\n').next().unwrap_or(""));
    let key = text.split_once('=').map(|(k, _)| k.trim()).filter(|k| {
        !k.is_empty()
            && !k.starts_with('[')
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.\"".contains(&b))
    });
    match (table.is_empty(), key) {
        (true, Some(k)) => k.to_owned(),
        (true, None) => "(top level)".to_owned(),
        (false, Some(k)) => format!("{table}.{k}"),
        (false, None) => table,
    }
}
