//! Validation of names and roles, and the storage encoding of role lists.

use crate::StoreError;

const MAX_LEN: usize = 64;

/// Checks a user or key name: 1..=64 chars, no ':', whitespace or control chars.
pub fn validate_name(name: &str) -> Result<(), StoreError> {
    let len = name.chars().count();
    // ':' would make HTTP Basic credentials ambiguous.
    let bad_char = name
        .chars()
        .any(|c| c == ':' || c.is_whitespace() || c.is_control());
    if len == 0 || len > MAX_LEN || bad_char {
        return Err(StoreError::InvalidName(name.to_owned()));
    }
    Ok(())
}

/// Checks a role name: 1..=64 chars of `[A-Za-z0-9_.:-]`.
pub fn validate_role(role: &str) -> Result<(), StoreError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-');
    if role.is_empty() || role.len() > MAX_LEN || !role.chars().all(ok_char) {
        return Err(StoreError::InvalidRole(role.to_owned()));
    }
    Ok(())
}

/// Validates every role and encodes the list for the `roles` column.
pub(crate) fn encode_roles(roles: &[String]) -> Result<String, StoreError> {
    roles.iter().try_for_each(|r| validate_role(r))?;
    // Validated roles cannot contain '\n', so joining is unambiguous.
    Ok(roles.join("\n"))
}

/// Decodes the `roles` column.
pub(crate) fn decode_roles(stored: &str) -> Vec<String> {
    if stored.is_empty() {
        return Vec::new();
    }
    stored.split('\n').map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("alice").is_ok());
        assert!(validate_name("élodie.o'brien@example").is_ok());
        assert!(validate_name(&"a".repeat(64)).is_ok());
        for bad in ["", "a:b", "a b", "a\tb", "a\u{7}b", "a\u{a0}b"] {
            assert!(matches!(
                validate_name(bad),
                Err(StoreError::InvalidName(_))
            ));
        }
        assert!(validate_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn roles() {
        assert!(validate_role("admin").is_ok());
        assert!(validate_role("team:ops.read-only_2").is_ok());
        for bad in ["", "a b", "a\nb", "rôle", "a/b"] {
            assert!(matches!(
                validate_role(bad),
                Err(StoreError::InvalidRole(_))
            ));
        }
        assert!(validate_role(&"r".repeat(65)).is_err());
    }

    #[test]
    fn roles_round_trip() {
        let roles = vec!["a".to_owned(), "b:c".to_owned()];
        assert_eq!(decode_roles(&encode_roles(&roles).unwrap()), roles);
        assert_eq!(
            decode_roles(&encode_roles(&[]).unwrap()),
            Vec::<String>::new()
        );
    }
}
