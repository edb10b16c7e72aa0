//! Revocation events: what every replica must forget at once when a credential stops being
//! valid, carried between processes by the shared state (Redis pub/sub).

/// One thing that stopped being valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// Every cached success of this principal: a user disabled or given a new password, an
    /// API key of this name revoked.
    Subject(String),
    /// One session, by its public id (sign-out, `warden session revoke`).
    Session(String),
    /// One API key, by its public id (`warden key revoke`).
    Key(String),
    /// Everything: events may have been missed (the subscription was down).
    All,
}

impl Revocation {
    /// The message published for this event.
    pub fn encode(&self) -> String {
        match self {
            Self::Subject(name) => format!("subject:{name}"),
            Self::Session(id) => format!("session:{id}"),
            Self::Key(id) => format!("key:{id}"),
            Self::All => "all".to_owned(),
        }
    }

    /// Reads a published message; anything unreadable means "forget everything".
    pub fn decode(message: &str) -> Revocation {
        if let Some(name) = message.strip_prefix("subject:") {
            return Self::Subject(name.to_owned());
        }
        if let Some(id) = message.strip_prefix("session:") {
            return Self::Session(id.to_owned());
        }
        if let Some(id) = message.strip_prefix("key:") {
            return Self::Key(id.to_owned());
        }
        Self::All
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for event in [
            Revocation::Subject("alice:x".into()),
            Revocation::Session("0a1b2c3d4e5f".into()),
            Revocation::Key("5f4e3d2c1b0a".into()),
            Revocation::All,
        ] {
            assert_eq!(Revocation::decode(&event.encode()), event);
        }
        assert_eq!(Revocation::decode("garbage"), Revocation::All);
    }
}
