//! Apache htpasswd files, limited to the hash formats nginx accepts from the `htpasswd` tool.

mod apr1;
mod hash;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use hash::{Hash, HashError};

/// Users and hashes from an Apache htpasswd file.
#[derive(Clone, Default)]
pub struct Htpasswd {
    users: HashMap<String, Hash>,
    warnings: Vec<String>,
}

/// The outcome of checking one user's password against the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtpasswdCheck {
    /// No usable line names this user.
    NoSuchUser,
    /// The user exists and the password is wrong.
    Mismatch,
    /// The user exists and the password is right.
    Match,
}

/// What one line of the file holds.
enum Line<'a> {
    /// Blank or a comment.
    Skip,
    /// No `:`, so there is no user name to report.
    NoSeparator,
    /// A user and its hash, or why the hash cannot be used.
    User(&'a str, Result<Hash, HashError>),
}

impl Htpasswd {
    /// Parses the file text; lines that cannot be used are skipped and described in `warnings()`.
    ///
    /// Blank lines and lines starting with `#` are skipped. Every other line is
    /// `user:hash`, split at the first `:`, so a user name never contains one.
    /// As in nginx and Apache, the first line for a user wins; later ones are ignored.
    pub fn parse(text: &str) -> Self {
        let mut users = HashMap::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut warnings = Vec::new();
        for (index, raw) in text.split('\n').enumerate() {
            let number = index + 1;
            let (user, hash) = match read_line(raw) {
                Line::Skip => continue,
                Line::NoSeparator => {
                    // The line may be a bare password, so none of it is repeated.
                    warnings.push(format!("line {number}: no `:` between user and hash"));
                    continue;
                }
                Line::User(user, hash) => (user, hash),
            };
            let name = user.escape_debug();
            // A skipped line still claims its name, so a later line cannot stand in for it.
            match seen.entry(user) {
                Entry::Occupied(first) => {
                    let first = first.get();
                    warnings.push(format!(
                        "line {number}: user `{name}`: ignored, line {first} names the same user"
                    ));
                }
                Entry::Vacant(slot) => {
                    slot.insert(number);
                    match hash {
                        Ok(hash) => {
                            users.insert(user.to_owned(), hash);
                        }
                        Err(why) => warnings.push(format!("line {number}: user `{name}`: {why}")),
                    }
                }
            }
        }
        Self { users, warnings }
    }

    /// Why lines were skipped, one message per line; never contains hash text.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Number of users with a usable hash.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True if no line gave a usable user.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// True if `user` has a usable hash in the file.
    pub fn contains(&self, user: &str) -> bool {
        self.users.contains_key(user)
    }

    /// Verifies a password; CPU-bound, so callers run it on a blocking thread.
    ///
    /// The final digests are compared in constant time. `NoSuchUser` returns at
    /// once, without hashing, so callers that must hide which names exist have
    /// to spend comparable time themselves.
    pub fn check(&self, user: &str, password: &str) -> HtpasswdCheck {
        match self.users.get(user) {
            None => HtpasswdCheck::NoSuchUser,
            Some(hash) if hash.verify(password) => HtpasswdCheck::Match,
            Some(_) => HtpasswdCheck::Mismatch,
        }
    }
}

impl fmt::Debug for Htpasswd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counts only: the hashes are secrets and a Debug print ends up in logs.
        f.debug_struct("Htpasswd")
            .field("users", &self.users.len())
            .field("warnings", &self.warnings.len())
            .finish_non_exhaustive()
    }
}

/// Classifies one line, after dropping the `\r` of a CRLF file.
fn read_line(raw: &str) -> Line<'_> {
    let line = raw.strip_suffix('\r').unwrap_or(raw);
    if line.trim().is_empty() || line.starts_with('#') {
        return Line::Skip;
    }
    match line.split_once(':') {
        Some((user, hash)) => Line::User(user, Hash::parse(hash)),
        None => Line::NoSeparator,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1_LINE: &str = "sha1:{SHA}GiiotKumkQ2eEMpvd0b5VQHV8Bo=";

    #[test]
    fn first_line_wins() {
        let text = format!("{SHA1_LINE}\nsha1:{{SHA}}2jmj7l5rSw0yVb/vlWAYkK/YBwk=\n");
        let file = Htpasswd::parse(&text);
        assert_eq!(file.len(), 1);
        assert_eq!(file.check("sha1", "sha1:secret"), HtpasswdCheck::Match);
        // The second line's hash is SHA-1 of the empty password.
        assert_eq!(file.check("sha1", ""), HtpasswdCheck::Mismatch);
        assert_eq!(
            file.warnings(),
            ["line 2: user `sha1`: ignored, line 1 names the same user"]
        );
    }

    #[test]
    fn skipped_line_still_claims_the_name() {
        let text = format!("sha1:plain\n{SHA1_LINE}\n");
        let file = Htpasswd::parse(&text);
        assert!(!file.contains("sha1"));
        assert_eq!(file.warnings().len(), 2);
    }

    #[test]
    fn line_without_separator_is_not_echoed() {
        let file = Htpasswd::parse("hunter2\n");
        assert!(file.is_empty());
        assert_eq!(file.warnings(), ["line 1: no `:` between user and hash"]);
    }

    #[test]
    fn debug_shows_counts_only() {
        let file = Htpasswd::parse(&format!("{SHA1_LINE}\nx:y\n"));
        let shown = format!("{file:?}");
        assert_eq!(shown, "Htpasswd { users: 1, warnings: 1, .. }");
    }

    #[test]
    fn names_are_escaped_in_warnings() {
        let file = Htpasswd::parse("a\u{1b}[31m:plain\n");
        assert_eq!(
            file.warnings(),
            ["line 1: user `a\\u{1b}[31m`: unsupported hash format"]
        );
    }
}
