//! Field-level differences between two versions of a record, for `sync_changes`.
//!
//! Works on the JSON of the records: nested objects become dotted paths
//! (`account_manager.name`), arrays of records with a `uuid` are matched by it
//! (`contacts[<uuid>].email`), other arrays by position (`notes[0].text`). An element added or
//! removed as a whole is one change whose value is that element's JSON (`contacts[<uuid>]`).

use serde_json::Value;

/// One changed leaf: path, old value, new value (`None` = absent or null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

pub fn diff(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", Some(old), Some(new), &mut out);
    out
}

fn render(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn is_empty(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

fn walk(path: &str, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (k, va) in a {
                walk(&join(path, k), Some(va), b.get(k), out);
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    walk(&join(path, k), None, Some(vb), out);
                }
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            let keyed = |items: &Vec<Value>| {
                items
                    .iter()
                    .all(|i| i.get("uuid").and_then(Value::as_str).is_some())
            };
            if keyed(a) && keyed(b) {
                let key = |v: &Value| {
                    v.get("uuid")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                for va in a {
                    let k = key(va);
                    let vb = b.iter().find(|vb| key(vb) == k);
                    walk(&format!("{path}[{k}]"), Some(va), vb, out);
                }
                for vb in b {
                    let k = key(vb);
                    if !a.iter().any(|va| key(va) == k) {
                        walk(&format!("{path}[{k}]"), None, Some(vb), out);
                    }
                }
            } else {
                for i in 0..a.len().max(b.len()) {
                    walk(&format!("{path}[{i}]"), a.get(i), b.get(i), out);
                }
            }
        }
        (a, b) if a == b || (is_empty(a) && is_empty(b)) => {}
        (a, b) => out.push(FieldChange {
            field: path.to_string(),
            old: render(a),
            new: render(b),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_leaves_by_path() {
        let old = json!({"name": "Acme", "phone": null, "account_manager": {"name": "Al"},
            "contacts": [{"uuid": "c1", "email": "a@x"}, {"uuid": "c2", "email": "b@x"}],
            "notes": [{"text": "one"}]});
        let new = json!({"name": "Acme Ltd", "phone": null, "account_manager": {"name": "Bo"},
            "contacts": [{"uuid": "c2", "email": "b@x"}, {"uuid": "c3", "email": "c@x"}],
            "notes": []});
        let d = diff(&old, &new);
        let fields: Vec<_> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "account_manager.name",
                "contacts[c1]",
                "contacts[c3]",
                "name",
                "notes[0]"
            ]
        );
        let name = d.iter().find(|c| c.field == "name").unwrap();
        assert_eq!(
            (name.old.as_deref(), name.new.as_deref()),
            (Some("Acme"), Some("Acme Ltd"))
        );
        // A removed contact is one change, its old value the whole contact.
        let gone = d.iter().find(|c| c.field == "contacts[c1]").unwrap();
        assert_eq!(
            (gone.old.as_deref(), gone.new.as_deref()),
            (Some(r#"{"email":"a@x","uuid":"c1"}"#), None)
        );
    }

    #[test]
    fn identical_values_give_nothing() {
        let v = json!({"a": [1, 2], "b": {"c": true}});
        assert!(diff(&v, &v).is_empty());
    }
}
