//! Form and query parameters with OAuth's rules: a parameter sent twice is an error, and one
//! sent without a value counts as omitted (RFC 6749 §3.1).

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter {0} is repeated")]
pub struct Repeated(pub String);

#[derive(Debug, Default)]
pub struct Params(HashMap<String, Vec<String>>);

impl Params {
    pub fn parse(encoded: &[u8]) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(encoded) {
            map.entry(name.into_owned()).or_default().push(value.into_owned());
        }
        Params(map)
    }

    /// The one non-empty value of `name`, if any.
    pub fn single(&self, name: &str) -> Result<Option<&str>, Repeated> {
        match self.0.get(name).map(Vec::as_slice) {
            None => Ok(None),
            Some([value]) => Ok(Some(value.as_str()).filter(|v| !v.is_empty())),
            Some(_) => Err(Repeated(name.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_empty_parameters() {
        let params = Params::parse(b"a=1&b=&c=x&c=y&d=%3Cz%3E+w");
        assert_eq!(params.single("a"), Ok(Some("1")));
        assert_eq!(params.single("b"), Ok(None));
        assert_eq!(params.single("c"), Err(Repeated("c".into())));
        assert_eq!(params.single("d"), Ok(Some("<z> w")));
        assert_eq!(params.single("missing"), Ok(None));
    }
}
