//! Compact JWS with RS256, as Xero signs its id tokens, and the JWK that publishes the key.
//!
//! The keys are fixed files in this folder, made for the sandbox: they protect nothing (the
//! sandbox is a stand-in on loopback), and a fixed key keeps generated tokens reproducible.
//! Generating RSA keys at start-up would cost seconds in debug builds for no gain.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::rsa::{KeyPair, PublicKeyComponents};
use ring::signature::RSA_PKCS1_SHA256;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The key the JWKS publishes.
const PUBLISHED_KEY: &[u8] = include_bytes!("signing-key.der");
/// A key the JWKS never lists, for tests that clients refuse what the issuer did not sign.
const UNPUBLISHED_KEY: &[u8] = include_bytes!("unpublished-key.der");

/// Signs id tokens with one RSA key; knows its public JWK.
pub struct Signer {
    pair: KeyPair,
    kid: String,
    rng: SystemRandom,
}

impl Signer {
    /// The key [`Signer::jwk`] of the published signer describes.
    pub fn published() -> Self {
        Self::from_der(PUBLISHED_KEY)
    }

    /// A key nobody publishes, under the published key's `kid`: what a forger would send.
    pub fn unpublished() -> Self {
        Signer {
            kid: Self::published().kid,
            ..Self::from_der(UNPUBLISHED_KEY)
        }
    }

    fn from_der(der: &[u8]) -> Self {
        let pair = KeyPair::from_der(der).expect("the sandbox's key files are valid PKCS#1 RSA keys");
        // The key id is derived from the modulus, so another key file gets another id.
        let modulus = PublicKeyComponents::<Vec<u8>>::from(pair.public()).n;
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(&modulus)[..12]);
        Signer {
            pair,
            kid,
            rng: SystemRandom::new(),
        }
    }

    /// `header.payload.signature`, each part base64url without padding.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("RSA signing with a valid key and a right-sized buffer");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The public key as Xero's JWKS lists its keys.
    pub fn jwk(&self) -> Value {
        let public = PublicKeyComponents::<Vec<u8>>::from(self.pair.public());
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&public.n),
            "e": URL_SAFE_NO_PAD.encode(&public.e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};

    /// Verifies with nothing but the published JWK, as a client does.
    fn verifies_with(jwk: &Value, token: &str) -> bool {
        let field = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let key = RsaPublicKeyComponents {
            n: field("n"),
            e: field("e"),
        };
        key.verify(
            &RSA_PKCS1_2048_8192_SHA256,
            input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
        .is_ok()
    }

    #[test]
    fn tokens_verify_against_the_published_key_only() {
        let claims = json!({"sub": "u-1", "name": "Ava"});
        let published = Signer::published();
        let token = published.sign(&claims);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], published.jwk()["kid"]);
        let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(payload, claims);
        assert!(verifies_with(&published.jwk(), &token));

        let forged = Signer::unpublished().sign(&claims);
        assert!(!verifies_with(&published.jwk(), &forged));
        // A changed payload under the original signature fails too.
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(json!({"sub": "u-2"}).to_string()),
            parts[2]
        );
        assert!(!verifies_with(&published.jwk(), &tampered));
    }
}
