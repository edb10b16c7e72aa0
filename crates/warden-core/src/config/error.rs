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

/// The `[table]` header above an offset, so shape errors name where they are.
fn enclosing_table(source: &str, offset: usize) -> String {
    let before = source.get(..offset.min(source.len())).unwrap_or("");
    before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map_or_else(
            || "(top level)".to_owned(),
            |l| l.trim_matches(['[', ']']).to_owned(),
        )
}
