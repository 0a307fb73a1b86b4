//! The window's list of serialised kinds (`ui/js/kinds.js`) against the enums that produce them:
//! a variant added, renamed or removed on one side only fails here.

use crate::error::ErrorKind;
use crate::views::ConnectionState;

const KINDS_JS: &str = include_str!("../../ui/js/kinds.js");

/// The quoted values of `export const NAME = Object.freeze({ key: 'value', … });`.
fn js_values(name: &str) -> Vec<String> {
    let start = KINDS_JS
        .find(&format!("export const {name} = Object.freeze({{"))
        .unwrap_or_else(|| panic!("ui/js/kinds.js has no {name}"));
    let block = &KINDS_JS[start..];
    let block = &block[..block.find("});").expect("the object closes")];
    block
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\'').nth(1).map(str::to_string))
        .collect()
}

fn serialised<T: serde::Serialize>(all: &[T]) -> Vec<String> {
    all.iter()
        .map(|v| serde_json::to_value(v).unwrap().as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_window_knows_every_error_kind() {
    assert_eq!(js_values("ERROR_KIND"), serialised(&ErrorKind::ALL));
}

#[test]
fn the_window_knows_every_connection_state() {
    assert_eq!(js_values("CONNECTION_STATE"), serialised(&ConnectionState::ALL));
}
