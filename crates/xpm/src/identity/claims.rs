//! Who logged in: the profile claims of a verified id token or of the userinfo endpoint.

use serde::{Deserialize, Serialize};

/// Who logged in, for display ("Connected as Jo Bloggs <jo@firm.example>") and to tell Xero users
/// apart (`xero_userid`). Built only from a verified id token
/// ([`crate::Identity::verify_id_token`]) or from the userinfo endpoint
/// ([`crate::Identity::userinfo`]), never from an unchecked token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub sub: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
    /// Xero's user id (`xero_userid`).
    pub xero_user_id: Option<String>,
    pub nonce: Option<String>,
}

impl IdTokenClaims {
    /// Reads the claims one by one, so an odd type in a claim we do not need cannot fail the rest.
    pub(crate) fn from_object(object: &serde_json::Map<String, serde_json::Value>) -> Self {
        let claim = |name: &str| {
            object
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        IdTokenClaims {
            sub: claim("sub"),
            name: claim("name"),
            given_name: claim("given_name"),
            family_name: claim("family_name"),
            email: claim("email"),
            preferred_username: claim("preferred_username"),
            xero_user_id: claim("xero_userid"),
            nonce: claim("nonce"),
        }
    }

    /// `name`, else given and family name, else `email`, else `preferred_username`.
    pub fn display_name(&self) -> Option<String> {
        if let Some(name) = &self.name {
            return Some(name.clone());
        }
        let joined = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !joined.is_empty() {
            return Some(joined);
        }
        self.email.clone().or_else(|| self.preferred_username.clone())
    }

    /// Whether there is anything to show the administrator besides an id.
    pub fn has_profile(&self) -> bool {
        self.display_name().is_some()
    }

    /// Fills what this lacks from `other` (the userinfo answer for the same user).
    pub fn completed_with(mut self, other: IdTokenClaims) -> Self {
        let fill = |mine: &mut Option<String>, theirs: Option<String>| {
            if mine.is_none() {
                *mine = theirs;
            }
        };
        fill(&mut self.name, other.name);
        fill(&mut self.given_name, other.given_name);
        fill(&mut self.family_name, other.family_name);
        fill(&mut self.email, other.email);
        fill(&mut self.preferred_username, other.preferred_username);
        fill(&mut self.xero_user_id, other.xero_user_id);
        fill(&mut self.sub, other.sub);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> IdTokenClaims {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        IdTokenClaims::from_object(value.as_object().unwrap())
    }

    #[test]
    fn reads_display_claims() {
        let read = claims(
            r#"{"sub":"u1","given_name":"Jo","family_name":"Bloggs","email":"jo@firm.example","xero_userid":"x1","nonce":"n","amr":["pwd"],"name":42}"#,
        );
        assert_eq!(read.given_name.as_deref(), Some("Jo"));
        assert_eq!(read.email.as_deref(), Some("jo@firm.example"));
        assert_eq!(read.xero_user_id.as_deref(), Some("x1"));
        assert_eq!(read.name, None, "a non-string claim is ignored, not fatal");
        assert_eq!(read.display_name().as_deref(), Some("Jo Bloggs"));
        assert_eq!(
            claims(r#"{"name":"Jo B"}"#).display_name().as_deref(),
            Some("Jo B")
        );
        assert_eq!(
            claims(r#"{"email":"a@b.c"}"#).display_name().as_deref(),
            Some("a@b.c")
        );
        assert!(!claims(r#"{"sub":"u1","name":"  "}"#).has_profile());
    }

    #[test]
    fn completing_keeps_what_the_token_said() {
        let token = claims(r#"{"sub":"u1","email":"token@firm.example"}"#);
        let userinfo = claims(r#"{"sub":"u1","name":"Jo","email":"other@firm.example","xero_userid":"x1"}"#);
        let done = token.completed_with(userinfo);
        assert_eq!(done.name.as_deref(), Some("Jo"));
        assert_eq!(done.email.as_deref(), Some("token@firm.example"));
        assert_eq!(done.xero_user_id.as_deref(), Some("x1"));
    }
}
