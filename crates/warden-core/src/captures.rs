//! Named path segments in a rule's glob: `/tenants/{tenant}/**` matches like
//! `/tenants/*/**` and hands the segment to conditions as `context.params.tenant`.

/// The named segments of one pattern: each name with its segment's position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captures {
    names: Vec<(usize, String)>,
}

/// Why a pattern's named segments cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// `{name}` inside a segment (`/files/{id}.json`) or an empty or odd name.
    #[error(
        "`{0}`: a named segment is a whole segment `{{name}}`, the name letters, digits and `_`"
    )]
    NotASegment(String),
    /// A named segment after `**`: its position would depend on the path.
    #[error("`{{{0}}}` comes after `**`: name only segments before it")]
    AfterDoubleStar(String),
    /// The same name twice.
    #[error("`{{{0}}}` is named twice")]
    Duplicate(String),
}

impl Captures {
    /// Splits a rule's pattern into the glob to match (named segments become `*`) and the
    /// names. A `{a,b}` segment stays a glob alternation.
    pub fn parse(pattern: &str) -> Result<(String, Self), CaptureError> {
        let mut names: Vec<(usize, String)> = Vec::new();
        let mut glob = Vec::new();
        let mut after_double_star = false;
        for (index, segment) in pattern.split('/').enumerate() {
            match named(segment)? {
                Some(name) if after_double_star => return Err(CaptureError::AfterDoubleStar(name)),
                Some(name) if names.iter().any(|(_, n)| *n == name) => {
                    return Err(CaptureError::Duplicate(name));
                }
                Some(name) => {
                    names.push((index, name));
                    glob.push("*");
                }
                None => {
                    after_double_star |= segment.contains("**");
                    glob.push(segment);
                }
            }
        }
        Ok((glob.join("/"), Self { names }))
    }

    /// The names, in path order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|(_, n)| n.as_str())
    }

    /// Whether the pattern names no segment.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Each name with its segment of `path`, a normalized path the pattern matched (a named
    /// segment missing from a path matched by the `/x/**` base is empty).
    pub fn values<'p>(&self, path: &'p str) -> Vec<(&str, &'p str)> {
        if self.names.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<(&str, &'p str)> =
            self.names.iter().map(|(_, n)| (n.as_str(), "")).collect();
        let last = self.names.iter().map(|(i, _)| *i).max().unwrap_or(0);
        for (index, segment) in path.split('/').enumerate().take(last + 1) {
            if let Some(k) = self.names.iter().position(|(i, _)| *i == index) {
                out[k].1 = segment;
            }
        }
        out
    }
}

/// `Some(name)` for a `{name}` segment; `None` for a plain glob segment; an error for a
/// brace that is neither a name nor an alternation.
fn named(segment: &str) -> Result<Option<String>, CaptureError> {
    let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
        let odd = segment.contains('{') && !segment.contains(',');
        return if odd {
            Err(CaptureError::NotASegment(segment.to_owned()))
        } else {
            Ok(None)
        };
    };
    if inner.contains(',') {
        return Ok(None);
    }
    let ident = inner.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        return Err(CaptureError::NotASegment(segment.to_owned()));
    }
    Ok(Some(inner.to_owned()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn named_segments_become_stars_and_read_their_segment() {
        let (glob, c) = Captures::parse("/tenants/{tenant}/invoices/{id}/**").unwrap();
        assert_eq!(glob, "/tenants/*/invoices/*/**");
        assert_eq!(c.names().collect::<Vec<_>>(), ["tenant", "id"]);
        assert_eq!(
            c.values("/tenants/acme/invoices/7/pdf"),
            [("tenant", "acme"), ("id", "7")]
        );
        assert_eq!(c.values("/tenants/acme"), [("tenant", "acme"), ("id", "")]);
    }

    #[test]
    fn plain_globs_and_alternations_are_untouched() {
        let (glob, c) = Captures::parse("/{a,b}/*.json").unwrap();
        assert_eq!(glob, "/{a,b}/*.json");
        assert!(c.is_empty());
    }

    #[test]
    fn misplaced_or_odd_names_are_refused() {
        let err = |p: &str| Captures::parse(p).unwrap_err();
        assert!(matches!(
            err("/files/{id}.json"),
            CaptureError::NotASegment(_)
        ));
        assert!(matches!(err("/x/{1st}"), CaptureError::NotASegment(_)));
        assert!(matches!(err("/x/{}"), CaptureError::NotASegment(_)));
        assert_eq!(
            err("/x/**/{id}"),
            CaptureError::AfterDoubleStar("id".into())
        );
        assert_eq!(err("/{a}/{a}"), CaptureError::Duplicate("a".into()));
        assert_eq!(
            err("/x/**/{id}").to_string(),
            "`{id}` comes after `**`: name only segments before it"
        );
    }
}
