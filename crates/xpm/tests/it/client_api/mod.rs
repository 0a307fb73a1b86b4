//! Every endpoint against a mock that only answers requests carrying the required headers:
//! connections, the streaming client list, paging to the end, single records, groups. The tests
//! are in the submodules by endpoint; the header-checking mock they share is here.

mod client_list;
mod connections;
mod downloads;
mod records;

use crate::client_support::*;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockBuilder, ResponseTemplate};

pub(super) const PM: &str = "/practicemanager/3.1";

/// A GET that only matches with every header XPM requires.
pub(super) fn pm_get(endpoint: &str) -> MockBuilder {
    Mock::given(method("GET"))
        .and(path(format!("{PM}/{endpoint}")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("xero-tenant-id", TENANT))
        .and(header("accept", "application/xml"))
        .and(header("user-agent", "hownow-xpm-tests"))
        .and(header("accept-encoding", "gzip"))
}

pub(super) fn xml(body: impl Into<String>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml; charset=utf-8")
        .set_body_string(body.into())
}
